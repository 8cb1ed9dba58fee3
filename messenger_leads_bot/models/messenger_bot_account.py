import secrets

from odoo import fields, models

TELEGRAM_API_URL = "https://api.telegram.org"


class MessengerBotAccount(models.Model):
    """A company's bot in a messenger: credentials, how updates arrive, where leads go."""

    _name = "messenger.bot.account"
    _description = "Messenger bot account"
    _inherit = ["mail.thread"]
    _order = "name, id"

    name = fields.Char(required=True, tracking=True)
    provider = fields.Selection([("telegram", "Telegram")], required=True, default="telegram")
    token = fields.Char(
        groups="base.group_system",
        copy=False,
        help="The bot token from @BotFather. Only administrators can read it.",
    )
    webhook_secret = fields.Char(
        groups="base.group_system",
        copy=False,
        default=lambda self: secrets.token_urlsafe(32),
        help="Sent by Telegram in X-Telegram-Bot-Api-Secret-Token; "
        "requests without it are refused.",
    )
    api_url = fields.Char(
        string="Bot API URL",
        default=TELEGRAM_API_URL,
        required=True,
        groups="base.group_system",
        help="Telegram Bot API server. Change only for a self-hosted Bot API server.",
    )
    mode = fields.Selection(
        [("webhook", "Webhook"), ("polling", "Polling relay")],
        default="webhook",
        required=True,
        tracking=True,
        help="Webhook: Telegram calls Odoo over public HTTPS. "
        "Polling relay: a process started next to Odoo fetches updates and forwards them.",
    )
    team_id = fields.Many2one(
        "crm.team", string="Sales team", help="Team that receives the leads of this bot."
    )
    channel_id = fields.Many2one(
        "messenger.channel",
        string="Channel",
        required=True,
        default=lambda self: self.env.ref(
            "messenger_leads.messenger_channel_telegram", raise_if_not_found=False
        ),
    )
    conversation_ids = fields.One2many("messenger.conversation", "account_id")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
