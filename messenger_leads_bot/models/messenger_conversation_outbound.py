from babel.dates import format_timedelta

from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import babel_locale_parse, format_datetime, get_lang

from ..adapters import MB, file_kind
from ..tools.bot_text import fill_template_values
from ..tools.message_text import message_text


class MessengerConversation(models.Model):
    """What goes to the customer: the outbox rows of a reply or a bot message, the files the
    messenger takes, the messenger's reply windows and the WhatsApp template."""

    # One model, one file per concern, as Odoo's mail does for res.partner: see
    # messenger_conversation.py.
    _inherit = "messenger.conversation"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Outbound
    # ------------------------------------------------------------------

    def _queue_outbound(
        self,
        text,
        origin,
        message=None,
        buttons=None,
        template=None,
        *,
        files=None,
        not_before=None,
    ):
        """Queue text (or a messenger-approved template) for the customer, then its files
        (ir.attachment) each as a message of its own, in this order; they are sent after the
        transaction commits (files by the cron, see messenger.outbox._schedule_delivery). A file
        the messenger does not take is not queued: the thread says why. Only the system writes
        the outbox: callers checked the access."""
        self.ensure_one()
        outbox = self.env["messenger.outbox"].sudo()
        values = []
        if text:
            if self.account_id.track_links and self.lead_id:
                text = self.env["link.tracker"]._messenger_track_links(text, self.lead_id)
            chunks = self.account_id._client_text_chunks(text)
            values += [
                {
                    "text": chunk,
                    # the keyboard goes with the last part only
                    "buttons": buttons if index == len(chunks) - 1 else False,
                    "template": template,
                }
                for index, chunk in enumerate(chunks)
            ]
        values += [{"attachment_id": attachment.id} for attachment in self._sendable(files)]
        common = {
            "conversation_id": self.id,
            "origin": origin,
            "mail_message_id": message.id if message else False,
            "next_attempt_at": not_before or fields.Datetime.now(),
        }
        rows = outbox.create([common | row for row in values])
        return rows._schedule_delivery() if rows else rows

    def _sendable(self, attachments):
        """The files of `attachments` the chat's messenger takes, in the order given; a note in
        the thread names each of the others and why."""
        capabilities = self.account_id._provider().capabilities
        sendable = self.env["ir.attachment"]
        for attachment in attachments or sendable:
            kind, limit = file_kind(
                capabilities, attachment.name, attachment.mimetype, attachment.file_size
            )
            if kind:
                sendable |= attachment
                if capabilities.files_by_url:
                    # committed with the message: the messenger fetches the file while it is
                    # being sent, from another worker (see messenger.outbox._outbound_file)
                    attachment.sudo().generate_access_token()
            elif limit:
                megabytes = f"{limit / MB:g}"  # not in _(): the terms' export reads no f-string
                self._post_notice(
                    _(
                        "%(file)s was not sent: %(channel)s takes files of this type up to "
                        "%(limit)s MB.",
                        file=attachment.name,
                        channel=self.channel_id.name,
                        limit=megabytes,
                    )
                )
            else:
                self._post_notice(
                    _(
                        "%(file)s was not sent: %(channel)s does not take files of this type "
                        "(%(type)s).",
                        file=attachment.name,
                        channel=self.channel_id.name,
                        type=attachment.mimetype,
                    )
                )
        return sendable

    def _register_person_reply(self, message):
        """A person wrote in the thread: the bot falls silent and the whole message goes out, as
        plain text (see tools/message_text.py), in as many parts as the messenger needs, then
        its files."""
        self.ensure_one()
        self._check_service_window()
        self.write(
            {
                "person_replied_at": fields.Datetime.now(),
                "inbox_state": "waiting_customer",
                "waiting_since": False,
            }
        )
        self.lead_id._messenger_register_first_response(self.person_replied_at)
        self._queue_outbound(
            message_text(message.body),
            "person",
            message=message,
            files=self._reply_files(message),
        )

    def _reply_files(self, message):
        """The files a person posted with their message, in the order posted: those uploaded
        into this chat's thread that the author may read. Odoo links to a message any attachment
        id an employee names (message_post(attachment_ids=...)): another record's file, or one
        they cannot read, never leaves through the outbox."""
        thread = self.discuss_channel_id
        own = message.sudo().attachment_ids.filtered(
            lambda attachment: (
                attachment.res_model == "discuss.channel"
                and attachment.res_id == thread.id
                and not attachment.res_field
            )
        )
        author = self.env(su=False)["ir.attachment"]  # the user who posted, not the superuser
        return author._filter_attachment_access(own.ids).sorted("id").sudo()

    def _window_open(self, person=False):
        """Some messengers (WhatsApp) take free-form messages only within a while (24 hours)
        of the customer's last one: its reply window; a `person`'s reply, where the messenger
        has one, within its longer human agent window."""
        window = self._reply_window(person)
        if not window:
            return True
        return bool(self.last_message_at) and (
            self.last_message_at + window >= fields.Datetime.now()
        )

    def _reply_window(self, person=False):
        capabilities = self.account_id._provider().capabilities
        if person and capabilities.human_agent_window:
            return capabilities.human_agent_window
        return capabilities.reply_window

    def _past_reply_window(self):
        """Past the reply window: a person's reply goes with the human agent tag."""
        return not self._window_open()

    def _reachable(self):
        """The chats the bot may write to on its own now."""
        return self.filtered(
            lambda c: not (c.muted or c.blocked or c.unsubscribed) and c._window_open()
        )

    def _check_service_window(self):
        """A person's reply goes only within the messenger's window for it (see
        _window_open); past it they are told what they can do."""
        if self._window_open(person=True):
            return
        if self.account_id.uses_templates:
            raise UserError(
                _(
                    "WhatsApp accepts a free reply only within 24 hours of the customer's last "
                    "message. Send the approved template instead (Send WhatsApp template on the "
                    "chat, from Chats on the lead); the conversation opens again when the "
                    "customer answers."
                )
            )
        window = format_timedelta(
            self._reply_window(person=True),
            threshold=1.1,  # 24 hours, 7 days
            locale=babel_locale_parse(get_lang(self.env).code),
        )
        last = format_datetime(self.env, self.last_message_at) if self.last_message_at else "-"
        raise UserError(
            _(
                "%(channel)s accepts a reply only within %(window)s of the customer's last "
                "message; it was %(last)s. The conversation opens again when the customer "
                "writes.",
                channel=self.channel_id.name,
                window=window,
                last=last,
            )
        )

    def action_send_whatsapp_template(self):
        """Re-open a WhatsApp conversation after 24 hours with the account's approved template."""
        self.check_access("read")  # users write no chat: whoever sees it may act on it
        for conversation in self:
            account = conversation.account_id
            if not account.uses_templates or not account.whatsapp_template:
                raise UserError(
                    _(
                        "Set a re-engagement template on the WhatsApp account %(account)s first.",
                        account=account.name,
                    )
                )
            conversation.sudo()._ensure_thread()
            note = _("Template %(template)s sent.", template=account.whatsapp_template)
            message = (
                conversation.discuss_channel_id.sudo()
                .with_context(messenger_from_bridge=True)
                .message_post(
                    body=note,
                    author_id=self.env.user.partner_id.id,
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                )
            )
            conversation._queue_outbound(
                note,
                "person",
                message=message,
                template={
                    "name": account.whatsapp_template,
                    "language": account.whatsapp_template_language or "en",
                    "values": fill_template_values(
                        account.whatsapp_template_values,
                        customer=conversation.partner_id.name or "",
                        salesperson=(conversation.lead_id.user_id or self.env.user).name,
                        company=account.company_id.name or "",
                    ),
                },
            )
        return True
