"""Faults while traffic flows: Odoo killed, PostgreSQL crashed, the Bot API failing.

PostgreSQL runs as in production (fsync, synchronous_commit and full_page_writes on) in a cluster
of the suite's own, and is stopped the hard way: an immediate shutdown, then crash recovery.

After recovery every update is stored once, every chat has its lead and its acknowledgement, and
the outbox is empty.
"""

import os
import signal
import threading
import time

import pytest
from durable_pg import DurableCluster
from messenger_fixtures import BotAccount, tg_message

from harness import FULL, TelegramSender, figure, size
from odoo_server import OdooServer

CHATS = size(12, 200)
PER_CHAT = size(6, 20)


@pytest.fixture
def cluster(state_dir):
    cluster = DurableCluster(
        state_dir, "faults", os.environ["ODOO_CONF"], os.environ["ML_TEST_DB"]
    ).start()
    yield cluster
    cluster.remove()


@pytest.fixture
def server(cluster, state_dir):
    server = OdooServer(
        cluster.conf,
        cluster.database,
        os.path.join(state_dir, "log", "reliability-faults.log"),
        workers=2,
    ).start()
    yield server
    server.stop()


@pytest.fixture
def bot(server, bot_api):
    return BotAccount(server, server.rpc("admin", "admin"), bot_api, "faults")


class Traffic(threading.Thread):
    """Customers writing, delivered as Telegram does (again until Odoo accepts)."""

    def __init__(self, bot, updates):
        super().__init__()
        self.updates = updates
        self.sender = TelegramSender(bot.url, bot.secret, deadline_seconds=300)
        self.sent = 0
        self.refused = []

    def run(self):
        for update in self.updates:
            response, _seconds = self.sender.deliver(update)
            if response.status_code != 200:
                self.refused.append(response.status_code)
            self.sent += 1
            time.sleep(0.01)

    def wait_for(self, share):
        while self.sent < len(self.updates) * share and self.is_alive():
            time.sleep(0.05)


def drain_outbox(bot, seconds=120):
    """Run the delivery cron until nothing is queued; return what is still queued."""
    deadline = time.monotonic() + seconds
    while True:
        queued = bot.admin.call(
            "messenger.outbox",
            "search_count",
            [["account_id", "=", bot.id], ["state", "=", "queued"]],
        )
        if not queued or time.monotonic() > deadline:
            return queued
        time.sleep(1)
        bot.run_outbox_cron()


def test_nothing_lost_or_doubled_through_faults(cluster, server, bot, bot_api):
    figure("faults", "PostgreSQL", cluster.settings())
    base = 700_000 + int(time.time()) % 100_000 * 10
    chats = [base + i for i in range(CHATS)]
    traffic = Traffic(bot, [tg_message(c, f"message {n}") for n in range(PER_CHAT) for c in chats])
    traffic.start()
    traffic.wait_for(0.25)
    server.stop(signal.SIGKILL)
    time.sleep(1)
    server.start()
    traffic.wait_for(0.5)
    cluster.crash_and_restart()
    traffic.wait_for(0.75)
    bot_api.fail_next("sendMessage", 500, times=3)
    bot_api.fail_next("sendMessage", 429, retry_after=1, times=2)
    bot_api.fail_next("sendMessage", 0, times=2)  # connection dropped
    if FULL:
        bot_api.fail_next("sendMessage", -12)  # longer than the client's 10 s timeout
    traffic.join(timeout=600)
    assert not traffic.is_alive() and traffic.refused == []
    queued = drain_outbox(bot)

    stored = bot.admin.call(
        "messenger.update", "search_read", [["account_id", "=", bot.id]], fields=["external_id"]
    )
    stored_ids = [int(row["external_id"]) for row in stored]
    lost = len({u["update_id"] for u in traffic.updates} - set(stored_ids))
    doubled = len(stored_ids) - len(set(stored_ids))
    messages = sum(len(bot.customer_messages(chat)) for chat in chats)
    acks = [len(bot_api.sent_to(chat)) for chat in chats]
    figure("faults", "updates sent", len(traffic.updates))
    figure("faults", "redeliveries by the sender", traffic.sender.retries)
    figure("faults", "lost", lost)
    figure("faults", "doubled", doubled)
    figure("faults", "customer messages in threads", messages)
    figure("faults", "outbox rows still queued", queued)
    figure("faults", "chats acknowledged exactly once", sum(1 for n in acks if n == 1))
    assert (lost, doubled, queued) == (0, 0, 0)
    assert messages == len(traffic.updates), "one thread message per update"
    assert acks == [1] * CHATS
