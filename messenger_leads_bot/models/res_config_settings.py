from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    messenger_retention_days = fields.Integer(
        related="company_id.messenger_retention_days", readonly=False
    )
