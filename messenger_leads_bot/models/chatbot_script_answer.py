from odoo import fields, models


class ChatbotScriptAnswer(models.Model):
    _inherit = "chatbot.script.answer"

    messenger_criterion_id = fields.Many2one(
        "messenger.qualification.criterion",
        string="Scores the criterion",
        ondelete="set null",
        help="Choosing this answer in a messenger sets the lead's points on this criterion.",
    )
    messenger_points = fields.Integer(
        string="Points (1..5)", help="The points this answer gives the criterion."
    )

    _sql_constraints = [
        (
            "messenger_points_range",
            "CHECK(messenger_points BETWEEN 0 AND 5)",
            "An answer gives 0 to 5 points.",
        )
    ]
