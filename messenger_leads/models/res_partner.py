import contextlib

from odoo import api, models

from ..tools import callback


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._messenger_e164_phones(vals) for vals in vals_list])

    def write(self, vals):
        return super().write(self._messenger_e164_phones(vals))

    @api.model
    def _messenger_e164_phones(self, vals):
        """vals with valid phone and mobile numbers in E.164; others kept as typed."""
        region = self.env.company.country_id.code
        normalised = dict(vals)
        for fname in ("phone", "mobile"):
            if vals.get(fname):
                # an invalid number is kept as typed: Odoo's form warns about it
                with contextlib.suppress(callback.InvalidPhone):
                    normalised[fname] = callback.phone_info(vals[fname], region).e164
        return normalised
