from datetime import datetime as dt
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, TransactionCase, tagged

from ..models import crm_team
from ..models.crm_team import QUEUE_PAGE
from .common import office_hours


@tagged("post_install", "-at_install")
class TestAssignment(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        always = office_hours(cls.env, "UTC", days=range(7), hours=(0, 24))
        salesman = cls.env.ref("sales_team.group_sale_salesman")

        def user(login):
            return cls.env["res.users"].create(
                {"name": login.title(), "login": login, "groups_id": [Command.set([salesman.id])]}
            )

        cls.ann, cls.bob, cls.cid, cls.leader = (user(x) for x in ("ann", "bob", "cid", "boss"))
        cls.team = cls.env["crm.team"].create(
            {
                "name": "Engine team",
                "user_id": cls.leader.id,
                "messenger_resource_calendar_id": always.id,
                "messenger_assignment": "round_robin",
                "messenger_require_presence": False,  # presence has its own tests
            }
        )
        cls.members = cls.env["crm.team.member"].create(
            [
                {"crm_team_id": cls.team.id, "user_id": u.id, "messenger_capacity": 2}
                for u in (cls.ann, cls.bob, cls.cid)
            ]
        )

    def leads(self, count, **values):
        return self.env["crm.lead"].create(
            [
                {"name": f"Lead {n}", "team_id": self.team.id, "user_id": False, **values}
                for n in range(count)
            ]
        )

    def test_even_round_robin(self):
        leads = self.leads(4)
        self.assertEqual(leads.user_id.ids, (self.ann | self.bob | self.cid).ids)
        self.assertEqual(leads[3].user_id, self.ann, "the one who waited longest")
        self.assertEqual(
            leads[0].messenger_assignment_reason, "Even: waited longest for a new lead"
        )
        log = self.env["messenger.assignment.log"].search([("lead_id", "in", leads.ids)])
        self.assertEqual(len(log), 4)

    def test_assigned_leads_stay_consistent_with_crm(self):
        """A backlog skips recomputing what the team and company drive; crm's rules still hold."""
        other = self.env["res.company"].create({"name": "Other company"})
        ours, foreign = self.leads(2, type="opportunity")
        (ours | foreign).user_id = False  # a backlog: unassigned again
        self.assertFalse(ours.date_open)
        foreign.company_id = other
        probability = ours.probability
        self.team.action_messenger_assign_backlog()
        for lead in ours | foreign:
            self.assertTrue(lead.user_id)
            self.assertEqual(lead.team_id, self.team)
            self.assertTrue(lead.date_open, "crm dates the assignment")
            self.assertIn(lead.user_id.partner_id, lead.message_partner_ids)
        self.assertEqual(ours.company_id, self.env.company)
        self.assertEqual(foreign.company_id, self.env.company, "crm: the salesperson's company")
        self.assertEqual(ours.probability, probability)
        log = ours.messenger_assignment_log_ids[:1]  # the latest
        self.assertEqual(
            (log.user_id, log.company_id, log.team_id, log.strategy),
            (ours.user_id, self.env.company, self.team, "round_robin"),
        )

    def test_no_context_key_skips_the_company_check(self):
        """Anyone sets the context over RPC: the backlog's shortcut must not be theirs."""
        other = self.env["res.company"].create({"name": "Other company"})
        foreign = self.env["res.partner"].create({"name": "Foreign", "company_id": other.id})
        (lead,) = self.leads(1)
        as_seller = lead.with_user(lead.user_id).with_context(
            messenger_assignment_company_checked=True
        )
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            as_seller.partner_id = foreign

    def test_least_loaded(self):
        self.team.messenger_assignment = "least_loaded"
        self.leads(2, user_id=self.ann.id)
        self.leads(1, user_id=self.cid.id)
        (lead,) = self.leads(1)
        self.assertEqual(lead.user_id, self.bob)
        self.assertEqual(lead.messenger_assignment_reason, "Least loaded: 0 open vs 1")

    def test_capacity_and_fallback_to_the_leader(self):
        leads = self.leads(7)
        self.assertEqual(
            [
                len(leads.filtered(lambda lead, u=u: lead.user_id == u))
                for u in (self.ann, self.bob, self.cid, self.leader)
            ],
            [2, 2, 2, 1],
        )
        self.assertIn("team leader", leads[6].messenger_assignment_reason)

    def test_why_this_salesperson_reads_in_the_reader_s_language(self):
        self.env["res.lang"]._activate_lang("ru_RU")
        self.env["ir.module.module"]._load_module_terms(["messenger_leads"], ["ru_RU"])
        leads = self.leads(7)
        self.ann.lang = "ru_RU"
        anns = leads.filtered(lambda lead: lead.user_id == self.ann)
        self.assertEqual(
            anns[0].with_user(self.ann).with_context(lang="ru_RU").messenger_assignment_reason,
            "Равномерно: дольше всех ждал нового лида",
        )
        self.assertEqual(
            leads[6].with_context(lang="ru_RU").messenger_assignment_reason,
            "Нет свободных (на работе и не перегруженных): руководителю команды",
        )
        self.assertEqual(
            leads[6].with_context(lang="en_US").messenger_assignment_reason,
            "Nobody available (at work, with room): to the team leader",
        )
        log = leads[0].messenger_assignment_log_ids
        self.assertEqual(log.reason, "Even: waited longest for a new lead", "kept in English")

    def test_loads_count_every_lead_whoever_creates_one(self):
        self.leads(6)  # everyone at capacity
        clerk = self.env["res.users"].create(
            {
                "name": "Clerk",
                "login": "clerk",
                "groups_id": [Command.set([self.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        # a salesperson sees only their own leads: the engine must count everyone's all the same
        lead = (
            self.env["crm.lead"]
            .with_user(clerk)
            .create({"name": "Walk-in", "team_id": self.team.id, "user_id": False})
        )
        self.assertEqual(lead.user_id, self.leader, "nobody goes over capacity")

    def test_queue_when_nobody_is_available(self):
        self.team.messenger_nobody_available = "queue"
        self.members.messenger_opt_out = True
        (lead,) = self.leads(1)
        self.assertFalse(lead.user_id)
        self.assertEqual(lead.activity_ids.user_id, self.leader)

    def test_the_queue_goes_out_the_moment_someone_has_room(self):
        """Everyone full: new leads wait in arrival order; a lead closed or handed on gives its
        salesperson's room to the oldest waiting lead at once, not at the next cron run."""
        self.team.messenger_nobody_available = "queue"
        self.members.messenger_capacity = 1
        first_three = self.leads(3)
        self.assertEqual(len(first_three.user_id), 3, "one each")
        waiting = self.leads(2)
        self.assertFalse(waiting.user_id, "nobody has room")
        self.env["crm.lead"]._cron_messenger_assign()  # the backlog cron finds no room either
        for lead in waiting:
            self.assertEqual(len(lead.activity_ids), 1, "the leader hears of a lead once")
        held_by_bob = first_three.filtered(lambda lead: lead.user_id == self.bob)
        held_by_bob.action_set_won()
        self.assertEqual(waiting[0].user_id, self.bob, "the oldest waiting lead, at once")
        self.assertFalse(waiting[1].user_id)
        held_by_ann = first_three.filtered(lambda lead: lead.user_id == self.ann)
        held_by_ann.action_set_lost()
        self.assertEqual(waiting[1].user_id, self.ann)

    def test_a_freed_place_leaves_the_rest_of_a_long_queue_as_it_is(self):
        """A place freed among many waiting leads goes to the oldest; the others are not logged
        again (each was logged when it came) and the queue is read a page at a time."""
        self.team.messenger_nobody_available = "queue"
        self.members.messenger_capacity = 1
        held = self.leads(3)
        waiting = self.leads(QUEUE_PAGE + 5)
        logs = self.env["messenger.assignment.log"].search_count([("lead_id", "in", waiting.ids)])
        held.filtered(lambda lead: lead.user_id == self.cid).action_set_won()
        self.assertEqual(waiting[0].user_id, self.cid)
        self.assertFalse(waiting[1:].user_id)
        self.assertEqual(
            self.env["messenger.assignment.log"].search_count([("lead_id", "in", waiting.ids)]),
            logs + 1,
            "only the lead handed out is logged",
        )

    def test_room_for_more_than_a_page_hands_out_page_after_page(self):
        self.team.messenger_nobody_available = "queue"
        self.members.messenger_capacity = 1
        self.leads(3)
        waiting = self.leads(5)
        self.members.messenger_capacity = 3  # two more places each: six
        with patch.object(crm_team, "QUEUE_PAGE", 2):
            self.team._messenger_hand_out_queue()
        self.assertEqual(len(waiting.filtered("user_id")), 5, "every waiting lead, in pages of 2")

    def test_paused_and_off_duty_members_get_nothing(self):
        self.members[0].messenger_opt_out = True
        self.bob.resource_calendar_id = office_hours(self.env, "UTC", days=[], hours=(0, 0))
        self.assertEqual(self.leads(2).user_id, self.cid)

    def test_returning_customer_goes_back_to_their_salesperson(self):
        partner = self.env["res.partner"].create({"name": "Returning"})
        self.leads(1, partner_id=partner.id, user_id=self.cid.id)
        (lead,) = self.leads(1, partner_id=partner.id)
        self.assertEqual(lead.user_id, self.cid)
        self.assertIn("Returning customer", lead.messenger_assignment_reason)

    def test_teams_on_odoo_assignment_are_left_alone(self):
        native = self.env["crm.team"].create({"name": "Native team"})
        lead = self.env["crm.lead"].create({"name": "n", "team_id": native.id, "user_id": False})
        self.assertFalse(lead.user_id)
        self.assertFalse(native.assignment_optout)

    def test_team_settings_form(self):
        with Form(self.env["crm.team"]) as team:
            team.name = "Form team"
            team.messenger_assignment = "threshold"
            self.assertTrue(team.assignment_optout, "Odoo's periodic assignment skips it")
            team.messenger_min_conversion = 15
            team.messenger_conversion_days = 30
            team.messenger_require_presence = False
            team.messenger_nobody_available = "queue"
            team.messenger_reassign_after_minutes = 10
        self.assertEqual(
            (
                team.record.messenger_assignment,
                team.record.messenger_min_conversion,
                team.record.messenger_conversion_days,
            ),
            ("threshold", 15, 30),
        )

    def history(self, user, received, won):
        """`received` past leads of the team for `user`, `won` of them won."""
        won_stage = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        leads = self.leads(received, user_id=user.id)
        leads[:won].write({"stage_id": won_stage.id})
        leads.action_set_lost()  # history only: it must not weigh on the load
        leads[:won].active = True
        leads[:won].write({"stage_id": won_stage.id})

    def test_conversion_weighted(self):
        self.team.messenger_assignment = "conversion"
        self.members.messenger_capacity = 50
        self.history(self.ann, 10, 6)
        self.history(self.bob, 10, 2)
        self.members[2].messenger_opt_out = True
        self.assertAlmostEqual(self.members[0].messenger_conversion, 0.6)
        leads = self.leads(8)
        self.assertEqual(len(leads.filtered(lambda lead: lead.user_id == self.ann)), 6)
        self.assertEqual(len(leads.filtered(lambda lead: lead.user_id == self.bob)), 2)
        self.assertEqual(
            leads[0].messenger_assignment_reason, "Conversion-weighted: 60% won, 0 open"
        )

    def test_minimum_conversion_threshold(self):
        self.team.write({"messenger_assignment": "threshold", "messenger_min_conversion": 25})
        self.history(self.ann, 10, 1)
        self.history(self.bob, 10, 3)
        leads = self.leads(3)
        self.assertNotIn(self.ann, leads.user_id, "below the threshold: no new leads")
        self.assertEqual(leads.user_id, self.bob | self.cid, "cid has no history yet")

    def test_manager_rating(self):
        self.team.messenger_assignment = "rating"
        self.members[1].messenger_rating = "5"
        self.members[0].messenger_rating = "3"
        leads = self.leads(3)
        self.assertEqual(leads.mapped("user_id"), self.bob | self.ann)
        self.assertEqual(leads[:2].user_id, self.bob, "best rated until full")
        self.assertEqual(leads[0].messenger_assignment_reason, "Manager rating 5 of 5, 0 open")

    def test_hot_leads_to_the_best_converters(self):
        self.team.messenger_assignment = "score_tiers"
        self.history(self.ann, 10, 5)
        self.history(self.bob, 10, 1)
        self.history(self.cid, 10, 0)
        hot_campaign = self.env["utm.campaign"].create(
            {"name": "Quote", "messenger_readiness_points": 5}
        )
        self.env.company.messenger_hot_score = 5
        (hot,) = self.leads(1, campaign_id=hot_campaign.id)
        self.assertEqual(hot.messenger_qualification_grade, "hot")
        self.assertEqual(hot.user_id, self.ann)
        self.assertIn("Hot lead to a top converter (50% won)", hot.messenger_assignment_reason)
        self.env.company.messenger_hot_score = 50
        cold = self.leads(2)
        self.assertEqual(cold.user_id, self.bob | self.cid)

    def test_live_chats_need_presence_and_chat_room(self):
        self.team.messenger_require_presence = True
        telegram = self.env.ref("messenger_leads.messenger_channel_telegram")
        self.env["bus.presence"].create({"user_id": self.bob.id, "status": "online"})
        (chat,) = self.leads(1, messenger_channel_id=telegram.id)
        self.assertEqual(chat.user_id, self.bob, "only bob is online")
        (form,) = self.leads(
            1, messenger_channel_id=self.env.ref("messenger_leads.messenger_channel_web_form").id
        )
        self.assertEqual(form.user_id, self.ann, "forms do not need presence")
        self.members[1].messenger_chat_capacity = 0
        (chat,) = self.leads(1, messenger_channel_id=telegram.id)
        self.assertEqual(chat.user_id, self.leader, "bob has no room for another chat")

    def test_a_salesperson_coming_online_takes_the_waiting_chats_at_once(self):
        self.team.write({"messenger_require_presence": True, "messenger_nobody_available": "queue"})
        telegram = self.env.ref("messenger_leads.messenger_channel_telegram")
        chats = self.leads(2, messenger_channel_id=telegram.id)
        self.assertFalse(chats.user_id, "nobody online: they wait")
        self.env["bus.presence"].create({"user_id": self.cid.id, "status": "online"})
        self.assertEqual(chats.user_id, self.cid, "both, the moment cid is online")

    def test_vacation_of_a_member(self):
        resource = self.env["resource.resource"].create(
            {
                "name": "Ann",
                "user_id": self.ann.id,
                "calendar_id": self.team.messenger_resource_calendar_id.id,
            }
        )
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Vacation",
                "resource_id": resource.id,
                "calendar_id": self.team.messenger_resource_calendar_id.id,
                "date_from": dt(2020, 1, 1),
                "date_to": dt(2099, 1, 1),
            }
        )
        leads = self.leads(2)
        self.assertNotIn(self.ann, leads.user_id)

    def test_a_lead_goes_to_who_can_answer_before_its_deadline(self):
        """Ann's day ends at 10:00 UTC, Bob's does not: a chat at 09:58, due at 10:03, goes to
        Bob, who would otherwise wait his turn."""
        self.members.filtered(lambda member: member.user_id == self.cid).messenger_opt_out = True
        self.env["resource.resource"].create(
            {
                "name": "Ann",
                "user_id": self.ann.id,
                "calendar_id": office_hours(self.env, "UTC", days=range(7), hours=(0, 10)).id,
            }
        )
        telegram = self.env.ref("messenger_leads.messenger_channel_telegram")
        with freeze_time("2026-11-23 09:58:00"):
            (lead,) = self.leads(1, messenger_channel_id=telegram.id)
        self.assertEqual(lead.messenger_response_deadline, dt(2026, 11, 23, 10, 3))
        self.assertEqual(lead.user_id, self.bob)
        self.assertEqual(
            lead.messenger_assignment_reason,
            "Even: waited longest for a new lead; can answer before the deadline (others leave "
            "work before it or have leads at risk)",
        )
        with freeze_time("2026-11-23 09:58:00"):
            self.team.messenger_prefer_in_time = False
            (lead,) = self.leads(1, messenger_channel_id=telegram.id)
        self.assertEqual(lead.user_id, self.ann, "not asked: her turn")

    def test_a_salesperson_buried_in_leads_at_risk_is_passed_over(self):
        self.members.filtered(lambda member: member.user_id == self.cid).messenger_opt_out = True
        self.team.messenger_max_at_risk = 1
        telegram = self.env.ref("messenger_leads.messenger_channel_telegram")
        with freeze_time("2026-11-23 07:00:00"):
            self.leads(1, messenger_channel_id=telegram.id, user_id=self.ann.id)
        with freeze_time("2026-11-23 07:04:30"):
            self.env["crm.lead"]._cron_messenger_sla()
            (lead,) = self.leads(1, messenger_channel_id=telegram.id)
        self.assertEqual(lead.user_id, self.bob, "Ann has a lead at risk")
        self.assertIn("can answer before the deadline", lead.messenger_assignment_reason)

    def test_breached_lead_is_reassigned_once_after_n_minutes(self):
        self.team.messenger_reassign_after_minutes = 10
        telegram = self.env.ref("messenger_leads.messenger_channel_telegram")
        with freeze_time("2026-11-23 07:00:00"):
            (lead,) = self.leads(
                1, messenger_channel_id=telegram.id, messenger_first_message_at=dt(2026, 11, 23, 7)
            )
        first = lead.user_id
        with freeze_time("2026-11-23 07:06:00"):
            self.env["crm.lead"]._cron_messenger_sla()
        self.assertEqual(lead.user_id, first, "escalated, not yet reassigned")
        with freeze_time("2026-11-23 07:16:30"):
            self.env["crm.lead"]._cron_messenger_sla()
        self.assertNotEqual(lead.user_id, first)
        second = lead.user_id
        with freeze_time("2026-11-23 07:40:00"):
            self.env["crm.lead"]._cron_messenger_sla()
        self.assertEqual(lead.user_id, second, "reassigned once, never again")

    def test_a_missed_next_response_is_escalated_and_reassigned_once(self):
        self.team.messenger_reassign_after_minutes = 10
        telegram = self.env.ref("messenger_leads.messenger_channel_telegram")
        with freeze_time("2026-11-23 07:00:00"):
            (lead,) = self.leads(
                1, messenger_channel_id=telegram.id, messenger_first_message_at=dt(2026, 11, 23, 7)
            )
            lead._messenger_register_first_response(dt(2026, 11, 23, 7, 1))
        with freeze_time("2026-11-23 07:30:00"):
            lead._messenger_register_customer_message(dt(2026, 11, 23, 7, 30))
            self.env.flush_all()
        first = lead.user_id
        with freeze_time("2026-11-23 07:36:00"):
            self.env["crm.lead"]._cron_messenger_sla()
        self.assertEqual(lead.messenger_response_ids.sla_state, "breached")
        self.assertEqual(lead.activity_ids.user_id, self.leader, "escalated to the leader")
        self.assertEqual(lead.user_id, first, "escalated, not yet reassigned")
        with freeze_time("2026-11-23 07:46:30"):
            self.env["crm.lead"]._cron_messenger_sla()
        second = lead.user_id
        self.assertNotEqual(second, first)
        self.assertEqual(lead.messenger_response_ids.user_id, first, "the breach stays theirs")
        with freeze_time("2026-11-23 08:10:00"):
            self.env["crm.lead"]._cron_messenger_sla()
        self.assertEqual(lead.user_id, second, "reassigned once, never again")
