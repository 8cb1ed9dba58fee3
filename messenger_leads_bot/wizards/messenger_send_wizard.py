from odoo import api, fields, models


class MessengerSendWizard(models.TransientModel):
    """Write to the customer's messenger from the lead, as if in the chat thread."""

    _name = "messenger.send.wizard"
    _description = "Send a message to the customer's messenger"

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade")
    conversation_id = fields.Many2one(
        "messenger.conversation",
        string="Chat",
        required=True,
        domain="[('lead_id', '=', lead_id)]",
        compute="_compute_conversation_id",
        store=True,
        precompute=True,
        readonly=False,
        ondelete="cascade",
    )
    body = fields.Text(string="Message", required=True)

    @api.depends("lead_id")
    def _compute_conversation_id(self):
        for wizard in self:
            wizard.conversation_id = self.env["messenger.conversation"].search(
                [("lead_id", "=", wizard.lead_id.id)], order="last_message_at desc", limit=1
            )

    def action_send(self):
        """Post into the bridged thread: the thread's own hook queues it for the messenger."""
        self.ensure_one()
        self.conversation_id.discuss_channel_id.message_post(
            body=self.body, message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        return {"type": "ir.actions.act_window_close"}
