"""What the end-to-end tests run inside Odoo, through odoo_process.run_in_odoo (never imported by
pytest itself). Each function gets the registry of the test database; its transactions commit."""

import threading
from unittest import mock

from odoo import SUPERUSER_ID, api


def _env(cr):
    return api.Environment(cr, SUPERUSER_ID, {})


def receive_while_the_bridge_fails(registry, account_id, update):
    """Store and process one update while bridging it fails, as during a short outage of what
    it needs; return the stored update's state and error."""
    failure = ConnectionError("the outage this test injects")
    conversation = registry["messenger.conversation"]
    with (
        registry.cursor() as cr,
        mock.patch.object(conversation, "_bridge_inbound", side_effect=failure),
    ):
        env = _env(cr)
        external_id = str(update["update_id"])
        account = env["messenger.bot.account"].browse(account_id)
        stored = env["messenger.update"]._receive(account, update, external_id)
        # bridged as the intake does, under the outage, before this transaction commits it:
        # the server's intake crons never see it waiting
        stored.attempts += 1
        stored._process()
        stored = env["messenger.update"].search(
            [("account_id", "=", account_id), ("external_id", "=", external_id)]
        )
        return {"state": stored.state, "error": stored.error}


def deliver_at_once(registry, account_id, chats, per_chat):
    """Queue `per_chat` replies to each chat of the account, then run two deliveries at once,
    each in its own thread with its own cursor (real transactions), as two Odoo workers do.

    Return the rows, their states after both finished, and which rows each worker claimed.
    """
    with registry.cursor() as cr:
        env = _env(cr)
        conversations = env["messenger.conversation"].search(
            [("account_id", "=", account_id), ("external_chat_id", "in", [str(c) for c in chats])]
        )
        rows = env["messenger.outbox"].create(
            [
                {
                    "conversation_id": conversation.id,
                    "text": f"race {conversation.external_chat_id} {n}",
                    "origin": "person",
                }
                for conversation in conversations
                for n in range(per_chat)
            ]
        )
        row_ids = rows.ids
    outbox = registry["messenger.outbox"]
    send_round = outbox._send_round
    claimed = {}
    errors = []
    start = threading.Barrier(2)

    def spy(self, account):
        """Who claimed which rows; the sending itself is Odoo's own."""
        if account.id == account_id:
            claimed.setdefault(threading.current_thread().name, []).extend(self.ids)
        return send_round(self, account)

    def worker():
        try:
            with registry.cursor() as cr:
                env = _env(cr)
                start.wait(timeout=30)
                env["messenger.outbox"]._deliver_due()
        except Exception as exc:  # reported to the test, not lost in a thread
            errors.append(repr(exc))

    with mock.patch.object(outbox, "_send_round", spy):
        workers = [threading.Thread(target=worker, name=f"worker {n}") for n in (1, 2)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=120)
    with registry.cursor() as cr:
        states = {row.id: row.state for row in _env(cr)["messenger.outbox"].browse(row_ids)}
    return {"rows": row_ids, "states": states, "claimed": claimed, "errors": errors}


def backdate_account(registry, account_id, days):
    """The bot account as if it was set up `days` ago: its messages may be that old (a message
    dated before its account existed counts from its receipt)."""
    with registry.cursor() as cr:
        cr.execute(
            "UPDATE messenger_bot_account SET create_date = create_date - make_interval(days => %s)"
            " WHERE id = %s",
            (days, account_id),
        )
    return True
