from odoo import _, fields, models

STOP_COMMANDS = ("/stop", "/unsubscribe")


class MessengerConversation(models.Model):
    """What the customer or a salesperson does about the bot: blocking, /stop and /start, spam."""

    # One model, one file per concern, as Odoo's mail does for res.partner: see
    # messenger_conversation.py.
    _inherit = "messenger.conversation"  # pylint: disable=consider-merging-classes-inherited

    muted = fields.Boolean(
        help="Rejected as spam: messages are still kept, but make no lead and get no bot answer."
    )
    blocked = fields.Boolean(
        string="Blocked the bot", help="The customer blocked the bot: nothing can be sent."
    )
    unsubscribed = fields.Boolean(
        string="Stopped the bot",
        help="The customer sent /stop: the bot sends nothing more until they send /start; "
        "salespeople can still write.",
    )

    def _take_bot_control(self, event):
        """Blocking, unblocking and /stop; return True when the event was one of them."""
        if event.kind == "blocked":
            self._mark_blocked(_("The customer blocked the bot."))
            return True
        if event.kind == "unblocked":
            self._unblock()
            return True
        command = event.text.strip().lower() if event.kind == "text" else ""
        if command in STOP_COMMANDS and not self.muted:
            self._unsubscribe(event)
            return True
        if command.startswith("/start"):
            self.unsubscribed = False
            if self.blocked:  # a messenger that says start without an unblocking of its own
                self._unblock()
        return False

    def _unblock(self):
        self.blocked = False
        self._post_notice(_("The customer started the bot again."))

    def action_reject_spam(self):
        """Spam in one click: mute the chat, stop the bot, archive the lead as lost (Spam)."""
        self.check_access("read")  # users write no chat: whoever sees it may act on it
        spam = self.env.ref("messenger_leads_bot.crm_lost_reason_spam")
        self.sudo().write({"muted": True})
        leads = self.lead_id.filtered("active")
        leads.action_set_lost(lost_reason_id=spam.id)
        for conversation in self:
            conversation._post_notice(_("Rejected as spam: the bot and new leads are stopped."))
        return True

    def _mark_blocked(self, reason):
        self.blocked = True
        self._post_notice(reason)
        self.lead_id._messenger_register_signal("bot_blocked")

    def _unsubscribe(self, event):
        """/stop: the bot goes quiet for this customer; the chat itself stays open."""
        self.unsubscribed = True
        self._ensure_thread()
        self._post_customer_message(event)
        self._post_notice(_("The customer stopped the bot's messages (/stop)."))
        self.lead_id._messenger_register_signal("unsubscribed")
