from odoo import api, fields, models


class DiscussChannel(models.Model):
    _inherit = "discuss.channel"

    messenger_conversation_ids = fields.One2many("messenger.conversation", "discuss_channel_id")

    def _to_store(self, store):
        """Tell the web client which channels are messenger chats, and their lead."""
        result = super()._to_store(store)
        conversations = (
            self.env["messenger.conversation"]
            .sudo()
            .search([("discuss_channel_id", "in", self.ids)])
        )
        for conversation in conversations:
            store.add(
                conversation.discuss_channel_id,
                {"messenger_lead_id": conversation.lead_id.id or False},
            )
        return result

    @api.returns("mail.message", lambda value: value.id)
    def message_post(self, **kwargs):
        message = super().message_post(**kwargs)
        if self.env.context.get("messenger_inbound") or message.message_type != "comment":
            return message
        conversation = self.sudo().messenger_conversation_ids[:1]
        if conversation and self.env.user._is_internal() and not message.author_guest_id:
            conversation._register_person_reply(message)
        return message
