from odoo import api, fields, models

from ..tools.qualification import CRITERION_POINTS


class MessengerLeadScore(models.Model):
    """The points of one lead on one qualification criterion."""

    _name = "messenger.lead.score"
    _description = "Lead qualification score"
    _order = "criterion_sequence, id"

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade", index=True)
    criterion_id = fields.Many2one(
        "messenger.qualification.criterion", required=True, ondelete="cascade"
    )
    criterion_sequence = fields.Integer(related="criterion_id.sequence", store=True)
    description = fields.Text(related="criterion_id.description")
    points = fields.Selection(
        CRITERION_POINTS,
        compute="_compute_points",
        store=True,
        readonly=False,
        help="1 (poor) to 5 (excellent); empty stars: not scored yet.",
    )

    _sql_constraints = [
        (
            "lead_criterion_unique",
            "UNIQUE(lead_id, criterion_id)",
            "A lead is scored once on each criterion.",
        )
    ]

    @api.depends(
        "criterion_id.source",
        "lead_id.messenger_channel_id.score_points",
        "lead_id.campaign_id.messenger_readiness_points",
    )
    def _compute_points(self):
        for line in self:
            automatic = {
                "channel": line.lead_id.messenger_channel_id.score_points,
                "campaign": line.lead_id.campaign_id.messenger_readiness_points,
            }.get(line.criterion_id.source)
            line.points = str(automatic) if automatic else line.points or "0"
