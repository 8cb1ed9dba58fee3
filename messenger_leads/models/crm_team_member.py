from odoo import fields, models


class CrmTeamMember(models.Model):
    _inherit = "crm.team.member"

    messenger_capacity = fields.Integer(
        string="Max open leads",
        default=5,
        help="The engine gives this salesperson no new lead while they have this many open.",
    )
    messenger_opt_out = fields.Boolean(
        string="Paused",
        help="Receives no new leads (vacation, training...). Leads already assigned stay.",
    )
    messenger_last_assigned_at = fields.Datetime(
        string="Last new lead", readonly=True, help="Used by the even (round robin) strategy."
    )
