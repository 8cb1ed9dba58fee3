"""Faults while traffic flows: Odoo killed, PostgreSQL crashed, the Bot API failing on sends,
with two Odoo servers (each with its HTTP and cron workers) on the same database.

PostgreSQL runs as in production (fsync, synchronous_commit and full_page_writes on) in a cluster
of the suite's own, and is stopped the hard way: an immediate shutdown, then crash recovery. The
fake Bot API fails (500, 429, dropped connections, a timeout) while the acknowledgements go out
and again while the salespeople's replies do, and counts the failures it actually returned.

After recovery every update is stored once, every chat has its lead, its acknowledgement and its
salesperson's reply each delivered exactly once, every injected failure was consumed by a send,
and the outbox is empty.
"""

import os
import signal
import threading
import time

import pytest
from durable_pg import DurableCluster
from messenger_fixtures import BotAccount, tg_message

from harness import TelegramSender, figure, postgres_settings, size
from odoo_server import OdooServer

CHATS = size(12, 200)
PER_CHAT = size(6, 20)
TIMEOUT = -12  # the fake waits longer than the client's 10 s timeout
# (status, retry_after, times) injected on sendMessage; status 0 drops the connection
ACK_FAILURES = [(500, 0, 3), (429, 1, 2), (0, 0, 2)]
REPLY_FAILURES = [(500, 0, 3), (429, 1, 2), (0, 0, 2), (TIMEOUT, 0, 1)]


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
def second_server(cluster, state_dir):
    """Another Odoo server on the same database, as a second machine would be."""
    server = OdooServer(
        cluster.conf,
        cluster.database,
        os.path.join(state_dir, "log", "reliability-faults-second.log"),
        workers=2,
    ).start()
    yield server
    server.stop()


@pytest.fixture
def bot(server, bot_api):
    bot = BotAccount(server, server.rpc("admin", "admin"), bot_api, "faults")
    member = bot.admin.call(
        "crm.team.member",
        "search",
        [["crm_team_id", "=", bot.team_id], ["user_id", "=", bot.seller_id]],
    )
    # every chat goes to the one salesperson, who answers them all
    bot.admin.call(
        "crm.team.member",
        "write",
        member,
        {"messenger_capacity": CHATS, "messenger_chat_capacity": CHATS},
    )
    return bot


class Traffic(threading.Thread):
    """Customers writing, delivered as Telegram does (again until Odoo accepts), each chat to
    one of the Odoo servers (by its id's parity, so that its messages stay in order)."""

    def __init__(self, bot, updates, urls):
        super().__init__()
        self.updates = updates
        self.senders = [TelegramSender(url, bot.secret, deadline_seconds=300) for url in urls]
        self.sent = 0
        self.refused = []

    @property
    def retries(self):
        return sum(sender.retries for sender in self.senders)

    def run(self):
        for update in self.updates:
            sender = self.senders[update["message"]["chat"]["id"] % len(self.senders)]
            response, _seconds = sender.deliver(update)
            if response.status_code != 200:
                self.refused.append(response.status_code)
            self.sent += 1
            time.sleep(0.01)

    def wait_for(self, share):
        while self.sent < len(self.updates) * share and self.is_alive():
            time.sleep(0.05)


class OutboxCron(threading.Thread):
    """Odoo's delivery cron run every 2 seconds besides the cron workers' own runs, which wait
    for their next wake-up after a retry's delay; a run that fails because Odoo or PostgreSQL
    is down is simply the next one's work."""

    def __init__(self, bot):
        super().__init__(daemon=True)
        self.bot = bot
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(2):
            try:
                self.bot.run_outbox_cron()
            except Exception:  # Odoo killed, PostgreSQL restarting: the next run will do
                continue


def inject(bot_api, failures):
    for status, retry_after, times in failures:
        bot_api.fail_next("sendMessage", status, retry_after=retry_after, times=times)
    return sum(times for _status, _retry_after, times in failures)


def wait_until(predicate, seconds):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.5)
    return predicate()


def drain_outbox(bot, seconds=180):
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


def reply(server, bot, chat, text):
    conversation = bot.conversation(chat)
    server.rpc(bot.seller_login, bot.seller_login).call(
        "discuss.channel",
        "message_post",
        [conversation["discuss_channel_id"][0]],
        body=text,
        message_type="comment",
        subtype_xmlid="mail.mt_comment",
    )


def test_nothing_lost_or_doubled_through_faults(cluster, server, second_server, bot, bot_api):
    figure("faults", "PostgreSQL", postgres_settings(cluster.conf))
    base = 700_000 + int(time.time()) % 100_000 * 10
    chats = [base + i for i in range(CHATS)]
    replies = {chat: f"Salesperson's answer to {chat}" for chat in chats}
    urls = [bot.url, bot.url.replace(server.url, second_server.url)]
    traffic = Traffic(
        bot, [tg_message(c, f"message {n}") for n in range(PER_CHAT) for c in chats], urls
    )
    cron = OutboxCron(bot)

    # the first round of messages makes the leads: their acknowledgements meet these failures
    injected_on_acks = inject(bot_api, ACK_FAILURES)
    traffic.start()
    cron.start()
    traffic.wait_for(0.25)
    server.stop(signal.SIGKILL)  # the first server only: the second goes on
    time.sleep(1)
    server.start()
    traffic.wait_for(0.5)
    cluster.crash_and_restart()
    traffic.wait_for(0.6)
    assert wait_until(lambda: all(bot_api.sent_to(chat) for chat in chats), 180), (
        "not every chat was acknowledged"
    )
    acks_failed = len(bot_api.failures_returned)

    # the salespeople answer while customers still write: their replies meet these failures
    injected_on_replies = inject(bot_api, REPLY_FAILURES)
    for chat in chats:
        reply(server, bot, chat, replies[chat])
    traffic.join(timeout=600)
    assert not traffic.is_alive() and traffic.refused == []
    cron.stopped.set()
    cron.join(timeout=60)
    all_processed = bot.all_processed(180)  # a batch the kill interrupted waits for its lease
    queued = drain_outbox(bot)

    lost, doubled = lost_and_doubled(bot, traffic.updates)
    messages = sum(len(bot.customer_messages(chat)) for chat in chats)
    acks, answers, consumed, on_replies = deliveries(bot_api, replies)
    figure("faults", "Odoo servers on the database", len(urls))
    figure("faults", "updates sent", len(traffic.updates))
    figure("faults", "redeliveries by the sender", traffic.retries)
    figure("faults", "lost", lost)
    figure("faults", "doubled", doubled)
    figure("faults", "customer messages in threads", messages)
    figure("faults", "outbox rows still queued", queued)
    figure(
        "faults",
        "Bot API failures injected / consumed",
        f"{injected_on_acks + injected_on_replies} / {consumed}"
        f" ({consumed - on_replies} on acknowledgements, {on_replies} on salespeople's replies)",
    )
    figure("faults", "chats acknowledged exactly once", acks.count(1))
    figure("faults", "salespeople's replies delivered exactly once", answers.count(1))
    assert all_processed, "updates left unprocessed"
    assert (lost, doubled, queued) == (0, 0, 0)
    assert messages == len(traffic.updates), "one thread message per update"
    assert acks_failed == injected_on_acks, "every failure meant for the acknowledgements hit one"
    assert consumed == injected_on_acks + injected_on_replies, "an injected failure met no send"
    assert on_replies == injected_on_replies, "the replies met their failures"
    assert acks == [1] * CHATS, "each acknowledgement delivered exactly once"
    assert answers == [1] * CHATS, "each salesperson's reply delivered exactly once"


def lost_and_doubled(bot, updates):
    """How many of the updates sent were not stored, and how many were stored twice."""
    stored = bot.admin.call(
        "messenger.update", "search_read", [["account_id", "=", bot.id]], fields=["external_id"]
    )
    stored_ids = [int(row["external_id"]) for row in stored]
    lost = len({u["update_id"] for u in updates} - set(stored_ids))
    return lost, len(stored_ids) - len(set(stored_ids))


def deliveries(bot_api, replies):
    """What the fake Bot API received: per chat the acknowledgements and the replies delivered,
    and the injected failures it returned, in all and to replies."""
    acks, answers = [], []
    for chat, reply_text in replies.items():
        texts = [message["text"] for message in bot_api.sent_to(chat)]
        answers.append(texts.count(reply_text))
        acks.append(len(texts) - answers[-1])
    consumed = [
        params for method, _s, params in bot_api.failures_returned if method == "sendMessage"
    ]
    on_replies = sum(1 for params in consumed if params.get("text") in replies.values())
    return acks, answers, len(consumed), on_replies
