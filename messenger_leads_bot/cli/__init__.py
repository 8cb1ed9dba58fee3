from . import telegram_relay
