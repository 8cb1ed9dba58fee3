"""The polling relay keeps every update exactly once while Odoo is killed and restarted."""

import os
import signal
import subprocess
import sys
import time

from messenger_fixtures import ROOT, BotAccount, FakeBotApi, tg_message

from odoo_server import OdooServer

CHATS = 5
UPDATES = 40


def stored_update_ids(admin, account_id):
    rows = admin.call(
        "messenger.update", "search_read", [["account_id", "=", account_id]], fields=["external_id"]
    )
    return sorted(int(row["external_id"]) for row in rows)


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_relay_with_odoo_killed_midway_loses_and_doubles_nothing(state_dir):
    conf, database = os.environ["ODOO_CONF"], os.environ["ML_TEST_DB"]
    server = OdooServer(conf, database, os.path.join(state_dir, "log", "e2e-relay-odoo.log"))
    relay = None
    with FakeBotApi() as api:
        try:
            server.start()
            admin = server.rpc("admin", "admin")
            bot = BotAccount(server, admin, api, "relay")
            admin.call("messenger.bot.account", "write", [bot.id], {"mode": "polling"})
            updates = [tg_message(9100 + i % CHATS, f"message {i}") for i in range(UPDATES)]
            api.updates.extend(updates[: UPDATES // 2])
            addons_path = f"{os.environ['ODOO_DIR']}/odoo/addons,{ROOT}"
            with open(os.path.join(state_dir, "log", "e2e-relay.log"), "w") as log:
                relay = subprocess.Popen(
                    [
                        sys.executable,
                        os.path.join(os.environ["ODOO_DIR"], "odoo-bin"),
                        f"--addons-path={addons_path}",
                        "telegram_relay",
                        "-c",
                        conf,
                        "-d",
                        database,
                        "--odoo-url",
                        server.url,
                        "--poll-timeout",
                        "1",
                        "--refresh",
                        "1",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            assert wait_for(lambda: len(stored_update_ids(admin, bot.id)) >= 5, 60), (
                "the relay forwarded nothing"
            )
            server.stop(signal.SIGKILL)  # mid-stream, without a chance to finish requests
            api.updates.extend(updates[UPDATES // 2 :])
            time.sleep(2)  # the relay keeps retrying against a dead Odoo
            server.start()
            admin = server.rpc("admin", "admin")
            expected = sorted(update["update_id"] for update in updates)
            assert wait_for(lambda: stored_update_ids(admin, bot.id) == expected, 90), (
                f"stored {len(stored_update_ids(admin, bot.id))} of {UPDATES} updates"
            )
            for chat in range(CHATS):
                messages = bot.customer_messages(9100 + chat)
                texts = [m["body"] for m in messages]
                assert len(texts) == UPDATES // CHATS, f"chat {chat}: {texts}"
                assert len(set(texts)) == len(texts), "a message was doubled"
        finally:
            if relay:
                relay.terminate()
                relay.wait(timeout=30)
            server.stop()
