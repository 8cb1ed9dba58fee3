import datetime

from odoo import fields
from odoo.tests import TransactionCase, new_test_user

NOW = datetime.datetime(2026, 11, 20, 12, 0)


class ReportCase(TransactionCase):
    """Ten leads in two channels whose every figure was worked out by hand (see each test).

    Telegram (target 5 min)              Web form (target 20 min)
    L1 alice won 1000, hot 15, 3 min     L7 alice Qualified stage, warm 11, 15 min
    L2 alice Proposition, warm 10, 10'   L8 bob New, warm 10, 200 min (late)
    L3 alice New, hot 18, 30 min (late)  L9 bob lost, cold 3
    L4 bob lost, cold 4, never answered  L10 alice New
    L5 bob won 3000, warm 12, 2 min
    L6 bob New, no message
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.alice = new_test_user(env, "report_alice", groups="sales_team.group_sale_salesman")
        cls.bob = new_test_user(env, "report_bob", groups="sales_team.group_sale_salesman")
        cls.manager = new_test_user(env, "report_manager", groups="sales_team.group_sale_manager")
        calendar = env["resource.calendar"].create(
            {
                "name": "Report: around the clock",
                "tz": "UTC",
                "attendance_ids": [
                    (
                        0,
                        0,
                        {"name": f"d{day}", "dayofweek": str(day), "hour_from": 0, "hour_to": 24},
                    )
                    for day in range(7)
                ],
            }
        )
        cls.team = env["crm.team"].create(
            {
                "name": "Report team",
                "messenger_resource_calendar_id": calendar.id,
                "user_id": cls.manager.id,
            }
        )
        cls.telegram = env.ref("messenger_leads.messenger_channel_telegram")
        cls.web_form = env.ref("messenger_leads.messenger_channel_web_form")
        stages = [env.ref(f"crm.stage_lead{n}") for n in (1, 2, 3, 4)]
        cls.new, cls.qualified, cls.proposition, cls.won = stages
        cls.too_expensive = env["crm.lost.reason"].create({"name": "Report: too expensive"})
        cls.no_need = env["crm.lost.reason"].create({"name": "Report: no need"})

        rows = [
            # name, channel, user, stage, revenue, grade, score, arrived, minutes, sla, rating
            ("L1", cls.telegram, cls.alice, cls.won, 1000, "hot", 15, 10, 3, "met", 5),
            ("L2", cls.telegram, cls.alice, cls.proposition, 0, "warm", 10, 9, 10, "met_late", 0),
            ("L3", cls.telegram, cls.alice, cls.new, 0, "hot", 18, 9, 30, "met_late", 0),
            ("L4", cls.telegram, cls.bob, cls.new, 0, "cold", 4, 22, None, "breached", 0),
            ("L5", cls.telegram, cls.bob, cls.won, 3000, "warm", 12, 11, 2, "met", 2),
            ("L6", cls.telegram, cls.bob, cls.new, 0, None, 0, None, None, None, 0),
            ("L7", cls.web_form, cls.alice, cls.qualified, 0, "warm", 11, 14, 15, "met", 0),
            ("L8", cls.web_form, cls.bob, cls.new, 0, "warm", 10, 9, 200, "met_late", 0),
            ("L9", cls.web_form, cls.bob, cls.new, 0, "cold", 3, None, None, None, 0),
            ("L10", cls.web_form, cls.alice, cls.new, 0, None, 0, None, None, None, 0),
        ]
        cls.leads = {}
        for name, channel, user, stage, revenue, *_rest in rows:
            cls.leads[name] = env["crm.lead"].create(
                {
                    "name": f"Report {name}",
                    "type": "opportunity",
                    "team_id": cls.team.id,
                    "user_id": user.id,
                    "messenger_channel_id": channel.id,
                    "stage_id": stage.id,
                    "expected_revenue": revenue,
                }
            )
        cls.leads["L4"].action_set_lost(lost_reason_id=cls.too_expensive.id)
        cls.leads["L9"].action_set_lost(lost_reason_id=cls.no_need.id)
        env.flush_all()
        # What the bridge, the SLA clock and the scoring would have stored, set as worked out.
        for name, _c, _u, _s, _r, grade, score, arrived, minutes, sla, rating in rows:
            first_message = NOW.replace(hour=arrived) if arrived is not None else None
            answered = minutes is not None
            env.cr.execute(
                """
                UPDATE crm_lead
                   SET create_date = %(created)s,
                       messenger_qualification_grade = %(grade)s,
                       messenger_qualification_score = %(score)s,
                       messenger_first_message_at = %(first)s,
                       messenger_first_response_at = %(answer)s,
                       messenger_response_minutes = %(minutes)s,
                       messenger_response_band = %(band)s,
                       messenger_sla_state = %(sla)s,
                       messenger_rating = %(rating)s
                 WHERE id = %(id)s
                """,
                {
                    "id": cls.leads[name].id,
                    "created": NOW - datetime.timedelta(days=1),
                    "grade": grade,
                    "score": score,
                    "first": first_message,
                    "answer": first_message + datetime.timedelta(minutes=minutes)
                    if answered
                    else None,
                    "minutes": minutes or 0,
                    "band": response_band(minutes) if answered else None,
                    "sla": sla,
                    "rating": rating,
                },
            )
        # deal cycles: L1 created 10 days before it was won, L5 4 days before
        for name, days in (("L1", 10), ("L5", 4)):
            env.cr.execute(
                "UPDATE crm_lead SET create_date = %s, date_closed = %s WHERE id = %s",
                (NOW - datetime.timedelta(days=days), NOW, cls.leads[name].id),
            )
        # L2 had three calls, L3 has a plan and no call yet
        for attempt in range(3):
            env["messenger.callback.attempt"].create(
                {
                    "lead_id": cls.leads["L2"].id,
                    "sequence": attempt + 1,
                    "planned_at": NOW,
                    "state": "done",
                    "outcome": "no_answer",
                }
            )
        env.cr.execute(
            "UPDATE crm_lead SET messenger_callback_state = 'planned' WHERE id IN %s",
            ((cls.leads["L2"].id, cls.leads["L3"].id),),
        )
        env.invalidate_all()

    def setUp(self):
        super().setUp()
        # "this month" is the data set's month, whatever day the tests run
        self.patch(fields.Date, "context_today", lambda *args, **kwargs: NOW.date())

    def dashboard(self, user=None, period="this_month"):
        env = self.env(user=user) if user else self.env
        return env["messenger.report.dashboard"].get_dashboard_data(
            period=period, team_id=self.team.id
        )


def response_band(minutes):
    return "ideal" if minutes <= 20 else "normal" if minutes <= 180 else "acceptable"
