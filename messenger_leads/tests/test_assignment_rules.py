from datetime import datetime as dt

from odoo.tests import BaseCase, tagged

from ..tools.assignment import SELECTION, STRATEGIES, Candidate, choose, conversion_rates, reason


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

    def test_conversion_weighted_carries_load_in_proportion(self):
        strong = Candidate(1, 0, 100, conversion=0.30)
        weak = Candidate(2, 0, 100, conversion=0.10)
        loads = {1: 0, 2: 0}
        for _lead in range(40):
            chosen = choose(
                [
                    Candidate(1, loads[1], 100, conversion=strong.conversion),
                    Candidate(2, loads[2], 100, conversion=weak.conversion),
                ],
                "conversion",
            )
            loads[chosen.user_id] += 1
        self.assertEqual(loads, {1: 30, 2: 10})

    def test_conversion_weighted_is_capped_by_capacity(self):
        candidates = [Candidate(1, 3, 3, conversion=0.9), Candidate(2, 5, 10, conversion=0.1)]
        self.assertEqual(choose(candidates, "conversion").user_id, 2)

    def test_threshold_excludes_weak_converters_but_not_newcomers(self):
        candidates = [
            Candidate(1, 0, 5, conversion=0.05),
            Candidate(2, 3, 5, conversion=0.20),
            Candidate(3, 2, 5, conversion=None),
        ]
        self.assertEqual(choose(candidates, "threshold", min_conversion=0.1).user_id, 3)
        self.assertIsNone(choose(candidates[:1], "threshold", min_conversion=0.1))

    def test_manager_rating_first_then_load(self):
        candidates = [Candidate(1, 0, 5, rating=3), Candidate(2, 4, 5, rating=5)]
        self.assertEqual(choose(candidates, "rating").user_id, 2)
        candidates.append(Candidate(3, 1, 5, rating=5))
        self.assertEqual(choose(candidates, "rating").user_id, 3)

    def test_score_tiers(self):
        candidates = [
            Candidate(1, 0, 5, conversion=0.40),
            Candidate(2, 0, 5, conversion=0.30),
            Candidate(3, 0, 5, conversion=0.05),
            Candidate(4, 0, 5, conversion=None),
        ]
        self.assertIn(choose(candidates, "score_tiers", hot=True).user_id, (1, 2))
        self.assertIn(choose(candidates, "score_tiers", hot=False).user_id, (3, 4))
        full_top = [Candidate(1, 5, 5, conversion=0.4), Candidate(2, 0, 5, conversion=0.1)]
        self.assertEqual(choose(full_top, "score_tiers", hot=True).user_id, 2, "overflow")

    def test_live_chat_capacity(self):
        busy = Candidate(1, 0, 5, chats=2, chat_capacity=2)
        self.assertFalse(busy.has_room)
        self.assertTrue(Candidate(1, 0, 5, chats=2, chat_capacity=None).has_room)

    def test_conversion_rates(self):
        self.assertEqual(conversion_rates({1: 10, 2: 4, 3: 0}, {1: 3}), {1: 0.3, 2: 0.0})

    def test_each_strategy_gives_its_reason(self):
        def translate(source, **params):  # Odoo's env._ without a translation
            return source % params

        low, high = Candidate(1, 1, 5, conversion=0.5, rating=4), Candidate(2, 3, 5)
        reasons = {
            code: reason(translate, code, choose([low, high], code, hot=True), [low, high], True)
            for code in STRATEGIES
        }
        self.assertEqual(
            reasons,
            {
                "round_robin": "Even: waited longest for a new lead",
                "least_loaded": "Least loaded: 1 open vs 3",
                "conversion": "Conversion-weighted: 50% won, 1 open",
                "threshold": "Conversion 50% meets the threshold; least loaded: 1 open",
                "rating": "Manager rating 4 of 5, 1 open",
                "score_tiers": "Hot lead to a top converter (50% won)",
            },
        )
        self.assertEqual(
            [code for code, _label in SELECTION], list(STRATEGIES), "one label per strategy"
        )

    def test_who_can_answer_by_the_deadline_comes_first(self):
        deadline = dt(2026, 1, 1, 10, 5)
        leaves = Candidate(1, 0, 5, works_until=dt(2026, 1, 1, 10))
        stays = Candidate(2, 3, 5, works_until=dt(2026, 1, 1, 18))
        buried = Candidate(3, 0, 5, at_risk=2)  # no working hours: always at work
        team = [leaves, stays, buried]
        self.assertEqual(choose(team, "least_loaded"), leaves, "without a deadline: by load")
        self.assertEqual(choose(team, "least_loaded", deadline=deadline), buried)
        self.assertEqual(choose(team, "least_loaded", deadline=deadline, max_at_risk=2), stays)
        self.assertEqual(
            choose([leaves], "least_loaded", deadline=deadline), leaves, "nobody in time: anyone"
        )

        def translate(source, **params):
            return source % params

        self.assertEqual(
            reason(translate, "least_loaded", stays, team, deadline=deadline, max_at_risk=2),
            "Least loaded: 3 open vs 0; can answer before the deadline (others leave work "
            "before it or have leads at risk)",
        )
        self.assertEqual(
            reason(translate, "least_loaded", leaves, [leaves], deadline=deadline),
            "Least loaded: 0 open vs -",
            "nobody could: nothing to say",
        )
