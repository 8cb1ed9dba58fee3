from datetime import date
from datetime import datetime as dt

from freezegun import freeze_time

from odoo import Command
from odoo.tests import HttpCase, TransactionCase, tagged

from .common import office_hours


@tagged("post_install", "-at_install")
class TestLeadSla(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.telegram = cls.env.ref("messenger_leads.messenger_channel_telegram")
        cls.moscow = office_hours(cls.env, "Europe/Moscow")  # UTC+3, no DST
        cls.leader = cls.env["res.users"].create(
            {
                "name": "SLA leader",
                "login": "sla_leader",
                "groups_id": [Command.set([cls.env.ref("sales_team.group_sale_manager").id])],
            }
        )
        cls.team = cls.env["crm.team"].create(
            {
                "name": "SLA team",
                "messenger_resource_calendar_id": cls.moscow.id,
                "user_id": cls.leader.id,
            }
        )

    def lead(self, first_message_at, **values):
        return self.env["crm.lead"].create(
            {
                "name": "SLA lead",
                "team_id": self.team.id,
                "messenger_channel_id": self.telegram.id,
                "messenger_first_message_at": first_message_at,
                **values,
            }
        )

    def test_deadline_in_working_hours(self):
        # Monday 10:00 Moscow = 07:00 UTC
        self.assertEqual(
            self.lead(dt(2026, 11, 23, 7)).messenger_response_deadline, dt(2026, 11, 23, 7, 5)
        )

    def test_message_at_22_is_due_next_working_morning(self):
        # Monday 22:00 Moscow = 19:00 UTC -> Tuesday 09:05 Moscow = 06:05 UTC
        self.assertEqual(
            self.lead(dt(2026, 11, 23, 19)).messenger_response_deadline, dt(2026, 11, 24, 6, 5)
        )

    def test_weekend_and_holiday(self):
        # Friday 21:00 Moscow -> Monday 09:05; with Monday a public holiday -> Tuesday 09:05
        friday_evening = dt(2026, 11, 27, 18)
        self.assertEqual(
            self.lead(friday_evening).messenger_response_deadline, dt(2026, 11, 30, 6, 5)
        )
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Holiday",
                "calendar_id": self.moscow.id,
                "date_from": dt(2026, 11, 29, 21),
                "date_to": dt(2026, 11, 30, 21),
            }
        )
        self.assertEqual(
            self.lead(friday_evening).messenger_response_deadline, dt(2026, 12, 1, 6, 5)
        )

    def test_time_zone_of_the_team(self):
        self.team.messenger_resource_calendar_id = office_hours(self.env, "America/New_York")
        # 13:00 UTC is 08:00 in New York (EST): due at 09:05 EST = 14:05 UTC
        self.assertEqual(
            self.lead(dt(2026, 11, 23, 13)).messenger_response_deadline, dt(2026, 11, 23, 14, 5)
        )

    def test_team_target_overrides_the_channel(self):
        self.team.messenger_response_target_minutes = 30
        self.assertEqual(
            self.lead(dt(2026, 11, 23, 7)).messenger_response_deadline, dt(2026, 11, 23, 7, 30)
        )

    def test_leads_without_channel_have_no_deadline(self):
        lead = self.env["crm.lead"].create({"name": "Typed in", "team_id": self.team.id})
        self.assertFalse(lead.messenger_response_deadline)
        self.assertFalse(lead.messenger_sla_state)

    def test_states_through_the_cron_and_escalation_once(self):
        with freeze_time("2026-11-23 07:00:00"):
            lead = self.lead(dt(2026, 11, 23, 7))
            self.assertEqual(lead.messenger_sla_state, "on_track")
        with freeze_time("2026-11-23 07:04:10"):
            self.env["crm.lead"]._cron_messenger_sla()
            self.assertEqual(lead.messenger_sla_state, "at_risk")
        with freeze_time("2026-11-23 07:05:30"):
            self.env["crm.lead"]._cron_messenger_sla()
            self.assertEqual(lead.messenger_sla_state, "breached")
            self.assertEqual(lead.messenger_sla_escalated_at, dt(2026, 11, 23, 7, 5, 30))
            self.assertEqual(lead.activity_ids.user_id, self.leader)
        notices = lead.message_ids.filtered(lambda m: "deadline missed" in (m.body or ""))
        with freeze_time("2026-11-23 07:10:00"):
            self.env["crm.lead"]._cron_messenger_sla()
        self.assertEqual(len(lead.activity_ids), 1, "escalated once, never again")
        self.assertEqual(
            lead.message_ids.filtered(lambda m: "deadline missed" in (m.body or "")), notices
        )
        lead._messenger_register_first_response(dt(2026, 11, 23, 7, 30))
        self.assertEqual(lead.messenger_sla_state, "met_late")
        self.assertEqual(
            (lead.messenger_response_minutes, lead.messenger_response_band), (30, "normal")
        )

    def test_met_in_time_and_only_the_first_answer_counts(self):
        lead = self.lead(dt(2026, 11, 23, 7))
        lead._messenger_register_first_response(dt(2026, 11, 23, 7, 3))
        lead._messenger_register_first_response(dt(2026, 11, 23, 9))
        self.assertEqual((lead.messenger_sla_state, lead.messenger_response_minutes), ("met", 3))
        self.assertEqual(lead.messenger_response_band, "ideal")

    def test_logged_call_or_email_is_a_first_answer(self):
        seller = self.env["res.users"].create(
            {
                "name": "Seller",
                "login": "sla_seller",
                "email": "seller@example.com",
                "groups_id": [Command.set([self.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        lead = self.lead(dt(2026, 11, 23, 7), user_id=seller.id)
        lead.with_user(seller).message_post(body="internal", subtype_xmlid="mail.mt_note")
        self.assertFalse(lead.messenger_first_response_at, "a note is not an answer")
        call = lead.activity_schedule(
            "mail.mail_activity_data_call", date_deadline=date.today(), user_id=seller.id
        )
        call.with_user(seller).action_feedback(feedback="Talked, sending a quote")
        self.assertTrue(lead.messenger_first_response_at)
        emailed = self.lead(dt(2026, 11, 23, 7), user_id=seller.id)
        emailed.with_user(seller).message_post(
            body="Our offer", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertTrue(emailed.messenger_first_response_at)


@tagged("post_install", "-at_install")
class TestSlaTour(HttpCase):
    def test_pipeline_countdown_and_needs_an_answer_filter(self):
        always = office_hours(self.env, "UTC", days=range(7), hours=(0, 24))
        team = self.env["crm.team"].create(
            {"name": "Tour team", "messenger_resource_calendar_id": always.id}
        )
        telegram = self.env.ref("messenger_leads.messenger_channel_telegram")
        admin = self.env.ref("base.user_admin")
        common = {
            "team_id": team.id,
            "messenger_channel_id": telegram.id,
            "user_id": admin.id,
            "type": "opportunity",
        }
        self.env["crm.lead"].create({"name": "SLA tour lead", **common})
        with freeze_time("2026-01-01 00:00:00"):
            late = self.env["crm.lead"].create({"name": "SLA tour breached", **common})
        self.env["crm.lead"]._cron_messenger_sla()
        self.assertEqual(late.messenger_sla_state, "breached")
        self.start_tour("/odoo/crm", "messenger_leads_sla_tour", login="admin")
