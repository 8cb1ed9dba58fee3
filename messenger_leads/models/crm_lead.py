from odoo import api, fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    channel_id = fields.Many2one(
        "messenger.channel",
        string="Channel",
        compute="_compute_channel_id",
        store=True,
        readonly=False,
        index=True,
        tracking=True,
        help="How the customer reached us: set by the messenger bridge, "
        "or derived from the lead's UTM source and medium.",
    )

    @api.depends("source_id", "medium_id")
    def _compute_channel_id(self):
        channels = self.env["messenger.channel"].search([])
        for lead in self:
            if not lead.channel_id:
                lead.channel_id = channels._match_utm(lead.source_id, lead.medium_id)
