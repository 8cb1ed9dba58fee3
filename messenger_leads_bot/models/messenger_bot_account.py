import dataclasses
import logging
from datetime import UTC, timedelta

from odoo import _, api, fields, models, modules
from odoo.exceptions import UserError, ValidationError

from ..adapters import (
    PROVIDERS,
    TEMPLATE_PLACEHOLDERS,
    DeliveryError,
    NotConfirmed,
    split_text,
)
from .messenger_queue import on_new_snapshots

_logger = logging.getLogger(__name__)

MAX_DOWNLOAD_MB = 20  # the default of the setting
# the API sync reads back to its last run less this (messages stamped while it ran), and a
# day back the first time
SYNC_OVERLAP = timedelta(minutes=10)
SYNC_FIRST_LOOKBACK = timedelta(days=1)


def default_acknowledgement(env):
    """The acknowledgement of a new message, for bots and the website chat alike."""
    return env._("Hello! We have your message. A manager will answer you within {minutes} minutes.")


class MessengerBotAccount(models.Model):
    """A company's bot in a messenger: how updates arrive, where leads go, what the bot says.

    Split by concern like Odoo's mail splits res.partner: messenger_bot_account_connection.py
    (credentials, client, webhook), messenger_bot_account_health.py (the Health screen).
    """

    _name = "messenger.bot.account"
    _description = "Messenger bot account"
    _inherit = ["mail.thread", "messenger.bot.text.mixin"]
    _order = "name, id"
    _check_company_auto = True
    _messenger_bot_texts = {
        "acknowledgement_text": ("minutes",),
        "out_of_hours_text": ("next_open",),
        "queue_text": ("position",),
        "handoff_button": (),
        "handoff_text": (),
        "share_phone_button": (),
        "phone_thanks_text": ("phone",),
        "rating_request_text": (),
        "rating_thanks_text": (),
        "callback_unreachable_text": (),
        "welcome_text": (),
        "whatsapp_template_values": TEMPLATE_PLACEHOLDERS,
    }

    name = fields.Char(required=True, tracking=True)
    provider = fields.Selection(
        [(code, provider.label) for code, provider in PROVIDERS.items()],
        required=True,
        default="telegram",
    )
    api_synced_at = fields.Datetime(
        string="Last API sync",
        copy=False,
        readonly=True,
        help="When the recent chats were last read through the messenger's API, to repair "
        "messages whose webhook was lost.",
    )
    whatsapp_template = fields.Char(
        string="Re-engagement template",
        help="WhatsApp: an approved message template sent when a salesperson wants to write "
        "more than 24 hours after the customer's last message.",
    )
    whatsapp_template_language = fields.Char(
        string="Template language", default="ru", help="The template's language code, e.g. ru."
    )
    whatsapp_template_values = fields.Char(
        string="Template variables",
        help="What fills the template's {{1}}, {{2}}... in order, separated by commas: "
        "{customer}, {salesperson}, {company} or any fixed text, e.g. "
        '"{customer}, {salesperson}". Leave empty for a template without variables.',
    )
    # where the polling relay goes on from after a restart: the offset or marker it last moved
    # past (VK's Long Poll keeps none for us); written by the relay only
    relay_offset = fields.Json(groups="base.group_system", copy=False, readonly=True)
    # what the messenger offers (adapters' Capabilities), for the views
    uses_templates = fields.Boolean(compute="_compute_capabilities")
    manages_webhook = fields.Boolean(compute="_compute_capabilities")
    can_poll = fields.Boolean(compute="_compute_capabilities")
    welcomes_on_open = fields.Boolean(compute="_compute_capabilities")
    signs_with_app_secret = fields.Boolean(compute="_compute_capabilities")
    uses_phone_number_id = fields.Boolean(compute="_compute_capabilities")
    uses_webhook_secret = fields.Boolean(compute="_compute_capabilities")
    uses_ca_bundle = fields.Boolean(compute="_compute_capabilities")
    uses_confirmation_code = fields.Boolean(compute="_compute_capabilities")
    uses_client_credentials = fields.Boolean(compute="_compute_capabilities")
    mode = fields.Selection(
        [("webhook", "Webhook"), ("polling", "Polling relay")],
        default="webhook",
        required=True,
        tracking=True,
        help="Webhook: the messenger calls Odoo over public HTTPS. "
        "Polling relay: a process started next to Odoo fetches updates and forwards them.",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales team",
        check_company=True,
        help="Team that receives the leads of this bot. Without one, leads wait unassigned in "
        "the company's pipeline.",
    )
    channel_id = fields.Many2one(
        "messenger.channel", string="Channel", required=True, check_company=True
    )
    conversation_ids = fields.One2many("messenger.conversation", "account_id")
    track_links = fields.Boolean(
        string="Track links",
        default=True,
        help="Links sent to customers go through a short tracked link (Odoo's link tracker): "
        "a click adds the 'Clicked a link' signal to the lead's score.",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    # What the bot says. Every text is editable per account and per language.
    acknowledgement_text = fields.Text(
        translate=True,
        default=lambda self: default_acknowledgement(self.env),
        help="Sent at once to a new message in working hours. {minutes}: the expected wait.",
    )
    out_of_hours_text = fields.Text(
        translate=True,
        default=lambda self: self.env._(
            "Hello! We have your message. We are closed now; a manager will answer you "
            "from {next_open}."
        ),
        help="Sent instead of the acknowledgement outside the team's working hours. "
        "{next_open}: when the team is back.",
    )
    queue_text = fields.Text(
        translate=True,
        default=lambda self: self.env._(
            "Hello! We have your message. All our managers are busy right now: you are number "
            "{position} in the queue, and the first one free will answer you."
        ),
        help="Sent instead of the acknowledgement when nobody in the team has room and the new "
        "chat waits in the team's queue. {position}: its place in the queue.",
    )
    handoff_button = fields.Char(
        translate=True,
        default=lambda self: self.env._("Connect me to a person"),
        help="Button offered with every bot message.",
    )
    handoff_text = fields.Text(
        translate=True,
        default=lambda self: self.env._(
            "A manager has been asked to join the conversation. Please stay with us."
        ),
    )
    share_phone_button = fields.Char(
        translate=True,
        default=lambda self: self.env._("Share my phone number"),
        help="Button that sends the customer's own number, where the messenger has one.",
    )
    phone_thanks_text = fields.Text(
        translate=True,
        default=lambda self: self.env._("Thank you! We will call you back at {phone}."),
        help="Sent when the customer shares their phone number. {phone}: the number.",
    )
    rating_request_text = fields.Text(
        translate=True,
        default=lambda self: self.env._(
            "Thank you for talking to us! How would you rate our service, "
            "from 1 (bad) to 5 (excellent)?"
        ),
        help="Sent when the customer's lead is won or lost; the answer is kept on the lead.",
    )
    rating_thanks_text = fields.Text(
        translate=True, default=lambda self: self.env._("Thank you for your rating!")
    )
    callback_unreachable_text = fields.Text(
        string="Could not reach by phone",
        translate=True,
        help="Sent instead of closing the lead when every planned call went unanswered.",
        default=lambda self: self.env._(
            "We tried to call you but could not get through. When is it convenient to call? "
            "You can also simply write here."
        ),
    )
    welcome_text = fields.Text(
        string="Welcome (Viber)",
        translate=True,
        default=lambda self: self.env._(
            "Hello! Write your question here and a specialist will answer you."
        ),
        help="Viber: shown when someone opens the chat with the bot, before they write. "
        "Empty: nothing is shown.",
    )
    chatbot_script_id = fields.Many2one(
        "chatbot.script",
        string="Qualification questions",
        help="Questions the bot asks a new customer after the acknowledgement, with reply "
        "buttons (Live Chat › Configuration › Chatbots). Answers go to the lead; a 'Forward to "
        "Operator' step hands over to a person.",
    )
    daily_automated_cap = fields.Integer(
        string="Bot messages per customer per day",
        default=10,
        help="The bot never sends a customer more automated messages than this in 24 hours.",
    )

    @api.depends("provider")
    def _compute_capabilities(self):
        for account in self:
            capabilities = account._provider().capabilities
            account.uses_templates = capabilities.templates
            account.manages_webhook = capabilities.manages_webhook
            account.can_poll = capabilities.polling
            account.welcomes_on_open = capabilities.welcome_on_open
            account.signs_with_app_secret = "app_secret" in capabilities.credentials
            account.uses_phone_number_id = "phone_number_id" in capabilities.credentials
            account.uses_webhook_secret = "webhook_secret" in capabilities.credentials
            account.uses_ca_bundle = "ca_bundle" in capabilities.credentials
            account.uses_confirmation_code = "confirmation_code" in capabilities.credentials
            account.uses_client_credentials = "client_secret" in capabilities.credentials

    @api.constrains("mode", "provider")
    def _check_polling_provider(self):
        for account in self:
            if account.mode == "polling" and not account.can_poll:
                raise ValidationError(
                    _(
                        "%(messenger)s bots cannot use the polling relay: it has no updates to "
                        "fetch.",
                        messenger=account._provider_name(),
                    )
                )

    @api.onchange("provider")
    def _onchange_provider(self):
        provider = self._provider()
        self.api_url = provider.api_url
        self.channel_id = self.env.ref(provider.channel_xmlid)
        if not provider.capabilities.polling:
            self.mode = "webhook"

    @api.model_create_multi
    def create(self, vals_list):
        default = self._fields["provider"].default(self)
        for vals in vals_list:
            provider = PROVIDERS[vals.get("provider", default)]
            vals.setdefault("api_url", provider.api_url)
            vals.setdefault("channel_id", self.env.ref(provider.channel_xmlid).id)
        accounts = super().create(vals_list)
        accounts._translate_default_texts()
        return accounts

    def _translate_default_texts(self):
        """Give the default bot texts in every installed language, not only the creator's,
        so a Russian-speaking customer gets Russian and an English-speaking one English."""
        languages = [code for code, _name in self.env["res.lang"].get_installed()]
        for account in self:
            for fname in self._messenger_bot_texts:
                default = self._fields[fname].default
                if not self._fields[fname].translate or account[fname] != default(account):
                    continue  # the administrator wrote their own text
                for code in languages:
                    in_language = account.with_context(lang=code)
                    in_language[fname] = default(in_language)

    def _provider(self):
        """The adapter of this account's messenger (see adapters/: its capabilities, client,
        parser and request checks)."""
        self.ensure_one()
        return PROVIDERS[self.provider]

    def _welcome_reply(self, data):
        """The welcome to answer a request with, where the messenger welcomes on open: None but
        for a newcomer opening the chat, when the account has a welcome text in their
        language."""
        if not self._provider().capabilities.welcome_on_open:
            return None
        language = self._provider().newcomer_language(data)
        if language is None:
            return None
        lang = self.env["messenger.conversation"]._installed_lang(language)
        text = self.with_context(lang=lang or self.env.lang)._messenger_bot_text("welcome_text")
        return self._client().welcome_reply(data, text) if text else None

    def _confirmed(self, events):
        """The events the messenger's API confirms, where a notification proves nothing
        (Capabilities.confirms_by_api; see Client.confirm); all of them elsewhere. Raises
        NotConfirmed when it knows none of them: a forged notification creates nothing."""
        if not events or not self._provider().capabilities.confirms_by_api:
            return events
        confirmed = self._client().confirm(events)
        if not confirmed:
            raise NotConfirmed(
                _(
                    "%(messenger)s's API does not know this message: the notification is "
                    "ignored (forged, or the message was deleted).",
                    messenger=self._provider_name(),
                )
            )
        return confirmed

    @api.model
    def _cron_sync_recent(self):
        """Read the recent chats of each account whose messenger offers it (syncs_by_api)
        through its API, and store every customer's message as its webhook would have: what a
        lost webhook missed is repaired, what arrived is ignored (the same delivery key)."""
        accounts = self.search([("mode", "=", "webhook")]).filtered(
            lambda account: account._provider().capabilities.syncs_by_api
        )
        if modules.module.current_test:
            for account in accounts:
                account._sync_recent()
            return
        cr = self.env.cr
        for account in accounts:
            # each account in transactions of its own: one that conflicts with another worker
            # (a webhook storing a message the sync stores too, an access token renewed at the
            # same moment) is done again at once, not failed until the next run
            cr.commit()  # pylint: disable=invalid-commit
            if on_new_snapshots(cr, lambda a=account: a._sync_recent(auto_commit=True)) is None:
                _logger.warning(
                    "bot account %s: the API sync kept conflicting with other workers; its next "
                    "run reads the same messages again",
                    account.id,
                )
            cr.commit()  # pylint: disable=invalid-commit

    def _sync_recent(self, auto_commit=False):
        """Store this account's messages since its last sync (SYNC_OVERLAP before); return how
        many were new. With `auto_commit`, they are stored on a snapshot taken after reading
        them from the messenger: a message whose webhook another worker stored during the read
        is found there (ON CONFLICT), not refused for being written after the snapshot."""
        self.ensure_one()
        started = fields.Datetime.now()
        since = (self.api_synced_at or started - SYNC_FIRST_LOOKBACK) - SYNC_OVERLAP
        provider = self._provider()
        try:
            bodies = self._client().recent_updates(since.replace(tzinfo=UTC))
        except (DeliveryError, UserError) as exc:
            _logger.warning("bot account %s: the API sync failed: %s", self.id, exc)
            return 0
        if auto_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        updates = self.env["messenger.update"]
        stored = 0
        for body in bodies:
            stored += len(updates._receive(self, body, provider.delivery_key(body, None)))
        self.api_synced_at = started
        if stored:
            _logger.info("bot account %s: the API sync stored %s missed messages", self.id, stored)
        return stored

    def _fetch_sender(self, event):
        """The event with the sender's name asked of the messenger, where its updates name no
        one (Capabilities.sender_profile), for a chat without a contact yet, before the chat is
        locked; best effort: without it the chat's id names them."""
        if (
            not self._provider().capabilities.sender_profile
            or event.kind == "status"
            or event.first_name
            or event.username
            or self.env["messenger.conversation"].search_count(
                [
                    ("account_id", "=", self.id),
                    ("external_chat_id", "=", event.chat_id),
                    ("partner_id", "!=", False),
                ],
                limit=1,
            )
        ):
            return event
        try:
            return dataclasses.replace(event, **self._client().sender_profile(event.user_id))
        except (DeliveryError, UserError) as exc:
            _logger.info("messenger account %s: no profile of %s: %s", self.id, event.user_id, exc)
            return event

    def _fetch_file(self, event):
        """The event with the customer's file (file_id) fetched, or with why it was not: a
        failed fetch shows in the chat, the message is not lost. Files over the size set in
        Settings are not fetched."""
        if not event.file_id:
            return event
        try:
            content, name = self._client().download(event.file_id, self._max_download_bytes())
        except DeliveryError as exc:
            return dataclasses.replace(event, file_error=str(exc))
        return dataclasses.replace(
            event, file_content=content, file_name=event.file_name or name or event.file_id
        )

    @api.model
    def _max_download_bytes(self):
        """The largest file fetched from customers (Settings, in MB)."""
        param = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("messenger_leads_bot.max_download_mb", MAX_DOWNLOAD_MB)
        )
        try:
            megabytes = int(param)
        except ValueError:  # set by hand in the system parameters
            megabytes = MAX_DOWNLOAD_MB
        return megabytes * 1024 * 1024

    def _client_text_chunks(self, text):
        """Text cut to the messenger's message length (4,096 characters for Telegram)."""
        capabilities = self._provider().capabilities
        return split_text(text, capabilities.max_text_length, capabilities.max_text_bytes)

    def _provider_name(self):
        return dict(self._fields["provider"]._description_selection(self.env))[self.provider]
