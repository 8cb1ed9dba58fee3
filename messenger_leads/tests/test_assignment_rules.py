from datetime import datetime as dt

from odoo.tests import BaseCase, tagged

from ..tools.assignment import Candidate, choose


@tagged("post_install", "-at_install")
class TestAssignmentRules(BaseCase):
    def test_even_picks_who_waited_longest(self):
        candidates = [
            Candidate(1, 0, 5, dt(2026, 1, 1, 10)),
            Candidate(2, 3, 5, dt(2026, 1, 1, 9)),
            Candidate(3, 0, 5, None),
        ]
        self.assertEqual(choose(candidates, "round_robin").user_id, 3)
        self.assertEqual(choose(candidates[:2], "round_robin").user_id, 2)

    def test_least_loaded_then_waited_longest(self):
        candidates = [
            Candidate(1, 2, 5, None),
            Candidate(2, 1, 5, dt(2026, 1, 1, 10)),
            Candidate(3, 1, 5, dt(2026, 1, 1, 9)),
        ]
        self.assertEqual(choose(candidates, "least_loaded").user_id, 3)

    def test_nobody_with_room(self):
        self.assertIsNone(choose([Candidate(1, 5, 5), Candidate(2, 6, 5)], "least_loaded"))
        self.assertIsNone(choose([], "round_robin"))
