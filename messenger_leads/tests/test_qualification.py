from odoo.tests import Form, TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestQualification(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.write(
            {
                "messenger_qualification": True,
                "messenger_hot_score": 15,
                "messenger_warm_score": 10,
                "messenger_budget_threshold": 500_000,
            }
        )
        cls.telegram = cls.env.ref("messenger_leads.messenger_channel_telegram")  # 4 points
        cls.fit = cls.env.ref("messenger_leads.criterion_fit")
        cls.need = cls.env.ref("messenger_leads.criterion_need")
        cls.readiness = cls.env.ref("messenger_leads.criterion_readiness")
        cls.channel = cls.env.ref("messenger_leads.criterion_channel")
        cls.quote_campaign = cls.env["utm.campaign"].create(
            {"name": "Get a quote", "messenger_readiness_points": 5}
        )
        cls.leader = cls.env["res.users"].create({"name": "Leader", "login": "q-leader"})
        cls.team = cls.env["crm.team"].create({"name": "Q team", "user_id": cls.leader.id})

    def commit_tracking(self):
        """Write tracking values as a commit would."""
        self.env.flush_all()
        self.env.cr.flush()

    def lead(self, **values):
        return self.env["crm.lead"].create(
            {"name": "Q lead", "team_id": self.team.id, "company_id": self.company.id, **values}
        )

    def points(self, lead):
        return {line.criterion_id: line.points for line in lead.messenger_score_ids}

    def test_every_criterion_gets_a_line_and_automatic_ones_are_filled(self):
        lead = self.lead(messenger_channel_id=self.telegram.id, campaign_id=self.quote_campaign.id)
        points = self.points(lead)
        self.assertEqual(
            (points[self.fit], points[self.need], points[self.readiness], points[self.channel]),
            ("0", "0", "5", "4"),
        )
        self.assertEqual(lead.messenger_qualification_score, 9)
        self.assertEqual(lead.messenger_qualification_grade, "cold")

    def test_salesperson_scores_and_grade_follows(self):
        lead = self.lead(messenger_channel_id=self.telegram.id, campaign_id=self.quote_campaign.id)
        self.commit_tracking()  # a lead created in this transaction has nothing to track yet
        with Form(lead) as form:
            for index in range(len(form.messenger_score_ids)):
                with form.messenger_score_ids.edit(index) as line:
                    if line.criterion_id == self.fit:
                        line.points = "4"
                    if line.criterion_id == self.need:
                        line.points = "3"
        self.assertEqual(lead.messenger_qualification_score, 16)
        self.assertEqual(lead.messenger_qualification_grade, "hot")
        self.commit_tracking()
        tracked = lead.message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "messenger_qualification_score"
        )
        self.assertEqual(tracked[:1].new_value_integer, 16, "score changes are in the chatter")

    def test_channel_change_rescores_the_channel_criterion(self):
        lead = self.lead(messenger_channel_id=self.telegram.id)
        lead.messenger_channel_id = self.env.ref("messenger_leads.messenger_channel_email")
        self.assertEqual(
            self.points(lead)[self.channel], str(lead.messenger_channel_id.score_points)
        )

    def test_behaviour_signals_count_once(self):
        lead = self.lead(messenger_channel_id=self.telegram.id)
        before = lead.messenger_qualification_score
        lead._messenger_register_signal("phone_shared")
        lead.messenger_signal_ids.signal_id.mapped("code")  # as the intake's batch reads them
        self.env.flush_all()
        with self.assertQueryCount(0):  # every later message of a chat: nothing to look up
            lead._messenger_register_signal("phone_shared")
        lead._messenger_register_signal("bot_blocked")
        self.assertEqual(lead.messenger_qualification_score, before + 3 - 5)
        self.assertEqual(len(lead.messenger_signal_ids), 2)

    def test_signal_points_are_configurable(self):
        self.env.ref("messenger_leads.signal_phone_shared").points = 6
        lead = self.lead()
        lead._messenger_register_signal("phone_shared")
        self.assertEqual(lead.messenger_qualification_score, 6)

    def test_thresholds_in_settings_regrade_leads(self):
        lead = self.lead(messenger_channel_id=self.telegram.id, campaign_id=self.quote_campaign.id)
        self.assertEqual(lead.messenger_qualification_grade, "cold")
        settings = self.env["res.config.settings"].create({"messenger_warm_score": 8})
        settings.execute()
        self.assertEqual(lead.messenger_qualification_grade, "warm")

    def test_big_budget_goes_to_a_person_once(self):
        lead = self.lead(user_id=False)
        lead.messenger_budget = 400_000
        self.assertFalse(lead.messenger_budget_flagged_at)
        lead._messenger_take_declared_budget("около 1,2 млн")
        self.assertEqual(lead.messenger_budget, 1_200_000)
        self.assertEqual(lead.priority, "3")
        self.assertTrue(lead.messenger_budget_flagged_at)
        calls = lead.activity_ids.filtered(lambda a: "Big budget" in a.summary)
        self.assertEqual(calls.user_id, self.leader, "nobody assigned: the team leader")
        lead.messenger_budget = 2_000_000
        self.assertEqual(len(lead.activity_ids.filtered(lambda a: "Big budget" in a.summary)), 1)

    def test_switched_off(self):
        self.company.messenger_qualification = False
        lead = self.lead(messenger_channel_id=self.telegram.id)
        lead._messenger_register_signal("phone_shared")
        self.assertFalse(lead.messenger_score_ids)
        self.assertFalse(lead.messenger_signal_ids)
        self.assertEqual(
            (lead.messenger_qualification_score, lead.messenger_qualification_grade), (0, False)
        )

    def test_new_criterion_reaches_open_leads(self):
        lead = self.lead()
        criterion = self.env["messenger.qualification.criterion"].create({"name": "Budget fit"})
        self.assertIn(criterion, lead.messenger_score_ids.criterion_id)

    def test_answer_sets_criterion_points(self):
        lead = self.lead()
        lead._messenger_set_criterion_points(self.need, 5)
        self.assertEqual(self.points(lead)[self.need], "5")
