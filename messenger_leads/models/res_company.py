from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    messenger_qualification = fields.Boolean(string="Qualification scoring", default=True)
    messenger_hot_score = fields.Integer(string="Hot from (points)", default=15)
    messenger_warm_score = fields.Integer(string="Warm from (points)", default=10)
    messenger_budget_threshold = fields.Monetary(
        string="Budget that needs a person", currency_field="currency_id"
    )

    messenger_callback = fields.Boolean(string="Call-back plans", default=True)
    messenger_callback_attempts = fields.Integer(string="Call attempts", default=7)
    messenger_callback_mobile_per_day = fields.Integer(string="Mobile calls a day", default=3)
    messenger_callback_mobile_gap = fields.Integer(string="Mobile gap (min)", default=120)
    messenger_callback_fixed_gap = fields.Integer(string="Fixed line gap (min)", default=60)
    messenger_callback_window_start = fields.Float(string="Call from", default=10.0)
    messenger_callback_window_end = fields.Float(string="Call until", default=19.0)
    messenger_callback_overdue = fields.Integer(
        string="Escalate overdue calls after (min)", default=60
    )
    messenger_callback_exhausted = fields.Selection(
        [("lost", "Mark lost (Unreachable)"), ("stage", "Move to a stage")],
        string="When every attempt failed",
        default="lost",
    )
    messenger_callback_exhausted_stage_id = fields.Many2one(
        "crm.stage", string="Stage for unreachable leads"
    )
