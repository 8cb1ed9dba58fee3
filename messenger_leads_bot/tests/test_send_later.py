from datetime import datetime

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.mail.tools.discuss import Store

from .common import tg_update
from .test_inbox import InboxCase

# 01:00 in Vladivostok (UTC+10), 18:00 in Moscow (UTC+3)
VLADIVOSTOK_NIGHT = datetime(2026, 11, 30, 15, 0)
VLADIVOSTOK_TEN = datetime(2026, 12, 1, 0, 0)  # the next 10:00 in Vladivostok, in UTC


@tagged("post_install", "-at_install")
class TestSendLater(InboxCase):
    """A salesperson's reply written while it is night for the customer waits for the next
    10:00 of the customer's time when they click "Send at 10:00 their time"."""

    def chat_in(self, chat_id, tz):
        self.receive(tg_update(chat_id, "Is the sofa still available?"))
        conversation = self.conversation(chat_id)
        conversation.partner_id.tz = tz
        conversation.lead_id.write({"phone": False, "user_id": self.seller.id})  # the contact's
        self.assertEqual(conversation.lead_id.messenger_customer_tz, tz)
        return conversation

    def reply(self, conversation, at_civil_hour=False):
        """The seller's reply as the composer posts it; the outbox row it queued."""
        thread = conversation.discuss_channel_id.with_user(self.seller)
        if at_civil_hour:
            thread = thread.with_context(messenger_at_civil_hour=True)
        message = thread.message_post(
            body="We have it, shall I reserve it?",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        return self.env["messenger.outbox"].search([("mail_message_id", "=", message.id)])

    def civil_hour_in_store(self, conversation):
        """What the composer is told about the chat."""
        channel = conversation.discuss_channel_id.with_user(self.seller)
        (data,) = Store(channel).get_result()["discuss.channel"]
        return data["messenger_civil_hour"]

    def test_a_reply_at_night_waits_for_ten_in_the_morning_of_the_customer(self):
        self.env.company.write(
            {"messenger_automated_from": 10.0, "messenger_automated_until": 21.0}
        )
        with freeze_time(VLADIVOSTOK_NIGHT):
            vladivostok = self.chat_in(9931, "Asia/Vladivostok")
            moscow = self.chat_in(9932, "Europe/Moscow")
            self.assertEqual(self.civil_hour_in_store(vladivostok), "10:00")
            self.assertFalse(self.civil_hour_in_store(moscow), "evening in Moscow: no button")

            later = self.reply(vladivostok, at_civil_hour=True)
            self.assertEqual(later.next_attempt_at, VLADIVOSTOK_TEN)
            now = self.reply(vladivostok)
            self.assertLessEqual(now.next_attempt_at, VLADIVOSTOK_NIGHT, "Send: at once")
            self.assertLessEqual(
                self.reply(moscow, at_civil_hour=True).next_attempt_at,
                VLADIVOSTOK_NIGHT,
                "already their day: at once",
            )
            self.env["messenger.outbox"]._deliver_due(auto_commit=False)
            self.assertEqual(later.state, "queued", "not sent at night")
        with freeze_time(VLADIVOSTOK_TEN):
            self.assertFalse(self.civil_hour_in_store(vladivostok), "their day: no button")
            self.deliver_all()
            self.assertEqual(later.state, "sent")
