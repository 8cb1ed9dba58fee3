import datetime

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools.message_text import first_line


class MessengerConversation(models.Model):
    """The inbox: who waits for whom, closing (by hand or when idle) and transferring chats."""

    # One model, one file per concern, as Odoo's mail does for res.partner: see
    # messenger_conversation.py.
    _inherit = "messenger.conversation"  # pylint: disable=consider-merging-classes-inherited

    def _register_customer_message(self, event):
        """The inbox's view of the chat: the customer wrote last and waits for us."""
        self.ensure_one()
        sent_at = event.date.replace(tzinfo=None)
        values = {
            "last_message_at": sent_at,
            "last_customer_text": first_line(event.text) or event.file_name or event.kind,
            "inbox_state": "waiting_us",
        }
        if self.inbox_state != "waiting_us" or not self.waiting_since:
            values["waiting_since"] = sent_at
        if self.inbox_state == "closed":
            self._post_notice(_("The customer wrote again: the chat is open again."))
        self.write(values)

    # ------------------------------------------------------------------
    # Lifecycle: close, transfer
    # ------------------------------------------------------------------

    def _check_lifecycle_rights(self):
        """Only the chat's salesperson, its team leader or a sales manager closes or transfers
        it (these methods are callable over RPC)."""
        self.check_access("read")
        user = self.env.user
        if self.env.su or user.has_group("sales_team.group_sale_manager"):
            return
        for conversation in self:
            if user not in conversation.user_id | conversation.team_id.user_id:
                raise AccessError(
                    _(
                        "Only the salesperson of the chat %(chat)s, their team leader or a "
                        "sales manager may close or transfer it.",
                        chat=conversation.display_name,
                    )
                )

    def action_close(self, closing_message=None):
        """Close the chats, after sending `closing_message` to each customer when given."""
        self._check_lifecycle_rights()
        for conversation in self.filtered(lambda c: c.inbox_state != "closed"):
            if closing_message and closing_message.strip():
                conversation.sudo()._ensure_thread()
                # posted as the user: the thread's own hook queues it for the messenger
                conversation.discuss_channel_id.sudo().message_post(
                    body=closing_message,
                    author_id=self.env.user.partner_id.id,
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                )
            conversation.sudo()._close(_("Chat closed by %(user)s.", user=self.env.user.name))
        return True

    def _close(self, notice):
        self.write({"inbox_state": "closed", "waiting_since": False})
        self.lead_id._messenger_register_chat_closed(fields.Datetime.now())
        for conversation in self:
            conversation._post_notice(notice)

    @api.model
    def _cron_auto_close(self):
        """Close the chats where nobody wrote for their team's idle hours."""
        now = fields.Datetime.now()
        teams = self.env["crm.team"].search([("messenger_auto_close_hours", ">", 0)])
        for team in teams:
            idle_since = now - datetime.timedelta(hours=team.messenger_auto_close_hours)
            idle = self.search(
                [
                    ("team_id", "=", team.id),
                    ("inbox_state", "!=", "closed"),
                    ("last_message_at", "<", idle_since),
                    "|",
                    ("person_replied_at", "=", False),
                    ("person_replied_at", "<", idle_since),
                ]
            )
            idle._close(
                _(
                    "Chat closed: nobody wrote for %(hours)s hours.",
                    hours=team.messenger_auto_close_hours,
                )
            )

    def action_transfer(self, user_id, note):
        """Hand the chat to a colleague: they join its thread, the note is posted for staff
        only, and the lead is theirs, with the note as the reason in its assignment log."""
        self.ensure_one()
        self._check_lifecycle_rights()
        colleague = self.env["res.users"].browse(user_id).exists()
        if not (
            colleague
            and colleague._is_internal()
            and colleague.has_group("sales_team.group_sale_salesman")
            and self.company_id in colleague.company_ids
        ):
            raise UserError(_("Transfer the chat to a salesperson of its company."))
        if not (note and note.strip()):
            raise UserError(_("Say in a note why you transfer the chat."))
        conversation = self.sudo()
        conversation.lead_id._messenger_transfer(colleague, self.env.user, note)
        conversation._ensure_thread()  # the new salesperson joined it with the lead
        conversation.discuss_channel_id.with_context(messenger_from_bridge=True).message_post(
            body=_(
                "Transferred to %(colleague)s by %(user)s: %(note)s",
                colleague=colleague.name,
                user=self.env.user.name,
                note=note,
            ),
            author_id=self.env.user.partner_id.id,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        return True
