import itertools
from datetime import datetime as dt
from datetime import timedelta

from freezegun import freeze_time

from odoo.tests import Form, TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestCallback(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.write({"messenger_callback": True, "messenger_callback_attempts": 7})
        salesman = cls.env.ref("sales_team.group_sale_salesman")
        cls.seller = cls.env["res.users"].create(
            {
                "name": "Caller",
                "login": "caller",
                "tz": "Europe/Moscow",
                "groups_id": [(6, 0, salesman.ids)],
            }
        )
        cls.leader = cls.env["res.users"].create({"name": "Call boss", "login": "call-boss"})
        cls.team = cls.env["crm.team"].create({"name": "Call team", "user_id": cls.leader.id})
        cls.partner = cls.env["res.partner"].create({"name": "Olga", "tz": "Europe/Moscow"})

    def lead(self, phone="+7 916 123-45-67", **values):
        return self.env["crm.lead"].create(
            {
                "name": "Call me",
                "phone": phone,
                "partner_id": self.partner.id,
                "user_id": self.seller.id,
                "team_id": self.team.id,
                **values,
            }
        )

    def planned(self, lead):
        return lead.messenger_callback_attempt_ids.filtered(lambda a: a.state == "planned")

    @freeze_time("2026-11-24 08:00:00")  # 11:00 in Moscow
    def test_first_call_is_planned_at_once_as_a_call_activity(self):
        lead = self.lead()
        self.assertEqual(
            (
                lead.phone_sanitized,
                lead.messenger_phone_kind,
                lead.messenger_customer_tz,
                lead.messenger_callback_state,
            ),
            ("+79161234567", "mobile", "Europe/Moscow", "planned"),
        )
        (attempt,) = self.planned(lead)
        self.assertEqual(attempt.planned_at, dt(2026, 11, 24, 8))
        self.assertEqual(
            attempt.activity_id.activity_type_id, self.env.ref("mail.mail_activity_data_call")
        )
        self.assertEqual(attempt.activity_id.user_id, self.seller)
        self.assertIn("Call-back 1 of 7 at 11:00", attempt.activity_id.summary)
        self.assertEqual(lead.messenger_callback_next_at, attempt.planned_at)

    def test_seven_unanswered_calls_make_the_lead_unreachable(self):
        with freeze_time("2026-11-24 08:00:00"):
            lead = self.lead()
        slots = []
        for _attempt in range(7):
            (attempt,) = self.planned(lead)
            slots.append(attempt.planned_at)
            with freeze_time(attempt.planned_at + timedelta(minutes=3)):
                lead.action_callback_no_answer()
        self.assertEqual(lead.messenger_callback_state, "exhausted")
        self.assertFalse(lead.active)
        self.assertEqual(
            lead.lost_reason_id, self.env.ref("messenger_leads.crm_lost_reason_unreachable")
        )
        moscow_days = [(s + timedelta(hours=3)).date() for s in slots]
        self.assertEqual([moscow_days.count(d) for d in sorted(set(moscow_days))], [3, 3, 1])
        self.assertTrue(all(b - a >= timedelta(hours=2) for a, b in itertools.pairwise(slots)))
        outcomes = lead.message_ids.filtered(lambda m: "No answer" in (m.body or ""))
        self.assertEqual(len(outcomes), 7, "each outcome is logged with its call activity")

    def test_exhausted_plan_can_move_to_a_stage(self):
        stage = self.env["crm.stage"].create({"name": "Unreachable"})
        self.company.write(
            {
                "messenger_callback_exhausted": "stage",
                "messenger_callback_exhausted_stage_id": stage.id,
                "messenger_callback_attempts": 1,
            }
        )
        with freeze_time("2026-11-24 08:00:00"):
            lead = self.lead()
            lead.action_callback_busy()
        self.assertEqual((lead.stage_id, lead.active), (stage, True))

    @freeze_time("2026-11-24 08:00:00")
    def test_reached_and_wrong_number_stop_the_plan(self):
        lead = self.lead()
        lead.action_callback_reached()
        self.assertEqual(lead.messenger_callback_state, "reached")
        self.assertFalse(self.planned(lead))
        other = self.lead(phone="+7 926 000-00-01")
        other.action_callback_wrong_number()
        self.assertEqual(other.messenger_callback_state, "wrong_number")
        self.assertFalse(self.planned(other))
        self.assertIn("Wrong number", other.message_ids[0].body)

    @freeze_time("2026-11-24 08:00:00")
    def test_call_me_at_plans_exactly_then(self):
        lead = self.lead()
        with Form(
            self.env["messenger.callback.later.wizard"].with_context(default_lead_id=lead.id)
        ) as wizard:
            wizard.call_at = dt(2026, 11, 24, 17, 30)  # 20:30 in Moscow: the customer asked
        wizard.record.action_confirm()
        (attempt,) = self.planned(lead)
        self.assertEqual((attempt.sequence, attempt.planned_at), (2, dt(2026, 11, 24, 17, 30)))

    @freeze_time("2026-11-24 08:00:00")
    def test_won_or_lost_cancels_planned_calls(self):
        lead = self.lead()
        activity = self.planned(lead).activity_id
        lead.action_set_won()
        self.assertEqual(lead.messenger_callback_state, "stopped")
        self.assertFalse(activity.exists())
        lost = self.lead(phone="+7 926 000-00-02")
        lost.action_set_lost()
        self.assertFalse(self.planned(lost))

    def test_invalid_phone_is_kept_and_plans_nothing(self):
        lead = self.lead(phone="12-34")
        self.assertEqual(
            (lead.phone, lead.messenger_phone_valid, lead.messenger_callback_state),
            ("12-34", False, False),
        )
        lead.phone = "+7 916 765-43-21"
        self.assertEqual(
            (lead.phone, lead.messenger_callback_state), ("+7 916 765-43-21", "planned")
        )

    def test_invalid_phone_gets_a_clear_warning_in_the_form(self):
        form = Form(self.env["crm.lead"])
        form.name = "Typo"
        with self.assertLogs("odoo.tests.form", "WARNING") as logged:
            form.phone = "+7 916"
        self.assertIn("is not a valid phone number", logged.output[0])

    def test_partner_phones_are_kept_as_typed_and_sanitized_apart(self):
        partner = self.env["res.partner"].create(
            {"name": "P", "phone": "+49 30 123456789", "mobile": "bad"}
        )
        self.assertEqual((partner.phone, partner.mobile), ("+49 30 123456789", "bad"))
        self.assertEqual(partner.phone_sanitized, "+4930123456789")
        partner.write({"phone": "8 (916) 123-45-67", "country_id": self.env.ref("base.ru").id})
        self.assertEqual(partner.phone, "8 (916) 123-45-67", "what a user types stays")
        self.assertEqual(partner.phone_sanitized, "+79161234567")

    def test_company_without_a_country_reads_international_numbers(self):
        self.company.country_id = False
        partner = self.env["res.partner"].create(
            {"name": "Abroad", "phone": "+7 917 123-45-67", "mobile": "8 917 123-45-67"}
        )
        self.assertEqual(
            partner.phone_sanitized,
            "+79171234567",
            "a national number means nothing without a country: only the international one",
        )
        lead = self.lead(phone="+7 917 765-43-21")
        self.assertEqual(
            (lead.phone_sanitized, lead.messenger_phone_valid, lead.messenger_phone_kind),
            ("+79177654321", True, "mobile"),
        )
        national = self.lead(phone="8 917 765-43-21")
        self.assertEqual(
            (national.phone, national.messenger_phone_valid), ("8 917 765-43-21", False)
        )
        form = Form(self.env["res.partner"])
        form.name = "Typed at home"
        with self.assertLogs("odoo.tests.form", "WARNING") as logged:
            form.phone = "8 917 765-43-21"
        self.assertIn("is not a valid phone number", logged.output[0])

    def test_overdue_calls_follow_each_lead_company(self):
        patient = self.env["res.company"].create(
            {"name": "Patient company", "messenger_callback_overdue": 240}
        )
        self.company.messenger_callback_overdue = 30
        self.seller.company_ids |= patient
        with freeze_time("2026-11-24 08:00:00"):
            ours = self.lead()
            theirs = self.lead(company_id=patient.id, team_id=False)
        self.assertEqual(theirs.company_id, patient)
        with freeze_time("2026-11-24 09:00:00"):  # both calls an hour late
            # the cron runs in whichever company; each lead's own settings count
            self.env["crm.lead"].with_company(patient)._cron_messenger_callbacks()
        self.assertTrue(self.planned(ours).escalated_at, "overdue after 30 min at ours")
        self.assertFalse(self.planned(theirs).escalated_at, "not before 240 min at theirs")
        with freeze_time("2026-11-24 12:01:00"):
            self.env["crm.lead"]._cron_messenger_callbacks()
        self.assertTrue(self.planned(theirs).escalated_at)

    def test_reminder_then_escalation_once(self):
        self.company.messenger_callback_overdue = 30
        with freeze_time("2026-11-24 08:00:00"):
            lead = self.lead()
        (attempt,) = self.planned(lead)
        with freeze_time("2026-11-24 08:05:00"):
            self.env["crm.lead"]._cron_messenger_callbacks()
        self.assertTrue(attempt.reminded_at)
        self.assertFalse(attempt.escalated_at)
        with freeze_time("2026-11-24 08:40:00"):
            self.env["crm.lead"]._cron_messenger_callbacks()
            self.env["crm.lead"]._cron_messenger_callbacks()
        leader_tasks = lead.activity_ids.filtered(lambda a: a.user_id == self.leader)
        self.assertEqual(len(leader_tasks), 1, "escalated once")
        self.assertIn("overdue", leader_tasks.summary)
