import json
import logging

from odoo import api, fields, models, modules
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

_logger = logging.getLogger(__name__)

MAX_PROCESS_ATTEMPTS = 5
RETRY_BATCH_SIZE = 50  # updates per run of the retry cron


class MessengerUpdate(models.Model):
    """A raw update as the messenger sent it, stored once before anything else happens."""

    _name = "messenger.update"
    _description = "Messenger update"
    _order = "id desc"

    account_id = fields.Many2one(
        "messenger.bot.account", required=True, ondelete="cascade", index=True
    )
    external_id = fields.Char(string="Update ID", required=True)
    payload = fields.Text(required=True)
    state = fields.Selection(
        [("received", "Received"), ("done", "Processed"), ("failed", "Failed")],
        default="received",
        required=True,
        index=True,
    )
    attempts = fields.Integer(default=0)
    error = fields.Text()
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
        """Store and process one update, unique per account by `external_id`; return False when
        it was already stored.

        The insert is idempotent under concurrency: a second request with the same update waits
        for the first transaction and then finds the row.
        """
        self.env.cr.execute(
            """
            INSERT INTO messenger_update
                (account_id, external_id, payload, state, attempts,
                 create_uid, create_date, write_uid, write_date)
            VALUES (%s, %s, %s, 'received', 1, %s, now() at time zone 'UTC', %s,
                    now() at time zone 'UTC')
            ON CONFLICT (account_id, external_id) DO NOTHING
            RETURNING id
            """,
            (account.id, external_id, json.dumps(data), self.env.uid, self.env.uid),
            log_exceptions=False,  # a lost race is retried, not an error
        )
        row = self.env.cr.fetchone()
        if not row:
            return False
        self.browse(row[0])._process(account, data)
        return True

    def _process(self, account, data):
        """Bridge this update's events; a failure is kept on it for the retry cron, never lost."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                conversations = self.env["messenger.conversation"]
                # files first: a slow download must not hold the chat, which bridging locks
                events = [account._fetch_file(event) for event in account._provider().parse(data)]
                for event in events:
                    if event.kind == "status":
                        self.env["messenger.outbox"]._apply_status(account, event)
                        continue
                    conversations |= conversations._bridge_inbound(account, event)
                self.write(
                    {"state": "done", "error": False, "conversation_id": conversations[:1].id}
                )
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # another request holds the same chat: Odoo retries the whole request
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
        self._process(self.account_id, json.loads(self.payload))

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
