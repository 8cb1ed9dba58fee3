"""Update in -> lead, thread message and acknowledgement out, against Odoo with 2 workers.

Then, on the same server under the same load, Odoo's own Discuss: a user posting the same
number of messages into channels through /mail/message/post, the floor under every update
since each customer message is posted into its Discuss thread. Last, in one process, what one
update costs on the server (time and queries, a new customer and a follow-up message).
"""

import concurrent.futures
import os
import statistics
import threading
import time

import requests
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


def run_load(conversation, keys):
    """Each key's conversation on CLIENTS concurrent senders: (latencies, seconds elapsed)."""
    began = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(conversation, keys))
    return sorted(latency for chat in results for latency in chat), time.perf_counter() - began


def report_load(latencies, elapsed, label, goals):
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    report("ingest", p50, f"ms p50{label}", "-")
    report("ingest", p99, f"ms p99{label}", goals[0])
    report("ingest", len(latencies) / elapsed, f"updates/s{label}", goals[1])


class DiscussUser:
    """A logged-in user posting into Discuss channels as the web client does, one session per
    sender thread."""

    def __init__(self, server, login="admin", password="admin"):
        self.server = server
        self.credentials = {"db": server.database, "login": login, "password": password}
        self.local = threading.local()

    def _session(self):
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self._json("/web/session/authenticate", self.credentials)
        return self.local.session

    def _json(self, path, params):
        answer = self._session().post(
            f"{self.server.url}{path}", json={"jsonrpc": "2.0", "params": params}, timeout=60
        )
        assert "result" in answer.json(), answer.text
        return answer.json()["result"]

    def post(self, channel_id, text):
        post_data = {"body": text, "message_type": "comment", "subtype_xmlid": "mail.mt_comment"}
        params = {"thread_model": "discuss.channel", "thread_id": channel_id}
        self._json("/mail/message/post", {**params, "post_data": post_data})


def discuss_latencies(user, channel_id):
    latencies = []
    for index in range(MESSAGES_PER_CUSTOMER):
        began = time.perf_counter()
        user.post(channel_id, f"message {index}")
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
    """Median cost of one update processed in-process; rolled back."""
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
    for label, costs in (("new customer", first), ("follow-up message", follow_up)):
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
            ingest = run_load(lambda chat: conversation_latencies(bot, api, chat), chats)
            acknowledged = sum(1 for chat in chats if api.sent_to(chat))
            channels = [
                bot.admin.call("discuss.channel", "create", {"name": f"bench {chat}"})
                for chat in chats
            ]
            user = DiscussUser(server)
            floor = run_load(lambda channel: discuss_latencies(user, channel), channels)
        finally:
            server.stop()
    report_load(*ingest, "", ("<= 300 ms", ">= 50 updates/s"))
    report("ingest", acknowledged, f"of {CUSTOMERS} customers acknowledged", f"{CUSTOMERS}")
    report_load(*floor, ", Odoo's own Discuss posts (the floor)", ("-", "-"))
    server_side_costs(bot.id)


if __name__ == "__main__":
    main()
