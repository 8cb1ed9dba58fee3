from odoo.tests import BaseCase, tagged

from ..tools import qualification


@tagged("post_install", "-at_install")
class TestQualificationRules(BaseCase):
    def test_score_is_criteria_plus_signals(self):
        self.assertEqual(qualification.score([4, 5, 0, 3], [2, 3, -5]), 12)
        self.assertEqual(qualification.score([], []), 0)

    def test_grade_thresholds(self):
        self.assertEqual(qualification.grade(15, 15, 10), "hot")
        self.assertEqual(qualification.grade(14, 15, 10), "warm")
        self.assertEqual(qualification.grade(10, 15, 10), "warm")
        self.assertEqual(qualification.grade(9, 15, 10), "cold")
        self.assertEqual(qualification.grade(-4, 15, 10), "cold")

    def test_budget_above_threshold_needs_a_person(self):
        self.assertTrue(qualification.needs_person_for_budget(500_001, 500_000))
        self.assertFalse(qualification.needs_person_for_budget(500_000, 500_000))
        self.assertFalse(qualification.needs_person_for_budget(10**9, 0), "0 switches it off")

    def test_amounts_in_answers(self):
        cases = {
            "150 000 руб": 150_000,
            "1,5 млн": 1_500_000,
            "200k": 200_000,
            "около 300 тыс. рублей": 300_000,
            "2.5 million": 2_500_000,
            "100 мы готовы": 100,
        }
        for text, amount in cases.items():
            self.assertEqual(qualification.parse_amount(text), amount, text)
        self.assertIsNone(qualification.parse_amount("no idea yet"))
        self.assertIsNone(qualification.parse_amount(""))
        self.assertEqual(qualification.parse_amount("a 3d printer for 100k"), 100_000)

    def test_amounts_in_hostile_answers_take_one_pass(self):
        """10,000 characters: the old pattern took seconds on some (it tried every split of a
        run of digits and spaces, from every digit) and read endless digits as an infinite
        budget, which failed the message."""
        self.assertIsNone(qualification.parse_amount("1" * 10_000 + "x"), "a word, not a number")
        self.assertIsNone(qualification.parse_amount("1 " * 5000 + "1x"))
        self.assertIsNone(qualification.parse_amount("1 " * 5000 + "x"), "digits without end")
        self.assertEqual(qualification.parse_amount("1" + " " * 10_000 + "."), 1)
        self.assertEqual(qualification.parse_amount("x" * 10_000 + " 5 000 руб"), 5000)
