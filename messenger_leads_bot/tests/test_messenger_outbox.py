from datetime import timedelta
from unittest.mock import patch

from psycopg2.errors import SerializationFailure

from odoo import fields
from odoo.tests import tagged

from odoo.addons.mail.tools.discuss import Store

from ..adapters.telegram import TelegramClient
from ..models.messenger_outbox import MAX_ATTEMPTS, retry_delay
from .common import BotCase, tg_update


@tagged("post_install", "-at_install")
class TestMessengerOutbox(BotCase):
    def deliver(self):
        self.env["messenger.outbox"]._deliver_due(auto_commit=False)

    def ack_of(self, chat_id):
        self.receive(tg_update(chat_id, "Hello"))
        return self.env["messenger.outbox"].search(
            [("conversation_id", "=", self.conversation(chat_id).id)]
        )

    def test_delivered_with_keyboard(self):
        ack = self.ack_of(701)
        self.deliver()
        self.assertEqual(ack.state, "sent")
        self.assertEqual(ack.mail_message_id.messenger_delivery_state, "sent")
        (sent,) = self.api.sent_to(701)
        self.assertEqual(sent["text"], ack.text)
        self.assertEqual(sent["reply_markup"]["keyboard"][0][0]["request_contact"], True)
        self.assertEqual(ack.external_message_id, str(sent["message_id"]))

    def test_delivery_after_commit_never_fails_the_request(self):
        """Workers delivering at once may collide: try again; anything else waits for the cron."""
        self.ack_of(711)
        (deliver,) = [f for f in self.env.cr.postcommit._funcs if f.__name__ == "deliver"]
        outbox = type(self.env["messenger.outbox"])
        collision_then_success = [SerializationFailure(), None]
        with patch.object(outbox, "_deliver_due", side_effect=collision_then_success) as due:
            deliver()
        self.assertEqual(due.call_count, 2, "a collision is tried again at once")
        with (
            patch.object(outbox, "_deliver_due", side_effect=RuntimeError("down")),
            self.assertLogs("odoo.addons.messenger_leads_bot.models.messenger_outbox", "ERROR"),
        ):
            deliver()  # logged, not raised: the update is committed and the cron will send

    def test_one_accounts_trouble_never_stops_the_others(self):
        """A bot without a token, a client that raises: their rows count a failed attempt, the
        other accounts' messages of the same round go out and stay sent."""
        tokenless = self.env["messenger.bot.account"].create(
            {"name": "@no_token_bot", "api_url": self.api.url, "team_id": self.team.id}
        )
        broken = self.env["messenger.bot.account"].create(
            {
                "name": "@broken_bot",
                "token": "13:BROKEN",
                "api_url": self.api.url,
                "team_id": self.team.id,
            }
        )
        stuck = self.env["messenger.outbox"]
        for chat_id, account in ((720, tokenless), (721, broken)):
            update = tg_update(chat_id, "Hello")
            self.env["messenger.update"]._receive(account, update, str(update["update_id"]))
            stuck |= stuck.search([("account_id", "=", account.id)])
        ack = self.ack_of(722)
        self.assertTrue(max(stuck.ids) < ack.id, "the failing rows come first in the round")
        telegram = TelegramClient
        send_texts = telegram.send_texts

        def send_or_raise(client, messages):
            if client.token == "13:BROKEN":
                raise RuntimeError("an answer the client did not expect")
            return send_texts(client, messages)

        with (
            patch.object(telegram, "send_texts", send_or_raise),
            self.assertLogs("odoo.addons.messenger_leads_bot.models.messenger_outbox", "ERROR"),
        ):
            self.deliver()
            self.assertEqual(ack.state, "sent")
            self.assertEqual(len(self.api.sent_to(722)), 1)
            self.assertEqual(self.api.sent_to(720) + self.api.sent_to(721), [])
            self.assertEqual(stuck.mapped("state"), ["queued", "queued"])
            self.assertEqual(stuck.mapped("attempts"), [1, 1])
            self.assertIn("has no token", stuck[0].error)
            self.assertIn("did not expect", stuck[1].error)
            for _attempt in range(MAX_ATTEMPTS - 1):
                stuck.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
                self.deliver()
        self.assertEqual(stuck.mapped("state"), ["failed", "failed"], "retries are bounded")

    def test_delivery_state_reaches_discuss(self):
        ack = self.ack_of(709)
        message = ack.mail_message_id
        self.assertEqual(self.store_state(message), "queued")
        self.env["bus.bus"].search([]).unlink()
        self.deliver()
        self.assertEqual(self.store_state(message), "sent")
        self.env.cr.precommit.run()  # the bus writes its notifications when the transaction commits
        notifications = self.env["bus.bus"].search([]).mapped("message")
        self.assertTrue(
            any('"messenger_delivery_state":"sent"' in n for n in notifications),
            "the open thread is told at once",
        )

    def store_state(self, message):
        store = Store()
        message._to_store(store)
        (data,) = store.get_result()["mail.message"]
        return data["messenger_delivery_state"]

    def test_429_is_retried_after_the_asked_delay(self):
        ack = self.ack_of(702)
        self.api.fail_next("sendMessage", 429, retry_after=3)
        self.deliver()
        self.assertEqual((ack.state, ack.attempts), ("queued", 1))
        self.assertGreaterEqual(ack.next_attempt_at, fields.Datetime.now() + timedelta(seconds=2))
        self.deliver()
        self.assertEqual(self.api.sent_to(702), [], "not before retry_after")
        ack.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        self.deliver()
        self.assertEqual(ack.state, "sent")
        self.assertEqual(len(self.api.sent_to(702)), 1)

    def test_server_errors_back_off_then_give_up(self):
        ack = self.ack_of(703)
        self.api.fail_next("sendMessage", 502, times=20)
        for _attempt in range(8):
            ack.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
            self.deliver()
        self.assertEqual((ack.state, ack.attempts), ("failed", 8))
        self.assertIn("fake error 502", ack.error)

    def test_blocked_customer_stops_delivery_and_shows_it(self):
        ack = self.ack_of(704)
        self.api.blocked_chats.add("704")
        self.deliver()
        conversation = self.conversation(704)
        self.assertEqual(ack.state, "failed")
        self.assertEqual(ack.mail_message_id.messenger_delivery_state, "failed")
        self.assertTrue(conversation.blocked)
        self.assertIn("Not delivered to Telegram", conversation.lead_id.message_ids[0].body)

    def test_one_message_per_chat_per_second(self):
        ack = self.ack_of(705)
        conversation = self.conversation(705)
        second = conversation._queue_outbound("Second", "person")
        self.deliver()
        self.assertEqual(ack.state, "sent")
        self.assertEqual(second.state, "queued", "the same chat waits a second")
        # Odoo keeps datetimes to the second: compare at that precision
        queued_at = second.create_date.replace(microsecond=0)
        self.assertGreaterEqual(second.next_attempt_at - queued_at, timedelta(seconds=1))

    def test_long_reply_is_split(self):
        self.ack_of(706)
        parts = self.conversation(706)._queue_outbound("long " * 1000, "person")
        self.assertEqual(len(parts), 2)
        self.assertTrue(all(len(part.text) <= 4096 for part in parts))

    def test_retry_delay(self):
        self.assertEqual(retry_delay(1), 2)
        self.assertEqual(retry_delay(3), 8)
        self.assertEqual(retry_delay(1, retry_after=30), 30)
        self.assertEqual(retry_delay(5, retry_after=1), 1, "429 says exactly when")
        self.assertEqual(retry_delay(20), 600)
