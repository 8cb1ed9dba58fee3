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
