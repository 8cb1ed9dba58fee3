import argparse
import hashlib
import logging
import signal
import threading

import requests

import odoo
from odoo.cli import Command
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from ..adapters import PROVIDERS
from ..adapters.relay import Webhook, relay_once

_logger = logging.getLogger(__name__)


class MessengerRelay(Command):
    """Forward the updates of bot accounts in polling mode to Odoo's webhook"""

    name = "messenger_relay"

    def run(self, cmdargs):
        parser = argparse.ArgumentParser(prog=f"odoo-bin {self.name}")
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
                        args=(database, account_id, settings, args, stop),
                        daemon=True,
                    )
                    running[account_id].start()
            stop.wait(args.refresh)

    def _polling_accounts(self, database):
        """The accounts in polling mode of the messengers that poll, with a token."""
        polling = [code for code, provider in PROVIDERS.items() if provider.capabilities.polling]
        registry = odoo.modules.registry.Registry(database)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            accounts = env["messenger.bot.account"].search(
                [("mode", "=", "polling"), ("provider", "in", polling)]
            )
            return {
                account.id: (
                    account.provider,
                    account._credentials(),
                    account._webhook_path(account.provider, account.id),
                    account.relay_offset,
                )
                for account in accounts
                if account.token
            }

    def _relay_account(self, database, account_id, settings, args, stop):
        code, credentials, path, kept = settings
        provider = PROVIDERS[code]
        client = provider.client(credentials)
        url = args.odoo_url.rstrip("/") + path
        # the offset kept by the last run with the same token: a restart goes on from it (VK's
        # Long Poll would start from its newest event), another bot starts at 0 ("from now on")
        bot = hashlib.sha256(credentials.token.encode()).hexdigest()[:16]
        offset = kept["offset"] if isinstance(kept, dict) and kept.get("bot") == bot else 0
        _logger.info(
            "relay: polling %s bot account %s into %s from offset %s", code, account_id, url, offset
        )
        with requests.Session() as session:
            webhook = Webhook(session, url, lambda body: provider.relay_headers(body, credentials))
            while not stop.is_set():
                try:
                    following = relay_once(client, webhook, offset, args.poll_timeout, stop.is_set)
                except PermissionError as exc:
                    _logger.error("relay: %s; stopping this account", exc)
                    return
                if following != offset:
                    self._keep_offset(database, account_id, {"bot": bot, "offset": following})
                    offset = following

    def _keep_offset(self, database, account_id, kept):
        """Keep the account's offset for the next run; best effort: one not kept fetches a
        batch again after a restart, which the webhook ignores."""
        registry = odoo.modules.registry.Registry(database)
        try:
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                env["messenger.bot.account"].browse(account_id).relay_offset = kept
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as exc:
            _logger.info("relay: the offset of account %s not kept this time: %s", account_id, exc)


class TelegramRelay(MessengerRelay):
    """The polling relay under its first name (see messenger_relay)"""

    name = "telegram_relay"
