from datetime import timedelta

from odoo import api, fields, models
from odoo.osv import expression

from odoo.addons.messenger_leads.tools.callback import CallRules, hours_to_time, next_slot


class ResCompany(models.Model):
    _inherit = "res.company"

    messenger_retention_days = fields.Integer(
        string="Keep messenger traffic (days)",
        default=90,
        help="Raw updates once processed and messages once delivered are deleted this many days "
        "later; failed ones are kept until handled.",
    )

    messenger_automated_from = fields.Float(
        string="Automated messages from",
        default=10.0,
        help="Messages the bot sends on its own later on (rating requests, call-back offers) "
        "wait for this hour of the customer's day; answers to what they write go at once.",
    )
    messenger_automated_until = fields.Float(string="Automated messages until", default=21.0)

    _sql_constraints = [
        (
            "messenger_automated_hours",
            "CHECK (messenger_automated_from >= 0 AND messenger_automated_from "
            "< messenger_automated_until AND messenger_automated_until <= 24)",
            "Automated messages need a window within the day: from before until.",
        ),
        (
            "messenger_retention_days_positive",
            "CHECK (messenger_retention_days > 0)",
            "Messenger traffic is kept at least one day.",
        ),
    ]

    @api.model
    def _messenger_purge_expired(self, model, state):
        """Delete the rows of `model` (updates, outbox) in `state` that their bot account's
        company keeps no longer; a big backlog goes in batches of Odoo's vacuum."""
        now = fields.Datetime.now()
        expired = expression.OR(
            [
                [
                    ("account_id.company_id", "=", company.id),
                    ("write_date", "<", now - timedelta(days=company.messenger_retention_days)),
                ]
                for company in self.with_context(active_test=False).search([])
            ]
        )
        rows = model.search(
            expression.AND([[("state", "=", state)], expired]), limit=models.GC_UNLINK_LIMIT
        )
        if len(rows) >= models.GC_UNLINK_LIMIT:
            self.env.ref("base.autovacuum_job")._trigger()
        rows.unlink()

    def _messenger_civil_time(self, now, tz):
        """The first moment from `now` inside this company's window for automated messages in
        the customer's time zone `tz` (now itself when inside)."""
        self.ensure_one()
        rules = CallRules(
            window_start=hours_to_time(self.messenger_automated_from),
            window_end=hours_to_time(self.messenger_automated_until),
        )
        return next_slot(now, [], "fixed", tz, rules)
