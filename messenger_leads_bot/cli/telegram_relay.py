import argparse
import logging
import signal
import threading

import requests

import odoo
from odoo.cli import Command

from ..adapters import CLIENTS
from ..adapters.relay import Webhook, relay_once

_logger = logging.getLogger(__name__)


class TelegramRelay(Command):
    """Forward Telegram updates of bot accounts in polling mode to Odoo's webhook"""

    name = "telegram_relay"

    def run(self, cmdargs):
        parser = argparse.ArgumentParser(prog="odoo-bin telegram_relay")
        parser.add_argument("--odoo-url", default="http://127.0.0.1:8069")
        parser.add_argument("--poll-timeout", type=int, default=25)
        parser.add_argument(
            "--refresh", type=int, default=60, help="seconds between re-reads of the accounts"
        )
        args, odoo_args = parser.parse_known_args(cmdargs)
        odoo.tools.config.parse_config(odoo_args)
        database = odoo.tools.config["db_name"]
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        running = {}
        while not stop.is_set():
            for account_id, settings in self._polling_accounts(database).items():
                if account_id not in running or not running[account_id].is_alive():
                    running[account_id] = threading.Thread(
                        target=self._relay_account,
                        args=(account_id, settings, args, stop),
                        daemon=True,
                    )
                    running[account_id].start()
            stop.wait(args.refresh)

    def _polling_accounts(self, database):
        registry = odoo.modules.registry.Registry(database)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            accounts = env["messenger.bot.account"].search(
                [("mode", "=", "polling"), ("provider", "=", "telegram")]
            )
            return {
                account.id: (
                    account.provider,
                    account.token,
                    account.api_url,
                    account.webhook_secret,
                )
                for account in accounts
                if account.token
            }

    def _relay_account(self, account_id, settings, args, stop):
        provider, token, api_url, secret = settings
        client = CLIENTS[provider](token, api_url)
        url = f"{args.odoo_url.rstrip('/')}/messenger_leads/{provider}/{account_id}"
        _logger.info("relay: polling %s bot account %s into %s", provider, account_id, url)
        offset = 0
        with requests.Session() as session:
            webhook = Webhook(session, url, secret)
            while not stop.is_set():
                try:
                    offset = relay_once(client, webhook, offset, args.poll_timeout, stop.is_set)
                except PermissionError as exc:
                    _logger.error("relay: %s; stopping this account", exc)
                    return
