from datetime import timedelta

from odoo import api, fields, models
from odoo.osv import expression


class ResCompany(models.Model):
    _inherit = "res.company"

    messenger_retention_days = fields.Integer(
        string="Keep messenger traffic (days)",
        default=90,
        help="Raw updates once processed and messages once delivered are deleted this many days "
        "later; failed ones are kept until handled.",
    )

    _sql_constraints = [
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
