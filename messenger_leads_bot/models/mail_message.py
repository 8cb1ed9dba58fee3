from odoo import fields, models


class MailMessage(models.Model):
    _inherit = "mail.message"

    messenger_ref = fields.Char(
        string="Messenger message",
        index="btree_not_null",
        readonly=True,
        help="Bot account, chat and message id of a message bridged from a messenger.",
    )
    messenger_delivery_state = fields.Selection(
        [("queued", "Queued"), ("sent", "Sent"), ("failed", "Not delivered")],
        readonly=True,
        help="Delivery to the customer's messenger of a message written in Odoo.",
    )
