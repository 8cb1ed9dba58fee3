from odoo import fields, models


class MessengerConversation(models.Model):
    """The chat waiting in its team's queue: its place, in the inbox and in the greeting."""

    _inherit = "messenger.conversation"  # pylint: disable=consider-merging-classes-inherited

    queue_position = fields.Integer(
        related="lead_id.messenger_queue_position",
        string="Place in the queue",
        help="Where the chat's lead waits in its team's queue (nobody had room): 1 goes to the "
        "first salesperson who frees up. 0: not waiting.",
    )

    def _queue_greeting(self, account):
        """The queue text, with the lead's place, when it waits in its team's queue; else
        False (the acknowledgement)."""
        self.ensure_one()
        position = self.lead_id.messenger_queue_position
        return bool(position) and account._messenger_bot_text("queue_text", position=position)
