from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestMessengerLeadReport(TransactionCase):
    def test_funnel_by_channel(self):
        telegram = self.env.ref("messenger_leads.messenger_channel_telegram")
        team = self.env["crm.team"].create({"name": "Report team"})
        won_stage = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        leads = self.env["crm.lead"].create(
            [
                {"name": "won", "type": "opportunity", "expected_revenue": 1000},
                {"name": "open", "type": "opportunity", "expected_revenue": 500},
                {"name": "lead", "type": "lead"},
                {"name": "lost", "type": "opportunity"},
            ]
        )
        leads.write({"channel_id": telegram.id, "team_id": team.id})
        leads[0].stage_id = won_stage
        leads[3].action_set_lost()
        self.env.flush_all()

        report = self.env["messenger.lead.report"].with_context(active_test=False)
        (row,) = report._read_group(
            [("team_id", "=", team.id)],
            ["channel_id"],
            [
                "lead_count:sum",
                "opportunity_count:sum",
                "won_count:sum",
                "lost_count:sum",
                "won_revenue:sum",
            ],
        )
        self.assertEqual(row, (telegram, 4, 3, 1, 1, 1000.0))
