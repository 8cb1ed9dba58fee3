from odoo import fields, models


class ChatbotScriptStep(models.Model):
    _inherit = "chatbot.script.step"

    messenger_asks_budget = fields.Boolean(
        string="Asks for the budget",
        help="The customer's answer is read as an amount and kept as the lead's declared budget.",
    )
