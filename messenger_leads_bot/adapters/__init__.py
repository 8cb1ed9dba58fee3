"""Messenger adapters: everything that speaks one messenger's API, and nothing that knows Odoo.

Another messenger is one more module here that turns its webhook bodies into `InboundMessage`s and
sends text through the `Client` interface.
"""

from .base import Client, DeliveryError, InboundMessage, OutboundResult, split_text
from .telegram import TelegramClient, parse_telegram_update

CLIENTS = {"telegram": TelegramClient}
PARSERS = {"telegram": parse_telegram_update}
