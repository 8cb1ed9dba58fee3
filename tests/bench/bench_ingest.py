"""Update in -> lead, thread message and acknowledgement out, against Odoo with 2 workers.

Then, in one process, what one update costs on the server (time and queries, a new customer
and a follow-up message) and what Odoo's own Discuss message_post costs alone: the floor under
every update, since each customer message is posted into its Discuss thread.
"""

import concurrent.futures
import os
import statistics
import time

from messenger_fixtures import BotAccount, FakeBotApi, tg_message

from benchlib import odoo_env, report
from odoo_server import OdooServer

CUSTOMERS = 100
MESSAGES_PER_CUSTOMER = 10
CLIENTS = 8  # concurrent senders; messages of one chat stay in order, as Telegram sends them
SERVER_SIDE_CUSTOMERS = 20


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


def timed(env, work):
    """(milliseconds, queries) of work(), flushed, with an empty cache as a request has."""
    env.invalidate_all()
    queries, began = env.cr.sql_log_count, time.perf_counter()
    work()
    env.flush_all()
    return (time.perf_counter() - began) * 1000, env.cr.sql_log_count - queries


def server_side_costs(account_id):
    """Median cost of one update processed in-process, and of message_post alone; rolled back."""
    with odoo_env() as env:
        account = env["messenger.bot.account"].browse(account_id)
        updates = env["messenger.update"].sudo()
        first, follow_up = [], []
        for customer in range(SERVER_SIDE_CUSTOMERS):
            for index in range(MESSAGES_PER_CUSTOMER):
                update = tg_message(6_000_000 + customer, f"message {index}")
                cost = timed(
                    env, lambda u=update: updates._receive(account, u, str(u["update_id"]))
                )
                (follow_up if index else first).append(cost)
        thread = env["discuss.channel"].create({"name": "bench thread", "channel_type": "group"})
        thread.add_members(partner_ids=env.user.partner_id.ids)
        customer = env["res.partner"].create({"name": "bench customer"})
        posts = [
            timed(
                env,
                lambda n=n: thread.message_post(
                    body=f"message {n}", author_id=customer.id, message_type="comment"
                ),
            )
            for n in range(100)
        ]
    for label, costs in (
        ("new customer", first),
        ("follow-up message", follow_up),
        ("Discuss message_post alone", posts),
    ):
        report("ingest", statistics.median(c[0] for c in costs), f"ms server side, {label}", "-")
        report("ingest", statistics.median(c[1] for c in costs), f"queries, {label}", "-")


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
    server_side_costs(bot.id)


if __name__ == "__main__":
    main()
