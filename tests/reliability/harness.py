"""What the reliability suites share: their size, a Telegram-like sender, figures."""

import configparser
import json
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


class TelegramSender:
    """Delivers updates to a webhook the way Telegram does: again and again until a 2xx."""

    def __init__(self, url, secret, deadline_seconds=180):
        self.url = url
        self.secret = secret
        self.deadline_seconds = deadline_seconds
        self.session = requests.Session()
        self.retries = 0

    def deliver(self, body, headers=None):
        """Return (final response, seconds) once Odoo accepted the body or the deadline passed."""
        began = time.perf_counter()
        deadline = time.monotonic() + self.deadline_seconds
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        wait = 0.2
        while True:
            try:
                response = self.session.post(
                    self.url,
                    data=data,
                    headers={
                        "Content-Type": "application/json",
                        "X-Telegram-Bot-Api-Secret-Token": self.secret,
                        **(headers or {}),
                    },
                    timeout=30,
                )
                # like Telegram: anything but a 2xx is tried again (Odoo answers 404 while
                # PostgreSQL is down, 5xx while it restarts)
                if response.ok or time.monotonic() > deadline:
                    return response, time.perf_counter() - began
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
            self.retries += 1
            time.sleep(wait)
            wait = min(wait * 2, 3)
