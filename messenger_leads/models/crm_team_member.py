from odoo import api, fields, models


class CrmTeamMember(models.Model):
    _inherit = "crm.team.member"

    messenger_capacity = fields.Integer(
        string="Max open leads",
        default=5,
        help="The engine gives this salesperson no new lead while they have this many open.",
    )
    messenger_chat_capacity = fields.Integer(
        string="Max live chats",
        default=5,
        help="The engine gives this salesperson no new messenger or website chat while they "
        "have this many chats going on.",
    )
    messenger_rating = fields.Selection(
        [(str(n), str(n)) for n in range(6)],
        string="Manager rating",
        default="0",
        help="The sales head's rating, used by the 'By manager rating' strategy.",
    )
    messenger_conversion = fields.Float(
        string="Conversion",
        compute="_compute_messenger_conversion",
        help="Won / received over the team's conversion period (empty: no lead in it).",
    )
    messenger_opt_out = fields.Boolean(
        string="Paused",
        help="Receives no new leads (vacation, training...). Leads already assigned stay.",
    )
    messenger_last_assigned_at = fields.Datetime(
        string="Last new lead", readonly=True, help="Used by the even (round robin) strategy."
    )

    @api.depends("user_id", "crm_team_id.messenger_conversion_days")
    def _compute_messenger_conversion(self):
        for team, members in self.grouped("crm_team_id").items():
            rates = team._messenger_conversion_rates(members.user_id) if team else {}
            for member in members:
                member.messenger_conversion = rates.get(member.user_id.id, 0.0)
