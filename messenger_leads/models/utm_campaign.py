from odoo import fields, models


class UtmCampaign(models.Model):
    _inherit = "utm.campaign"

    messenger_readiness_points = fields.Integer(
        string="Readiness to buy (1..5)",
        help="Points the 'readiness to buy' criterion gets on leads that came with this call to "
        "action (e.g. 'get a quote' 5, 'read the guide' 2); 0: the salesperson scores it.",
    )

    _sql_constraints = [
        (
            "messenger_readiness_points_range",
            "CHECK(messenger_readiness_points BETWEEN 0 AND 5)",
            "Readiness points must be between 0 and 5.",
        )
    ]
