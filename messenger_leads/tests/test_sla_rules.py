from datetime import datetime as dt

from odoo.tests import BaseCase, tagged

from ..tools import sla

# Mon 2026-11-23 and Tue 2026-11-24, 09:00-18:00 UTC
INTERVALS = [
    (dt(2026, 11, 23, 9), dt(2026, 11, 23, 18)),
    (dt(2026, 11, 24, 9), dt(2026, 11, 24, 18)),
]


@tagged("post_install", "-at_install")
class TestSlaRules(BaseCase):
    def test_deadline_inside_working_hours(self):
        self.assertEqual(
            sla.add_working_minutes(dt(2026, 11, 23, 10), 5, INTERVALS), dt(2026, 11, 23, 10, 5)
        )

    def test_deadline_after_hours_is_next_working_morning(self):
        self.assertEqual(
            sla.add_working_minutes(dt(2026, 11, 23, 22), 5, INTERVALS), dt(2026, 11, 24, 9, 5)
        )
        self.assertEqual(
            sla.add_working_minutes(dt(2026, 11, 23, 17, 58), 5, INTERVALS),
            dt(2026, 11, 24, 9, 3),
            "two minutes today, three tomorrow",
        )

    def test_no_deadline_when_hours_run_out(self):
        self.assertIsNone(sla.add_working_minutes(dt(2026, 11, 24, 17), 120, INTERVALS))

    def test_working_minutes_between(self):
        self.assertEqual(
            sla.working_minutes_between(dt(2026, 11, 23, 17), dt(2026, 11, 24, 10), INTERVALS), 120
        )
        self.assertEqual(
            sla.working_minutes_between(dt(2026, 11, 24, 10), dt(2026, 11, 23, 17), INTERVALS), 0
        )

    def test_response_bands(self):
        bands = [sla.response_band(m) for m in (0, 20, 20.5, 180, 181, 720, 721)]
        self.assertEqual(
            bands, ["ideal", "ideal", "normal", "normal", "acceptable", "acceptable", "harmful"]
        )

    def test_states(self):
        deadline = dt(2026, 11, 23, 10, 5)
        state = sla.sla_state
        self.assertEqual(state(dt(2026, 11, 23, 10, 0), deadline, False, 5, 0.2), "on_track")
        self.assertEqual(state(dt(2026, 11, 23, 10, 4), deadline, False, 5, 0.2), "at_risk")
        self.assertEqual(state(dt(2026, 11, 23, 10, 6), deadline, False, 5, 0.2), "breached")
        answered = dt(2026, 11, 23, 10, 3)
        self.assertEqual(state(dt(2026, 11, 23, 11), deadline, answered, 5, 0.2), "met")
        late = dt(2026, 11, 23, 10, 30)
        self.assertEqual(state(dt(2026, 11, 23, 11), deadline, late, 5, 0.2), "met_late")
        self.assertFalse(state(dt(2026, 11, 23, 11), False, False, 5, 0.2))
