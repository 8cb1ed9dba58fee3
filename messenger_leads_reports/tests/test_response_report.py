import datetime

from odoo.tests import tagged

from .common import NOW, ReportCase


@tagged("post_install", "-at_install")
class TestResponseReport(ReportCase):
    """Next responses (Telegram: 5 min, the first-response target; the team works around the
    clock), on the data set's day:

    L1 alice  wrote 11:00, answered 11:04 (in time); wrote 11:30 and 11:32, answered 11:40
              (late: one deadline, from 11:30)
    L5 bob    wrote 12:00, never answered (breached)
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        l1, l5 = cls.leads["L1"], cls.leads["L5"]
        for lead, wrote, answered in (
            (l1, (11, 0), (11, 4)),
            (l1, (11, 30), None),
            (l1, (11, 32), (11, 40)),
            (l5, (12, 0), None),
        ):
            lead._messenger_register_customer_message(NOW.replace(hour=wrote[0], minute=wrote[1]))
            if answered:
                lead.with_user(lead.user_id)._messenger_register_first_response(
                    NOW.replace(hour=answered[0], minute=answered[1])
                )
        cls.env["crm.lead"]._cron_messenger_sla()

    def test_share_within_target_and_breaches_by_salesperson(self):
        self.assertEqual(
            self.dashboard(user=self.manager)["next_response"],
            {
                "count": 3,
                "minutes": 7.0,  # 4 and 10
                "within_target": 33.3,  # L1 11:00 in time; L1 11:30 late, L5 12:00 breached
                "breaches": 2,
                "by_user": [
                    {"name": name, "count": 1} for name in sorted([self.alice.name, self.bob.name])
                ],
            },
        )

    def test_a_salesperson_sees_only_their_own(self):
        self.assertEqual(
            self.dashboard(user=self.alice)["next_response"],
            {
                "count": 2,
                "minutes": 7.0,
                "within_target": 50.0,
                "breaches": 1,
                "by_user": [{"name": self.alice.name, "count": 1}],
            },
        )

    def test_other_periods_and_the_pivot(self):
        self.assertEqual(self.dashboard(period="last_month")["next_response"]["count"], 0)
        report = self.env["messenger.response.report"].with_user(self.manager)
        rows = report._read_group(
            # the data set's team: the demo's chats have next responses of their own
            [
                ("team_id", "=", self.team.id),
                ("message_at", ">=", NOW - datetime.timedelta(days=1)),
            ],
            ["user_id"],
            ["within_target_rate:avg", "breach_count:sum"],
        )
        self.assertEqual(
            {user: (rate, breaches) for user, rate, breaches in rows},
            {self.alice: (50.0, 1), self.bob: (0.0, 1)},
        )
