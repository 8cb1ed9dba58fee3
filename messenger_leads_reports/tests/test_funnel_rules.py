import datetime

from odoo.tests import BaseCase, tagged

from ..tools import funnel


@tagged("post_install", "-at_install")
class TestFunnelRules(BaseCase):
    def test_step_rates_and_largest_drop(self):
        counts = {"lead_count": 200, "qualified_count": 80, "opportunity_count": 60, "won_count": 6}
        rates = funnel.step_rates(counts)
        self.assertEqual(rates, [40.0, 75.0, 10.0])
        self.assertEqual(funnel.largest_drop(rates), 2)

    def test_empty_steps_are_unknown_not_zero(self):
        counts = dict.fromkeys(funnel.STEPS, 0)
        self.assertEqual(funnel.step_rates(counts), [None, None, None])
        self.assertIsNone(funnel.largest_drop([None, None, None]))
        self.assertEqual(funnel.largest_drop([None, 50.0, 20.0]), 2)

    def test_periods(self):
        today = datetime.date(2026, 3, 31)
        bounds = {period: funnel.period_bounds(period, today) for period in funnel.PERIODS}
        self.assertEqual(
            bounds["this_month"], (datetime.date(2026, 3, 1), datetime.date(2026, 4, 1))
        )
        self.assertEqual(
            bounds["last_month"], (datetime.date(2026, 2, 1), datetime.date(2026, 3, 1))
        )
        self.assertEqual(
            bounds["last_3_months"], (datetime.date(2026, 1, 1), datetime.date(2026, 4, 1))
        )
        self.assertEqual(
            bounds["this_year"], (datetime.date(2026, 1, 1), datetime.date(2027, 1, 1))
        )
        january = funnel.period_bounds("last_month", datetime.date(2026, 1, 15))
        self.assertEqual(january, (datetime.date(2025, 12, 1), datetime.date(2026, 1, 1)))
        with self.assertRaisesRegex(ValueError, "unknown report period 'week'"):
            funnel.period_bounds("week", today)
