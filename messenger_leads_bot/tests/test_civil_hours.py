from datetime import datetime

from freezegun import freeze_time

from odoo.tests import tagged

from .common import BotCase, tg_update

# 23:30 in Moscow (UTC+3): night for the customer
MOSCOW_NIGHT = datetime(2026, 11, 30, 20, 30)
MOSCOW_TEN = datetime(2026, 12, 1, 7, 0)  # the next 10:00 in Moscow, in UTC


@tagged("post_install", "-at_install")
class TestCivilHours(BotCase):
    """What the bot sends on its own waits for the customer's day; its answers do not."""

    def chat_in_moscow(self, chat_id):
        self.receive(tg_update(chat_id, "Hello, is the sofa still available?"))
        conversation = self.conversation(chat_id)
        conversation.partner_id.tz = "Europe/Moscow"
        conversation.lead_id.phone = False  # the zone is the contact's
        self.assertEqual(conversation.lead_id.messenger_customer_tz, "Europe/Moscow")
        return conversation

    def rows(self, conversation):
        return self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)])

    def test_the_window_of_the_customers_day(self):
        company = self.env.company
        company.write({"messenger_automated_from": 10.0, "messenger_automated_until": 21.0})
        civil = company._messenger_civil_time
        self.assertEqual(civil(MOSCOW_NIGHT, "Europe/Moscow"), MOSCOW_TEN)
        noon = datetime(2026, 11, 30, 9, 0)  # 12:00 in Moscow
        self.assertEqual(civil(noon, "Europe/Moscow"), noon, "inside the window: at once")
        self.assertEqual(civil(noon, "America/New_York"), datetime(2026, 11, 30, 15, 0))

    def test_a_rating_request_at_night_waits_for_ten_in_the_morning(self):
        with freeze_time(MOSCOW_NIGHT):
            conversation = self.chat_in_moscow(660)
            acknowledgement = self.rows(conversation)
            self.assertLessEqual(acknowledgement.next_attempt_at, MOSCOW_NIGHT, "answers at once")
            conversation.lead_id.action_set_won()
            request = self.rows(conversation) - acknowledgement
            self.assertIn("How would you rate our service", request.text)
            self.assertEqual(request.next_attempt_at, MOSCOW_TEN)
            self.deliver_all_due()
            self.assertEqual(request.state, "queued", "not sent at night")
        with freeze_time(MOSCOW_TEN):
            self.deliver_all_due()
            self.assertEqual(request.state, "sent")

    def test_a_call_back_offer_waits_too(self):
        with freeze_time(MOSCOW_NIGHT):
            conversation = self.chat_in_moscow(661)
            before = self.rows(conversation)
            self.assertTrue(conversation.lead_id._callback_offer_messenger())
            offer = self.rows(conversation) - before
            self.assertTrue(offer)
            self.assertEqual(set(offer.mapped("next_attempt_at")), {MOSCOW_TEN})

    def deliver_all_due(self):
        self.env["messenger.outbox"]._deliver_due(auto_commit=False)
