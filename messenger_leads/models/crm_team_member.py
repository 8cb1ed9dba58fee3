from odoo import api, fields, models

from ..tools import assignment


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

    def _messenger_available(self, now, exclude_users, until=None):
        """(members, {user id: end of their working stretch}): the members (of one team) who
        can take a lead now: not paused, not excluded, at work in their own hours or the
        team's; and until when they work, looked at up to `until` (see
        res.users._messenger_work_ends)."""
        members = self.filtered(
            lambda member: not member.messenger_opt_out and member.user_id not in exclude_users
        )
        work_ends = members.user_id._messenger_work_ends(now, members.crm_team_id, until)
        return members.filtered(lambda member: member.user_id.id in work_ends), work_ends

    def _messenger_candidates(self, loads, chats, rates, live, *, work_ends, at_risk):
        """The members as the engine's candidates, with their open leads (`loads`), live
        chats, conversion rates, end of their working stretch and leads at risk by user id;
        `live`: for a live chat, its own limit counts."""
        return [
            assignment.Candidate(
                member.user_id.id,
                loads[member.user_id.id],
                member.messenger_capacity,
                member.messenger_last_assigned_at,
                conversion=rates.get(member.user_id.id),
                rating=int(member.messenger_rating or 0),
                chats=chats.get(member.user_id.id, 0),
                chat_capacity=member.messenger_chat_capacity if live else None,
                works_until=work_ends.get(member.user_id.id),
                at_risk=at_risk.get(member.user_id.id, 0),
            )
            for member in self
        ]

    def _messenger_keep_turns(self, candidates):
        """Store when each member last took a lead, from the engine's candidates, if it moved."""
        waited = {candidate.user_id: candidate.last_assigned for candidate in candidates}
        for member in self.filtered(lambda m: waited[m.user_id.id] != m.messenger_last_assigned_at):
            member.messenger_last_assigned_at = waited[member.user_id.id]
