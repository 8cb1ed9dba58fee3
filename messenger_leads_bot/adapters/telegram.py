"""Telegram Bot API through python-telegram-bot: parse updates, send messages, fetch files."""

import asyncio
import datetime
import functools
import logging
import os
import re
import threading

import httpx
from telegram import (
    Bot,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram import error as tg_error
from telegram.request import HTTPXRequest

from .base import (
    FILE_TIMEOUT,
    MB,
    SHARE_PHONE,
    Capabilities,
    Client,
    DeliveryError,
    InboundMessage,
    OutboundResult,
    SecretHeaderProvider,
    too_large,
)

API_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "my_chat_member"]
MAX_UPDATE_ID = 2**63 - 1  # a PostgreSQL bigint
# what a t.me/<bot>?start=<payload> link can carry; anything else after /start was typed
START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


class TelegramProvider(SecretHeaderProvider):
    """Telegram bots: a secret header of ours on every update, webhook or polling."""

    secret_header = SECRET_HEADER
    code = "telegram"
    label = "Telegram"
    api_url = API_URL
    channel_xmlid = "messenger_leads.messenger_channel_telegram"
    capabilities = Capabilities(
        manages_webhook=True,
        webhook_status=True,
        polling=True,
        max_text_length=4096,
        share_phone=True,
        credentials=("webhook_secret",),
        # the Bot API's upload limits: sendPhoto 10 MB, sendDocument 50 MB
        max_file_bytes={"photo": 10 * MB, "document": 50 * MB},
        photo_mimetypes=("image/jpeg", "image/png"),
        # the Bot API's FAQ: about one message a second to one chat, 30 a second in all
        per_chat_interval=1.0,
        per_bot_per_second=30,
    )

    def shape_error(self, data):
        return shape_error(data)

    def delivery_key(self, data, body):
        return str(data["update_id"])

    def parse(self, data):
        return parse_telegram_update(data)

    def client(self, credentials):
        return TelegramClient(credentials.token, credentials.api_url)


PROVIDER = TelegramProvider()


def shape_error(data):
    """Why a decoded body is not a Telegram update, or "" when it is one."""
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if (
        not isinstance(update_id, int)
        or isinstance(update_id, bool)
        or not 0 <= update_id <= MAX_UPDATE_ID
    ):
        return "not a Telegram update: no integer update_id"
    return ""


def parse_telegram_update(data):
    """Return the InboundMessages of one Telegram update (a dict), [] for what we don't bridge.

    Raises ValueError when the body is not a Telegram update.
    """
    if error := shape_error(data):
        raise ValueError(error)
    try:
        update = Update.de_json(data, bot=None)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise ValueError(f"malformed Telegram update: {exc}") from exc
    if update.my_chat_member:
        return _parse_chat_member(update)
    message = update.message or update.edited_message
    if not message or not message.chat or message.chat.type != "private" or not message.from_user:
        return []
    return [_parse_message(str(update.update_id), message, bool(update.edited_message))]


def _parse_chat_member(update):
    member = update.my_chat_member
    status = member.new_chat_member.status if member.new_chat_member else ""
    if member.chat.type != "private" or status not in ("kicked", "member"):
        return []
    return [
        InboundMessage(
            update_id=str(update.update_id),
            chat_id=str(member.chat.id),
            user_id=str(member.from_user.id),
            kind="blocked" if status == "kicked" else "unblocked",
            date=member.date,
            username=member.from_user.username,
            first_name=member.from_user.first_name,
            last_name=member.from_user.last_name,
        )
    ]


def _parse_message(update_id, message, edited):
    user = message.from_user
    fields = {
        "update_id": update_id,
        "chat_id": str(message.chat.id),
        "user_id": str(user.id),
        "message_id": str(message.message_id),
        "date": message.date or datetime.datetime.now(datetime.UTC),
        "edited": edited,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "language_code": user.language_code,
        "text": message.text or message.caption,
    }
    if message.text and message.text.startswith("/start"):
        payload = message.text[len("/start") :].strip()
        fields["start_payload"] = payload if START_PAYLOAD.fullmatch(payload) else ""
    if message.photo:
        fields.update(kind="photo", file_id=message.photo[-1].file_id, mimetype="image/jpeg")
    elif message.document:
        document = message.document
        fields.update(
            kind="document",
            file_id=document.file_id,
            file_name=document.file_name or "",
            mimetype=document.mime_type or "",
        )
    elif message.voice:
        fields.update(kind="voice", file_id=message.voice.file_id, mimetype="audio/ogg")
    elif message.location:
        fields.update(
            kind="location",
            latitude=message.location.latitude,
            longitude=message.location.longitude,
        )
    elif message.contact:
        own = message.contact.user_id == user.id
        fields.update(
            kind="contact" if own else "text",
            phone=message.contact.phone_number or "",
            phone_is_senders=own,
            text=fields["text"]
            or f"{message.contact.first_name or ''} {message.contact.phone_number or ''}".strip(),
        )
    else:
        fields["kind"] = "text"
    return InboundMessage(**fields)


def _keyboard(buttons):
    """A one-time reply keyboard; SHARE_PHONE asks for the user's own number."""
    if buttons is None:
        return None
    if not buttons:
        return ReplyKeyboardRemove()
    rows = [
        [
            KeyboardButton(label, request_contact=True)
            if key == SHARE_PHONE
            else KeyboardButton(label)
            for key, label in row
        ]
        for row in buttons
    ]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


def _send_file(bot, message):
    """sendPhoto or sendDocument, as file_kind chose, the text its caption."""
    file = message.file
    send = bot.send_photo if file.kind == "photo" else bot.send_document
    return send(
        message.chat_id,
        InputFile(file.content, filename=file.name),
        caption=message.text or None,
        reply_markup=_keyboard(message.buttons),
        read_timeout=FILE_TIMEOUT,
        write_timeout=FILE_TIMEOUT,
    )


def _delivery_error(exc):
    if isinstance(exc, tg_error.RetryAfter):
        wait = exc.retry_after
        wait = wait.total_seconds() if isinstance(wait, datetime.timedelta) else float(wait)
        return DeliveryError(str(exc), retry_after=wait)
    if isinstance(exc, tg_error.Forbidden):
        return DeliveryError(str(exc), permanent=True, blocked=True)
    if isinstance(exc, (tg_error.BadRequest, tg_error.InvalidToken, tg_error.ChatMigrated)):
        return DeliveryError(str(exc), permanent=True)
    return DeliveryError(str(exc) or exc.__class__.__name__)


class _HideBotTokens(logging.Filter):
    """httpx logs every request URL at INFO, and Telegram's URLs carry the bot token
    (/bot<token>/...): such records stay out of the logs; httpx's others pass."""

    def filter(self, record):
        return record.levelno >= logging.WARNING or not BOT_URL.search(record.getMessage())


BOT_URL = re.compile(r"/bot[^/\s]+/")
_setup_lock = threading.Lock()


@functools.cache
def _setup_once():
    """What python-telegram-bot and httpx need once per process, on the first client built
    (nothing happens on import): the token kept out of httpx's logs, and the opt-in to PTB's
    coming behaviour (time periods as timedelta) so that it does not warn on every 429."""
    logging.getLogger("httpx").addFilter(_HideBotTokens())
    os.environ.setdefault("PTB_TIMEDELTA", "true")


@functools.cache
def _tls_context():
    """One TLS context per process, as httpx builds it: loading the CA bundle takes ~20 ms."""
    return httpx.create_ssl_context()


class TelegramClient(Client):
    """Synchronous calls for Odoo's request and cron threads; one HTTP client per call batch."""

    def __init__(self, token, api_url, timeout=10.0):
        with _setup_lock:
            _setup_once()
        self.token = token
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    def _bot(self):
        request = HTTPXRequest(
            connect_timeout=self.timeout,
            read_timeout=self.timeout,
            write_timeout=self.timeout,
            httpx_kwargs={"verify": _tls_context()},
        )
        return Bot(
            self.token,
            base_url=f"{self.api_url}/bot",
            base_file_url=f"{self.api_url}/file/bot",
            request=request,
            # our calls run one at a time: without it the Bot builds a second HTTP client with
            # its own TLS context (~30 ms) on every call
            get_updates_request=request,
        ), request

    def _run(self, work):
        async def main():
            bot, request = self._bot()
            await request.initialize()
            try:
                return await work(bot)
            finally:
                await request.shutdown()

        return asyncio.run(main())

    def check(self):
        async def work(bot):
            me = await bot.get_me()
            return f"@{me.username} ({me.first_name}), id {me.id}"

        try:
            return self._run(work)
        except tg_error.TelegramError as exc:
            raise _delivery_error(exc) from exc

    def set_webhook(self, url, secret):
        async def work(bot):
            return await bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

        try:
            return self._run(work)
        except tg_error.TelegramError as exc:
            raise _delivery_error(exc) from exc

    def delete_webhook(self):
        try:
            return self._run(lambda bot: bot.delete_webhook())
        except tg_error.TelegramError as exc:
            raise _delivery_error(exc) from exc

    def send_texts(self, messages):
        """Send in order; a failure is returned in place of that message's result."""

        async def work(bot):
            results = []
            for message in messages:
                try:
                    if message.file:
                        sent = await _send_file(bot, message)
                    else:
                        sent = await bot.send_message(
                            message.chat_id, message.text, reply_markup=_keyboard(message.buttons)
                        )
                    results.append(OutboundResult(str(sent.message_id)))
                except tg_error.TelegramError as exc:
                    results.append(_delivery_error(exc))
            return results

        return self._run(work)

    def get_updates(self, offset, timeout):
        """Long-poll for updates after `offset`; return them as the Bot API's JSON dicts."""

        async def work(bot):
            updates = await bot.get_updates(
                offset=offset,
                timeout=timeout,
                allowed_updates=ALLOWED_UPDATES,
                read_timeout=timeout + self.timeout,
            )
            return [update.to_dict() for update in updates]

        try:
            return self._run(work)
        except tg_error.TelegramError as exc:
            raise _delivery_error(exc) from exc

    def offset_after(self, update):
        return update["update_id"] + 1

    def download(self, file_id, max_bytes):
        async def work(bot):
            remote = await bot.get_file(file_id)
            if (remote.file_size or 0) > max_bytes:
                raise too_large(max_bytes)
            content = await remote.download_as_bytearray()
            return bytes(content), (remote.file_path or file_id).rsplit("/", 1)[-1]

        try:
            return self._run(work)
        except tg_error.TelegramError as exc:
            raise _delivery_error(exc) from exc

    def webhook_info(self):
        """Telegram's view of the webhook (getWebhookInfo): the URL it posts to ("" when none),
        the updates it holds for us, and when and why its last post to us failed."""

        async def work(bot):
            info = await bot.get_webhook_info()
            return {
                "url": info.url,
                "pending_update_count": info.pending_update_count,
                "last_error_date": info.last_error_date,
                "last_error_message": info.last_error_message or "",
            }

        try:
            return self._run(work)
        except tg_error.TelegramError as exc:
            raise _delivery_error(exc) from exc
