import datetime

from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError
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
        cls.stranger = new_test_user(
            env, "inbox_stranger", groups="sales_team.group_sale_salesman"
        )
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
        conversation.lead_id.write(
            {"user_id": user and user.id, "team_id": (team or self.team).id}
        )
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
        self.assertEqual(conversation.answer_by, conversation.lead_id.response_deadline)
        self.receive(tg_update(9501, "Hello?"))
        self.assertEqual(conversation.last_customer_text, "Hello?")
        self.assertEqual(conversation.waiting_since, waited_from, "waits since the first one")
        self.reply(conversation, self.seller)
        self.assertEqual(conversation.inbox_state, "waiting_customer")
        self.assertFalse(conversation.waiting_since)
        self.assertFalse(conversation.answer_by, "answered: no first-response deadline left")

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
        self.assertEqual(
            self.inbox(self.seller, "waiting_us"), mine | colleagues | unassigned
        )
        self.assertEqual(self.inbox(self.seller, "waiting_customer"), answered)
        self.assertFalse(self.inbox(self.seller, "closed"))
        self.assertNotIn(other_team, self.inbox(self.seller), "record rules as before")

    def test_the_closest_deadline_comes_first_then_the_longest_wait(self):
        now = fields.Datetime.now()
        later, sooner, answered_early, answered_late = (
            self.chat(chat_id, self.seller) for chat_id in (9521, 9522, 9523, 9524)
        )
        later.lead_id.first_message_at = now - datetime.timedelta(minutes=1)
        sooner.lead_id.first_message_at = now - datetime.timedelta(minutes=3)
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
        self.assertEqual(
            thread["params"]["active_id"], f"discuss.channel_{conversation.discuss_channel_id.id}"
        )
        lead = conversation.action_open_lead()
        self.assertEqual((lead["res_model"], lead["res_id"]), ("crm.lead", conversation.lead_id.id))
