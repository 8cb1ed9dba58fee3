import datetime

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import tg_update
from .test_inbox import InboxCase


@tagged("post_install", "-at_install")
class TestInboxTour(HttpCase, InboxCase):
    def customer_chat(self, chat_id, name, text):
        update = tg_update(chat_id, text)
        update["message"]["from"].update(first_name=name, last_name="Customer")
        self.receive(update)
        conversation = self.conversation(chat_id)
        conversation.lead_id.user_id = self.seller
        return conversation

    def test_a_salesperson_answers_the_most_urgent_chat_transfers_one_closes_one(self):
        calm = self.customer_chat(9801, "Calm", "Just looking around")
        done = self.customer_chat(9803, "Done", "Thanks, that is all")
        urgent = self.customer_chat(9802, "Urgent", "I need it today")
        urgent.lead_id.messenger_first_message_at = fields.Datetime.now() - datetime.timedelta(
            minutes=3
        )
        self.assertLess(urgent.answer_by, calm.answer_by)
        self.start_tour(
            "/odoo/action-messenger_leads_bot.messenger_conversation_action_incoming",
            "messenger_leads_bot_inbox_tour",
            login=self.seller.login,
        )
        self.assertEqual(urgent.inbox_state, "waiting_customer")
        self.assertEqual(calm.user_id, self.colleague)
        self.assertIn("Kazan", calm.lead_id.messenger_assignment_reason)
        self.assertEqual(done.inbox_state, "closed")
        self.deliver_all()
        self.assertEqual(self.api.sent_to(9803)[-1]["text"], "Thank you, write again any time!")
        reply = self.env["messenger.outbox"].search(
            [("conversation_id", "=", urgent.id), ("origin", "=", "person")]
        )
        self.assertIn("Thank you for writing to us. How can I help you?", reply.text)
