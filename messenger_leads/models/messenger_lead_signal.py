from odoo import fields, models


class MessengerLeadSignal(models.Model):
    """A behaviour signal that happened on a lead, with the points it counted then."""

    _name = "messenger.lead.signal"
    _description = "Lead behaviour signal"
    _order = "occurred_at desc, id desc"

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade", index=True)
    signal_id = fields.Many2one("messenger.behaviour.signal", required=True, ondelete="cascade")
    points = fields.Integer(required=True)
    occurred_at = fields.Datetime(required=True, default=fields.Datetime.now)

    _sql_constraints = [
        (
            "lead_signal_unique",
            "UNIQUE(lead_id, signal_id)",
            "A behaviour signal counts once per lead.",
        )
    ]
