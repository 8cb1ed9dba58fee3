import dataclasses
import datetime

from babel.dates import format_timedelta
from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.mail import plaintext2html
from odoo.tools.misc import babel_locale_parse, format_datetime, get_lang

from ..adapters import MB, file_kind, fill_template_values
from ..tools.clock import message_time
from ..tools.language import phone_languages
from ..tools.message_text import first_line, message_text

STOP_COMMANDS = ("/stop", "/unsubscribe")
INBOX_STATES = [
    ("waiting_us", "Waiting for us"),
    ("waiting_customer", "Waiting for the customer"),
    ("closed", "Closed"),
]


class MessengerConversation(models.Model):
    """One customer chat in a messenger, bridged to a Discuss thread and tied to a lead."""

    _name = "messenger.conversation"
    _description = "Messenger conversation"
    # the inbox's urgency: the closest first-response deadline, then who waited longest
    _order = "answer_by, waiting_since, last_message_at desc, id desc"
    _rec_name = "display_name"

    account_id = fields.Many2one(
        "messenger.bot.account", required=True, ondelete="cascade", index=True
    )
    channel_id = fields.Many2one(related="account_id.channel_id", store=True)
    provider = fields.Selection(related="account_id.provider")
    uses_templates = fields.Boolean(related="account_id.uses_templates")
    external_chat_id = fields.Char(string="Chat ID", required=True)
    external_user_id = fields.Char(string="User ID", index=True)
    external_username = fields.Char(string="Username")
    language_code = fields.Char(string="Language")
    shared_phone = fields.Char(
        string="Phone given",
        readonly=True,
        help="The last number the customer gave in the chat (E.164). Information only, unless "
        "the messenger vouched that it is their own number.",
    )
    partner_id = fields.Many2one("res.partner", string="Customer", index=True)
    discuss_channel_id = fields.Many2one(
        "discuss.channel", string="Discuss thread", ondelete="set null", index=True
    )
    lead_id = fields.Many2one("crm.lead", string="Lead", ondelete="set null", index=True)
    team_id = fields.Many2one(related="lead_id.team_id", store=True)
    user_id = fields.Many2one(related="lead_id.user_id", store=True, string="Salesperson")
    last_message_at = fields.Datetime(string="Last message", index=True)  # live chats
    person_replied_at = fields.Datetime(
        string="Person replied", help="When a person last wrote: the bot stays silent after it."
    )
    last_customer_text = fields.Char(
        string="Last customer message",
        readonly=True,
        help="The first line of the customer's last message.",
    )
    inbox_state = fields.Selection(
        INBOX_STATES,
        string="Status",
        default="waiting_customer",
        required=True,
        readonly=True,
        index=True,
        help="Waiting for us: the customer wrote last and nobody answered yet. A closed chat "
        "opens again when the customer writes.",
    )
    waiting_since = fields.Datetime(
        readonly=True,
        help="The customer's first message that nobody answered yet.",
    )
    answer_by = fields.Datetime(
        compute="_compute_answer_by",
        store=True,
        help="The lead's first-response deadline, while nobody has answered it.",
    )
    sla_state = fields.Selection(related="lead_id.sla_state")
    first_response_at = fields.Datetime(related="lead_id.first_response_at")
    rating_lead_id = fields.Many2one(
        "crm.lead",
        string="Rating asked for",
        ondelete="set null",
        help="The closed lead whose rating the bot asked for and is waiting for.",
    )
    chatbot_step_id = fields.Many2one(
        "chatbot.script.step",
        string="Waiting for the answer to",
        ondelete="set null",
        help="The qualification question the bot asked and waits for.",
    )
    chatbot_answer_ids = fields.Many2many(
        "chatbot.script.answer", string="Answers chosen", help="They decide the next question."
    )
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
    company_id = fields.Many2one(related="account_id.company_id", store=True)

    _sql_constraints = [
        (
            "chat_unique",
            "UNIQUE(account_id, external_chat_id)",
            "A chat is bridged once per bot account.",
        ),
    ]

    @api.depends("partner_id", "external_username", "external_chat_id", "channel_id")
    def _compute_display_name(self):
        for conversation in self:
            who = (
                conversation.partner_id.name
                or conversation.external_username
                or conversation.external_chat_id
            )
            conversation.display_name = f"{conversation.channel_id.name or ''} · {who}"

    @api.depends("lead_id.response_deadline", "lead_id.first_response_at")
    def _compute_answer_by(self):
        for conversation in self:
            lead = conversation.lead_id
            conversation.answer_by = not lead.first_response_at and lead.response_deadline

    def write(self, vals):
        result = super().write(vals)
        if "lead_id" in vals:
            self._join_lead_people()
        return result

    # ------------------------------------------------------------------
    # Inbound
    # ------------------------------------------------------------------

    @api.model
    def _bridge_inbound(self, account, event, received_at=None):
        """Tie one customer event to its conversation, thread and lead; return the conversation.

        `received_at`: when its update was stored, the message's date when that date cannot be
        (see tools/clock.py)."""
        sent_at = event.date and event.date.replace(tzinfo=None)
        event = dataclasses.replace(
            event,
            date=message_time(sent_at, account.create_date, received_at or fields.Datetime.now()),
        )
        conversation = self._lock_or_create(account, event.chat_id)
        conversation._ensure_customer(event)
        if conversation._take_bot_control(event) or conversation._take_rating(event):
            return conversation
        if conversation.muted:
            conversation._ensure_thread()
            conversation._post_customer_message(event)
            return conversation
        is_new_lead = conversation._ensure_open_lead(event)
        conversation.lead_id._messenger_set_listing(event)
        conversation._ensure_thread()
        if event.edited:
            conversation._edit_customer_message(event)
            return conversation
        message = conversation._post_customer_message(event)
        conversation._register_customer_message(event)
        conversation.lead_id._messenger_register_customer_message(conversation.last_message_at)
        if not is_new_lead:
            conversation.lead_id._messenger_register_signal("customer_replied")
        if event.kind == "contact" and event.phone:
            conversation._apply_shared_phone(event.phone, vouched=event.phone_is_senders)
        conversation._bot_answer(event, is_new_lead, message)
        return conversation

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

    @api.model
    def _lock_or_create(self, account, chat_id):
        """The conversation of a chat, created at most once even under concurrent requests.

        ON CONFLICT makes the second of two racing transactions fail to serialise, and Odoo
        retries its whole request, which then finds the row the first one committed.
        """
        self.env.cr.execute(
            """
            INSERT INTO messenger_conversation
                (account_id, external_chat_id, channel_id, company_id, blocked, inbox_state,
                 create_uid, create_date, write_uid, write_date)
            VALUES (%(account)s, %(chat)s, %(channel)s, %(company)s, false, 'waiting_customer',
                    %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC')
            ON CONFLICT (account_id, external_chat_id) DO NOTHING
            """,
            {
                "account": account.id,
                "chat": chat_id,
                "channel": account.channel_id.id,
                "company": account.company_id.id,
                "uid": self.env.uid,
            },
            log_exceptions=False,  # a lost race is retried, not an error
        )
        self.env.cr.execute(
            "SELECT id FROM messenger_conversation"
            " WHERE account_id = %s AND external_chat_id = %s FOR UPDATE",
            (account.id, chat_id),
        )
        return self.browse(self.env.cr.fetchone()[0])

    def _ensure_customer(self, event):
        self.ensure_one()
        values = {"external_user_id": event.user_id}
        if event.username:
            values["external_username"] = event.username
        if event.language_code:
            values["language_code"] = event.language_code
        if not self.partner_id:
            values["partner_id"] = self._customer_partner(event).id
        self.write(values)

    def _customer_partner(self, event):
        """The contact of a new chat: the one known by the sender's number when the messenger
        identifies its users by number (the same customer in another messenger), else a new
        one of the bot's company."""
        phone = event.sender_phone and self.env["res.partner"]._phone_format(
            number=event.sender_phone, force_format="E164"
        )
        known = self._partner_with_phone(phone)
        if known:
            return known
        return self.env["res.partner"].create(
            {
                "name": event.display_name,
                "lang": self._customer_lang(event, phone),
                "phone": phone,
                "website": event.profile_url or False,
                "company_id": self.account_id.company_id.id,
            }
        )

    def _customer_lang(self, event, phone):
        """The language the messenger says the customer uses; WhatsApp says none: the most
        spoken one of their number's country that is installed, else the company's."""
        return (
            self._installed_lang(event.language_code, *phone_languages(phone))
            or self.account_id.company_id.partner_id.lang
            or self.env.lang
        )

    def _partner_with_phone(self, e164):
        """The customer known by this number to the bot's company (messenger_leads keeps
        contacts' numbers in E.164); never a user's or a company's own contact, which a
        customer could otherwise write as."""
        partners = self.env["res.partner"].with_context(active_test=False)
        if not e164:
            return partners.browse()
        companies = partners.env["res.company"].search([])
        return partners.search(
            [
                "|",
                ("phone", "=", e164),
                ("mobile", "=", e164),
                ("active", "=", True),
                ("company_id", "in", [False, self.account_id.company_id.id]),
                ("user_ids", "=", False),
                ("id", "not in", companies.partner_id.ids),
            ],
            order="id",
            limit=1,
        )

    def _join_known_customer(self, partner):
        """The customer shared the number of a contact known from another messenger: one
        contact, and one open lead (crm's merge, which keeps the history of both)."""
        own_lead = self.lead_id
        self.partner_id = partner
        other_lead = self.env["crm.lead"].search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", self.account_id.company_id.id),
                ("stage_id.is_won", "=", False),
                ("id", "!=", own_lead.id),
            ],
            order="id desc",
            limit=1,
        )
        if not (own_lead and other_lead):
            own_lead.partner_id = partner
            return
        chats = self.search([("lead_id", "in", (own_lead | other_lead).ids)])
        merged = (own_lead | other_lead)._merge_opportunity(auto_unlink=True)
        chats.lead_id = merged

    @api.model
    def _installed_lang(self, *language_codes):
        """The first installed language among messenger language codes (en, pt-br, zh_Hant),
        the same region preferred (pt-br: pt_BR before pt_PT), or False."""
        installed = [code for code, _name in self.env["res.lang"].get_installed()]
        for language_code in filter(None, language_codes):
            wanted = language_code.replace("-", "_").lower()
            matches = [code for code in installed if code.lower() == wanted] + [
                code for code in installed if code.split("_")[0].lower() == wanted.split("_")[0]
            ]
            if matches:
                return matches[0]
        return False

    def _ensure_open_lead(self, event):
        """Link the customer's open lead, or make one; return True when a lead was created."""
        self.ensure_one()
        lead = self.lead_id
        if lead and lead.active and not lead.stage_id.is_won:
            return False
        account = self.account_id
        lead = self.env["crm.lead"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", account.company_id.id),
                ("stage_id.is_won", "=", False),
            ],
            order="id desc",
            limit=1,
        )
        if lead:
            self.lead_id = lead
            return False
        channel = account.channel_id
        values = {
            "name": _(
                "%(channel)s: %(customer)s", channel=channel.name, customer=self.partner_id.name
            ),
            "partner_id": self.partner_id.id,
            "contact_name": self.partner_id.name,
            "channel_id": channel.id,
            "source_id": channel.source_id.id,
            "medium_id": channel.medium_id.id,
            "company_id": account.company_id.id,
            "first_message_at": event.date.replace(tzinfo=None),
            # the team's engine picks the salesperson; without a team the lead waits
            # unassigned in the company's pipeline (never the webhook's public user's)
            "team_id": account.team_id.id,
            "user_id": False,
        }
        if event.start_payload:
            values["campaign_id"] = self._campaign(event.start_payload).id
        self.lead_id = self.env["crm.lead"].create(values)
        return True

    def _campaign(self, payload):
        """The UTM campaign of a /start deep-link payload, created the first time it is seen."""
        campaign = self.env["utm.campaign"].search([("name", "=", payload)], limit=1)
        return campaign or self.env["utm.campaign"].create({"name": payload})

    def _thread_people(self):
        """Who the chat's thread is for: the lead's salesperson and team leader."""
        return (self.lead_id.user_id | self.lead_id.team_id.user_id).partner_id

    def _ensure_thread(self):
        """The Discuss thread of the chat, private to the lead's people (see _join_lead_people
        for later changes of them)."""
        self.ensure_one()
        if self.discuss_channel_id:
            return
        self.discuss_channel_id = self.env["discuss.channel"].create(
            {
                "name": self.display_name,
                "channel_type": "group",
                "description": _("Messenger chat of lead %(lead)s", lead=self.lead_id.name),
                "channel_member_ids": [
                    Command.create({"partner_id": partner.id}) for partner in self._thread_people()
                ],
            }
        )

    def _join_lead_people(self):
        """The lead got another salesperson, team or lead: its people join the thread at once,
        not when the customer next writes. Those who were there stay, with the history."""
        for conversation in self.filtered("discuss_channel_id"):
            thread = conversation.discuss_channel_id.sudo()  # whoever reassigns, they join
            missing = conversation._thread_people() - thread.channel_member_ids.partner_id
            if missing:
                thread.add_members(partner_ids=missing.ids, post_joined_message=False)

    def _post_customer_message(self, event):
        attachments = []
        body = event.text
        if event.kind == "location":
            url = f"https://maps.google.com/?q={event.latitude},{event.longitude}"
            body = Markup('📍 <a href="%s" target="_blank">%s, %s</a>') % (
                url,
                event.latitude,
                event.longitude,
            )
        elif event.kind == "contact":
            body = _("Shared a phone number: %(phone)s", phone=event.phone)
        elif event.file_content is not None:
            attachments = [(event.file_name, event.file_content)]
        elif event.file_id:
            note = _("[%(kind)s not fetched: %(error)s]", kind=event.kind, error=event.file_error)
            body = f"{body} {note}" if body else note
        if body and not isinstance(body, Markup):  # the lines and paragraphs they wrote
            body = plaintext2html(body)
        message = (
            self.discuss_channel_id.sudo()
            .with_context(messenger_inbound=True)
            .message_post(
                body=body,
                author_id=self.partner_id.id,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                attachments=attachments,
                messenger_ref=self._message_ref(event.message_id),
            )
        )
        return message

    def _message_ref(self, external_message_id):
        return f"{self.account_id.id}:{self.external_chat_id}:{external_message_id}"

    def _edit_customer_message(self, event):
        message = self.env["mail.message"].search(
            [("messenger_ref", "=", self._message_ref(event.message_id))], limit=1
        )
        if not message:
            self._post_customer_message(event)
            return
        message.sudo().write(
            {"body": plaintext2html(event.text) + Markup("<p><em>%s</em></p>") % _("(edited)")}
        )

    def _apply_shared_phone(self, phone, vouched):
        """A number the customer gave; return it in E.164, or "" when it is not valid.

        Only a number the messenger `vouched` for as the sender's own joins the contact known
        by it, or fills the customer's empty phone; any other is kept on the chat and the lead
        as information. A contact's existing number is never overwritten."""
        number = phone if phone.startswith("+") else f"+{phone}"
        e164 = self.partner_id._phone_format(number=number, force_format="E164")
        if not e164:
            self._post_notice(_("The shared number %(phone)s is not valid.", phone=phone))
            return ""
        self.shared_phone = e164
        if vouched:
            known = self._partner_with_phone(e164) - self.partner_id
            if known:
                self._join_known_customer(known)
            elif not self.partner_id.phone:
                self.partner_id.phone = e164
        if self.lead_id and not self.lead_id.phone:
            self.lead_id.write({"phone": e164, "messenger_phone_from_chat": not vouched})
        self.lead_id._messenger_register_signal("phone_shared")
        return e164

    def _post_notice(self, text):
        if self.discuss_channel_id:
            self.discuss_channel_id.sudo().with_context(messenger_inbound=True).message_post(
                body=text,
                author_id=self.env.ref("base.partner_root").id,
                message_type="notification",
                subtype_xmlid="mail.mt_note",
            )

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

    def action_open_discuss(self):
        """Open the chat's thread in Discuss."""
        self.ensure_one()
        self.check_access("read")
        thread = f"discuss.channel_{self.discuss_channel_id.id}"
        return {
            "type": "ir.actions.client",
            "tag": "mail.action_discuss",
            # Discuss reads the context's active_id first, which a button sets to its record's
            "context": {"active_id": thread},
            "params": {"active_id": thread},
        }

    def action_open_lead(self):
        """Open the chat's lead."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "views": [(False, "form")],
        }

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
        conversation.discuss_channel_id.with_context(messenger_inbound=True).message_post(
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
                .with_context(messenger_inbound=True)
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

    # ------------------------------------------------------------------
    # The bot
    # ------------------------------------------------------------------

    def _bot_answer(self, event, is_new_lead, message):
        """Answer what the bot can; silent once a person replied and within the daily cap."""
        self.ensure_one()
        if self.person_replied_at:
            return
        account = self.account_id.with_context(lang=self.partner_id.lang or self.env.lang)
        handoff = account._messenger_bot_text("handoff_button")
        if event.kind == "text" and handoff and event.text.strip() == handoff:
            self.chatbot_step_id = False
            self.lead_id._messenger_request_person(_("The customer asked for a person."))
            self._say(account, account._messenger_bot_text("handoff_text"))
        elif event.kind == "contact" and not self.chatbot_step_id:
            self._say(
                account,
                account._messenger_bot_text(
                    "phone_thanks_text", phone=self.shared_phone or event.phone
                ),
            )
        elif self.chatbot_step_id:
            self._take_answer(event)
            self._run_script(
                account, self.chatbot_step_id._fetch_next_step(self.chatbot_answer_ids)
            )
        elif is_new_lead:
            self._say(account, self._greeting(account))
            script = account.chatbot_script_id
            self._run_script(account, script.script_step_ids.sorted("sequence")[:1])

    def _say(self, account, text, answers=None, at_civil_hour=False):
        """One bot message with its reply buttons, within the daily cap; True when sent (see
        _post_bot_message for `at_civil_hour`)."""
        if not text or self.unsubscribed or self._automated_today() >= account.daily_automated_cap:
            return False
        buttons = [[(f"answer_{answer.id}", answer.name)] for answer in answers or []]
        if not self.partner_id.phone:
            buttons.append([("share_phone", account._messenger_bot_text("share_phone_button"))])
        buttons.append([("handoff", account._messenger_bot_text("handoff_button"))])
        self._post_bot_message(text, buttons, at_civil_hour=at_civil_hour)
        return True

    def _run_script(self, account, step):
        """Say the script's steps until one waits for the customer, hands over, or it ends."""
        while step:
            step = step.with_context(lang=account.env.lang)
            if step.step_type == "forward_operator":
                self.chatbot_step_id = False
                self.lead_id._messenger_request_person(
                    _("The qualification questions handed over to a person.")
                )
                self._say(account, step.message or account._messenger_bot_text("handoff_text"))
                return
            answers = step.answer_ids if step.step_type == "question_selection" else None
            if not self._say(account, step.message, answers):
                self.chatbot_step_id = False
                return
            if step.step_type != "text":
                self.chatbot_step_id = step
                return
            step = step._fetch_next_step(self.chatbot_answer_ids)
        self.chatbot_step_id = False

    def _take_answer(self, event):
        """Keep the customer's answer to the current question on the lead."""
        step = self.chatbot_step_id
        answer_text = event.phone if event.kind == "contact" else event.text.strip()
        if step.step_type == "question_selection":
            chosen = step.answer_ids.filtered(
                lambda answer: answer.name.strip().lower() == answer_text.lower()
            )[:1]
            self.chatbot_answer_ids |= chosen
            if chosen.messenger_criterion_id and chosen.messenger_points:
                self.lead_id._messenger_set_criterion_points(
                    chosen.messenger_criterion_id, chosen.messenger_points
                )
        elif step.messenger_asks_budget:
            self.lead_id._messenger_take_declared_budget(answer_text)
        elif step.step_type == "question_phone" and answer_text:
            # typed, or a contact card: only the messenger's word makes it the customer's own
            self._apply_shared_phone(answer_text, vouched=event.phone_is_senders)
        elif step.step_type == "question_email" and "@" in answer_text:
            self.lead_id.email_from = self.lead_id.email_from or answer_text
        self.lead_id._messenger_record_answer(step.message, answer_text)

    def _request_rating(self, lead):
        """Ask the customer to rate the conversation of a lead that was just won or lost."""
        for conversation in self._reachable():
            account = conversation.account_id.with_context(
                lang=conversation.partner_id.lang or self.env.lang
            )
            if conversation._automated_today() >= account.daily_automated_cap:
                continue
            conversation.rating_lead_id = lead
            conversation._post_bot_message(
                account._messenger_bot_text("rating_request_text"),
                [[(str(n), str(n)) for n in range(1, 6)]],
                at_civil_hour=True,
            )

    def _take_rating(self, event):
        """Keep the customer's 1..5 answer to a rating request; return True when it was one."""
        self.ensure_one()
        answer = event.text.strip() if event.kind == "text" else ""
        if not self.rating_lead_id or answer not in {"1", "2", "3", "4", "5"}:
            return False
        lead = self.rating_lead_id
        self.rating_lead_id = False
        self._ensure_thread()
        self._post_customer_message(event)
        lead._messenger_record_rating(int(answer))
        account = self.account_id.with_context(lang=self.partner_id.lang or self.env.lang)
        if self._automated_today() < account.daily_automated_cap:
            self._post_bot_message(account._messenger_bot_text("rating_thanks_text"), [])
        return True

    def _greeting(self, account):
        """The acknowledgement in working hours, the out-of-hours text otherwise."""
        lead = self.lead_id
        now = fields.Datetime.now()
        intervals = lead._messenger_working_intervals(now)
        next_open = max(intervals[0][0], now) if intervals else now
        if next_open <= now:
            return account._messenger_bot_text(
                "acknowledgement_text", minutes=lead._messenger_response_target()
            )
        local = fields.Datetime.context_timestamp(
            self.with_context(tz=lead._messenger_calendar().tz or "UTC"), next_open
        )
        return account._messenger_bot_text(
            "out_of_hours_text", next_open=local.strftime("%d.%m %H:%M")
        )

    def _automated_today(self):
        return self.env["messenger.outbox"].search_count(
            [
                ("conversation_id", "=", self.id),
                ("origin", "=", "bot"),
                ("create_date", ">=", fields.Datetime.now() - datetime.timedelta(days=1)),
            ]
        )

    def _post_bot_message(self, text, buttons, at_civil_hour=False):
        """A bot message in the thread, queued for the customer; `at_civil_hour`: one the bot
        sends on its own (not an answer), which waits for the window of the customer's day set
        in Settings."""
        message = (
            self.discuss_channel_id.sudo()
            .with_context(messenger_inbound=True)
            .message_post(
                body=text,
                author_id=self.env.ref("base.partner_root").id,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        )
        not_before = self._civil_time() if at_civil_hour else None
        self._queue_outbound(text, "bot", message=message, buttons=buttons, not_before=not_before)

    def _civil_time(self):
        """When an automated message may reach the customer: now, or the start of the window of
        their day (their lead's time zone: the number's, the contact's or the company's)."""
        self.ensure_one()
        tz = self.lead_id.customer_tz or self.partner_id.tz or "UTC"
        return self.account_id.company_id._messenger_civil_time(fields.Datetime.now(), tz)

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
