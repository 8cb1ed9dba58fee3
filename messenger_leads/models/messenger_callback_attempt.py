from odoo import fields, models
from odoo.tools.sql import create_index

OUTCOMES = [
    ("reached", "Reached"),
    ("no_answer", "No answer"),
    ("busy", "Busy"),
    ("wrong_number", "Wrong number"),
    ("call_later", "Call me later"),
]


class MessengerCallbackAttempt(models.Model):
    """One planned call to a lead's customer, and how it went."""

    _name = "messenger.callback.attempt"
    _description = "Call-back attempt"
    _order = "lead_id, sequence"

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(string="Attempt", required=True)
    planned_at = fields.Datetime(string="Call at", required=True)
    user_id = fields.Many2one("res.users", string="Salesperson")
    activity_id = fields.Many2one("mail.activity", ondelete="set null")
    state = fields.Selection(
        [("planned", "Planned"), ("done", "Done"), ("cancelled", "Cancelled")],
        default="planned",
        required=True,
    )
    done_at = fields.Datetime(string="Called at", readonly=True)
    outcome = fields.Selection(OUTCOMES, readonly=True)
    reminded_at = fields.Datetime(readonly=True)
    escalated_at = fields.Datetime(readonly=True)

    def init(self):
        # the reminder cron reads only the planned attempts it has not handled yet
        for name, where in (
            ("remind", "state = 'planned' AND reminded_at IS NULL"),
            ("escalate", "state = 'planned' AND escalated_at IS NULL"),
        ):
            create_index(
                self.env.cr,
                f"messenger_callback_attempt_{name}_index",
                self._table,
                ["planned_at"],
                where=where,
            )
