import random
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import SQL

from ..report.messenger_lead_report_aggregate import STALE_TABLE
from ..tools import funnel
from .common import ReportCase


@tagged("post_install", "-at_install")
class TestReportAggregate(ReportCase):
    """The dashboard reads totals kept by the transactions that change the leads: each change
    shows at once, as the leads analysis (one row per lead) shows it."""

    def funnel_counts(self, user=None):
        return {row["name"]: row["counts"] for row in self.dashboard(user=user)["funnel"]["rows"]}

    def analysis_won(self):
        """Won leads by channel, as the leads analysis reads them (the definition)."""
        return {
            channel.name: won
            for channel, won in self.env["messenger.lead.report"]._read_group(
                [("team_id", "=", self.team.id)], ["channel_id"], ["won_count:sum"]
            )
        }

    def test_a_lead_won_counts_at_once(self):
        self.assertEqual(self.funnel_counts()["Telegram"], [6, 4, 3, 2])
        self.leads["L3"].stage_id = self.won  # alice's hot Telegram lead, in New
        self.assertEqual(self.funnel_counts()["Telegram"], [6, 4, 4, 3])
        self.assertEqual(self.analysis_won(), {"Telegram": 3, "Web form": 0})
        alice = next(
            row for row in self.dashboard()["salespeople"] if row["name"] == self.alice.name
        )
        # opportunities L1 L2 L3 L7, won L1 L3, of 5 leads
        self.assertEqual((alice["won_rate"], alice["conversion_rate"]), (50.0, 40.0))

    def test_a_reassigned_lead_moves_to_its_new_salesperson(self):
        self.assertEqual(self.dashboard(user=self.alice)["funnel"]["total"]["counts"], [5, 4, 3, 1])
        self.leads["L1"].write({"user_id": self.bob.id, "team_id": self.team.id})
        # alice: L2 L3 L7 L10 left, none won; bob has L1 and its 1,000 won
        self.assertEqual(self.dashboard(user=self.alice)["funnel"]["total"]["counts"], [4, 3, 2, 0])
        self.assertEqual(
            [row["name"] for row in self.dashboard(user=self.alice)["salespeople"]],
            [self.alice.name],
        )
        people = {row["name"]: row for row in self.dashboard(user=self.manager)["salespeople"]}
        self.assertEqual(people[self.bob.name]["lead_count"], 6)
        self.assertEqual(people[self.bob.name]["won_revenue"], 4000.0)
        self.assertEqual(people[self.alice.name]["won_revenue"], 0.0)

    def test_lost_deleted_and_written_outside_the_orm(self):
        self.leads["L2"].action_set_lost(lost_reason_id=self.no_need.id)
        self.leads["L10"].unlink()
        self.env.cr.execute(
            "UPDATE crm_lead SET messenger_qualification_grade = 'hot' WHERE id = %s",
            (self.leads["L8"].id,),
        )
        data = self.dashboard()
        self.assertEqual(
            {row["name"]: (row["counts"], row["lost"]) for row in data["funnel"]["rows"]},
            {
                "Telegram": ([6, 4, 3, 2], 2),  # L2 lost, still an opportunity
                "Web form": ([3, 2, 1, 0], 1),  # L10 gone; L8 was already warm
            },
        )
        self.assertEqual(
            data["lost_reasons"],
            [
                {"name": "Report: no need", "count": 2},
                {"name": "Report: too expensive", "count": 1},
            ],
        )

    def test_an_addon_extending_the_view_extends_the_totals(self):
        report = type(self.env["messenger.lead.report"])
        where = report._where

        def telegram_only(model):  # what an addon's override of _where would return
            return SQL("%s AND lead.messenger_channel_id = %s", where(model), self.telegram.id)

        with patch.object(report, "_where", telegram_only):
            self.env["messenger.lead.report"].init()  # what installing that addon runs
            self.assertEqual(list(self.funnel_counts()), ["Telegram"])
            self.leads["L7"].messenger_channel_id = self.telegram  # the triggers read it too
            self.assertEqual(self.funnel_counts()["Telegram"], [7, 5, 4, 2])

    def test_a_stage_made_won_counts_its_leads_at_once(self):
        """What the analysis reads besides the leads (here a stage) marks the totals stale:
        the next read builds them again."""
        self.proposition.is_won = True
        self.env.flush_all()
        self.env.cr.execute(SQL("SELECT count(*) FROM %s", SQL.identifier(STALE_TABLE)))
        self.assertTrue(self.env.cr.fetchone()[0])
        self.assertEqual(self.funnel_counts()["Telegram"], [6, 4, 3, 3])  # and L2
        self.assertEqual(self.analysis_won(), {"Telegram": 3, "Web form": 0})
        self.env.cr.execute(SQL("SELECT count(*) FROM %s", SQL.identifier(STALE_TABLE)))
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_adding_up_the_rows_keeps_the_figures(self):
        totals = self.env["messenger.lead.report.aggregate"]
        for user in (self.bob, self.alice, self.bob):
            self.leads["L7"].write({"user_id": user.id, "team_id": self.team.id})
        self.leads["L3"].stage_id = self.won
        before = self.dashboard(user=self.manager)
        rows = totals.search_count([])
        totals._compact()
        self.assertLess(totals.search_count([]), rows)
        self.assertEqual(self.dashboard(user=self.manager), before)
        totals._rebuild()
        self.assertEqual(self.dashboard(user=self.manager), before)

    def test_a_salesperson_reads_only_the_totals_of_their_own_leads(self):
        totals = self.env["messenger.lead.report.aggregate"].with_user(self.alice)
        self.assertTrue(totals.search([]))
        self.assertEqual(totals.search([]).user_id, self.alice)
        other = self.env["res.company"].create({"name": "Report: other company"})
        self.env["crm.lead"].create(
            {"name": "Other company's", "company_id": other.id, "team_id": self.team.id}
        )
        manager = self.env["messenger.lead.report.aggregate"].with_user(self.manager)
        self.assertNotIn(other, manager.search([]).company_id)
        self.assertEqual(self.dashboard(user=self.manager)["funnel"]["total"]["counts"][0], 10)

    def test_percentiles_are_postgresql_percentile_cont(self):
        rng = random.Random(20)
        for size in (1, 2, 5, 40, 333):
            values = [rng.choice([0.5, 2.0, 7.25, rng.uniform(0, 900)]) for _n in range(size)]
            counts = {}
            for value in values:
                counts[value] = counts.get(value, 0) + 1
            for fraction in (0.5, 0.9):
                self.env.cr.execute(
                    "SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY v)"
                    " FROM unnest(%s::float8[]) v",
                    (fraction, values),
                )
                expected = self.env.cr.fetchone()[0]
                self.assertEqual(funnel.percentile(list(counts.items()), fraction), expected)
        self.assertIsNone(funnel.percentile([], 0.5))

    def test_uninstalling_removes_the_triggers(self):
        """Without the addon, writing a lead or a stage must not call its triggers."""
        self.env["messenger.lead.report.aggregate"]._drop_triggers()
        self.env.cr.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'messenger_lead_report_aggregate%%'"
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.leads["L3"].stage_id = self.won
        self.proposition.is_won = True
        self.env.flush_all()
