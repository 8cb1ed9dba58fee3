from datetime import timedelta
from unittest.mock import patch

from psycopg2.errors import SerializationFailure

from odoo import fields
from odoo.tests import tagged

from odoo.addons.mail.tools.discuss import Store

from ..adapters.telegram import TelegramClient
from ..models.messenger_outbox import MAX_ATTEMPTS, PER_ROUND, ROUND_SECONDS, retry_delay
from .common import BotCase, process_received, tg_update
from .fake_vk_api import FakeVkApi


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

    def make_due(self, rows):
        rows.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)

    def test_delivery_after_commit_never_fails_the_request(self):
        """Workers delivering at once may collide: try again; anything else waits for the cron."""
        self.ack_of(711)
        deliver = self.after_commit_delivery()
        outbox = type(self.env["messenger.outbox"])
        collision_then_success = [SerializationFailure(), None]
        with patch.object(
            outbox, "_deliver_after_commit", side_effect=collision_then_success
        ) as due:
            deliver()
        self.assertEqual(due.call_count, 2, "a collision is tried again at once")
        with (
            patch.object(outbox, "_deliver_after_commit", side_effect=RuntimeError("down")),
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
            process_received(self.env)
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

    def test_an_access_token_renewed_by_another_worker_fails_the_send_not_the_message(self):
        """Another worker renewed the account's access token at the same moment: saving this
        one fails to serialise before anything is sent. That is no failure of the message: the
        transaction is retried (the delivery after commit and the cron retry it), the row
        counts no failed attempt and keeps no error."""
        ack = self.ack_of(706)

        def renewed_elsewhere(client, messages):
            raise SerializationFailure("could not serialize access due to concurrent update")

        with (
            patch.object(TelegramClient, "send_texts", renewed_elsewhere),
            self.assertRaises(SerializationFailure),
        ):
            self.deliver()
        self.assertEqual((ack.state, ack.attempts, ack.error), ("queued", 0, False))
        self.assertEqual(self.api.sent_to(706), [])

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
        # exactly the failures it meets: the fake API serves the next tests too
        self.api.fail_next("sendMessage", 502, times=MAX_ATTEMPTS)
        for _attempt in range(MAX_ATTEMPTS):
            self.make_due(ack)
            self.deliver()
        self.assertEqual((ack.state, ack.attempts), ("failed", MAX_ATTEMPTS))
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

    def test_the_next_message_of_a_chat_goes_in_the_next_round(self):
        """One message per chat per round, a round a second: every chat gets its first message
        at once, the following ones in order, one a round."""
        first_acks = self.ack_of(712) | self.ack_of(713)
        later = self.env["messenger.outbox"]
        for chat_id in (712, 713):
            later |= self.conversation(chat_id)._queue_outbound(f"Then {chat_id}", "person")
        self.deliver()
        self.assertEqual(first_acks.mapped("state"), ["sent", "sent"], "each chat at once")
        self.assertEqual(later.mapped("state"), ["queued", "queued"])
        self.make_due(later)
        self.deliver()
        self.assertEqual(later.mapped("state"), ["sent", "sent"])
        for chat_id in (712, 713):
            self.assertEqual(self.api.sent_to(chat_id)[-1]["text"], f"Then {chat_id}")

    def split_reply_after_the_ack(self, chat_id):
        self.ack_of(chat_id)
        self.deliver()
        parts = self.conversation(chat_id)._queue_outbound("long " * 1000, "person")
        self.assertEqual(len(parts), 2)
        return parts

    def test_a_message_waiting_for_its_retry_holds_back_the_rest_of_its_chat(self):
        """A split reply whose first part meets a 429: the second part, due first, waits until
        the first went out; the customer reads them in order."""
        first, second = self.split_reply_after_the_ack(714)
        sent_before = len(self.api.sent_to(714))
        self.api.fail_next("sendMessage", 429, retry_after=3)
        self.deliver()
        self.assertEqual((first.state, first.attempts), ("queued", 1))
        self.make_due(second)  # due before the first part's retry
        self.deliver()
        self.assertEqual(second.state, "queued", "not before the first part")
        self.assertEqual(len(self.api.sent_to(714)), sent_before)
        self.make_due(first)
        self.deliver()
        self.assertEqual((first.state, second.state), ("sent", "queued"), "one a round")
        self.make_due(second)
        self.deliver()
        self.assertEqual(second.state, "sent")
        texts = [message["text"] for message in self.api.sent_to(714)[sent_before:]]
        self.assertEqual(texts, [first.text, second.text])

    def test_a_message_failed_for_good_holds_back_nothing(self):
        first, second = self.split_reply_after_the_ack(715)
        self.api.fail_next("sendMessage", 400)
        self.deliver()
        self.assertEqual((first.state, second.state), ("failed", "queued"))
        self.make_due(second)
        self.deliver()
        self.assertEqual(second.state, "sent")
        self.assertEqual(self.api.sent_to(715)[-1]["text"], second.text)

    def test_delivery_after_commit_sends_the_transactions_own_rows_only(self):
        """A webhook request waits for its own messages only: another chat's message, due, is
        left to the cron, which is triggered for it."""
        others = self.ack_of(716)
        self.env.cr.postcommit.clear()  # that transaction committed; its delivery never ran
        own = self.ack_of(717)
        cron = self.env.ref("messenger_leads_bot.ir_cron_messenger_outbox_deliver")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        deliver = self.after_commit_delivery()
        self.registry.enter_test_mode(self.env.cr)  # the after-commit cursor is the test's
        self.addCleanup(self.registry.leave_test_mode)
        deliver()
        self.env.invalidate_all()
        self.assertEqual(set(own.mapped("state")), {"sent"})
        self.assertEqual(others.mapped("state"), ["queued"])
        self.assertEqual(self.api.sent_to(716), [], "another chat's message is the cron's")
        woken = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        self.assertEqual(len(woken), 1)
        self.assertLessEqual(woken.call_at, fields.Datetime.now())

    def test_each_account_is_paced_by_its_own_messengers_limit(self):
        """A busy Telegram bot (30 messages a second) and a VK community (20 requests a
        second), both with more waiting than a round takes: each round sends each account's
        own share, the Telegram rows queued first take none of VK's."""
        self.assertEqual((ROUND_SECONDS, PER_ROUND["telegram"], PER_ROUND["vk"]), (0.5, 15, 10))
        vk_api = self.enterContext(FakeVkApi())
        community = self.env["messenger.bot.account"].create(
            {
                "name": "Shop VK",
                "provider": "vk",
                "token": vk_api.token,
                "api_url": vk_api.url + "/method",
                "team_id": self.team.id,
            }
        )
        rows = {self.account: self.env["messenger.outbox"], community: self.env["messenger.outbox"]}
        for account, first_chat in ((self.account, 7300), (community, 7400)):
            for chat_id in range(first_chat, first_chat + 40):
                conversation = self.env["messenger.conversation"].create(
                    {"account_id": account.id, "external_chat_id": str(chat_id)}
                )
                rows[account] |= conversation._queue_outbound(f"Hello {chat_id}", "person")
        sent_per_round = []
        for _round in range(3):  # _deliver_due without auto_commit: one round
            before = len(self.api.sent), len(vk_api.sent)
            self.deliver()
            sent_per_round.append([len(self.api.sent) - before[0], len(vk_api.sent) - before[1]])
        self.assertEqual(sent_per_round, [[15, 10], [15, 10], [10, 10]])
        self.assertEqual(
            [len(rows[account].filtered(lambda row: row.state == "sent")) for account in rows],
            [40, 30],
        )

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
