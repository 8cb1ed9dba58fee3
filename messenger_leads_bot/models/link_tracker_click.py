from odoo import api, models


class LinkTrackerClick(models.Model):
    _inherit = "link.tracker.click"

    @api.model_create_multi
    def create(self, vals_list):
        clicks = super().create(vals_list)
        clicks.link_id.messenger_lead_id._messenger_register_signal("link_clicked")
        return clicks
