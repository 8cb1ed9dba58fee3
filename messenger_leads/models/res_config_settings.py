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
    messenger_callback = fields.Boolean(
        related="company_id.messenger_callback",
        readonly=False,
        help="Plan call attempts for every open lead with a valid phone, as scheduled Call "
        "activities for its salesperson.",
    )
    messenger_callback_attempts = fields.Integer(
        related="company_id.messenger_callback_attempts",
        readonly=False,
        help="How many times to call before the lead counts as unreachable.",
    )
    messenger_callback_mobile_per_day = fields.Integer(
        related="company_id.messenger_callback_mobile_per_day",
        readonly=False,
        help="At most this many calls to a mobile per day of the customer.",
    )
    messenger_callback_mobile_gap = fields.Integer(
        related="company_id.messenger_callback_mobile_gap",
        readonly=False,
        help="Minutes at least between two calls to a mobile.",
    )
    messenger_callback_fixed_gap = fields.Integer(
        related="company_id.messenger_callback_fixed_gap",
        readonly=False,
        help="Minutes at least between two calls to a fixed line (no daily limit).",
    )
    messenger_callback_window_start = fields.Float(
        related="company_id.messenger_callback_window_start",
        readonly=False,
        help="Calls start at this hour of the customer's local time.",
    )
    messenger_callback_window_end = fields.Float(
        related="company_id.messenger_callback_window_end",
        readonly=False,
        help="Calls end at this hour of the customer's local time.",
    )
    messenger_callback_overdue = fields.Integer(
        related="company_id.messenger_callback_overdue",
        readonly=False,
        help="A planned call not logged this many minutes after its time goes to the team "
        "leader, once.",
    )
    messenger_callback_exhausted = fields.Selection(
        related="company_id.messenger_callback_exhausted",
        readonly=False,
        help="What happens to a lead after the last attempt failed. If the customer has a "
        "messenger chat, the bot writes to them instead.",
    )
    messenger_callback_exhausted_stage_id = fields.Many2one(
        related="company_id.messenger_callback_exhausted_stage_id", readonly=False
    )
