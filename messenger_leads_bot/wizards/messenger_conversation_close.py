from odoo import fields, models


class MessengerConversationClose(models.TransientModel):
    """Close chats, with a last message to the customers if one is written."""

    _name = "messenger.conversation.close"
    _description = "Close messenger chats"

    conversation_ids = fields.Many2many(
        "messenger.conversation",
        string="Chats",
        required=True,
        default=lambda self: self.env.context.get("active_ids"),
    )
    closing_message = fields.Text(
        help="Sent to each customer before the chat closes; leave empty to close silently."
    )

    def action_close(self):
        self.ensure_one()
        self.conversation_ids.action_close(self.closing_message)
        return {"type": "ir.actions.act_window_close"}
