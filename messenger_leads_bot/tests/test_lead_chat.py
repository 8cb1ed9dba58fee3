from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import tg_update
from .test_inbox import InboxCase

# what the customer wrote, in paragraphs, and the salesperson's answer (as the tour types it)
QUESTION = "\n\n".join(
    [
        "Hello! I saw your blue jacket in the catalogue and I would like to know more about it "
        "before I order, because last time the size did not fit and I had to send it back.",
        "Do you have it in size M? My height is 176 cm and I usually wear M in most brands, but "
        "the last jacket I bought in M was tight in the shoulders.",
        "Also, how long does delivery to Kazan take, and how much is it? "
        "I would pay by card on delivery if that is possible.",
    ]
)
REPLY = "\n\n".join(
    [
        "Good afternoon! Yes, we have the blue one in size M, and in L from Friday.",
        "Delivery to Kazan takes two days; we send it the day you order.",
        "Shall I reserve one for you until tomorrow evening?",
    ]
)


class LeadChatCase(InboxCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # another team's salesperson who may open every lead
        cls.all_leads = new_test_user(
            cls.env, "lead_chat_all_leads", groups="sales_team.group_sale_salesman_all_leads"
        )
        cls.env["crm.team.member"].create(
            {"crm_team_id": cls.other_team.id, "user_id": cls.all_leads.id}
        )

    def customer_chat(self, chat_id, text, user):
        update = tg_update(chat_id, text)
        update["message"]["from"].update(first_name="Long", last_name="Customer")
        self.receive(update)
        conversation = self.conversation(chat_id)
        conversation.lead_id.user_id = user
        return conversation


@tagged("post_install", "-at_install")
class TestLeadChat(LeadChatCase):
    def test_the_customers_lines_and_paragraphs_stay_in_the_thread(self):
        self.receive(tg_update(9903, QUESTION, message_id=77))
        conversation = self.conversation(9903)
        (message,) = self.thread_messages(conversation).filtered(
            lambda message: message.author_id == conversation.partner_id
        )
        for paragraph in QUESTION.split("\n\n"):
            self.assertIn(f"<p>{paragraph}</p>", message.body)
        self.receive(tg_update(9903, "Size M\nin blue", edited=True, message_id=77))
        self.assertIn("Size M<br>in blue", message.body)
        self.assertIn("(edited)", message.body)

    def test_only_the_chats_people_get_its_thread_on_the_lead(self):
        """The lead's Chat page gets the thread for its salesperson and team leader; another
        team's salesperson who may open the lead (an unassigned one, or any with the right to
        see all leads) gets nothing of it."""
        assigned = self.customer_chat(9901, QUESTION, self.seller)
        unassigned = self.customer_chat(9902, QUESTION, False)
        spec = {"messenger_discuss_channel_id": {"fields": {"display_name": {}}}}
        for conversation, user in [
            (assigned, self.seller),
            (assigned, self.leader),
            (unassigned, self.leader),
        ]:
            (values,) = conversation.lead_id.with_user(user).web_read(spec)
            self.assertEqual(
                values["messenger_discuss_channel_id"]["id"], conversation.discuss_channel_id.id
            )
        for conversation, user in [
            (unassigned, self.stranger),
            (assigned, self.all_leads),
            (unassigned, self.all_leads),
        ]:
            (values,) = conversation.lead_id.with_user(user).web_read(spec)
            self.assertFalse(values["messenger_discuss_channel_id"], user.login)


@tagged("post_install", "-at_install")
class TestLeadChatTour(HttpCase, LeadChatCase):
    def test_a_salesperson_reads_and_answers_the_chat_in_the_lead(self):
        conversation = self.customer_chat(9911, QUESTION, self.seller)
        self.start_tour(
            f"/odoo/crm.lead/{conversation.lead_id.id}",
            "messenger_leads_bot_lead_chat_tour",
            login=self.seller.login,
        )
        reply = self.env["messenger.outbox"].search(
            [("conversation_id", "=", conversation.id), ("origin", "=", "person")]
        )
        self.assertEqual(reply.mapped("text"), [REPLY], "the whole answer, every paragraph")
        self.deliver_all()
        self.assertEqual(self.api.sent_to(9911)[-1]["text"], REPLY)

    def test_another_teams_salesperson_sees_the_chat_is_private(self):
        conversation = self.customer_chat(9912, QUESTION, self.seller)
        self.start_tour(
            f"/odoo/crm.lead/{conversation.lead_id.id}",
            "messenger_leads_bot_lead_chat_private_tour",
            login=self.all_leads.login,
        )

    def test_at_night_for_the_customer_a_reply_waits_for_their_day(self):
        conversation = self.customer_chat(9913, "Hello?", self.seller)
        company = conversation.company_id
        conversation.partner_id.tz = "UTC"
        self.assertEqual(conversation.lead_id.messenger_customer_tz, "UTC")
        # a window of the customer's day that begins in two hours: it is night for them
        start = (fields.Datetime.now().hour + 2) % 24
        company.write({"messenger_automated_from": start, "messenger_automated_until": start + 1})
        self.start_tour(
            f"/odoo/crm.lead/{conversation.lead_id.id}",
            "messenger_leads_bot_send_later_tour",
            login=self.seller.login,
        )
        reply = self.env["messenger.outbox"].search(
            [("conversation_id", "=", conversation.id), ("origin", "=", "person")]
        )
        self.assertEqual(reply.text, "I will call you in the morning")
        self.assertEqual(
            reply.next_attempt_at, company._messenger_civil_time(fields.Datetime.now(), "UTC")
        )
        self.assertGreater(reply.next_attempt_at, fields.Datetime.now())
