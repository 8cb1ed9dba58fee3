"""Messenger adapters: everything that speaks one messenger's API, and nothing that knows Odoo.

Each messenger is one module here with its `Provider` (how its requests are verified and read,
its capabilities), its `Client` and its parser; PROVIDERS maps provider codes to them. See
../readme/DEVELOP.md to add one.
"""

from .base import (
    MB,
    Capabilities,
    Client,
    Credentials,
    DeliveryError,
    InboundMessage,
    NotConfirmed,
    OutboundFile,
    OutboundMessage,
    OutboundResult,
    Provider,
    TEMPLATE_PLACEHOLDERS,
    ca_bundle_pem,
    file_kind,
    split_text,
)
from . import avito, facebook, instagram, max_messenger, telegram, viber, vk, whatsapp
from .telegram import parse_telegram_update

PROVIDERS = {
    provider.code: provider
    for provider in (
        telegram.PROVIDER,
        whatsapp.PROVIDER,
        viber.PROVIDER,
        max_messenger.PROVIDER,
        instagram.PROVIDER,
        facebook.PROVIDER,
        vk.PROVIDER,
        avito.PROVIDER,
    )
}
