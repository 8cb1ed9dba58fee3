from odoo import api, fields, models


class MessengerQualificationCriterion(models.Model):
    """One question a lead is scored on, 1..5: by the salesperson or from the lead's origin."""

    _name = "messenger.qualification.criterion"
    _description = "Qualification criterion"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    description = fields.Text(
        translate=True, help="What a 1 and a 5 mean, for the salesperson who scores it."
    )
    sequence = fields.Integer(default=10)
    source = fields.Selection(
        [
            ("manual", "Scored by the salesperson"),
            ("channel", "From the lead's channel"),
            ("campaign", "From the lead's campaign (call to action)"),
        ],
        required=True,
        default="manual",
        help="Channel: the points of the lead's channel. Campaign: the readiness points of the "
        "campaign the lead came with. Both can still be changed on the lead.",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)

    @api.model_create_multi
    def create(self, vals_list):
        criteria = super().create(vals_list)
        # a new criterion is scored on the leads still in work, not only on new ones
        leads = self.env["crm.lead"]
        open_leads = leads.search(
            [
                *leads._messenger_open_domain(),
                ("company_id", "in", [*criteria.company_id.ids, False]),
            ]
        )
        open_leads._messenger_add_score_lines(criteria.filtered("active"))
        return criteria
