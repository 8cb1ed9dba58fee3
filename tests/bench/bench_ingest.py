"""Update in -> lead, thread message and acknowledgement out, against Odoo with 2 workers."""

import concurrent.futures
import os
import statistics
import time

from messenger_fixtures import BotAccount, FakeBotApi, tg_message

from benchlib import report
from odoo_server import OdooServer

CUSTOMERS = 100
MESSAGES_PER_CUSTOMER = 10
CLIENTS = 8  # concurrent senders; messages of one chat stay in order, as Telegram sends them


def conversation_latencies(bot, api, chat_id):
    """Send one customer's messages in order; return each one's latency in seconds."""
    latencies = []
    for index in range(MESSAGES_PER_CUSTOMER):
        began = time.perf_counter()
        answer = bot.post(tg_message(chat_id, f"message {index}"))
        assert answer.status_code == 200, answer.text
        if index == 0:  # the first message also waits for the acknowledgement to arrive
            assert api.wait_sent(chat_id, 1, timeout=30), f"no acknowledgement for {chat_id}"
        latencies.append(time.perf_counter() - began)
    return latencies


def main():
    state = os.path.dirname(os.environ["ODOO_CONF"])
    server = OdooServer(
        os.environ["ODOO_CONF"],
        os.environ["ML_BENCH_DB"],
        os.path.join(state, "log", "bench-ingest-odoo.log"),
        workers=2,
    )
    with FakeBotApi() as api:
        server.start()
        try:
            bot = BotAccount(server, server.rpc("admin", "admin"), api, f"bench{int(time.time())}")
            chats = [7_000_000 + int(time.time()) % 100_000 * 100 + i for i in range(CUSTOMERS)]
            began = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
                results = list(pool.map(lambda chat: conversation_latencies(bot, api, chat), chats))
            elapsed = time.perf_counter() - began
        finally:
            server.stop()
    latencies = sorted(latency for chat in results for latency in chat)
    acknowledged = sum(1 for chat in chats if api.sent_to(chat))
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    report("ingest", p50, "ms p50", "-")
    report("ingest", p99, "ms p99", "<= 300 ms")
    report("ingest", len(latencies) / elapsed, "updates/s", ">= 50 updates/s")
    report("ingest", acknowledged, f"of {CUSTOMERS} customers acknowledged", f"{CUSTOMERS}")


if __name__ == "__main__":
    main()
