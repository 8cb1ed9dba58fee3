"""Update in -> lead, thread message and acknowledgement out, against Odoo with 2 workers.

The bot's team is of a realistic size with room for every customer: 10 salespeople online,
each with room for 20 open leads and 12 live chats (all the run's chats stay live for the
hour they count in), so every new customer's lead is really assigned to one of them.
Then, on the same server under the same load, Odoo's own Discuss: a user posting the same
number of messages into channels through /mail/message/post, the floor under every update
since each customer message is posted into its Discuss thread. Last, in one process, what one
update costs on the server (time and queries, a new customer and a follow-up message), each
update in its own transaction and committed as the webhook's request does, the work done after
the commit (the acknowledgement's delivery, the bus notifications) included.
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
SALESPEOPLE = 10  # the fixture's seller and 9 more
CAPACITY = 20  # open leads each: room for the 120 customers of the run
CHAT_CAPACITY = 12  # live chats each: room for the 120 chats of the run


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


def staff_team(registry, bench_env, bot):
    """The bot's team at a realistic size, every member online with room; its salespeople.
    Committed, for the server to see."""
    with registry.cursor() as cr:
        env = bench_env(cr=cr)
        team = env["crm.team"].browse(bot.team_id)
        others = env["res.users"].create(
            [
                {
                    "name": f"Bench salesperson {n}",
                    "login": f"bench_ingest_{time.time_ns()}_{n}",
                    "groups_id": [(4, env.ref("sales_team.group_sale_salesman").id)],
                }
                for n in range(1, SALESPEOPLE)
            ]
        )
        salespeople = env["res.users"].browse(bot.seller_id) | others
        env["bus.presence"].create(
            [{"user_id": user.id, "status": "online"} for user in salespeople]
        )
        room = {"messenger_capacity": CAPACITY, "messenger_chat_capacity": CHAT_CAPACITY}
        team.crm_team_member_ids.write(room)
        team.write(
            {
                "messenger_require_presence": True,
                "crm_team_member_ids": [(0, 0, {"user_id": user.id, **room}) for user in others],
            }
        )
        return salespeople.ids


def assigned_customers(bot, chats, salespeople):
    """How many of the chats' leads a salesperson of the team got (not the leader, not none)."""
    leads = bot.admin.call(
        "messenger.conversation",
        "search_read",
        [["account_id", "=", bot.id], ["external_chat_id", "in", [str(chat) for chat in chats]]],
        fields=["lead_id"],
    )
    lead_ids = [row["lead_id"][0] for row in leads if row["lead_id"]]
    return bot.admin.call(
        "crm.lead", "search_count", [["id", "in", lead_ids], ["user_id", "in", salespeople]]
    )


def committed_cost(registry, bench_env, public_uid, account_id, update):
    """(ms until committed, ms of it processing, queries) of one update, processed as the
    webhook does: as the public user through sudo, in its own transaction, committed (which
    runs the after-commit work: the acknowledgement's delivery, the bus notifications)."""
    with registry.cursor() as cr:
        began = time.perf_counter()
        request_env = bench_env(cr=cr, user=public_uid)
        account = request_env["messenger.bot.account"].sudo().browse(account_id)
        request_env["messenger.update"].sudo()._receive(account, update, str(update["update_id"]))
        request_env.flush_all()
        processed = time.perf_counter()
        queries = cr.sql_log_count
        cr.commit()
        committed = time.perf_counter()
    return (committed - began) * 1000, (processed - began) * 1000, queries


def server_side_costs(registry, bench_env, account_id, first_chat):
    """Median cost of one update processed in-process, each committed as a request."""
    public_uid = bench_env.ref("base.public_user").id
    first, follow_up = [], []
    for customer in range(SERVER_SIDE_CUSTOMERS):
        for index in range(MESSAGES_PER_CUSTOMER):
            update = tg_message(first_chat + customer, f"message {index}")
            cost = committed_cost(registry, bench_env, public_uid, account_id, update)
            (follow_up if index else first).append(cost)
    for label, costs in (("new customer", first), ("follow-up message", follow_up)):
        report(
            "ingest",
            statistics.median(c[0] for c in costs),
            f"ms server side until committed, {label}",
            "-",
        )
        report(
            "ingest", statistics.median(c[1] for c in costs), f"ms of it processing, {label}", "-"
        )
        report("ingest", statistics.median(c[2] for c in costs), f"queries, {label}", "-")


def main():
    state = os.path.dirname(os.environ["ODOO_CONF"])
    server = OdooServer(
        os.environ["ODOO_CONF"],
        os.environ["ML_BENCH_DB"],
        os.path.join(state, "log", "bench-ingest-odoo.log"),
        workers=2,
    )
    first_chat = 7_000_000 + int(time.time()) % 100_000 * 1_000
    chats = [first_chat + i for i in range(CUSTOMERS)]
    # odoo_env() only for Odoo's registry in this process (it reads the configuration, which
    # Odoo does once per process): every step below commits in a cursor of its own
    with odoo_env() as bench_env, FakeBotApi() as api:
        registry = bench_env.registry
        server.start()
        try:
            bot = BotAccount(server, server.rpc("admin", "admin"), api, f"bench{int(time.time())}")
            salespeople = staff_team(registry, bench_env, bot)
            ingest = run_load(lambda chat: conversation_latencies(bot, api, chat), chats)
            acknowledged = sum(1 for chat in chats if api.sent_to(chat))
            assigned = assigned_customers(bot, chats, salespeople)
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
        report(
            "ingest",
            assigned,
            f"of {CUSTOMERS} customers' leads assigned to one of {SALESPEOPLE} salespeople",
            f"{CUSTOMERS}",
        )
        report_load(*floor, ", Odoo's own Discuss posts (the floor)", ("-", "-"))
        server_side_costs(registry, bench_env, bot.id, first_chat + CUSTOMERS)


if __name__ == "__main__":
    main()
