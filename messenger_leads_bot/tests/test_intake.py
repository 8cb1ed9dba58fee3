import contextlib
import json
from datetime import timedelta
from unittest.mock import patch

from psycopg2.errors import SerializationFailure

from odoo import fields
from odoo.tests import new_test_user, tagged

from odoo.addons.bus.models.bus import json_dump
from odoo.addons.mail.tools.discuss import Store

from ..models.messenger_update import INTAKE_BATCH_SIZE, INTAKE_CRONS, MAX_PROCESS_ATTEMPTS
from .common import BotCase, tg_update


@tagged("post_install", "-at_install")
class TestIntake(BotCase):
    """The webhook stores; the intake crons process, in batches, in order per chat."""

    def store(self, update):
        """What the webhook does: store the update, nothing more."""
        return self.env["messenger.update"]._receive(self.account, update, str(update["update_id"]))

    @contextlib.contextmanager
    def failing_for_chat(self, method, chat_id, error):
        """messenger.conversation's `method` raising `error` for the chat `chat_id` (in the
        middle of its update's bridging); every other chat's call goes through."""
        conversations = type(self.env["messenger.conversation"])
        original = getattr(conversations, method)

        def failing(conversation, *args, **kwargs):
            if conversation.external_chat_id == str(chat_id):
                raise error
            return original(conversation, *args, **kwargs)

        with patch.object(conversations, method, failing):
            yield

    def others_waiting(self, count):
        """`count` other customers' first messages, waiting after the test's: a batch takes
        its share of the chats due (half, for two intake workers), so the chats a test needs
        in one batch need as many others waiting behind them."""
        for chat_id in range(990, 990 + count):
            self.store(tg_update(chat_id, "Meanwhile, another customer"))

    def take(self):
        batch, self.lease = self.env["messenger.update"]._take_batch(auto_commit=False)
        return batch

    def process(self, batch):
        batch._process_batch(self.lease, auto_commit=False)

    def test_the_webhook_stores_and_an_intake_cron_is_woken_for_the_rest(self):
        crons = self.env["ir.cron"].browse([self.env.ref(xmlid).id for xmlid in INTAKE_CRONS])
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "in", crons.ids)])
        stored = self.store(tg_update(901, "Hello, I would like a kitchen"))
        self.assertEqual((stored.state, stored.attempts), ("received", 0))
        self.assertFalse(self.conversation(901), "nothing bridged while the messenger waits")
        woken = self.env["ir.cron.trigger"].search([("cron_id", "in", crons.ids)]) - triggers
        self.assertEqual(len(woken), 1)
        self.assertLessEqual(woken.call_at, fields.Datetime.now() + timedelta(seconds=1))

        self.assertEqual(self.env["messenger.update"]._cron_process_received(), 1)
        self.assertEqual((stored.state, stored.attempts), ("done", 1))
        conversation = self.conversation(901)
        self.assertEqual(stored.conversation_id, conversation)
        self.assertTrue(conversation.lead_id)
        self.assertIn("kitchen", self.thread_messages(conversation)[0].body)

    def test_a_chats_run_of_updates_is_taken_at_once_and_bridged_in_order(self):
        first = self.store(tg_update(902, "First"))
        other = self.store(tg_update(903, "Another customer"))
        second = self.store(tg_update(902, "Second"))
        taken = self.take()
        self.assertEqual(taken, first | second, "the other chat is left to the other worker")
        self.assertEqual(self.take(), other)
        self.process(taken)
        bodies = self.thread_messages(self.conversation(902)).mapped("body")
        customer = [body for body in bodies if "First" in body or "Second" in body]
        self.assertEqual(customer, ["<p>First</p>", "<p>Second</p>"], "in the order sent")

    def test_the_workers_share_a_short_burst(self):
        """Six customers write twice each, the other worker busy with its own: a batch takes
        its share of the chats due (three of six, for two intake workers), each with its run,
        and leaves the others to the other worker, instead of one worker taking the whole burst
        while the other finds nothing to do."""
        stored = self.env["messenger.update"]
        for message in ("Hello", "Are you there?"):
            for chat_id in range(931, 937):
                stored |= self.store(tg_update(chat_id, f"{message} ({chat_id})"))
        one = self.take()
        other = self.take()  # the other worker, while the first holds its batch
        last = self.take()
        self.assertEqual(len(set(one.mapped("chat_key"))), 3)
        self.assertEqual(len(set(other.mapped("chat_key"))), 2)
        self.assertEqual(len(set(last.mapped("chat_key"))), 1)
        self.assertEqual(one | other | last, stored, "each chat's run in one batch")
        self.assertFalse(set(one.mapped("chat_key")) & set(other.mapped("chat_key")))

    def test_a_batch_makes_its_new_leads_last(self):
        """A batch bridges the messages of chats with an open lead first and those of new
        customers last (assigning their leads holds the team until the transaction ends), each
        chat's in the order sent."""
        self.receive(tg_update(921, "Hello, I ordered a sofa"))
        batch = self.env["messenger.update"]
        for chat_id, text in (
            (922, "Hello, do you deliver to Tver?"),
            (921, "When will it come?"),
            (922, "And to Klin?"),
            (923, "Hi"),
        ):
            batch |= self.store(tg_update(chat_id, text))
        self.others_waiting(3)
        self.assertEqual(self.take(), batch)
        self.process(batch)
        self.assertEqual(set(batch.mapped("state")), {"done"})
        messages = [self.customer_messages(chat_id) for chat_id in (921, 922, 923)]
        bridged = messages[0][-1:] | messages[1] | messages[2]
        self.assertEqual(
            bridged.sorted("id").mapped("body"),
            [
                "<p>When will it come?</p>",
                "<p>Hello, do you deliver to Tver?</p>",
                "<p>And to Klin?</p>",
                "<p>Hi</p>",
            ],
        )
        self.assertLess(messages[0][-1].id, self.conversation(922).lead_id.message_ids[-1:].id)

    def test_a_chats_later_update_waits_while_another_worker_holds_its_first(self):
        first = self.store(tg_update(909, "First"))
        self.take()  # another worker's batch, still being processed
        second = self.store(tg_update(909, "Second"))
        other = self.store(tg_update(919, "Another customer"))
        self.assertEqual(self.take(), other, "the chat's second update waits for its first")
        first.state = "done"
        self.assertEqual(self.take(), second)

    def test_a_taken_update_is_leased_not_taken_twice(self):
        stored = self.store(tg_update(904, "Hello"))
        taken = self.take()
        self.assertEqual(taken, stored)
        self.assertEqual(stored.attempts, 1, "the attempt counts before processing")
        self.assertGreater(stored.next_attempt_at, fields.Datetime.now())
        self.assertFalse(self.take(), "another worker does not take it while it is processed")
        later = self.store(tg_update(904, "Are you there?"))
        self.assertFalse(self.take(), "nor the chat's next update")
        stored.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)  # the lease ran out
        retaken = self.take()
        self.assertEqual(retaken, stored | later, "a worker that died leaves it to another")
        self.assertEqual(stored.attempts, 2)

    def test_an_update_taken_again_after_its_lease_is_processed_once(self):
        """A batch that outlived its lease (a slow worker) leaves the update to the worker that
        took it again: one message in the thread, not two."""
        stored = self.store(tg_update(908, "Only once, please"))
        slow_batch = self.take()
        # taken 40 seconds ago: its lease ran out
        slow_lease = stored.next_attempt_at = self.lease - timedelta(seconds=40)
        self.assertEqual(self.take(), stored, "another worker takes it")
        slow_batch._process_batch(slow_lease, auto_commit=False)
        self.assertEqual(stored.state, "received", "the slow worker leaves it alone")
        self.assertFalse(self.conversation(908))
        self.process(stored)
        self.assertEqual(stored.state, "done")
        bodies = self.thread_messages(self.conversation(908)).mapped("body")
        self.assertEqual(len([body for body in bodies if "Only once" in body]), 1, bodies)

    def test_an_update_that_always_kills_its_worker_is_failed_in_the_end(self):
        stored = self.store(tg_update(905, "Hello"))
        stored.attempts = MAX_PROCESS_ATTEMPTS
        after = self.store(tg_update(905, "Hello again"))
        self.assertEqual(self.take(), after, "the chat moves on")
        self.assertEqual(stored.state, "failed")
        self.assertIn("worker died", stored.error)

    def test_batches_are_bounded_and_all_is_processed(self):
        chats = range(910, 910 + INTAKE_BATCH_SIZE * len(INTAKE_CRONS) + 5)
        stored = self.env["messenger.update"]
        for chat_id in chats:
            stored |= self.store(tg_update(chat_id, f"Hello from {chat_id}"))
        first_batch = self.take()
        self.assertEqual(len(first_batch), INTAKE_BATCH_SIZE)
        self.process(first_batch)
        self.assertEqual(
            self.env["messenger.update"]._cron_process_received(),
            len(chats) - INTAKE_BATCH_SIZE,
        )
        self.assertEqual(set(stored.mapped("state")), {"done"})
        self.assertEqual(len(stored.conversation_id.lead_id), len(chats))

    def test_an_update_that_fails_to_serialise_goes_back_with_the_rest_not_the_batch(self):
        """Two intake workers assigning a new lead of the same team at once: the later one fails
        to serialise. The updates its batch bridged before are kept; that one and the rest are
        due again at once, no attempt counted, and bridged in order by the next batch."""
        before = self.store(tg_update(951, "I was first"))
        racing = self.store(tg_update(952, "A new customer"))
        after = self.store(tg_update(953, "Another one"))
        racing_again = self.store(tg_update(952, "My second message"))
        self.others_waiting(3)
        batch = self.take()
        self.assertEqual(batch, before | racing | after | racing_again)
        racing_assignment = SerializationFailure(
            "could not serialize access due to concurrent update"
        )
        with self.failing_for_chat("_ensure_open_lead", 952, racing_assignment):
            self.process(batch)
        self.assertEqual(before.state, "done")
        self.assertTrue(self.conversation(951).lead_id)
        self.assertFalse(self.conversation(952), "its work went with its savepoint")
        given_back = racing | after | racing_again
        self.assertEqual(set(given_back.mapped("state")), {"received"})
        self.assertEqual(given_back.mapped("attempts"), [0, 0, 0], "no attempt counted")
        self.assertLessEqual(max(given_back.mapped("next_attempt_at")), fields.Datetime.now())

        self.env["messenger.update"]._cron_process_received()
        self.assertEqual(set(given_back.mapped("state")), {"done"})
        bodies = self.customer_messages(952).mapped("body")
        self.assertEqual(bodies, ["<p>A new customer</p>", "<p>My second message</p>"])

    def test_a_conflict_while_reading_an_update_is_the_batchs_not_the_updates(self):
        """Confirming an update through its messenger's API saves an access token another worker
        renewed at the same moment: the transaction fails to serialise. That is no failure of
        the update: the batch goes back whole (the cron rolls it back and gives it back, see
        _process_batch; a test transaction sees it raised), none kept as failed with that
        error, all bridged once taken again."""
        first = self.store(tg_update(961, "Hello"))
        second = self.store(tg_update(962, "Is it in stock?"))
        accounts = type(self.env["messenger.bot.account"])
        confirmed = accounts._confirmed

        def renewed_elsewhere(account, events):
            if events and events[0].chat_id == "962":
                raise SerializationFailure("could not serialize access due to concurrent update")
            return confirmed(account, events)

        self.others_waiting(2)
        batch = self.take()
        self.assertEqual(batch, first | second)
        with (
            patch.object(accounts, "_confirmed", renewed_elsewhere),
            self.assertRaises(SerializationFailure),
        ):
            self.process(batch)
        self.assertEqual(set(batch.mapped("state")), {"received"})
        self.assertFalse(any(batch.mapped("error")))
        batch._give_back(self.lease)  # what the cron does once it rolled the batch back
        self.env["messenger.update"]._cron_process_received()
        self.assertEqual(set(batch.mapped("state")), {"done"})

    def test_a_batchs_messages_reach_the_open_threads_as_discuss_sends_them(self):
        """Their notifications are built together when the batch ends: each as Discuss sends it
        for a message posted, in the order posted; none for an update that failed."""
        self.env["bus.bus"].search([]).unlink()
        for chat_id, text in ((931, "First"), (932, "Hello"), (931, "Second"), (933, "Lost?")):
            self.store(tg_update(chat_id, f"{text}\n\nA second paragraph of {chat_id}."))
        with (
            self.failing_for_chat(
                "_register_customer_message",
                933,
                ValueError("broken after its message was posted"),
            ),
            self.assertLogs("odoo.addons.messenger_leads_bot.models.messenger_update", "ERROR"),
        ):
            self.env["messenger.update"]._cron_process_received()
        self.env.cr.precommit.run()  # the bus writes its notifications when the transaction commits

        notified = [
            json.loads(row.message)["payload"]
            for row in self.env["bus.bus"].search([], order="id")
            if json.loads(row.message)["type"] == "discuss.channel/new_message"
        ]
        posted = self.thread_messages(self.conversation(931)) | self.thread_messages(
            self.conversation(932)
        )
        self.assertEqual(
            [payload["data"]["mail.message"][0]["id"] for payload in notified],
            sorted(posted.ids),
            "one notification a message posted, in the order posted",
        )
        self.assertIn("Second", posted.sorted("id")[-1].body + posted.sorted("id")[-2].body)
        self.assertFalse(self.conversation(933), "the failed update's thread went with it")
        for payload in notified:
            message = posted.browse(payload["data"]["mail.message"][0]["id"])
            self.assertEqual(payload["id"], message.res_id)
            self.assertEqual(
                payload["data"], json.loads(json_dump(Store(message).get_result())), "as Discuss"
            )

    def test_a_callers_context_cannot_hold_back_a_notification(self):
        """A salesperson's JSON-RPC call may name the intake's context key with any JSON value:
        their message is posted and its notification sent as usual."""
        self.store(tg_update(961, "Hello"))
        self.env["messenger.update"]._cron_process_received()
        conversation = self.conversation(961)
        seller = new_test_user(self.env, "intake_seller", groups="sales_team.group_sale_salesman")
        self.env["crm.team.member"].create({"crm_team_id": self.team.id, "user_id": seller.id})
        conversation.lead_id.user_id = seller  # joins the thread
        self.env["bus.bus"].search([]).unlink()
        for value in ({"posting": {}, "kept": []}, [1], "yes", 1):
            thread = conversation.discuss_channel_id.with_context(messenger_new_messages=value)
            message = thread.with_user(seller).message_post(
                body=f"Answer {value}", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
            self.env.cr.precommit.run()
            notified = [
                json.loads(row.message)["payload"]["data"]["mail.message"][0]["id"]
                for row in self.env["bus.bus"].search([])
                if json.loads(row.message)["type"] == "discuss.channel/new_message"
            ]
            self.assertIn(message.id, notified, f"notified with {value!r} in the context")

    def test_a_batchs_files_are_fetched_before_any_chat_is_locked(self):
        self.api.files["in1"] = ("photos/in_1.jpg", b"\xff\xd8first")
        self.api.files["in2"] = ("photos/in_2.jpg", b"\xff\xd8second")
        conversations = type(self.env["messenger.conversation"])
        lock = conversations._lock_or_create
        downloads_when_locked = []

        def locking(model, account, chat_id):
            downloads_when_locked.append(len(self.api.downloads))
            return lock(model, account, chat_id)

        for chat_id, file_id in ((906, "in1"), (907, "in2")):
            photo = [{"file_id": file_id, "file_unique_id": file_id, "width": 9, "height": 9}]
            self.store(tg_update(chat_id, photo=photo))
        self.others_waiting(2)
        downloads = len(self.api.downloads)
        with patch.object(conversations, "_lock_or_create", locking):
            self.env["messenger.update"]._cron_process_received()
        # the batch of the two photos locks their chats once both are fetched; the next batch,
        # the other customers', fetches nothing
        self.assertEqual(downloads_when_locked, [downloads + 2] * 4)
        message = self.thread_messages(self.conversation(907))[0]
        self.assertEqual(message.attachment_ids.raw, b"\xff\xd8second")
