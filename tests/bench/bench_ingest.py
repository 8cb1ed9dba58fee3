"""Update in -> lead, thread message and acknowledgement out, against Odoo with 2 HTTP workers
and 2 cron workers, as in production: the webhook stores each update and answers, the intake
crons process them in batches.

The bot's team is of a realistic size with room for every customer: 10 salespeople online,
each with room for the run's open leads and live chats, so every new customer's lead is really
assigned to one of them. Four loads, one after the other:
- 100 customers writing 10 messages each from 8 concurrent senders: how fast and how many the
  webhook accepts, and how fast the intake processes them all;
- a sustained 20 updates a second, one in five from a new customer who then writes on: from
  the webhook receiving each new customer's first message to its acknowledgement handed to the
  messenger (the message in its Discuss thread, its lead and salesperson come before, in the
  same transaction);
- a burst of 2,000 updates in 10 seconds from 32 concurrent connections: every webhook
  answered, all processed, none lost; run after the other loads, on a server with the README's
  production HTTP workers for this machine (2 a core);
- Odoo's own Discuss: a user posting as many messages into channels through
  /mail/message/post, the floor under every update since each customer message is posted into
  its Discuss thread.
Then every other messenger (WhatsApp, Viber, MAX, VK, Avito, Instagram, Facebook Messenger), one
after the other, each on a bot account of its own against its fake API: fewer customers writing
10 messages each from 8 concurrent senders, as the first load: its webhook's answers and how fast
the intake processes them, against the same Discuss floor.
Last, in one process, what one update costs on the server (time and queries): stored as the
webhook does, then processed as the intake does, each committed.

ML_BENCH_SCALE=0.1 runs a tenth of the customers and updates, for a quick check.
"""

import concurrent.futures
import os
import statistics
import threading
import time

import requests
from messenger_fixtures import MESSENGERS, BotAccount, FakeBotApi, messenger_account, tg_message

from benchlib import SCALE, odoo_env, report
from odoo_server import OdooServer

CUSTOMERS = round(100 * SCALE)
MESSAGES_PER_CUSTOMER = 10
CLIENTS = 8  # concurrent senders; messages of one chat stay in order, as Telegram sends them
SUSTAINED_RATE = 20  # updates a second
SUSTAINED_SECONDS = max(5, round(20 * SCALE))
MESSAGES_PER_NEWCOMER = 5  # one in five updates from a new customer
BURST_UPDATES = round(2_000 * SCALE)
BURST_SECONDS = 10
BURST_CHATS = round(200 * SCALE)
BURST_SENDERS = 32  # concurrent connections, as Telegram opens up to 40 to one webhook
BURST_WORKERS = 2 * (os.cpu_count() or 1)
SERVER_SIDE_CUSTOMERS = max(2, round(20 * SCALE))
OTHERS = sorted(code for code in MESSENGERS if code != "telegram")
CUSTOMERS_EACH = max(2, round(20 * SCALE))  # each other messenger's customers
SALESPEOPLE = 10  # the fixture's seller and 9 more
# open leads and live chats each: room for every customer of the run
CAPACITY = CHAT_CAPACITY = 100


# Each request on a connection of its own, as a reverse proxy in front of Odoo sends them: a
# prefork worker serves one connection at a time, and a client keeping one alive holds the worker
CLOSE = {"Connection": "close"}


class Webhook:
    """Posts updates to the bot's webhook as its messenger does (again when the connection
    fails), one HTTP session per thread."""

    def __init__(self, bot):
        self.bot = bot
        self.local = threading.local()
        self.redelivered = 0

    def post(self, update):
        """The answer's status and its latency in seconds, redeliveries included."""
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        began = time.perf_counter()
        while True:
            try:
                url, data, headers = self.bot.request(update)
                answer = self.local.session.post(
                    url, data=data, headers={**headers, **CLOSE}, timeout=30
                )
                return answer.status_code, time.perf_counter() - began
            except requests.ConnectionError:
                self.redelivered += 1


def percentile(values, share):
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)]


def wait_processed(bot, seconds=600):
    """Seconds until the intake processed every update of the account (monotonic clock). Asked
    five times a second (at most 0.2 s late): each question is a request to the server measured,
    and 20 a second competed with the intake for its cores."""
    assert bot.all_processed(seconds, interval=0.2), "updates left unprocessed"
    return time.monotonic()


def run_senders(post_chat, keys, clients=CLIENTS):
    """Each key's updates posted in order, keys spread over concurrent senders: latencies."""
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return [latency for chat in pool.map(post_chat, keys) for latency in chat]


def conversations(bot, chats, message):
    """Each chat's customer writes MESSAGES_PER_CUSTOMER messages (`message(chat, text)`), chats
    spread over CLIENTS senders: the webhook's latencies, updates/s accepted and processed."""
    webhook = Webhook(bot)

    def post_chat(chat):
        latencies = []
        for index in range(MESSAGES_PER_CUSTOMER):
            status, seconds = webhook.post(message(chat, f"message {index}"))
            assert status == 200, status
            latencies.append(seconds)
        return latencies

    began = time.monotonic()
    latencies = run_senders(post_chat, chats)
    accepted = time.monotonic()
    processed = wait_processed(bot)
    count = len(latencies)
    return latencies, count / (accepted - began), count / (processed - began)


def conversation_load(bot, chats):
    """100 customers x 10 messages from 8 senders: accepted/s, answer p50/p99, processed/s."""
    latencies, accepted_rate, processed_rate = conversations(bot, chats, tg_message)
    report("ingest", statistics.median(latencies) * 1000, "ms webhook answer p50", "-")
    report("ingest", percentile(latencies, 0.99) * 1000, "ms webhook answer p99", "<= 50 ms")
    report("ingest", accepted_rate, "updates/s accepted", ">= 150 updates/s")
    return processed_rate


def messenger_loads(server, registry, bench_env, first_chat):
    """Each other messenger in turn, on a bot account and a staffed team of its own: the same
    conversations as the first load, fewer customers. Per messenger: (latencies, updates/s
    accepted, updates/s processed, customers acknowledged)."""
    figures = {}
    for code in OTHERS:
        with messenger_account(server, code, f"bench_{code}_{int(time.time())}") as account:
            staff_team(registry, bench_env, account)
            chats = [account.messenger.chat(first_chat + n) for n in range(CUSTOMERS_EACH)]
            figures[code] = (
                *conversations(account, chats, account.message),
                sum(1 for chat in chats if account.api.wait_sent(chat, 1, timeout=60)),
            )
    return figures


def report_messengers(figures, discuss_rate):
    for label, (latencies, accepted_rate, processed_rate, acknowledged) in figures.items():
        report("ingest", statistics.median(latencies) * 1000, f"ms {label} webhook answer p50", "-")
        report("ingest", percentile(latencies, 0.99) * 1000, f"ms {label} webhook answer p99", "-")
        report("ingest", accepted_rate, f"updates/s {label} accepted", "-")
        report("ingest", processed_rate, f"updates/s {label} processed", "-")
        report(
            "ingest",
            processed_rate / discuss_rate,
            f"x Odoo's own Discuss posting, {label} processed",
            "-",
        )
        report(
            "ingest",
            acknowledged,
            f"of {CUSTOMERS_EACH} {label} customers acknowledged",
            f"{CUSTOMERS_EACH}",
        )


def sustained_load(bot, api, first_chat):
    """SUSTAINED_RATE updates a second for SUSTAINED_SECONDS, one in MESSAGES_PER_NEWCOMER from
    a new customer, who then writes a message a second: seconds from each new customer's first
    message sent to its acknowledgement received by the messenger (its message in the Discuss
    thread, its lead and salesperson come before, in the same transaction)."""
    webhook = Webhook(bot)
    newcomers = SUSTAINED_RATE * SUSTAINED_SECONDS // MESSAGES_PER_NEWCOMER
    rate = SUSTAINED_RATE / MESSAGES_PER_NEWCOMER  # new customers a second
    schedule = sorted(
        (n / rate + index, first_chat + n, index)
        for n in range(newcomers)
        for index in range(MESSAGES_PER_NEWCOMER)
    )
    sent_at = {}
    began = time.monotonic()

    def send(planned):
        at, chat, index = planned
        time.sleep(max(0.0, began + at - time.monotonic()))
        if index == 0:
            sent_at[chat] = time.monotonic()
        status, _seconds = webhook.post(tg_message(chat, f"Do you have it in stock? ({index})"))
        assert status == 200, status

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(send, schedule))
    wait_processed(bot)
    chats = sorted(sent_at)
    for chat in chats:
        assert api.wait_sent(chat, 1, timeout=60), f"no acknowledgement for {chat}"
    return [api.sent_to(chat)[0]["at"] - sent_at[chat] for chat in chats]


def burst_load(bot, first_chat):
    """BURST_UPDATES in BURST_SECONDS: answers' worst and p99, seconds until all processed, and
    how many were stored."""
    webhook = Webhook(bot)
    per_chat = BURST_UPDATES // BURST_CHATS
    updates = [
        [tg_message(first_chat + chat, f"burst {n}") for n in range(per_chat)]
        for chat in range(BURST_CHATS)
    ]
    began = time.monotonic()
    interval = BURST_SECONDS / per_chat  # each chat's messages spread over the burst

    def post_chat(chat_updates):
        latencies = []
        for n, update in enumerate(chat_updates):
            time.sleep(max(0.0, began + n * interval - time.monotonic()))
            status, seconds = webhook.post(update)
            assert status == 200, status
            latencies.append(seconds)
        return latencies

    stored_before = stored_updates(bot)
    latencies = run_senders(post_chat, updates, clients=BURST_SENDERS)
    sent = time.monotonic() - began
    processed = wait_processed(bot) - began
    stored = stored_updates(bot) - stored_before
    return latencies, sent, processed, stored, webhook.redelivered


def stored_updates(bot):
    return bot.admin.call("messenger.update", "search_count", [["account_id", "=", bot.id]])


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
            f"{self.server.url}{path}",
            json={"jsonrpc": "2.0", "params": params},
            headers=CLOSE,
            timeout=60,
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
    """(ms until stored and committed, ms until processed and committed, queries of both) of
    one update: stored as the webhook does (the public user through sudo), then processed as
    the intake cron does, each in its own transactions, committed (which runs the after-commit
    work: the acknowledgement's delivery, the bus notifications)."""
    with registry.cursor() as cr:
        began = time.perf_counter()
        request_env = bench_env(cr=cr, user=public_uid)
        account = request_env["messenger.bot.account"].sudo().browse(account_id)
        request_env["messenger.update"].sudo()._receive(account, update, str(update["update_id"]))
        cr.commit()
        stored = time.perf_counter()
        queries = cr.sql_log_count
    with registry.cursor() as cr:
        bench_env(cr=cr)["messenger.update"]._cron_process_received()
        cr.commit()
        processed = time.perf_counter()
        queries += cr.sql_log_count
    return (stored - began) * 1000, (processed - stored) * 1000, queries


def server_side_costs(registry, bench_env, account_id, first_chat):
    """Median cost of one update, stored and processed in-process, each committed."""
    public_uid = bench_env.ref("base.public_user").id
    first, follow_up = [], []
    for customer in range(SERVER_SIDE_CUSTOMERS):
        for index in range(MESSAGES_PER_CUSTOMER):
            update = tg_message(first_chat + customer, f"message {index}")
            cost = committed_cost(registry, bench_env, public_uid, account_id, update)
            (follow_up if index else first).append(cost)
    for label, costs in (("new customer", first), ("follow-up message", follow_up)):
        report("ingest", statistics.median(c[0] for c in costs), f"ms stored, {label}", "-")
        report("ingest", statistics.median(c[1] for c in costs), f"ms processed, {label}", "-")
        report("ingest", statistics.median(c[2] for c in costs), f"queries, {label}", "-")


def odoo_server(log_name, workers):
    state = os.path.dirname(os.environ["ODOO_CONF"])
    return OdooServer(
        os.environ["ODOO_CONF"],
        os.environ["ML_BENCH_DB"],
        os.path.join(state, "log", log_name),
        workers=workers,
        cron_workers=2,
    )


def settle(server, seconds=180):
    """Wait until the server ran the scheduled jobs that were due when it started. The bench's
    database has every daily housekeeping job due at each start (auto-vacuum, IAP enrichment...):
    a server up for a while, as in production, where they run once a day, not inside the
    measured loads (they held one of the two cron workers for 4 s at the start)."""
    admin = server.rpc("admin", "admin")
    deadline = time.monotonic() + seconds
    while admin.call(
        "ir.cron",
        "search_count",
        [["nextcall", "<=", time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())]],
    ):
        if time.monotonic() > deadline:
            print(f"bench ingest: scheduled jobs still due after {seconds} s, measuring anyway")
            return
        time.sleep(0.5)


def burst_on_a_production_sized_server(api, registry, bench_env, first_chat):
    """The burst against Odoo with the README's production HTTP workers for this machine (2 a
    core, see Scaling): their listen queue (8 connections a worker) holds the burst's
    concurrent connections; 2 workers' queue of 16 made some wait for the kernel's retry."""
    server = odoo_server("bench-ingest-burst-odoo.log", BURST_WORKERS)
    server.start()
    try:
        settle(server)
        bot = BotAccount(server, server.rpc("admin", "admin"), api, f"burst{int(time.time())}")
        staff_team(registry, bench_env, bot)
        return burst_load(bot, first_chat)
    finally:
        server.stop()


def main():
    server = odoo_server("bench-ingest-odoo.log", 2)
    first_chat = 7_000_000 + int(time.time()) % 100_000 * 10_000
    chats = [first_chat + i for i in range(CUSTOMERS)]
    # odoo_env() only for Odoo's registry in this process (it reads the configuration, which
    # Odoo does once per process): every step below commits in a cursor of its own
    with odoo_env() as bench_env, FakeBotApi() as api:
        registry = bench_env.registry
        server.start()
        try:
            settle(server)
            bot = BotAccount(server, server.rpc("admin", "admin"), api, f"bench{int(time.time())}")
            salespeople = staff_team(registry, bench_env, bot)
            processed_rate = conversation_load(bot, chats)
            acknowledged = sum(1 for chat in chats if api.sent_to(chat))
            assigned = assigned_customers(bot, chats, salespeople)
            end_to_end = sustained_load(bot, api, first_chat + 1_000)
            channels = [
                bot.admin.call("discuss.channel", "create", {"name": f"bench {chat}"})
                for chat in chats
            ]
            user = DiscussUser(server)
            began = time.monotonic()
            floor = run_senders(lambda channel: discuss_latencies(user, channel), channels)
            discuss_rate = len(floor) / (time.monotonic() - began)
            others = messenger_loads(server, registry, bench_env, first_chat + 9_500)
        finally:
            server.stop()
        burst = burst_on_a_production_sized_server(api, registry, bench_env, first_chat + 5_000)
        report("ingest", processed_rate, "updates/s processed (webhook to thread, lead, ack)", "-")
        report("ingest", discuss_rate, "posts/s Odoo's own Discuss (the floor)", "-")
        report(
            "ingest",
            processed_rate / discuss_rate,
            "x Odoo's own Discuss posting, processed",
            ">= 1.5x",
        )
        report("ingest", acknowledged, f"of {CUSTOMERS} customers acknowledged", f"{CUSTOMERS}")
        report(
            "ingest",
            assigned,
            f"of {CUSTOMERS} customers' leads assigned to one of {SALESPEOPLE} salespeople",
            f"{CUSTOMERS}",
        )
        label = (
            f"at {SUSTAINED_RATE} updates/s (1 in {MESSAGES_PER_NEWCOMER} a new customer), "
            "new customer's message sent to acknowledgement received"
        )
        report("ingest", statistics.median(end_to_end), f"s p50 {label}", "-")
        report("ingest", percentile(end_to_end, 0.99), f"s p99 {label}", "<= 2 s")
        latencies, sent, processed, stored, redelivered = burst
        report(
            "ingest", sent, f"s to send a burst of {BURST_UPDATES} updates", f"~{BURST_SECONDS} s"
        )
        report(
            "ingest",
            max(latencies),
            f"s slowest webhook answer in the burst ({BURST_WORKERS} HTTP workers)",
            "<= 2 s",
        )
        report("ingest", redelivered, "connections of the burst dropped, sent again", "0")
        report("ingest", processed, "s until the whole burst was processed", "-")
        report("ingest", BURST_UPDATES - stored, "updates of the burst lost", "0")
        report_messengers(others, discuss_rate)
        server_side_costs(registry, bench_env, bot.id, first_chat + 9_000)


if __name__ == "__main__":
    main()
