"""The polling relay: every update exactly once while Odoo is killed and restarted, accounts
switched to polling picked up while it runs, several accounts at once, and what it does with
each answer of Odoo (stored, refused, secret refused, unavailable)."""

import importlib
import os
import signal
import subprocess
import sys
import time

import pytest
from messenger_fixtures import (
    ROOT,
    BotAccount,
    FakeBotApi,
    adapters_package,
    max_message,
    messenger_account,
    tg_message,
    vk_message,
)

CHATS = 5
UPDATES = 40


def relay_module():
    """The addon's relay loop, without Odoo (its adapters import no Odoo)."""
    return importlib.import_module("messenger_adapters.relay", adapters_package())


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


@pytest.fixture(scope="module")
def server(serve_test_database):
    with serve_test_database("e2e-relay-odoo.log", workers=0) as server:
        yield server


class Relay:
    """`odoo-bin telegram_relay` forwarding to `server`, re-reading the accounts every second."""

    def __init__(self, state_dir, server, name):
        self.log_path = os.path.join(state_dir, "log", f"e2e-relay-{name}.log")
        addons_path = f"{os.environ['ODOO_DIR']}/odoo/addons,{ROOT}"
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    os.path.join(os.environ["ODOO_DIR"], "odoo-bin"),
                    f"--addons-path={addons_path}",
                    "telegram_relay",
                    "-c",
                    os.environ["ODOO_CONF"],
                    "-d",
                    os.environ["ML_TEST_DB"],
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

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def relay(state_dir, server, request):
    relays = []

    def start():
        relays.append(Relay(state_dir, server, request.node.name[:40]))
        return relays[-1]

    yield start
    for running in relays:
        running.stop()


def polling_bot(server, api, name):
    bot = BotAccount(server, server.rpc("admin", "admin"), api, name)
    bot.admin.call("messenger.bot.account", "write", [bot.id], {"mode": "polling"})
    return bot


def test_relay_with_odoo_killed_midway_loses_and_doubles_nothing(server, relay):
    with FakeBotApi() as api:
        bot = polling_bot(server, api, "relay")
        updates = [tg_message(9100 + i % CHATS, f"message {i}") for i in range(UPDATES)]
        api.updates.extend(updates[: UPDATES // 2])
        relay()
        admin = bot.admin
        assert wait_for(lambda: len(stored_update_ids(admin, bot.id)) >= 5, 60), (
            "the relay forwarded nothing"
        )
        server.stop(signal.SIGKILL)  # mid-stream, without a chance to finish requests
        api.updates.extend(updates[UPDATES // 2 :])
        time.sleep(2)  # the relay keeps retrying against a dead Odoo
        server.start()
        expected = sorted(update["update_id"] for update in updates)
        assert wait_for(lambda: stored_update_ids(admin, bot.id) == expected, 90), (
            f"stored {len(stored_update_ids(admin, bot.id))} of {UPDATES} updates"
        )
        # a batch the kill interrupted is taken again once its lease runs out
        assert bot.all_processed(150), "updates left unprocessed"
        for chat in range(CHATS):
            messages = bot.customer_messages(9100 + chat)
            texts = [m["body"] for m in messages]
            assert len(texts) == UPDATES // CHATS, f"chat {chat}: {texts}"
            assert len(set(texts)) == len(texts), "a message was doubled"


def relay_through_a_kill(server, relay, code, first_chat, *, update, queue, connected):
    """A polling account of the messenger (`code`): the relay started and connected
    (`connected(api)`), half its customers' updates (`update(chat, text)`) queued at its fake
    API (`queue(api, update)`), Odoo killed midway, the other half queued; every update stored
    once and each message once in its thread. Returns the account."""
    with messenger_account(server, code, f"relay_{code}") as bot:
        bot.admin.call("messenger.bot.account", "write", [bot.id], {"mode": "polling"})
        chats = [first_chat + chat for chat in range(CHATS)]
        updates = [update(chats[i % CHATS], f"message {i}") for i in range(UPDATES)]
        relay()
        assert wait_for(lambda: connected(bot.api), 60), "the relay never connected"
        for one in updates[: UPDATES // 2]:
            queue(bot.api, one)

        def stored():
            return bot.admin.call("messenger.update", "search_count", [["account_id", "=", bot.id]])

        assert wait_for(lambda: stored() >= 5, 60), "the relay forwarded nothing"
        server.stop(signal.SIGKILL)
        for one in updates[UPDATES // 2 :]:
            queue(bot.api, one)
        time.sleep(2)
        server.start()
        assert wait_for(lambda: stored() == UPDATES, 90), f"stored {stored()} of {UPDATES}"

        def threads_whole():
            return all(
                bot.conversation(chat) and len(bot.customer_messages(chat)) == UPDATES // CHATS
                for chat in chats
            )

        # a batch the kill interrupted is taken again once its lease runs out
        assert bot.all_processed(150), "updates left unprocessed"
        assert wait_for(threads_whole, 30), "every message in its thread"
        for chat in chats:
            texts = [m["body"] for m in bot.customer_messages(chat)]
            assert len(set(texts)) == len(texts), "a message was doubled"
    return bot


def test_max_updates_are_relayed_by_marker_each_once_with_odoo_killed_midway(server, relay):
    """MAX gives one marker per batch: the relay moves past a batch once all of it is stored,
    so a batch cut by Odoo's death is fetched again and nothing is lost or doubled."""
    bot = relay_through_a_kill(
        server,
        relay,
        "max",
        9500,
        update=max_message,
        queue=lambda api, update: api.queue_update(update),
        connected=lambda api: True,  # MAX keeps what was not fetched yet
    )
    assert any(call[0] == "updates" and call[1].get("marker") for call in bot.api.calls)


def test_vk_events_are_relayed_with_the_secret_each_once_with_odoo_killed_midway(server, relay):
    """VK's Long Poll gives events without the secret key and one number per batch: the relay
    forwards them with it, as the Callback API would, and moves past a batch once all of it is
    stored, so a batch cut by Odoo's death is fetched again and nothing is lost or doubled."""
    relay_through_a_kill(
        server,
        relay,
        "vk",
        9700,
        update=vk_message,  # as the Long Poll gives it: without the secret
        queue=lambda api, event: api.queue_event(event),
        # the relay polls from the newest event on: the events come once it is connected
        connected=lambda api: any(call[0] == "groups.getLongPollServer" for call in api.calls),
    )


def test_a_restarted_relay_goes_on_from_vks_long_poll_number_and_misses_nothing(server, relay):
    """VK's Long Poll keeps no position for us and a new session starts at its newest event:
    the relay keeps the number it moved past on the account, so the events customers sent
    while it was stopped (killed) are fetched by the next run, each once."""
    with messenger_account(server, "vk", "relay_vk_kept") as bot:
        api = bot.api
        bot.admin.call("messenger.bot.account", "write", [bot.id], {"mode": "polling"})
        chat = 9800
        first_run = relay()
        connected = lambda: any(c[0] == "groups.getLongPollServer" for c in api.calls)  # noqa: E731
        assert wait_for(connected, 60), "the relay never connected to the Long Poll"
        before = [vk_message(chat, f"before {n}") for n in range(3)]
        for event in before:
            api.queue_event(event)

        def stored():
            return bot.admin.call("messenger.update", "search_count", [["account_id", "=", bot.id]])

        assert wait_for(lambda: stored() == len(before), 60), "the first run forwarded them"
        first_run.process.kill()  # no chance to finish anything
        first_run.process.wait(timeout=30)
        during = [vk_message(chat, f"while stopped {n}") for n in range(3)]
        for event in during:
            api.queue_event(event)
        second_run = relay()
        assert wait_for(lambda: stored() == len(before) + len(during), 60), (
            f"stored {stored()} of {len(before) + len(during)}: the events sent while the "
            "relay was stopped were missed"
        )
        assert "from offset 0" not in second_run.log(), "went on from the kept number"
        assert bot.all_processed(60), "updates left unprocessed"
        texts = [m["body"] for m in bot.customer_messages(chat)]
        assert len(texts) == len(set(texts)) == len(before) + len(during), texts


def test_accounts_switched_to_polling_are_picked_up_and_relayed_at_once(server, relay):
    with FakeBotApi("41:FIRST") as first_api, FakeBotApi("43:SECOND") as second_api:
        first = polling_bot(server, first_api, "relay_first")
        running = relay()
        first_api.updates.append(tg_message(9201, "to the first bot"))
        assert wait_for(lambda: stored_update_ids(first.admin, first.id), 60), (
            "the relay did not forward the first account"
        )
        # a second account, in webhook mode while the relay runs, then switched to polling
        second = BotAccount(server, first.admin, second_api, "relay_second")
        queued = {
            first.id: [tg_message(9202, f"first {n}") for n in range(10)],
            second.id: [tg_message(9203, f"second {n}") for n in range(10)],
        }
        second_api.updates.extend(queued[second.id])
        time.sleep(2)
        assert stored_update_ids(second.admin, second.id) == [], "relayed before polling"
        first.admin.call("messenger.bot.account", "write", [second.id], {"mode": "polling"})
        first_api.updates.extend(queued[first.id])
        began = time.monotonic()
        want = {
            account_id: sorted(u["update_id"] for u in updates)
            for account_id, updates in queued.items()
        }
        want[first.id] = sorted([*stored_update_ids(first.admin, first.id), *want[first.id]])
        assert wait_for(
            lambda: all(stored_update_ids(first.admin, a) == ids for a, ids in want.items()), 60
        ), "both accounts' updates, each once"
        assert time.monotonic() - began < 30, "picked up within the relay's refresh"
        assert f"bot account {second.id} into" in running.log()


def test_an_update_odoo_refuses_is_logged_and_skipped_and_the_next_ones_arrive(server, relay):
    with FakeBotApi() as api:
        bot = polling_bot(server, api, "relay_refused")
        before, after = tg_message(9301, "before"), tg_message(9301, "after")
        too_large = tg_message(9301, "x" * (1024 * 1024 + 1))  # Odoo answers 413
        api.updates.extend([before, too_large, after])
        running = relay()
        want = sorted([before["update_id"], after["update_id"]])
        assert wait_for(lambda: stored_update_ids(bot.admin, bot.id) == want, 60), (
            "the update after the refused one arrived, the refused one was not stored"
        )
        following = too_large["update_id"] + 1
        assert f"Odoo refused an update (413); polling on from offset {following}" in running.log()
        # moved past it: the next getUpdates confirmed it to the messenger
        assert wait_for(lambda: not api.updates, 10), "the relay kept asking for them again"


def test_a_rotated_secret_stops_the_account_until_the_relay_reads_it_again(server, relay):
    with FakeBotApi() as api:
        bot = polling_bot(server, api, "relay_secret")
        first = tg_message(9401, "first")
        api.updates.append(first)
        running = relay()
        assert wait_for(lambda: stored_update_ids(bot.admin, bot.id), 60)
        bot.admin.call(
            "messenger.bot.account", "write", [bot.id], {"webhook_secret": "rotated-secret"}
        )
        later = [tg_message(9401, f"later {n}") for n in range(5)]
        api.updates.extend(later)
        want = sorted(u["update_id"] for u in [first, *later])
        assert wait_for(lambda: stored_update_ids(bot.admin, bot.id) == want, 60), (
            "the relay read the new secret and delivered what waited, each once"
        )
        assert "refused the relay's secret" in running.log()


class FakeWebhook:
    """Answers the relay with the given statuses, one per forward."""

    url = "http://127.0.0.1:8069/messenger_leads/telegram/1"

    def __init__(self, *statuses):
        self.statuses = list(statuses)
        self.forwarded = []

    def forward(self, update):
        self.forwarded.append(update["update_id"])
        return self.statuses.pop(0)


class OneBatch:
    def __init__(self, *update_ids):
        self.updates = [{"update_id": n} for n in update_ids]

    def get_updates(self, offset, _timeout):
        return [u for u in self.updates if u["update_id"] >= offset]

    def offset_after(self, update):
        return update["update_id"] + 1


def relay_batch(webhook, *update_ids):
    return relay_module().relay_once(
        OneBatch(*update_ids), webhook, 0, 0, stop=lambda: False, backoff=0.001
    )


@pytest.mark.pure
@pytest.mark.parametrize(
    "statuses",
    [(500, 502, 503, 200), (0, 0, 200), (404, 200), (429, 200)],
    ids=["5xx", "unreachable", "404 while the database is down", "429"],
)
def test_the_relay_retries_an_update_odoo_could_not_take_and_never_skips_it(statuses):
    webhook = FakeWebhook(*statuses, 200)
    assert relay_batch(webhook, 7, 8) == 9
    assert webhook.forwarded == [7] * len(statuses) + [8], "7 again until stored, then 8"


@pytest.mark.pure
@pytest.mark.parametrize("status", [400, 413])
def test_the_relay_skips_an_update_odoo_refuses_as_malformed_or_too_large(status, caplog):
    webhook = FakeWebhook(status, 200)
    assert relay_batch(webhook, 7, 8) == 9
    assert webhook.forwarded == [7, 8]
    assert f"Odoo refused an update ({status}); polling on from offset 8" in caplog.text


@pytest.mark.pure
def test_the_relay_stops_the_account_on_a_refused_secret_without_moving_on():
    webhook = FakeWebhook(200, 403)
    with pytest.raises(PermissionError):
        relay_batch(webhook, 7, 8)
    assert webhook.forwarded == [7, 8]


class MarkedBatch:
    """A messenger that polls by markers, not Telegram's update ids."""

    def __init__(self):
        self.updates = [{"event": "message", "marker": "m1"}, {"event": "message", "marker": "m2"}]

    def get_updates(self, offset, _timeout):
        return self.updates if offset is None else []

    def offset_after(self, update):
        return f"after-{update['marker']}"


@pytest.mark.pure
def test_the_relay_moves_on_by_the_offsets_of_the_messengers_client():
    forwarded = []
    webhook = FakeWebhook()
    webhook.forward = lambda update: forwarded.append(update["marker"]) or 200
    relay = relay_module()
    next_offset = relay.relay_once(MarkedBatch(), webhook, None, 0, lambda: False, backoff=0.001)
    assert next_offset == "after-m2"
    assert forwarded == ["m1", "m2"]
