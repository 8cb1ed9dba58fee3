"""A burst of updates from many chats, spread over two Odoo servers on the same database (each
with its HTTP and cron workers): every update stored once, one lead per chat, one ack. Telegram
at full size, then every other messenger at once, scaled down, each on its own account."""

import concurrent.futures
import contextlib
import itertools
import os
import time

import pytest
from messenger_fixtures import MESSENGERS, messenger_account, tg_message

from harness import WebhookSender, figure, leads_of, lost_and_doubled, postgres_settings, size

UPDATES = size(400, 10_000)
CHATS = size(40, 1_000)
SENDERS = 16
# every other messenger: chats of each and updates per chat
OTHERS = sorted(code for code in MESSENGERS if code != "telegram")
CHATS_EACH = size(6, 100)
PER_CHAT_EACH = size(5, 10)


def wait_acknowledged(api, chats, seconds=60):
    """Each chat's count of messages the fake API got, once each got one or time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(api.sent_to(chat) for chat in chats):
        time.sleep(0.2)
    return [len(api.sent_to(chat)) for chat in chats]


def test_burst_is_stored_once_with_one_lead_and_one_ack_per_chat(bot, bot_api, second_server):
    # half the chats reach the second server: each chat's updates stay on one server, in order
    servers = [None, second_server.url]
    base = 300_000 + int(time.time()) % 100_000 * 10
    chats = [base + i for i in range(CHATS)]
    # round-robin over chats: each chat's updates stay in order within one sender
    per_chat = {chat: [] for chat in chats}
    for index, chat in zip(range(UPDATES), itertools.cycle(chats), strict=False):
        per_chat[chat].append(tg_message(chat, f"message {index}"))

    def send_chat(chat):
        sender = WebhookSender(bot, servers[chat % 2])
        latencies = []
        for update in per_chat[chat]:
            response, seconds = sender.deliver(update)
            assert response.status_code == 200, response.text
            latencies.append(seconds)
        return latencies

    began = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(SENDERS) as pool:
        latencies = sorted(x for chat in pool.map(send_chat, chats) for x in chat)
    elapsed = time.perf_counter() - began

    all_processed = bot.all_processed(300)
    processed_in = time.perf_counter() - began
    updates = [update for chat_updates in per_chat.values() for update in chat_updates]
    lost, doubled = lost_and_doubled(bot, updates)
    leads = leads_of(bot)
    acks = wait_acknowledged(bot_api, chats)

    figure("load", "PostgreSQL", postgres_settings(os.environ["ODOO_CONF"]))
    figure("load", "updates sent", len(updates))
    figure("load", "chats", CHATS)
    figure("load", "Odoo servers on the database", len(servers))
    figure("load", "accepted", f"{len(updates) / elapsed:.1f}", "updates/s")
    figure("load", "p99 latency", f"{latencies[int(len(latencies) * 0.99) - 1] * 1000:.0f}", "ms")
    figure("load", "processed", f"{len(updates) / processed_in:.1f}", "updates/s")
    figure("load", "lost", lost)
    figure("load", "doubled", doubled)
    figure("load", "leads", leads)
    figure("load", "chats acknowledged once", sum(1 for n in acks if n == 1))
    assert all_processed, "updates left unprocessed"
    assert (lost, doubled) == (0, 0)
    assert leads == CHATS
    assert acks == [1] * CHATS


@pytest.fixture
def accounts(workers_server):
    """A bot account of every messenger but Telegram, each with its team and fake API."""
    run = int(time.time()) % 1_000_000
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(messenger_account(workers_server, code, f"load_{code}_{run}"))
            for code in OTHERS
        ]


def test_every_messenger_stores_each_update_once_with_one_lead_and_one_ack(accounts, second_server):
    """All the other messengers' chats at once, half of each messenger's on either server."""
    servers = [None, second_server.url]
    base = 400_000 + int(time.time()) % 100_000 * 100
    chats = {
        account.id: [account.messenger.chat(base + n) for n in range(CHATS_EACH)]
        for account in accounts
    }
    # each chat's updates in order from one sender, on one server
    work = [
        (
            account,
            servers[n % 2],
            [account.message(chat, f"message {i}") for i in range(PER_CHAT_EACH)],
        )
        for account in accounts
        for n, chat in enumerate(chats[account.id])
    ]

    def send_chat(task):
        account, server_url, updates = task
        sender = WebhookSender(account, server_url)
        for update in updates:
            response, _seconds = sender.deliver(update)
            assert response.status_code == 200, (account.messenger.code, response.text)

    began = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(send_chat, work))
    elapsed = time.perf_counter() - began
    unprocessed = [account.messenger.code for account in accounts if not account.all_processed(300)]
    processed_in = time.perf_counter() - began

    figure("load", "every other messenger, updates sent", len(work) * PER_CHAT_EACH)
    figure(
        "load",
        "every other messenger, accepted",
        f"{len(work) * PER_CHAT_EACH / elapsed:.1f}",
        "updates/s",
    )
    figure(
        "load",
        "every other messenger, processed",
        f"{len(work) * PER_CHAT_EACH / processed_in:.1f}",
        "updates/s",
    )
    results, expected = {}, {}
    for account in accounts:
        code = account.messenger.code
        updates = [update for task in work if task[0] is account for update in task[2]]
        lost, doubled = lost_and_doubled(account, updates)
        acks = wait_acknowledged(account.api, chats[account.id])
        once = sum(1 for n in acks if n == 1)
        leads = leads_of(account)
        figure(
            "load", f"{code}: updates sent / lost / doubled", f"{len(updates)} / {lost} / {doubled}"
        )
        figure(
            "load", f"{code}: leads / chats acknowledged once", f"{leads} / {once} of {CHATS_EACH}"
        )
        results[code] = (lost, doubled, leads, once)
        expected[code] = (0, 0, CHATS_EACH, CHATS_EACH)
    assert unprocessed == [], "updates left unprocessed"
    assert results == expected, "(lost, doubled, leads, chats acknowledged once) per messenger"
