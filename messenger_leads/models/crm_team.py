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
    messenger_response_target_minutes = fields.Integer(
        string="First response target (min)",
        help="Working minutes this team has to answer a new lead; "
        "0 uses the target of the lead's channel.",
    )
