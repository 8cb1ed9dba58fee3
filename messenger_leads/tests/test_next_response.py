from datetime import datetime as dt

from freezegun import freeze_time

from odoo import Command
from odoo.tests import TransactionCase, tagged

from .common import office_hours


@tagged("post_install", "-at_install")
class TestNextResponse(TransactionCase):
    """Each later customer message nobody answered has its own deadline; a salesperson answers
    from the lead (an e-mail to the customer), as the messenger bridge's replies do."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.telegram = cls.env.ref("messenger_leads.messenger_channel_telegram")
        cls.telegram.write({"response_target_minutes": 5, "next_response_target_minutes": 0})
        cls.moscow = office_hours(cls.env, "Europe/Moscow")  # UTC+3, 9:00-18:00 Mon-Fri
        groups = cls.env.ref("sales_team.group_sale_salesman")
        cls.leader, cls.seller = (
            cls.env["res.users"].create(
                {
                    "name": name,
                    "login": login,
                    "email": f"{login}@example.com",
                    "groups_id": [Command.set([group.id])],
                }
            )
            for name, login, group in (
                ("Next leader", "next_leader", cls.env.ref("sales_team.group_sale_manager")),
                ("Next seller", "next_seller", groups),
            )
        )
        cls.team = cls.env["crm.team"].create(
            {
                "name": "Next team",
                "messenger_resource_calendar_id": cls.moscow.id,
                "user_id": cls.leader.id,
            }
        )
        # Monday 10:00 Moscow: the customer's first message, answered two minutes later
        with freeze_time("2026-11-23 07:00:00"):
            cls.lead = cls.env["crm.lead"].create(
                {
                    "name": "Next lead",
                    "team_id": cls.team.id,
                    "messenger_channel_id": cls.telegram.id,
                    "messenger_first_message_at": dt(2026, 11, 23, 7),
                    "user_id": cls.seller.id,
                }
            )
        cls.answer(dt(2026, 11, 23, 7, 2))

    @classmethod
    def answer(cls, when):
        with freeze_time(when):
            cls.lead.with_user(cls.seller).message_post(
                body="Here you are", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
            cls.env.flush_all()

    def customer_writes(self, when):
        """The customer's message, registered as the bridge does when it arrives."""
        with freeze_time(when):
            self.lead._messenger_register_customer_message(when)
            self.env.flush_all()

    def cron(self, when):
        with freeze_time(when):
            self.env["crm.lead"]._cron_messenger_sla()

    def test_answered_in_time(self):
        self.assertEqual(self.lead.messenger_sla_state, "met")
        self.assertFalse(self.lead.messenger_answer_deadline, "answered: nothing runs")
        self.customer_writes(dt(2026, 11, 23, 7, 10))
        response = self.lead.messenger_response_ids
        self.assertEqual(response.response_deadline, dt(2026, 11, 23, 7, 15))
        self.assertEqual(
            (self.lead.messenger_answer_deadline, self.lead.messenger_answer_sla_state),
            (dt(2026, 11, 23, 7, 15), "on_track"),
            "the running deadline is the next response's",
        )
        self.assertEqual(response.user_id, self.seller)
        self.answer(dt(2026, 11, 23, 7, 14))
        self.assertEqual(
            (response.answered_at, response.sla_state, response.response_minutes),
            (dt(2026, 11, 23, 7, 14), "met", 4),
        )
        self.assertEqual(
            (self.lead.messenger_answer_deadline, self.lead.messenger_answer_sla_state),
            (False, "met"),
        )
        self.assertEqual(self.lead.messenger_sla_state, "met", "the first response stays as it was")

    def test_an_answer_in_the_same_second_as_the_message_answers_it(self):
        """A message received at 07:10:00.4 (the receipt clock keeps microseconds) and answered
        within that second (Odoo keeps a person's answer to the second) is answered."""
        self.customer_writes(dt(2026, 11, 23, 7, 10, 0, 400_000))
        response = self.lead.messenger_response_ids
        self.answer(dt(2026, 11, 23, 7, 10, 0, 900_000))
        self.assertEqual(response.answered_at, dt(2026, 11, 23, 7, 10))
        self.assertFalse(self.lead.messenger_answer_deadline, "answered: nothing runs")

    def test_answered_late_is_escalated_once(self):
        self.customer_writes(dt(2026, 11, 23, 7, 20))
        response = self.lead.messenger_response_ids
        self.cron("2026-11-23 07:24:30")
        self.assertEqual(response.sla_state, "at_risk")
        self.cron("2026-11-23 07:26:00")
        self.assertEqual(response.sla_state, "breached")
        self.assertEqual(self.lead.messenger_answer_sla_state, "breached")
        self.assertEqual(response.sla_escalated_at, dt(2026, 11, 23, 7, 26))
        self.assertEqual(self.lead.activity_ids.user_id, self.leader)
        self.assertIn("Next-response deadline missed", self.lead.message_ids[0].body)
        self.cron("2026-11-23 07:40:00")
        self.assertEqual(len(self.lead.activity_ids), 1, "escalated once")
        self.answer(dt(2026, 11, 23, 7, 45))
        self.assertEqual((response.sla_state, response.response_minutes), ("met_late", 25))
        self.assertEqual(response.user_id, self.seller, "counted against its salesperson")
        self.assertEqual(self.lead.messenger_sla_state, "met")

    def test_a_customer_writing_twice_has_one_deadline_from_the_first_message(self):
        self.customer_writes(dt(2026, 11, 23, 7, 10))
        self.customer_writes(dt(2026, 11, 23, 7, 13))
        response = self.lead.messenger_response_ids
        self.assertEqual(len(response), 1)
        self.assertEqual(response.response_deadline, dt(2026, 11, 23, 7, 15))
        self.answer(dt(2026, 11, 23, 7, 16))
        self.assertEqual(response.sla_state, "met_late", "due from the first unanswered one")
        self.customer_writes(dt(2026, 11, 23, 7, 30))
        self.assertEqual(len(self.lead.messenger_response_ids), 2, "answered: a new deadline")

    def test_no_deadline_before_the_first_answer(self):
        lead = self.lead.copy({"messenger_first_message_at": dt(2026, 11, 23, 7)})
        lead.mapped("messenger_first_response_at")  # as the intake's batch reads the lead
        self.env.flush_all()
        with self.assertQueryCount(0):  # no deadline to look for yet
            lead._messenger_register_customer_message(dt(2026, 11, 23, 7, 3))
        self.assertFalse(lead.messenger_response_ids, "the first-response clock runs")
        self.assertEqual(lead.messenger_answer_deadline, lead.messenger_response_deadline)

    def test_channel_target_and_working_hours(self):
        self.telegram.next_response_target_minutes = 30
        # Monday 17:50 Moscow: 10 minutes today, 20 on Tuesday from 9:00
        self.customer_writes(dt(2026, 11, 23, 14, 50))
        self.assertEqual(
            self.lead.messenger_response_ids.response_deadline, dt(2026, 11, 24, 6, 20)
        )

    def test_a_salesperson_reads_only_their_leads_deadlines(self):
        self.customer_writes(dt(2026, 11, 23, 7, 10))
        other = self.env["res.users"].create(
            {
                "name": "Other seller",
                "login": "next_other",
                "groups_id": [Command.set([self.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        responses = self.env["messenger.lead.response"]
        self.assertEqual(responses.with_user(self.seller).search([]).lead_id, self.lead)
        self.assertFalse(responses.with_user(other).search([("lead_id", "=", self.lead.id)]))
