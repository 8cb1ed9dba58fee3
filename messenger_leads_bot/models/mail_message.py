from odoo import fields, models

from .discuss_channel_batch import batched_new_messages


class MailMessage(models.Model):
    _inherit = "mail.message"

    messenger_ref = fields.Char(
        string="Messenger message",
        index="btree_not_null",
        readonly=True,
        help="Bot account, chat and message id of a message bridged from a messenger.",
    )
    messenger_delivery_state = fields.Selection(
        [
            ("queued", "Queued"),
            ("sent", "Sent"),
            ("delivered", "Delivered"),
            ("read", "Read"),
            ("failed", "Not delivered"),
        ],
        readonly=True,
        help="Delivery to the customer's messenger of a message written in Odoo.",
    )

    def _to_store(self, store, /, *, fields=None, **kwargs):
        batched = batched_new_messages(self.env)
        if batched and fields is None and not kwargs and batched.builds_later(self):
            return None  # for the notification of its posting, built with its batch's others
        result = super()._to_store(store, fields=fields, **kwargs)
        for message in self.filtered("messenger_delivery_state"):
            store.add(message, {"messenger_delivery_state": message.messenger_delivery_state})
        return result

    def _messenger_set_delivery_state(self, state):
        """Keep the delivery state and show it at once in the open threads."""
        self.write({"messenger_delivery_state": state})
        for message in self.filtered(lambda m: m.model == "discuss.channel"):
            channel = self.env["discuss.channel"].browse(message.res_id)
            channel._bus_send_store(message, {"messenger_delivery_state": state})
