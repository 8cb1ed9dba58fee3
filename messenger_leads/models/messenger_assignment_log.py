import json

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import assignment


class MessengerAssignmentLog(models.Model):
    """Why each lead went to whom: shown on the lead, read by the reports."""

    _name = "messenger.assignment.log"
    _description = "Lead assignment log"
    _order = "id desc"

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one("res.company", index=True, help="The lead's, when assigned.")
    team_id = fields.Many2one("crm.team", index=True)
    user_id = fields.Many2one("res.users", string="Assigned to", index=True)
    strategy = fields.Char(required=True)
    reason = fields.Char(required=True, help="In English, as it was when assigned.")
    reason_kept = fields.Json(
        help="The reason untranslated with its values: shown in the reader's language."
    )

    def _reason_text(self):
        """The reason in the reader's language (reasons logged before it was kept: as logged)."""
        self.ensure_one()
        if not self.reason_kept:
            return self.reason
        return assignment.reason_text(self.env._, self.reason_kept)

    @api.model
    def _record(self, leads, team, choices):
        """Log the engine's choices, [(lead, user id or False, reason kept to translate)], in one
        statement.

        A backlog logs thousands of leads at once: the ORM would spend as long creating these
        rows as assigning the leads. Nothing is computed from them; the leads' cached logs are
        dropped so that they read the new ones.
        """
        if not choices:
            return
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO messenger_assignment_log
                       (lead_id, company_id, team_id, user_id, strategy, reason, reason_kept,
                        create_uid, create_date, write_uid, write_date)
                SELECT lead_id, company_id, %(team)s, user_id, %(strategy)s, reason, kept::jsonb,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(lead_ids)s::int[], %(company_ids)s::int[], %(user_ids)s::int[],
                              %(reasons)s::varchar[], %(kept)s::text[])
                    AS chosen(lead_id, company_id, user_id, reason, kept)
                """,
                team=team.id,
                strategy=team.messenger_assignment,
                uid=self.env.uid,
                now=fields.Datetime.now(),
                lead_ids=[lead.id for lead, _user, _reason in choices],
                company_ids=[lead.company_id.id or None for lead, _user, _reason in choices],
                user_ids=[user_id or None for _lead, user_id, _reason in choices],
                reasons=[
                    assignment.reason_text(assignment.untranslated, reason)
                    for _lead, _user, reason in choices
                ],
                kept=[json.dumps(reason) for _lead, _user, reason in choices],
            )
        )
        leads.invalidate_recordset(["messenger_assignment_log_ids", "messenger_assignment_reason"])
