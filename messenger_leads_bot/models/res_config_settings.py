from odoo import fields, models

from .messenger_bot_account import MAX_DOWNLOAD_MB


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    messenger_retention_days = fields.Integer(
        related="company_id.messenger_retention_days", readonly=False
    )
    messenger_automated_from = fields.Float(
        related="company_id.messenger_automated_from", readonly=False
    )
    messenger_automated_until = fields.Float(
        related="company_id.messenger_automated_until", readonly=False
    )
    messenger_max_download_mb = fields.Integer(
        string="Largest customer file (MB)",
        config_parameter="messenger_leads_bot.max_download_mb",
        default=MAX_DOWNLOAD_MB,
        help="Files customers send through a messenger are fetched up to this size; a larger "
        "one shows as a note in the chat instead.",
    )
