from odoo import fields, models


class CrmTeam(models.Model):
    _inherit = "crm.team"

    resource_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working hours",
        default=lambda self: self.env.company.resource_calendar_id,
        help="Hours the team answers customers in: "
        "first-response deadlines count only these hours.",
    )
