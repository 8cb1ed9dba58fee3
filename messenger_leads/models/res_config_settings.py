from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    messenger_at_risk_share = fields.Float(
        string="At risk in the last share of the target",
        config_parameter="messenger_leads.at_risk_share",
        default=0.2,
        help="A waiting lead turns 'at risk' when this share of its first-response target is "
        "left (0.2 = the last 20%: the last minute of a 5-minute target).",
    )
