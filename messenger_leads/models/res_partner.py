from odoo import api, models

from ..tools import phone


class ResPartner(models.Model):
    """Contacts' numbers where phone_validation keeps them (as the sms addon makes res.partner a
    mail.thread.phone): phone and mobile as typed, `phone_sanitized` in E.164, and either number
    found in any international writing through `phone_mobile_search`."""

    _name = "res.partner"
    _inherit = ["mail.thread.phone", "res.partner"]

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
    def _messenger_phone_domain(self, e164):
        """Contacts with this number (E.164) as their phone or mobile: sanitized in their
        country, or written internationally in any way (+7 916 123-45-67)."""
        return ["|", ("phone_sanitized", "=", e164), ("phone_mobile_search", "=", e164)]
