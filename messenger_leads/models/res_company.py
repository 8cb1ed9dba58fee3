from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    messenger_qualification = fields.Boolean(string="Qualification scoring", default=True)
    messenger_hot_score = fields.Integer(string="Hot from (points)", default=15)
    messenger_warm_score = fields.Integer(string="Warm from (points)", default=10)
    messenger_budget_threshold = fields.Monetary(
        string="Budget that needs a person", currency_field="currency_id"
    )
