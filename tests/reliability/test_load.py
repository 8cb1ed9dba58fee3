"""A burst of updates from many chats, spread over two Odoo servers on the same database (each
with its HTTP and cron workers): every update stored once, one lead per chat, one ack."""

import concurrent.futures
import itertools
import os
import time

from messenger_fixtures import tg_message

from harness import TelegramSender, figure, postgres_settings, size

UPDATES = size(400, 10_000)
CHATS = size(40, 1_000)
SENDERS = 16


def test_burst_is_stored_once_with_one_lead_and_one_ack_per_chat(bot, bot_api, second_server):
    # half the chats reach the second server: each chat's updates stay on one server, in order
    urls = [bot.url, bot.url.replace(bot.odoo.url, second_server.url)]
    base = 300_000 + int(time.time()) % 100_000 * 10
    chats = [base + i for i in range(CHATS)]
    # round-robin over chats: each chat's updates stay in order within one sender
    per_chat = {chat: [] for chat in chats}
    for index, chat in zip(range(UPDATES), itertools.cycle(chats), strict=False):
        per_chat[chat].append(tg_message(chat, f"message {index}"))

    def send_chat(chat):
        sender = TelegramSender(urls[chat % 2], bot.secret)
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
    sent_ids = sorted(u["update_id"] for updates in per_chat.values() for u in updates)
    stored = bot.admin.call(
        "messenger.update", "search_read", [["account_id", "=", bot.id]], fields=["external_id"]
    )
    stored_ids = sorted(int(row["external_id"]) for row in stored)
    lost = len(set(sent_ids) - set(stored_ids))
    doubled = len(stored_ids) - len(set(stored_ids))
    leads = bot.admin.call(
        "messenger.conversation",
        "read_group",
        [["account_id", "=", bot.id]],
        ["lead_id:count_distinct"],
        [],
    )[0]["lead_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(1 for c in chats if bot_api.sent_to(c)) < CHATS:
        time.sleep(0.2)
    acks = [len(bot_api.sent_to(chat)) for chat in chats]

    figure("load", "PostgreSQL", postgres_settings(os.environ["ODOO_CONF"]))
    figure("load", "updates sent", len(sent_ids))
    figure("load", "chats", CHATS)
    figure("load", "Odoo servers on the database", len(urls))
    figure("load", "accepted", f"{len(sent_ids) / elapsed:.1f}", "updates/s")
    figure("load", "p99 latency", f"{latencies[int(len(latencies) * 0.99) - 1] * 1000:.0f}", "ms")
    figure("load", "processed", f"{len(sent_ids) / processed_in:.1f}", "updates/s")
    figure("load", "lost", lost)
    figure("load", "doubled", doubled)
    figure("load", "leads", leads)
    figure("load", "chats acknowledged once", sum(1 for n in acks if n == 1))
    assert all_processed, "updates left unprocessed"
    assert (lost, doubled) == (0, 0)
    assert leads == CHATS
    assert acks == [1] * CHATS
