from odoo import fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL
from odoo.tools.sql import create_index

CLAIM_TRIES = 5


def on_new_snapshots(cr, work, default=None, tries=CLAIM_TRIES):
    """`work()` at the start of a transaction of its own (the caller commits before). When
    PostgreSQL refuses it because another transaction committed a conflicting change after
    its snapshot (could not serialize), it is rolled back and done again on a new snapshot, at
    most `tries` times; `default` when it never gets through."""
    for _try in range(tries):
        try:
            return work()
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            cr.rollback()
    return default


def retry_delay(attempts, retry_after=0.0):
    """Seconds before the next try: what the messenger asked for (429), else exponential."""
    return retry_after or min(2**attempts, 600)


class MessengerQueue(models.AbstractModel):
    """What the intake (messenger.update) and the delivery (messenger.outbox) queues share:
    attempts, the last error, when a row is next due, and claiming due rows in order per chat
    without two workers (or two Odoo servers) ever taking the same row."""

    _name = "messenger.queue"
    _description = "Messenger queue"
    # the columns that make one chat: a chat's rows are taken in the order they came
    _queue_chat_columns = ()
    _queue_waiting_state = ""  # the state of a row still to be done

    attempts = fields.Integer(default=0)
    error = fields.Text()
    next_attempt_at = fields.Datetime(default=fields.Datetime.now, required=True)

    def init(self):
        if self._abstract:
            return
        create_index(
            self.env.cr,
            f"{self._table}_due_index",
            self._table,
            ["next_attempt_at", "id"],
            where=f"state = '{self._queue_waiting_state}'",
        )
        create_index(  # "does an earlier row of this chat still wait?" (_queue_claim)
            self.env.cr,
            f"{self._table}_queued_chat_index",
            self._table,
            [*self._queue_chat_columns, "id"],
            where=f"state = '{self._queue_waiting_state}'",
        )

    def _queue_claim(self, due_at, limit, only_ids=None, per_account=None, shared_by=1):
        """Lock and return the rows due at `due_at`, oldest first, at most `limit` (None: no
        limit): of each chat only its first waiting row. A later row waits while an earlier one
        of its chat waits (for its retry, or being done by another worker), so a chat's rows are
        done in order; rows other workers hold are skipped, never done twice. With
        `per_account` ({provider code: rows}), at most that many of each bot account of the
        provider, those other workers hold counted: a busy account takes none of another's.
        With `shared_by` workers, at most a share of the chats due (one at least): a worker
        taking every chat of a short burst would leave the others nothing to do."""
        if only_ids is not None and not only_ids:
            return self.browse()
        pace_columns = ["account_id"] if per_account else []
        self.flush_model(["state", "next_attempt_at", *pace_columns, *self._queue_chat_columns])
        table = SQL.identifier(self._table)
        same_chat = SQL(" AND ").join(
            SQL("earlier.%s = queued.%s", SQL.identifier(column), SQL.identifier(column))
            for column in self._queue_chat_columns
        )
        waiting = SQL(
            """
            queued.state = %(waiting)s AND queued.next_attempt_at <= %(due_at)s %(only)s
            AND NOT EXISTS (
                SELECT FROM %(table)s earlier
                 WHERE %(same_chat)s AND earlier.state = %(waiting)s AND earlier.id < queued.id)
            """,
            table=table,
            waiting=self._queue_waiting_state,
            due_at=due_at,
            only=SQL("AND queued.id IN %s", tuple(only_ids)) if only_ids else SQL(),
            same_chat=same_chat,
        )
        if per_account:  # the first rows of each account, as many as its provider's cap
            waiting = SQL(
                """
                queued.id IN (
                    SELECT ranked.id FROM (
                        SELECT queued.id, account.provider, row_number() OVER (
                                   PARTITION BY queued.account_id ORDER BY queued.id) AS rank
                          FROM %(table)s queued
                          JOIN messenger_bot_account account ON account.id = queued.account_id
                         WHERE %(waiting)s
                    ) ranked
                    JOIN (VALUES %(caps)s) AS cap (provider, most) ON cap.provider = ranked.provider
                    WHERE ranked.rank <= cap.most)
                """,
                table=table,
                waiting=waiting,
                caps=SQL(", ").join(SQL("(%s, %s)", *item) for item in per_account.items()),
            )
        if shared_by > 1 and limit:
            limit = SQL(
                """
                GREATEST(1, LEAST(%(limit)s, (
                    SELECT ceil(count(*) / %(shared_by)s::numeric)::int FROM (
                        SELECT FROM %(table)s queued WHERE %(waiting)s LIMIT %(counted)s
                    ) AS due_chats)))
                """,
                limit=limit,
                shared_by=shared_by,
                table=table,
                waiting=waiting,
                counted=limit * shared_by,
            )
        self.env.cr.execute(
            SQL(
                """
                SELECT queued.id FROM %(table)s queued WHERE %(waiting)s
                 ORDER BY queued.id LIMIT %(limit)s FOR UPDATE OF queued SKIP LOCKED
                """,
                table=table,
                waiting=waiting,
                limit=limit,
            ),
            log_exceptions=False,  # a lock refused on an older snapshot: see _queue_claim_fresh
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def _queue_claim_fresh(self, due_at, limit, only_ids=None, per_account=None, shared_by=1):
        """_queue_claim as the first statement of a transaction of its own (the caller commits
        before): another worker taking or finishing rows after this transaction's snapshot
        makes PostgreSQL refuse to lock them (could not serialize), and the claim is simply
        tried again on a new snapshot. Nothing when it never gets through."""
        return on_new_snapshots(
            self.env.cr,
            lambda: self._queue_claim(due_at, limit, only_ids, per_account, shared_by),
            default=self.browse(),
        )
