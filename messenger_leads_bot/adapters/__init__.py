"""Messenger adapters: everything that speaks one messenger's API, and nothing that knows Odoo.

Another messenger is one more module here that turns its webhook bodies into `InboundMessage`s and
sends `OutboundMessage`s through the `Client` interface.
"""

from .base import (
    Client,
    DeliveryError,
    InboundMessage,
    OutboundMessage,
    OutboundResult,
    split_text,
)
from . import telegram, viber, whatsapp
from .telegram import TelegramClient, parse_telegram_update
from .viber import ViberClient, parse_viber_update
from .whatsapp import WhatsAppClient, parse_whatsapp_update

CLIENTS = {"telegram": TelegramClient, "whatsapp": WhatsAppClient, "viber": ViberClient}
SHAPE_ERRORS = {
    "telegram": telegram.shape_error,
    "whatsapp": whatsapp.shape_error,
    "viber": viber.shape_error,
}
PARSERS = {
    "telegram": parse_telegram_update,
    "whatsapp": parse_whatsapp_update,
    "viber": parse_viber_update,
}
