import secrets
from datetime import UTC, datetime
from urllib.parse import urlencode

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..adapters import Credentials, DeliveryError, ca_bundle_pem

WEBHOOK_ROUTE = "/messenger_leads/{provider}/{account_id}"


class MessengerBotAccount(models.Model):
    """The account's connection to its messenger: the credentials (administrators only), the
    client they make, the webhook URL and the buttons that check the connection and set or
    remove the webhook."""

    # One model, one file per concern, as Odoo's mail does for res.partner: see
    # messenger_bot_account.py.
    _inherit = "messenger.bot.account"  # pylint: disable=consider-merging-classes-inherited

    token = fields.Char(
        groups="base.group_system",
        copy=False,
        help="Telegram: the bot token from @BotFather. WhatsApp: a permanent access token of "
        "the Meta app (system user). Viber: the bot's token from the Viber admin panel; it "
        "also signs Viber's callbacks. MAX: the bot's token from the MAX for business platform "
        "(Chat bots › Integration). VK: an access key of the community with the messages "
        "right (Manage › API usage › Access tokens). Instagram and Facebook Messenger: a Page "
        "access token of the Meta app (of the Page the Instagram account is linked to). Only "
        "administrators can read it.",
    )
    client_id = fields.Char(
        string="Client ID",
        groups="base.group_system",
        copy=False,
        help="Avito: the Client ID of the API access (avito.ru › Profile › For business › API "
        "integrations). Only administrators can read it.",
    )
    client_secret = fields.Char(
        groups="base.group_system",
        copy=False,
        help="Avito: the Client secret of the API access. Only administrators can read it.",
    )
    # the access token the client credentials gave last and its expiry: read by the bridge only
    access_token = fields.Char(groups="base.group_system", copy=False, readonly=True)
    access_token_expires_at = fields.Datetime(groups="base.group_system", copy=False, readonly=True)
    webhook_secret = fields.Char(
        groups="base.group_system",
        copy=False,
        default=lambda self: secrets.token_urlsafe(32),
        help="Telegram sends it in X-Telegram-Bot-Api-Secret-Token, MAX in "
        "X-Max-Bot-Api-Secret (letters, digits, _ and - only); for WhatsApp, Instagram and "
        "Facebook Messenger it is the Verify token to enter in the Meta app; for VK the Secret "
        "key to enter in the community's Callback API settings; Avito's webhook URL carries it. "
        "Requests without it are refused.",
    )
    confirmation_code = fields.Char(
        string="Confirmation string",
        groups="base.group_system",
        copy=False,
        help="VK: the string the server must return, shown in the community's Callback API "
        "settings (Manage › API usage › Callback API). Odoo answers VK's confirmation "
        "request with it.",
    )
    api_url = fields.Char(
        string="API URL",
        required=True,
        groups="base.group_system",
        help="The messenger's API server. Change only for a self-hosted Telegram Bot API server "
        "or another Graph API version.",
    )
    whatsapp_phone_number_id = fields.Char(
        string="Phone number ID",
        groups="base.group_system",
        help="WhatsApp: the business phone number's ID (Meta app › WhatsApp › API Setup).",
    )
    app_secret = fields.Char(
        groups="base.group_system",
        copy=False,
        help="WhatsApp, Instagram and Facebook Messenger: the Meta app's secret; every "
        "notification is signed with it (X-Hub-Signature-256) and unsigned ones are refused.",
    )
    ca_bundle = fields.Text(
        string="CA bundle",
        groups="base.group_system",
        help="Root certificates to trust for the messenger's API server besides the usual ones, "
        "as PEM text or the path of a PEM file on the server: MAX's API is served under the "
        "Russian Ministry of Digital Development's root certificate (Russian Trusted Root CA). "
        "Empty: the usual ones only.",
    )
    # the URL may carry the account's secret (see Provider.webhook_query)
    webhook_url = fields.Char(
        compute="_compute_webhook_url", string="Webhook URL", groups="base.group_system"
    )

    def _compute_webhook_url(self):
        for account in self:
            account.webhook_url = account.id and account._webhook_url()

    @api.constrains("ca_bundle")
    def _check_ca_bundle(self):
        for account in self.sudo().filtered("ca_bundle"):
            try:
                ca_bundle_pem(account.ca_bundle)
            except ValueError as exc:
                raise ValidationError(
                    _(
                        "The CA bundle must be PEM certificates (-----BEGIN CERTIFICATE-----...) "
                        "or the path of a readable PEM file on the server: %(error)s",
                        error=exc,
                    )
                ) from exc

    @api.model
    def _webhook_path(self, provider, account_id):
        return WEBHOOK_ROUTE.format(provider=provider, account_id=account_id)

    # the fields _credentials reads: a webhook fetches them with the account, in one query
    _credential_fields = (
        "token",
        "api_url",
        "webhook_secret",
        "app_secret",
        "whatsapp_phone_number_id",
        "name",
        "ca_bundle",
        "confirmation_code",
        "client_id",
        "client_secret",
        "access_token",
        "access_token_expires_at",
    )

    def _credentials(self):
        """What the adapter needs of this account; secrets: only for the bridge."""
        account = self.sudo()
        return Credentials(
            token=account.token or "",
            api_url=account.api_url or "",
            webhook_secret=account.webhook_secret or "",
            app_secret=account.app_secret or "",
            phone_number_id=account.whatsapp_phone_number_id or "",
            name=account.name or "",
            ca_bundle=account.ca_bundle or "",
            confirmation_code=account.confirmation_code or "",
            client_id=account.client_id or "",
            client_secret=account.client_secret or "",
            access_token=account.access_token or "",
            access_token_expires_at=(
                account.access_token_expires_at.replace(tzinfo=UTC).timestamp()
                if account.access_token_expires_at
                else 0.0
            ),
            token_saver=self._save_access_token,
        )

    def _save_access_token(self, access_token, expires_at):
        """Keep the access token the client credentials gave, for every worker until it
        expires (see Credentials.token_saver).

        Written at once, not when the transaction ends: when another worker renewed it at the
        same moment (two intake lanes, the intake and a delivery), this transaction fails to
        serialise here, before the call that needed the token, and is retried with the token
        the other one kept. Written at the end, it failed after a reply was sent (sent again
        on the retry) or in the middle of the intake's batch."""
        self.env.cr.execute(
            """
            UPDATE messenger_bot_account SET access_token = %s, access_token_expires_at = %s
             WHERE id = %s
            """,
            (
                access_token,
                datetime.fromtimestamp(expires_at, UTC).replace(tzinfo=None),
                self.id,
            ),
            log_exceptions=False,  # the other worker's renewal: retried, not an error
        )
        self.invalidate_recordset(["access_token", "access_token_expires_at"])

    def _client(self):
        self.ensure_one()
        credentials = self._credentials()
        if "client_secret" in self._provider().capabilities.credentials:
            if not (credentials.client_id and credentials.client_secret):
                raise UserError(
                    _("Bot account %(name)s has no client ID or client secret.", name=self.name)
                )
        elif not credentials.token:
            raise UserError(_("Bot account %(name)s has no token.", name=self.name))
        return self._provider().client(credentials)

    def _webhook_url(self):
        base_url = self.get_base_url()
        url = base_url + self._webhook_path(self.provider, self.id)
        query = self._provider().webhook_query(self._credentials())
        return f"{url}?{urlencode(query)}" if query else url

    def _check_administrator(self):
        """Actions that use the credentials are the administrators' (the buttons show only to
        them, and anyone can call a public method over RPC)."""
        if not self.env.is_system():
            raise AccessError(_("Only administrators can use the bot account's credentials."))

    def action_check_connection(self):
        self.ensure_one()
        self._check_administrator()
        try:
            described = self._client().check()
        except DeliveryError as exc:
            if exc.certificate:
                raise UserError(
                    _(
                        "The certificate of %(messenger)s's server %(url)s is not trusted. Paste "
                        "the root certificate it is issued under in the CA bundle field, as PEM "
                        "text or a file's path, and check again.\n\n%(error)s",
                        messenger=self._provider_name(),
                        url=self.sudo().api_url,
                        error=exc,
                    )
                ) from exc
            raise UserError(
                _(
                    "%(messenger)s refused the connection: %(error)s",
                    messenger=self._provider_name(),
                    error=exc,
                )
            ) from exc
        return self._notify(_("Connected to %(bot)s.", bot=described))

    def action_set_webhook(self):
        self.ensure_one()
        self._check_administrator()
        url = self._webhook_url()
        try:
            self._client().set_webhook(url, self.sudo().webhook_secret)
        except DeliveryError as exc:
            raise UserError(
                _(
                    "%(messenger)s refused the webhook: %(error)s",
                    messenger=self._provider_name(),
                    error=exc,
                )
            ) from exc
        self.mode = "webhook"
        return self._notify(_("Webhook set to %(url)s.", url=url))

    def action_remove_webhook(self):
        self.ensure_one()
        self._check_administrator()
        try:
            self._client().delete_webhook()
        except DeliveryError as exc:
            raise UserError(
                _("%(messenger)s refused: %(error)s", messenger=self._provider_name(), error=exc)
            ) from exc
        return self._notify(_("Webhook removed."))

    def _notify(self, message):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": "success", "sticky": False},
        }
