import datetime

from freezegun import freeze_time
from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import BotCase, tg_update


class InboxCase(BotCase):
    """Two salespeople of the bot's team, one of another team, and their chats."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.seller = new_test_user(env, "inbox_seller", groups="sales_team.group_sale_salesman")
        cls.colleague = new_test_user(
            env, "inbox_colleague", groups="sales_team.group_sale_salesman"
        )
        cls.stranger = new_test_user(env, "inbox_stranger", groups="sales_team.group_sale_salesman")
        for user in cls.seller | cls.colleague:
            env["crm.team.member"].create({"crm_team_id": cls.team.id, "user_id": user.id})
        cls.other_team = env["crm.team"].create({"name": "Inbox: other team"})
        env["crm.team.member"].create(
            {"crm_team_id": cls.other_team.id, "user_id": cls.stranger.id}
        )

    def chat(self, chat_id, user, team=None, text="Hello"):
        """A customer's chat whose lead is `user`'s (nobody's when False)."""
        self.receive(tg_update(chat_id, text))
        conversation = self.conversation(chat_id)
        conversation.lead_id.write({"user_id": user and user.id, "team_id": (team or self.team).id})
        return conversation

    def reply(self, conversation, user, body="Hello, how can I help?"):
        conversation.discuss_channel_id.with_user(user).message_post(
            body=body, message_type="comment", subtype_xmlid="mail.mt_comment"
        )


@tagged("post_install", "-at_install")
class TestInbox(InboxCase):
    """Incoming chats, as a salesperson sees them."""

    def inbox(self, user, filter_name=None):
        """The chats `user` sees in the inbox with one of its search filters, in its order."""
        domain = []
        if filter_name:
            view = self.env.ref("messenger_leads_bot.messenger_conversation_view_search")
            (node,) = etree.fromstring(view.arch).xpath(f"//filter[@name='{filter_name}']")
            domain = safe_eval(node.get("domain"), {"uid": user.id})
        return self.env["messenger.conversation"].with_user(user).search(domain)

    def test_the_inbox_shows_the_last_customer_message_and_who_waits(self):
        conversation = self.chat(9501, self.seller, text="\n  Do you have it in blue?\nsize M")
        self.assertEqual(conversation.last_customer_text, "Do you have it in blue?")
        self.assertEqual(conversation.inbox_state, "waiting_us")
        waited_from = conversation.waiting_since
        self.assertTrue(waited_from)
        self.assertEqual(conversation.answer_by, conversation.lead_id.messenger_response_deadline)
        self.receive(tg_update(9501, "Hello?"))
        self.assertEqual(conversation.last_customer_text, "Hello?")
        self.assertEqual(conversation.waiting_since, waited_from, "waits since the first one")
        self.reply(conversation, self.seller)
        self.assertEqual(conversation.inbox_state, "waiting_customer")
        self.assertFalse(conversation.waiting_since)
        self.assertFalse(conversation.answer_by, "answered: no first-response deadline left")

    def test_a_later_message_shows_its_own_deadline(self):
        conversation = self.chat(9505, self.seller)
        lead = conversation.lead_id
        # the chat began an hour ago and was answered half an hour ago (the test's messages are
        # all dated when its transaction began: the receipt clock)
        now = conversation.last_message_at
        lead.messenger_first_message_at = now - datetime.timedelta(hours=1)
        with freeze_time(now - datetime.timedelta(minutes=30)):
            self.reply(conversation, self.seller)
        self.assertFalse(conversation.answer_by)
        self.receive(tg_update(9505, "And the price?"))
        response = lead.messenger_response_ids
        self.assertTrue(response.response_deadline)
        self.assertEqual(conversation.answer_by, response.response_deadline)
        self.assertEqual(conversation.sla_state, response.sla_state)
        self.receive(tg_update(9505, "Hello?"))
        self.assertEqual(lead.messenger_response_ids, response, "one deadline, the first's")
        self.reply(conversation, self.seller)
        self.assertFalse(conversation.answer_by, "answered: nothing runs")
        self.assertTrue(response.answered_at)
        self.assertEqual(response.user_id, self.seller)
        self.receive(tg_update(9505, "Thanks, bye"))
        self.assertTrue(conversation.answer_by)
        conversation.with_user(self.seller).action_close()
        self.assertFalse(conversation.answer_by, "closed: the customer waits for nothing")
        self.assertEqual(lead.messenger_response_ids[0].sla_state, "met")

    def test_filters_show_a_salesperson_the_right_chats(self):
        mine = self.chat(9511, self.seller)
        colleagues = self.chat(9512, self.colleague)
        unassigned = self.chat(9513, False)
        answered = self.chat(9514, self.seller)
        self.reply(answered, self.seller)
        other_team = self.chat(9515, False, team=self.other_team)
        self.assertEqual(self.inbox(self.seller, "my"), mine | answered)
        self.assertEqual(
            self.inbox(self.seller, "my_team"), mine | colleagues | unassigned | answered
        )
        self.assertEqual(self.inbox(self.seller, "unassigned"), unassigned)
        self.assertEqual(self.inbox(self.stranger, "unassigned"), other_team)
        self.assertEqual(self.inbox(self.seller, "waiting_us"), mine | colleagues | unassigned)
        self.assertEqual(self.inbox(self.seller, "waiting_customer"), answered)
        self.assertFalse(self.inbox(self.seller, "closed"))
        self.assertNotIn(other_team, self.inbox(self.seller), "record rules as before")

    def test_the_closest_deadline_comes_first_then_the_longest_wait(self):
        now = fields.Datetime.now()
        later, sooner, answered_early, answered_late = (
            self.chat(chat_id, self.seller) for chat_id in (9521, 9522, 9523, 9524)
        )
        later.lead_id.messenger_first_message_at = now - datetime.timedelta(minutes=1)
        sooner.lead_id.messenger_first_message_at = now - datetime.timedelta(minutes=3)
        self.assertLess(sooner.answer_by, later.answer_by)
        for conversation in answered_early | answered_late:
            self.reply(conversation, self.seller)
        # the customers wrote again: they wait, with no first-response deadline any more
        self.receive(tg_update(9524, "Still there?"))
        self.receive(tg_update(9523, "And the price?"))
        answered_early.sudo().waiting_since = now - datetime.timedelta(hours=2)
        answered_late.sudo().waiting_since = now - datetime.timedelta(minutes=5)
        self.assertEqual(
            self.inbox(self.seller, "waiting_us").ids,
            [sooner.id, later.id, answered_early.id, answered_late.id],
        )

    def test_the_inbox_fields_are_the_bridge_s_alone(self):
        conversation = self.chat(9531, self.seller)
        for values in (
            {"inbox_state": "closed"},
            {"last_customer_text": "Forged"},
            {"waiting_since": False},
        ):
            with self.assertRaises(AccessError):
                conversation.with_user(self.seller).write(values)

    def test_buttons_open_the_thread_and_the_lead(self):
        conversation = self.chat(9541, self.seller).with_user(self.seller)
        thread = conversation.action_open_discuss()
        active_id = f"discuss.channel_{conversation.discuss_channel_id.id}"
        self.assertEqual(thread["params"]["active_id"], active_id)
        # Discuss reads the context first, where a list or form button puts its record's id
        self.assertEqual(thread["context"]["active_id"], active_id)
        lead = conversation.action_open_lead()
        self.assertEqual((lead["res_model"], lead["res_id"]), ("crm.lead", conversation.lead_id.id))


@tagged("post_install", "-at_install")
class TestChatLifecycle(InboxCase):
    """Close, transfer and reopen a chat, and who may."""

    def test_the_salesperson_closes_with_a_last_message_to_the_customer(self):
        conversation = self.chat(9601, self.seller)
        conversation.with_user(self.seller).action_close("Thank you, write again any time!")
        self.assertEqual(conversation.inbox_state, "closed")
        self.deliver_all()
        self.assertEqual(self.api.sent_to(9601)[-1]["text"], "Thank you, write again any time!")
        self.assertIn("Chat closed by", conversation.discuss_channel_id.message_ids[0].body)

    def test_closing_silently_sends_nothing(self):
        conversation = self.chat(9602, self.seller)
        self.deliver_all()
        sent = len(self.api.sent_to(9602))
        self.env["messenger.conversation.close"].with_user(self.seller).create(
            {"conversation_ids": conversation.ids}
        ).action_close()
        self.deliver_all()
        self.assertEqual(conversation.inbox_state, "closed")
        self.assertEqual(len(self.api.sent_to(9602)), sent)

    def test_only_the_salesperson_the_leader_or_a_manager_may_close_or_transfer(self):
        conversation = self.chat(9611, self.seller)
        for user in self.colleague, self.stranger:  # a teammate who sees it, another team
            with self.assertRaises(AccessError):
                conversation.with_user(user).action_close()
            with self.assertRaises(AccessError):
                conversation.with_user(user).action_transfer(user.id, "Mine now")
        self.assertEqual(conversation.inbox_state, "waiting_us")
        self.assertEqual(conversation.user_id, self.seller)
        team_leader = new_test_user(
            self.env, "inbox_team_leader", groups="sales_team.group_sale_salesman"
        )
        self.team.user_id = team_leader
        conversation.with_user(team_leader).action_transfer(self.colleague.id, "Knows the product")
        self.assertEqual(conversation.user_id, self.colleague)
        conversation.with_user(self.leader).action_close()  # a sales manager
        self.assertEqual(conversation.inbox_state, "closed")

    def test_transfer_reassigns_with_the_reason_and_a_note_for_staff_only(self):
        conversation = self.chat(9621, self.seller)
        self.deliver_all()
        sent = len(self.api.sent_to(9621))
        wizard = (
            self.env["messenger.conversation.transfer"]
            .with_user(self.seller)
            .create(
                {
                    "conversation_id": conversation.id,
                    "user_id": self.colleague.id,
                    "note": "She wants delivery to Kazan: your region",
                }
            )
        )
        wizard.action_transfer()
        lead = conversation.lead_id
        self.assertEqual(lead.user_id, self.colleague)
        self.assertIn(
            self.colleague.partner_id, conversation.discuss_channel_id.channel_member_ids.partner_id
        )
        log = lead.messenger_assignment_log_ids[0]
        self.assertEqual((log.user_id, log.strategy), (self.colleague, "transfer"))
        self.assertIn("your region", lead.messenger_assignment_reason)
        note = conversation.discuss_channel_id.message_ids[0]
        self.assertIn("your region", note.body)
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))
        self.assertTrue(note.is_internal or note.subtype_id.internal, "for staff only")
        self.deliver_all()
        self.assertEqual(len(self.api.sent_to(9621)), sent, "the customer never gets the note")

    def test_transfer_goes_to_a_salesperson_with_a_reason(self):
        conversation = self.chat(9622, self.seller).with_user(self.seller)
        portal = new_test_user(self.env, "inbox_portal", groups="base.group_portal")
        with self.assertRaises(UserError):
            conversation.action_transfer(portal.id, "Over to you")
        with self.assertRaises(UserError):
            conversation.action_transfer(self.colleague.id, "  ")
        self.assertEqual(conversation.user_id, self.seller)

    def test_a_closed_chat_opens_again_when_the_customer_writes(self):
        conversation = self.chat(9631, self.seller)
        conversation.with_user(self.seller).action_close()
        self.receive(tg_update(9631, "One more question"))
        self.assertEqual(conversation.inbox_state, "waiting_us")
        self.assertTrue(conversation.waiting_since)
        self.assertEqual(conversation.last_customer_text, "One more question")

    def test_idle_chats_close_after_their_team_s_hours(self):
        self.team.messenger_auto_close_hours = 4
        idle, answered_lately, fresh, other_team = (
            self.chat(9641, self.seller),
            self.chat(9642, self.seller),
            self.chat(9643, self.seller),
            self.chat(9644, False, team=self.other_team),
        )
        five_hours_ago = fields.Datetime.now() - datetime.timedelta(hours=5)
        (idle | answered_lately | other_team).write({"last_message_at": five_hours_ago})
        self.reply(answered_lately, self.seller)
        self.env["messenger.conversation"]._cron_auto_close()
        self.assertEqual(idle.inbox_state, "closed")
        self.assertEqual(answered_lately.inbox_state, "waiting_customer")
        self.assertEqual(fresh.inbox_state, "waiting_us")
        self.assertEqual(other_team.inbox_state, "waiting_us", "its team closes nothing")


@tagged("post_install", "-at_install")
class TestMessageDates(InboxCase):
    """What a customer's message says about its own date is not always true."""

    def test_a_1970_date_is_replaced_by_the_receipt_time(self):
        stored = self.receive(tg_update(9701, "Hello from the past", date=0))
        conversation = self.conversation(9701)
        self.assertEqual(conversation.last_message_at, stored.create_date)
        self.assertEqual(conversation.lead_id.messenger_first_message_at, stored.create_date)
        self.assertGreater(conversation.answer_by, stored.create_date)

    def test_a_date_after_the_receipt_is_replaced_by_the_receipt_time(self):
        tomorrow = int((fields.Datetime.now() + datetime.timedelta(days=1)).timestamp())
        stored = self.receive(tg_update(9702, "Hello from tomorrow", date=tomorrow))
        conversation = self.conversation(9702)
        self.assertEqual(conversation.last_message_at, stored.create_date)
        self.assertEqual(conversation.waiting_since, stored.create_date)

    def test_leads_from_messages_are_created_by_the_intake_cron_s_user_never_the_public(self):
        self.env["messenger.update"]._receive(self.account, tg_update(9711, "Hi"), "9711-1")
        cron = self.env.ref("messenger_leads_bot.ir_cron_messenger_intake")
        cron.method_direct_trigger()
        lead = self.conversation(9711).lead_id
        public = self.env.ref("base.public_user")
        self.assertNotEqual(lead.create_uid, public)
        authors = lead.message_ids.author_id
        self.assertTrue(authors, "the lead's chatter says who made it")
        self.assertNotIn(public.partner_id, authors)
        self.assertEqual(authors, cron.user_id.partner_id)
        self.assertEqual(authors, self.env.ref("base.partner_root"), "OdooBot")
