from odoo import fields, models

SIGNAL_CODES = [
    ("customer_replied", "Customer replied"),
    ("phone_shared", "Shared a phone number"),
    ("link_clicked", "Clicked a link"),
    ("unsubscribed", "Unsubscribed"),
    ("bot_blocked", "Blocked the bot"),
]


class MessengerBehaviourSignal(models.Model):
    """Something a customer did that says how interested they are, worth +/- points."""

    _name = "messenger.behaviour.signal"
    _description = "Behaviour signal"
    _order = "points desc, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Selection(SIGNAL_CODES, required=True)
    points = fields.Integer(
        required=True, help="Added to the lead's score once, the first time it happens."
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_unique", "UNIQUE(code)", "There is one signal per customer action."),
    ]
