from odoo.tests import BaseCase, tagged

from ..tools.language import phone_languages


@tagged("post_install", "-at_install")
class TestPhoneLanguages(BaseCase):
    def test_most_spoken_language_of_the_numbers_country_first(self):
        self.assertEqual(phone_languages("+79161230000")[0], "ru")
        self.assertEqual(phone_languages("+380441234567")[:2], ["uk", "ru"])
        self.assertEqual(phone_languages("+14155550123")[0], "en")
        self.assertEqual(phone_languages("+4930123456")[0], "de")

    def test_no_country_no_language(self):
        for number in ("", None, "not a number", "+999123"):
            self.assertEqual(phone_languages(number), [], number)
