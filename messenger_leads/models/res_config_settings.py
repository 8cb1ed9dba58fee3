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
    messenger_qualification = fields.Boolean(
        related="company_id.messenger_qualification",
        readonly=False,
        help="Score leads on the qualification criteria and behaviour signals, and grade them "
        "hot, warm or cold. Off: no scores, grades or signals.",
    )
    messenger_hot_score = fields.Integer(
        related="company_id.messenger_hot_score",
        readonly=False,
        help="A lead with at least this score is hot.",
    )
    messenger_warm_score = fields.Integer(
        related="company_id.messenger_warm_score",
        readonly=False,
        help="A lead with at least this score (and below hot) is warm; below it, cold.",
    )
    messenger_currency_id = fields.Many2one(related="company_id.currency_id")
    messenger_budget_threshold = fields.Monetary(
        related="company_id.messenger_budget_threshold",
        readonly=False,
        currency_field="messenger_currency_id",
        help="A lead whose declared budget is above this amount gets the top priority and an "
        "activity for its salesperson at once. 0: off.",
    )
