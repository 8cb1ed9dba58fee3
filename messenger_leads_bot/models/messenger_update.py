import hashlib
import json
import logging
import time
from datetime import timedelta

from odoo import api, fields, models, modules
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from ..adapters import NotConfirmed
from .discuss_channel_batch import CONTEXT_KEY, BatchedNewMessages

_logger = logging.getLogger(__name__)

MAX_PROCESS_ATTEMPTS = 5
RETRY_BATCH_SIZE = 50  # updates per run of the retry cron
INTAKE_BATCH_SIZE = 20  # updates per transaction of the intake: what each commit pays is shared
INTAKE_RUN_SECONDS = 30  # then the cron hands over to the other jobs and runs again at once
# an update taken by a worker that died (killed, out of memory) is taken again after this; one
# whose batch outlives it is done by the worker that took it again, not twice (_still_leased)
INTAKE_LEASE_SECONDS = 30
# intake crons: each takes any waiting update, so two of them process chats in parallel on two
# cron workers (of one Odoo server or of several sharing the database)
INTAKE_CRONS = (
    "messenger_leads_bot.ir_cron_messenger_intake",
    "messenger_leads_bot.ir_cron_messenger_intake_parallel",
)


class MessengerUpdate(models.Model):
    """A raw update as the messenger sent it, stored once before anything else happens, then
    processed by the intake crons (see _cron_process_received)."""

    _name = "messenger.update"
    _inherit = ["messenger.queue"]
    _description = "Messenger update"
    _order = "id desc"
    _queue_chat_columns = ("account_id", "chat_key")
    _queue_waiting_state = "received"

    account_id = fields.Many2one(
        "messenger.bot.account", required=True, ondelete="cascade", index=True
    )
    external_id = fields.Char(string="Update ID", required=True)
    # the chat it belongs to (see _chat_key): a chat's updates are processed in order
    chat_key = fields.Char()
    payload = fields.Text(required=True)
    state = fields.Selection(
        [("received", "Received"), ("done", "Processed"), ("failed", "Failed")],
        default="received",
        required=True,
        index=True,
    )
    conversation_id = fields.Many2one("messenger.conversation", ondelete="set null")

    _sql_constraints = [
        (
            "update_unique",
            "UNIQUE(account_id, external_id)",
            "An update is stored once per bot account.",
        ),
    ]

    @api.model
    def _receive(self, account, data, external_id):
        """Store one update, unique per account by `external_id`, and wake the intake; return
        the stored update, or an empty recordset when it was stored already.

        The insert is idempotent under concurrency: a second request with the same update waits
        for the first transaction and then finds the row.
        """
        self.env.cr.execute(
            """
            INSERT INTO messenger_update
                (account_id, external_id, chat_key, payload, state, attempts, next_attempt_at,
                 create_uid, create_date, write_uid, write_date)
            VALUES (%s, %s, %s, %s, 'received', 0, now() at time zone 'UTC',
                    %s, now() at time zone 'UTC', %s, now() at time zone 'UTC')
            ON CONFLICT (account_id, external_id) DO NOTHING
            RETURNING id
            """,
            (
                account.id,
                external_id,
                _chat_key(account, data),
                json.dumps(data),
                self.env.uid,
                self.env.uid,
            ),
            log_exceptions=False,  # a lost race is retried, not an error
        )
        row = self.env.cr.fetchone()
        if not row:
            return self.browse()
        update = self.browse(row[0])
        update._wake_intake()
        return update

    def _wake_intake(self):
        """Trigger an intake cron for this update, when this transaction commits.

        Not ir.cron._trigger(): it stores the time to the second, and a cron run deletes the
        triggers older than its own start when it ends, so a trigger stored in the first second
        of a run could go with the update waiting for the next interval. The exact time keeps
        it; the insert is also cheaper than the ORM's for every webhook call.
        """
        xmlid = INTAKE_CRONS[self.id % len(INTAKE_CRONS)]
        cron = self.env["ir.cron"].browse(self.env["ir.model.data"]._xmlid_to_res_id(xmlid))
        self.env.cr.execute(
            """
            INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date)
            VALUES (%s, clock_timestamp() at time zone 'UTC', %s, now() at time zone 'UTC')
            """,
            (cron.id, self.env.uid),
        )
        self.env.cr.postcommit.add(cron._notifydb)

    @api.model
    def _cron_process_received(self):
        """Process the stored updates, oldest first, a batch per transaction, for at most
        INTAKE_RUN_SECONDS; tell the cron how many still wait, so that it runs again at once."""
        auto_commit = not modules.module.current_test
        done = remaining = 0
        deadline = time.monotonic() + INTAKE_RUN_SECONDS
        while True:
            batch, lease = self._take_batch(auto_commit)
            if not batch:
                break
            batch._process_batch(lease, auto_commit)
            done += len(batch)
            if time.monotonic() > deadline:
                remaining = self.search_count([("state", "=", "received")])
                break
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    @api.model
    def _take_batch(self, auto_commit):
        """Lease the next batch of due updates (see _queue_claim) and count the attempt, both
        committed before any is processed: an update whose worker died is taken again once
        the lease ran out, a bounded number of times; one taken that often is failed.
        Return the batch and the end of its lease."""
        while True:
            # due by the database's clock, which stamped them: not this server's, to the second
            due = SQL("clock_timestamp() at time zone 'UTC'")
            claim = self._queue_claim_fresh if auto_commit else self._queue_claim
            claimed = claim(due, INTAKE_BATCH_SIZE, shared_by=len(INTAKE_CRONS))
            claimed |= claimed._following_in_their_chats(INTAKE_BATCH_SIZE - len(claimed))
            exhausted = claimed.filtered(lambda update: update.attempts >= MAX_PROCESS_ATTEMPTS)
            exhausted.write(
                {"state": "failed", "error": "Processing stopped (the worker died) on every try."}
            )
            batch = claimed - exhausted
            if batch or not claimed:
                break
        lease = fields.Datetime.now() + timedelta(seconds=INTAKE_LEASE_SECONDS)
        for update in batch:
            update.attempts += 1
        batch.next_attempt_at = lease
        batch.flush_recordset(["attempts", "next_attempt_at"])
        if auto_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return batch, lease

    def _following_in_their_chats(self, limit):
        """Locked, at most `limit` of the updates waiting after these in their chats. These
        being the first waiting update of their chats, no other worker takes a later one of the
        same chats (see _queue_claim): a batch takes a chat's run of messages at once, and
        bridges them in order."""
        if not self or limit <= 0:
            return self.browse()
        self.env.cr.execute(
            """
            SELECT later.id FROM messenger_update later
              JOIN messenger_update first
                ON first.account_id = later.account_id AND first.chat_key = later.chat_key
             WHERE first.id IN %s AND later.state = 'received' AND later.id > first.id
             ORDER BY later.id LIMIT %s FOR UPDATE OF later
            """,
            (tuple(self.ids), limit),
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def _process_batch(self, lease, auto_commit):
        """Bridge these leased updates in one transaction. Their files are fetched first, before
        any chat is locked (bridging locks it): a slow download holds no chat. Only the updates
        still leased to this worker are bridged: one whose lease ran out meanwhile is another
        worker's now, never processed twice."""
        new_messages = BatchedNewMessages()
        try:
            # reading them may save an access token another worker renewed at the same moment:
            # that conflict is the batch's, given back whole (below)
            events = {update: update._events() for update in self}
            known = self.env["messenger.conversation"]._prefetch_chats(
                {
                    (update.account_id.id, event.chat_id)
                    for update, update_events in events.items()
                    if not isinstance(update_events, Exception)
                    for event in update_events
                }
            )
            open_leads = known.lead_id._messenger_open()
            with_lead = {
                (chat.account_id.id, chat.external_chat_id)
                for chat in known
                if chat.lead_id in open_leads
            }
            # the chats that make a lead last, each chat's updates in order: assigning a lead
            # locks its team's members until the batch commits, and the other intake worker
            # assigning one of the same team meanwhile waits for them, then goes back to the queue
            leased = self._still_leased(lease).sorted(
                lambda update: (update._makes_lead(events[update], with_lead), update.id)
            )
            for index, update in enumerate(leased):
                try:
                    update.with_context(**{CONTEXT_KEY: new_messages})._bridge(events[update])
                except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                    # another transaction changed what it writes (mostly: the other intake
                    # worker assigned a lead of the same team meanwhile); its savepoint is rolled
                    # back: the updates bridged before it are kept, it and the rest go back
                    leased[index:]._give_back(lease)
                    break
            new_messages.send()
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            if not auto_commit:
                raise
            # another transaction changed what this batch wrote outside any update's savepoint
            # (an access token saved while reading them, a chat): the batch is given back
            self.env.cr.rollback()
            self._give_back(lease)
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _makes_lead(self, events, with_lead):
        """Whether bridging these events of this update may make a lead: a customer's message
        in a chat not among `with_lead` ((account id, chat id) of the chats with an open lead)."""
        return not isinstance(events, Exception) and any(
            event.kind != "status" and (self.account_id.id, event.chat_id) not in with_lead
            for event in events
        )

    def _give_back(self, lease):
        """These leased updates are due again at once, without counting an attempt: taken by
        the next batch, in their chats' order."""
        self.env.cr.execute(
            """
            UPDATE messenger_update
               SET next_attempt_at = now() at time zone 'UTC', attempts = attempts - 1
             WHERE id IN %s AND state = 'received' AND next_attempt_at = %s
            """,
            (tuple(self.ids), lease),
        )
        self.invalidate_recordset(["next_attempt_at", "attempts"])

    def _still_leased(self, lease):
        """Those of these updates still leased until `lease` (to this worker), locked."""
        self.env.cr.execute(
            """
            SELECT id FROM messenger_update
             WHERE id IN %s AND state = 'received' AND next_attempt_at = %s
             ORDER BY id FOR UPDATE
            """,
            (tuple(self.ids), lease),
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def _events(self):
        """This update's events, confirmed through the API where the messenger's notifications
        prove nothing, with their files (and, where the messenger needs it, the sender's name)
        fetched; an exception when it cannot be read or is not confirmed (the update fails when
        bridged, with why)."""
        self.ensure_one()
        try:
            account = self.account_id
            events = account._provider().parse(json.loads(self.payload))
            return [
                account._fetch_file(account._fetch_sender(event))
                for event in account._confirmed(events)
            ]
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # another worker's doing, not this update's: its batch is taken again
        except Exception as exc:  # any malformed body: kept as failed, with why
            return exc

    def _process(self):
        """Bridge this update's events at once (a retry); see _process_batch for the intake."""
        self.ensure_one()
        self._bridge(self._events())

    def _bridge(self, events):
        """Bridge these events of this update; a failure is kept on it for the retry cron, never
        lost."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                if isinstance(events, Exception):
                    raise events
                account = self.account_id
                conversations = self.env["messenger.conversation"]
                for event in events:
                    if event.kind == "status":
                        self.env["messenger.outbox"]._apply_status(account, event)
                        continue
                    conversations |= conversations._bridge_inbound(
                        account, event, received_at=self.create_date
                    )
                self.write(
                    {"state": "done", "error": False, "conversation_id": conversations[:1].id}
                )
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # another transaction holds the same chat: the whole transaction is retried
        except NotConfirmed as exc:  # a forged notification: nothing to fix, kept with why
            _logger.info("messenger update %s not confirmed: %s", self.id, exc)
            self.write({"state": "failed", "error": str(exc)})
        except Exception as exc:  # any failure must leave the update retryable
            _logger.exception("messenger update %s could not be processed", self.id)
            self.write({"state": "failed", "error": f"{exc.__class__.__name__}: {exc}"})

    @api.autovacuum
    def _gc_processed(self):
        """Personal data is not kept forever: processed updates go after the retention period
        (Settings); failed ones stay for the retry cron and whoever handles them."""
        self.env["res.company"]._messenger_purge_expired(self, "done")

    def _process_again(self, commit_attempt=False):
        """One more attempt at a failed update, counted first (and committed, with
        `commit_attempt`, so that an attempt that kills the worker still counts)."""
        self.ensure_one()
        self.attempts += 1
        if commit_attempt:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        self._process()

    @api.model
    def _cron_retry_failed(self, batch_size=RETRY_BATCH_SIZE):
        """Process again the updates that failed, a bounded number of times, a batch per run.

        Each attempt is counted and committed before the update is processed again, so an update
        that kills the worker (a timeout, memory) is not retried forever; the cron runs again at
        once while more are waiting.
        """
        # the least tried first: a backlog of updates that keep failing (malformed bodies kept
        # for a look) never holds back one that failed once for a passing reason
        failed = self.search(
            [("state", "=", "failed"), ("attempts", "<", MAX_PROCESS_ATTEMPTS)],
            order="attempts, id",
            limit=batch_size + 1,
        )
        auto_commit = not modules.module.current_test
        for update in failed[:batch_size]:
            update._process_again(commit_attempt=auto_commit)
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        if len(failed) > batch_size:
            self.env.ref("messenger_leads_bot.ir_cron_messenger_update_retry")._trigger()


def _chat_key(account, data):
    """The chat an update belongs to (its first event's, by a digest of its id), None when it
    cannot be read: it is then kept as failed when processed, and holds back no chat."""
    try:
        events = account._provider().parse(data)
    except Exception:  # whatever a malformed body raises, the webhook stores it
        return None
    # a digest: a chat id may be longer than an index takes
    return hashlib.sha256(events[0].chat_id.encode()).hexdigest() if events else None
