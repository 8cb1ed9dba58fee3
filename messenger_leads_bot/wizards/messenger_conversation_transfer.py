from odoo import fields, models


class MessengerConversationTransfer(models.TransientModel):
    """Hand a chat to a colleague with a note for them."""

    _name = "messenger.conversation.transfer"
    _description = "Transfer a messenger chat"

    conversation_id = fields.Many2one(
        "messenger.conversation",
        string="Chat",
        required=True,
        ondelete="cascade",
        default=lambda self: self.env.context.get("active_id"),
    )
    company_id = fields.Many2one(related="conversation_id.company_id")
    user_id = fields.Many2one(
        "res.users",
        string="Transfer to",
        required=True,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
    )
    note = fields.Text(
        required=True,
        help="Why, and what the colleague should know: posted in the thread for staff only "
        "and kept as the reason in the lead's assignment log.",
    )

    def action_transfer(self):
        self.ensure_one()
        self.conversation_id.action_transfer(self.user_id.id, self.note)
        return {"type": "ir.actions.act_window_close"}
