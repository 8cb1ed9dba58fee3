from unittest.mock import patch

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import ReportCase


@tagged("post_install", "-at_install")
class TestMessengerLeadReport(ReportCase):
    def test_funnel_by_channel(self):
        funnel = self.dashboard()["funnel"]
        telegram, web_form = funnel["rows"]
        # Telegram: 6 leads; qualified L1 L2 L3 L5; opportunities L1 L2 L5; won L1 L5; lost L4
        self.assertEqual(telegram["name"], "Telegram")
        self.assertEqual(telegram["counts"], [6, 4, 3, 2])
        self.assertEqual(telegram["rates"], [66.7, 75.0, 66.7])
        self.assertEqual(telegram["conversion"], 33.3)
        self.assertEqual(telegram["lost"], 1)
        self.assertEqual(telegram["drop_index"], 0)  # 66.7 twice: the first is the largest
        # Web form: 4 leads; qualified L7 L8; opportunity L7; none won; lost L9
        self.assertEqual(web_form["counts"], [4, 2, 1, 0])
        self.assertEqual(web_form["rates"], [50.0, 50.0, 0.0])
        self.assertEqual(web_form["conversion"], 0.0)
        self.assertEqual(web_form["drop_index"], 2)
        total = funnel["total"]
        self.assertEqual(total["counts"], [10, 6, 4, 2])
        self.assertEqual(total["rates"], [60.0, 66.7, 50.0])
        self.assertEqual(total["conversion"], 20.0)
        self.assertEqual(total["lost"], 2)
        self.assertEqual(total["drop_index"], 2)

    def test_the_view_is_built_from_parts_an_addon_can_extend(self):
        report = self.env["messenger.lead.report"]
        team = [("team_id", "=", self.team.id)]
        self.assertEqual(report.search(team).channel_id, self.telegram | self.web_form)
        where = type(report)._where

        def telegram_only(model):  # what an addon's override of _where would return
            return SQL("%s AND lead.messenger_channel_id = %s", where(model), self.telegram.id)

        with patch.object(type(report), "_where", telegram_only):
            report.init()
        self.assertEqual(report.search(team).channel_id, self.telegram)
        self.assertEqual(len(report.search(team)), 6, "the lost lead L4 too")

    def test_pivot_rates_are_averages_over_the_step(self):
        report = self.env["messenger.lead.report"]
        rows = report._read_group(
            [("team_id", "=", self.team.id)],
            ["channel_id"],
            ["qualified_rate:avg", "opportunity_rate:avg", "won_rate:avg", "conversion_rate:avg"],
        )
        rounded = {channel: [round(value, 1) for value in rates] for channel, *rates in rows}
        self.assertEqual(rounded[self.telegram], [66.7, 75.0, 66.7, 33.3])
        self.assertEqual(rounded[self.web_form], [50.0, 50.0, 0.0, 0.0])

    def test_lost_reasons(self):
        self.assertEqual(
            self.dashboard()["lost_reasons"],
            [
                {"name": "Report: no need", "count": 1},
                {"name": "Report: too expensive", "count": 1},
            ],
        )

    def test_response_times_and_bands(self):
        data = self.dashboard()
        response = data["response"]
        # answered in 2, 3, 10, 15, 30, 200 min: median (10 + 15) / 2, p90 30 + 0.5 * 170
        self.assertEqual(response["median"], 12.5)
        self.assertEqual(response["p90"], 115.0)
        # 7 leads with a deadline, 3 answered in time (L1 L5 L7)
        self.assertEqual(response["within_target"], 42.9)
        self.assertEqual(response["breaches"], 4)  # L2 L3 L8 late, L4 never
        self.assertEqual(
            response["bands"],
            [
                {"name": "Up to 20 min", "count": 4, "conversion": 50.0},  # L1 L2 L5 L7
                {"name": "Up to 3 h", "count": 1, "conversion": 0.0},  # L3
                {"name": "Up to 12 h", "count": 1, "conversion": 0.0},  # L8
            ],
        )
        hours = [0] * 24
        hours[9], hours[22] = 3, 1  # L2 L3 L8 came at 9:00, L4 at 22:00
        self.assertEqual(data["breaches_by_hour"], hours)
        breaches = data["breaches"]
        self.assertEqual(breaches["team_id"], [{"name": "Report team", "count": 4}])
        self.assertEqual(
            breaches["user_id"],
            [{"name": name, "count": 2} for name in sorted([self.alice.name, self.bob.name])],
        )
        self.assertEqual(
            breaches["channel_id"],
            [{"name": "Telegram", "count": 3}, {"name": "Web form", "count": 1}],
        )

    def test_salesperson_kpis(self):
        people = {row["name"]: row for row in self.dashboard()["salespeople"]}
        alice = people[self.alice.name]
        # L1 L2 L3 L7 L10: qualified 4 of 5, opportunities 3 of 4, won 1 of 3
        self.assertEqual(
            {key: value for key, value in alice.items() if key != "name"},
            {
                "lead_count": 5,
                "qualified_rate": 80.0,
                "opportunity_rate": 75.0,
                "won_rate": 33.3,
                "conversion_rate": 20.0,
                "deal_cycle_days": 10.0,
                "won_amount": 1000.0,
                "won_revenue": 1000.0,
                "lost_count": 0,
                "call_attempts": 1.5,  # L2 three calls, L3 none yet
                "chat_count": 3,  # Telegram leads answered: L1 L2 L3
                "customer_rating": 5.0,
            },
        )
        bob = people[self.bob.name]
        # L4 L5 L6 L8 L9: qualified L5 L8, opportunity L5, won L5
        self.assertEqual(
            {key: value for key, value in bob.items() if key != "name"},
            {
                "lead_count": 5,
                "qualified_rate": 40.0,
                "opportunity_rate": 50.0,
                "won_rate": 100.0,
                "conversion_rate": 20.0,
                "deal_cycle_days": 4.0,
                "won_amount": 3000.0,
                "won_revenue": 3000.0,
                "lost_count": 2,
                "call_attempts": None,
                "chat_count": 1,
                "customer_rating": 2.0,
            },
        )
        self.assertEqual(self.dashboard()["salespeople"][0]["name"], self.bob.name)

    def test_lead_quality_by_channel(self):
        quality = {row["name"]: row for row in self.dashboard()["quality"]}
        telegram = quality["Telegram"]
        self.assertEqual(telegram["count"], 6)
        self.assertEqual(telegram["score"], 9.8)  # (15 + 10 + 18 + 4 + 12 + 0) / 6
        self.assertEqual(
            sorted((g["name"], g["count"], g["conversion"]) for g in telegram["grades"]),
            [("Cold", 1, 0.0), ("Hot", 2, 50.0), ("Not graded", 1, 0.0), ("Warm", 2, 50.0)],
        )
        web_form = quality["Web form"]
        self.assertEqual((web_form["count"], web_form["score"]), (4, 6.0))  # (11 + 10 + 3) / 4

    def test_targets_actual_against_target(self):
        targets = self.env["messenger.conversion.target"].create(
            [
                {
                    "channel_id": self.telegram.id,
                    "team_id": self.team.id,
                    "date_from": "2026-11-01",
                    "date_to": "2026-11-30",
                    "target_rate": 30,
                },
                {
                    "channel_id": self.web_form.id,
                    "team_id": self.team.id,
                    "date_from": "2026-11-01",
                    "date_to": "2026-11-30",
                    "target_rate": 10,
                },
            ]
        )
        self.assertEqual(targets.mapped("lead_count"), [6, 4])
        self.assertEqual(targets.mapped("won_count"), [2, 0])
        self.assertEqual(targets.mapped("actual_rate"), [33.3, 0.0])
        self.assertEqual(targets.mapped("reached"), [True, False])
        rows = [row for row in self.dashboard()["targets"] if row["team"] == "Report team"]
        self.assertEqual(
            [(row["channel"], row["target"], row["actual"], row["reached"]) for row in rows],
            [("Telegram", 30.0, 33.3, True), ("Web form", 10.0, 0.0, False)],
        )
        with self.assertRaisesRegex(ValidationError, "already has a target in this period"):
            targets[0].copy({"date_from": "2026-11-15", "date_to": "2026-12-15"})

    def test_targets_are_read_in_one_grouped_read_as_the_user(self):
        whatsapp = self.env.ref("messenger_leads.messenger_channel_whatsapp")
        november = {"team_id": self.team.id, "date_from": "2026-11-01", "date_to": "2026-11-30"}
        targets = self.env["messenger.conversion.target"].create(
            [
                dict(november, channel_id=self.telegram.id, target_rate=30),
                dict(november, channel_id=self.web_form.id, target_rate=10),
                dict(november, channel_id=whatsapp.id, target_rate=10),
                # every team: the web form leads of the 16th to the 19th, whatever their team
                {
                    "channel_id": self.web_form.id,
                    "date_from": "2026-11-16",
                    "date_to": "2026-11-19",
                    "target_rate": 60,
                },
                {
                    "channel_id": whatsapp.id,
                    "date_from": "2026-10-01",
                    "date_to": "2026-10-31",
                    "target_rate": 10,
                },
            ]
        )
        totals = type(self.env["messenger.lead.report.aggregate"])
        search = totals._search
        reads = []

        def counted(model, *args, **kwargs):
            reads.append(model.env.uid)
            return search(model, *args, **kwargs)

        self.patch(totals, "_search", counted)
        for user, telegram, web_form in (
            (self.manager, (6, 2, 33.3), (4, 0, 0.0)),
            (self.alice, (3, 1, 33.3), (2, 0, 0.0)),  # her own leads: L1 L2 L3, L7 L10
        ):
            reads.clear()
            targets.invalidate_recordset()
            figures = targets.with_user(user).read(
                ["lead_count", "won_count", "actual_rate", "reached"]
            )
            self.assertEqual(reads, [user.id], "one grouped read for all the targets, as the user")
            self.assertEqual(
                [(row["lead_count"], row["won_count"], row["actual_rate"]) for row in figures[:3]],
                [telegram, web_form, (0, 0, 0.0)],
            )
            self.assertEqual([row["reached"] for row in figures[:3]], [True, False, False])
            # each target as its own read of the leads it covers
            for target, row in zip(targets.with_user(user), figures, strict=True):
                domain = [
                    ("channel_id", "=", target.channel_id.id),
                    ("create_date", ">=", target.date_from),
                    ("create_date", "<", fields.Date.add(target.date_to, days=1)),
                ]
                if target.team_id:
                    domain.append(("team_id", "=", target.team_id.id))
                [(leads, won)] = self.env(user=user)["messenger.lead.report"]._read_group(
                    domain, [], ["lead_count:sum", "won_count:sum"]
                )
                self.assertEqual((row["lead_count"], row["won_count"]), (leads, won))

    def test_calls_logged_by_the_salesperson_are_counted_on_the_lead(self):
        lead = self.env["crm.lead"].create(
            {
                "name": "Report: call me",
                "phone": "+7 916 123-45-67",
                "team_id": self.team.id,
                "user_id": self.alice.id,
                "messenger_channel_id": self.telegram.id,
            }
        )
        self.assertEqual(
            (lead.messenger_callback_state, lead.messenger_callback_attempts_done), ("planned", 0)
        )
        lead.with_user(self.alice).action_callback_no_answer()
        lead.with_user(self.alice).action_callback_busy()
        self.assertEqual(lead.messenger_callback_attempts_done, 2)
        self.env.flush_all()
        row = self.env["messenger.lead.report"].search([("lead_id", "=", lead.id)])
        self.assertEqual(row.call_attempts, 2.0)
        lead.with_user(self.alice).action_callback_reached()
        self.env.flush_all()
        self.env.invalidate_all()
        self.assertEqual((lead.messenger_callback_attempts_done, row.call_attempts), (3, 3.0))

    def test_salespeople_see_their_own_figures(self):
        total = self.dashboard(user=self.alice)["funnel"]["total"]
        self.assertEqual(total["counts"], [5, 4, 3, 1])  # L1 L2 L3 L7 L10 only
        self.assertEqual(
            [row["name"] for row in self.dashboard(user=self.alice)["salespeople"]],
            [self.alice.name],
        )
        self.assertEqual(self.dashboard(user=self.manager)["funnel"]["total"]["counts"][0], 10)

    def test_other_periods(self):
        self.assertEqual(self.dashboard(period="last_month")["funnel"]["rows"], [])
        self.assertEqual(self.dashboard(period="last_3_months")["funnel"]["total"]["counts"][0], 10)
        self.assertEqual(self.dashboard(period="this_year")["period"]["start"], "2026-01-01")

    def test_a_salesperson_sees_only_their_own_numbers_everywhere(self):
        # alice's leads: L1 L2 L3 (Telegram), L7 L10 (web form); bob's never show
        data = self.dashboard(user=self.alice)
        response = data["response"]
        # answered in 3, 10, 15, 30 min: median (10 + 15) / 2, p90 15 + 0.7 * 15
        self.assertEqual((response["median"], response["p90"]), (12.5, 25.5))
        self.assertEqual(response["within_target"], 50.0)  # L1 L7 in time, L2 L3 late
        self.assertEqual(response["breaches"], 2)
        self.assertEqual(
            response["bands"],
            [
                {"name": "Up to 20 min", "count": 3, "conversion": 33.3},  # L1 L2 L7
                {"name": "Up to 3 h", "count": 1, "conversion": 0.0},  # L3
            ],
        )
        hours = [0] * 24
        hours[9] = 2  # L2 L3; bob's L4 (22:00) and L8 (9:00) are not hers
        self.assertEqual(data["breaches_by_hour"], hours)
        self.assertEqual(
            data["breaches"],
            {
                "team_id": [{"name": "Report team", "count": 2}],
                "user_id": [{"name": self.alice.name, "count": 2}],
                "channel_id": [{"name": "Telegram", "count": 2}],
            },
        )
        self.assertEqual(data["lost_reasons"], [])  # L4 and L9 are bob's
        quality = {row["name"]: row for row in data["quality"]}
        self.assertEqual((quality["Telegram"]["count"], quality["Telegram"]["score"]), (3, 14.3))
        self.assertEqual(
            sorted((g["name"], g["count"], g["conversion"]) for g in quality["Telegram"]["grades"]),
            [("Hot", 2, 50.0), ("Warm", 1, 0.0)],
        )
        self.assertEqual((quality["Web form"]["count"], quality["Web form"]["score"]), (2, 5.5))
        self.assertEqual([row["name"] for row in data["funnel"]["rows"]], ["Telegram", "Web form"])

    def test_dashboard_reads_no_lead(self):
        """The dashboard reads the totals of the leads analysis, never the analysis itself
        (a row per lead) nor the leads: its cost does not grow with them."""
        self.env["messenger.conversion.target"].create(
            {
                "channel_id": self.telegram.id,
                "team_id": self.team.id,
                "date_from": "2026-11-01",
                "date_to": "2026-11-30",
                "target_rate": 30,
            }
        )
        cursor = type(self.env.cr)
        execute = cursor.execute
        reads = []

        def counted(cr, query, *args, **kwargs):
            if any(table in str(query) for table in ('"messenger_lead_report"', "crm_lead")):
                reads.append(query)
            return execute(cr, query, *args, **kwargs)

        self.patch(cursor, "execute", counted)
        data = self.dashboard(user=self.manager)
        self.assertEqual(data["funnel"]["total"]["counts"], [10, 6, 4, 2])
        [target] = [row for row in data["targets"] if row["team"] == "Report team"]
        self.assertEqual(target["leads"], 6)
        self.assertEqual(reads, [])

    def test_won_is_the_leads_won_domain_at_once(self):
        """The view reads won from the stage; it is the lead's won domain, live: a stage
        made a won stage counts its leads won in the next read."""
        leads = self.env["crm.lead"].with_context(active_test=False)
        team = [("team_id", "=", self.team.id)]

        def won():
            [(count,)] = self.env["messenger.lead.report"]._read_group(team, [], ["won_count:sum"])
            return count

        self.assertEqual(won(), leads.search_count([*team, *leads._messenger_won_domain()]))
        self.assertEqual(won(), 2)  # L1 L5
        self.proposition.is_won = True
        self.env.flush_all()
        self.assertEqual(won(), leads.search_count([*team, *leads._messenger_won_domain()]))
        self.assertEqual(won(), 3)  # and L2
