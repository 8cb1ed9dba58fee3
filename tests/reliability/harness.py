"""What the reliability suites share: their size, a sender that delivers as the messengers do,
what was lost or doubled, figures."""

import configparser
import os
import time

import psycopg2
import requests

# setup/test.sh runs the quick size; `setup/bench.sh reliability` the full one.
FULL = os.environ.get("ML_RELIABILITY") == "full"


def size(quick, full):
    return full if FULL else quick


def figure(suite, name, value, unit=""):
    """One figure of a suite, printed for the README's Reliability section."""
    print(f"reliability {suite}: {name} = {value}{(' ' + unit) if unit else ''}", flush=True)


def postgres_settings(conf_path):
    """How the PostgreSQL server of an Odoo config commits, as the server reports it."""
    config = configparser.ConfigParser()
    config.read(conf_path)
    options = config["options"]
    password = options.get("db_password", "False")
    with (
        psycopg2.connect(
            host=options["db_host"],
            port=options["db_port"],
            user=options["db_user"],
            password=None if password == "False" else password,
            dbname=options["db_name"],
        ) as connection,
        connection.cursor() as cr,
    ):
        cr.execute(
            "SELECT current_setting('fsync'), current_setting('synchronous_commit'),"
            " current_setting('full_page_writes')"
        )
        settings = cr.fetchone()
    connection.close()
    names = ("fsync", "synchronous_commit", "full_page_writes")
    return ", ".join(f"{name}={value}" for name, value in zip(names, settings, strict=True))


class WebhookSender:
    """Delivers updates to an account's webhook the way its messenger does: again and again
    until a 2xx (Odoo answers 404 while PostgreSQL is down, 5xx while it restarts)."""

    def __init__(self, account, server_url=None, deadline_seconds=180):
        self.account = account
        self.server_url = server_url  # another Odoo on the same database
        self.deadline_seconds = deadline_seconds
        self.session = requests.Session()
        self.retries = 0

    def deliver(self, update):
        """Return (final response, seconds) once Odoo accepted the update or the deadline
        passed."""
        began = time.perf_counter()
        deadline = time.monotonic() + self.deadline_seconds
        url, data, headers = self.account.request(update, self.server_url)
        wait = 0.2
        while True:
            try:
                response = self.session.post(url, data=data, headers=headers, timeout=30)
                if response.ok or time.monotonic() > deadline:
                    return response, time.perf_counter() - began
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
            self.retries += 1
            time.sleep(wait)
            wait = min(wait * 2, 3)


def lost_and_doubled(account, updates):
    """How many of the updates sent to the account were not stored, and how many were stored
    twice (by the key the account stores each under)."""
    stored = account.admin.call(
        "messenger.update",
        "search_read",
        [["account_id", "=", account.id]],
        fields=["external_id"],
    )
    stored_keys = [row["external_id"] for row in stored]
    sent_keys = {account.messenger.delivery_key(update) for update in updates}
    return len(sent_keys - set(stored_keys)), len(stored_keys) - len(set(stored_keys))


def leads_of(account):
    """How many leads the account's conversations have."""
    return account.admin.call(
        "messenger.conversation",
        "read_group",
        [["account_id", "=", account.id]],
        ["lead_id:count_distinct"],
        [],
    )[0]["lead_id"]
