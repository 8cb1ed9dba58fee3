from psycopg2.errors import UniqueViolation

from odoo import api, models


class LinkTrackerClick(models.Model):
    _inherit = "link.tracker.click"

    @api.model_create_multi
    def create(self, vals_list):
        clicks = super().create(vals_list)
        try:
            with self.env.cr.savepoint():
                clicks.link_id.messenger_lead_id._messenger_register_signal("link_clicked")
        except UniqueViolation:
            pass  # a simultaneous click counted it: the customer still gets their page
        return clicks
