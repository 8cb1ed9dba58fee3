from odoo.tests import BaseCase, tagged

from ..tools.phone import InvalidPhone, phone_info


@tagged("post_install", "-at_install")
class TestPhoneRules(BaseCase):
    def test_phone_info(self):
        mobile = phone_info("8 (916) 123-45-67", "RU")
        self.assertEqual((mobile.kind, mobile.tz), ("mobile", None))
        moscow = phone_info("+7 495 123-45-67")
        self.assertEqual((moscow.kind, moscow.tz), ("fixed_line", "Europe/Moscow"))
        self.assertEqual(phone_info("+1 800 555 0199").kind, "toll_free")
        self.assertEqual(phone_info("+49 30 123456789").tz, "Europe/Berlin")
        for bad in ("123", "not a phone", "+7 916 12"):
            with self.assertRaises(InvalidPhone):
                phone_info(bad, "RU")
