from odoo import api, models

from ..tools import phone


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._messenger_e164_phones(vals) for vals in vals_list])

    def write(self, vals):
        return super().write(self._messenger_e164_phones(vals))

    @api.onchange("phone", "mobile")
    def _onchange_messenger_phone_check(self):
        for fname in ("phone", "mobile"):
            if warning := self._messenger_phone_warning(self[fname]):
                return {"warning": warning}
        return None

    @api.model
    def _messenger_phone_warning(self, number):
        """The warning a form shows for an invalid number, or None."""
        if not number:
            return None
        try:
            phone.phone_info(number, self.env.company.country_id.code)
        except phone.InvalidPhone:
            return {
                "title": self.env._("Invalid phone number"),
                "message": self.env._(
                    "%(number)s is not a valid phone number. It is kept as typed; check it "
                    "with the customer.",
                    number=number,
                ),
            }
        return None

    @api.model
    def _messenger_e164_phones(self, vals):
        """vals with valid phone and mobile numbers in E.164; others kept as typed."""
        region = self.env.company.country_id.code
        return {
            **vals,
            **{
                fname: phone.e164(vals[fname], region)
                for fname in ("phone", "mobile")
                if vals.get(fname)
            },
        }
