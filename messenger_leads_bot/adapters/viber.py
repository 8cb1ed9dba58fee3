"""Viber REST Bot API with requests: check and parse callbacks, send messages with keyboards."""

import datetime
import hashlib
import hmac
import json

from .base import (
    MB,
    SHARE_PHONE,
    Capabilities,
    DeliveryError,
    HttpClient,
    InboundMessage,
    OutboundMessage,
    Provider,
    clean_text,
    fetch_media,
)

VIBER_API_URL = "https://chatapi.viber.com/pa"
# where the media of callbacks are (dl-media.viber.com) and Viber's CDN (content.cdn.viber.com)
MEDIA_DOMAINS = ("viber.com",)
EVENT_TYPES = [
    "delivered",
    "seen",
    "failed",
    "subscribed",
    "unsubscribed",
    "conversation_started",
]
STATUSES = {"delivered": "delivered", "seen": "read", "failed": "failed"}
MEDIA_KINDS = {"picture": "photo", "video": "document", "file": "document", "sticker": "photo"}
# https://developers.viber.com/docs/api/rest-bot-api/#error-codes
PERMANENT_STATUSES = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11}
NOT_SUBSCRIBED = 6  # the customer unsubscribed: like a blocked bot
MIN_API_VERSION = 3  # the share-phone button needs it
SIGNATURE_HEADER = "X-Viber-Content-Signature"
# what send_message takes (rest-bot-api/#message-types): a picture message of up to 1 MB (the
# iOS limit; 3 MB on Android), a file message of up to 50 MB but none of these types
REFUSED_EXTENSIONS = (
    *("asp", "bat", "bin", "cmd", "com", "cpl", "exe", "gadget", "inf1", "ins", "inx", "isu"),
    *("job", "jse", "lnk", "msc", "msi", "msp", "mst", "paf", "pif", "ps1", "reg", "rgs"),
    *("scr", "sct", "shb", "shs", "u3", "vb", "vbe", "vbs", "vbscript", "ws", "wsf"),
)


class ViberProvider(Provider):
    """Viber bots: callbacks signed with the bot's token, a welcome to whoever opens the chat."""

    code = "viber"
    label = "Viber"
    api_url = VIBER_API_URL
    channel_xmlid = "messenger_leads.messenger_channel_viber"
    capabilities = Capabilities(
        manages_webhook=True,
        max_text_length=7000,
        welcome_on_open=True,
        delivery_statuses=True,
        share_phone=True,
        max_file_bytes={"photo": 1 * MB, "document": 50 * MB},
        photo_mimetypes=("image/jpeg", "image/png", "image/gif"),
        refused_extensions=REFUSED_EXTENSIONS,
        files_by_url=True,
    )

    def authentic(self, headers, body, credentials, query=None):
        return signature_valid(body, headers.get(SIGNATURE_HEADER), credentials.token)

    def shape_error(self, data):
        return shape_error(data)

    def delivery_key(self, data, body):
        return delivery_key(data)

    def parse(self, data):
        return parse_viber_update(data)

    def newcomer_language(self, data):
        if not opened_by_newcomer(data):
            return None
        language = (data.get("user") or {}).get("language")
        return language if isinstance(language, str) else ""

    def client(self, credentials):
        return ViberClient(credentials.token, credentials.api_url, sender_name=credentials.name)


PROVIDER = ViberProvider()


def signature_valid(body, header, token):
    """X-Viber-Content-Signature: the HMAC-SHA256 of the raw body keyed with the bot token."""
    if not token or not header:
        return False
    expected = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.encode(), expected.encode())


def delivery_key(data):
    """Every callback carries the token of its message: one event per token and kind. Hashed:
    the parts are whatever the body says, of any length and characters."""
    parts = json.dumps([data.get("event"), data.get("message_token"), data.get("user_id", "")])
    return "viber:" + hashlib.sha256(parts.encode()).hexdigest()


def opened_by_newcomer(data):
    """A conversation_started callback from someone not subscribed to the bot yet."""
    return data.get("event") == "conversation_started" and not data.get("subscribed")


def shape_error(data):
    """Why a decoded body is not a Viber callback, or "" when it is one."""
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        return "not a Viber callback: no event"
    for key in ("sender", "user", "message"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            return f"malformed Viber callback: {key} is not an object"
    return ""


def parse_viber_update(data):
    """Return the InboundMessages of one Viber callback; [] for events we do not bridge.

    Raises ValueError when the body is not a Viber callback.
    """
    if error := shape_error(data):
        raise ValueError(error)
    try:
        event = data["event"]
        when = datetime.datetime.fromtimestamp(int(data["timestamp"]) / 1000, datetime.UTC)
        if event == "message":
            return [_parse_message(data, when)]
        if event in STATUSES:
            user_id = str(data.get("user_id", ""))
            return [
                InboundMessage(
                    update_id=str(data["message_token"]),
                    chat_id=user_id,
                    user_id=user_id,
                    kind="status",
                    date=when,
                    message_id=str(data["message_token"]),
                    delivery_status=STATUSES[event],
                    text=data.get("desc", ""),
                )
            ]
        if event in ("subscribed", "unsubscribed"):
            user = data.get("user") or {"id": data["user_id"]}
            return [
                InboundMessage(
                    update_id=str(data.get("message_token", "")),
                    chat_id=str(user["id"]),
                    user_id=str(user["id"]),
                    kind="unblocked" if event == "subscribed" else "blocked",
                    date=when,
                    first_name=user.get("name", ""),
                )
            ]
        return []  # webhook checks, conversation_started, ...
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise ValueError(f"malformed Viber callback: {exc}") from exc


def _parse_message(data, when):
    sender = data["sender"]
    message = data["message"]
    kind = message.get("type")
    fields = {
        "update_id": str(data["message_token"]),
        "chat_id": str(sender["id"]),
        "user_id": str(sender["id"]),
        "message_id": str(data["message_token"]),
        "date": when,
        "first_name": sender.get("name", ""),
        "language_code": sender.get("language", ""),
        "kind": "text",
        "text": message.get("text", ""),
    }
    if kind in MEDIA_KINDS:
        fields.update(
            kind=MEDIA_KINDS[kind], file_id=message["media"], file_name=message.get("file_name", "")
        )
    elif kind == "location":
        location = message["location"]
        fields.update(kind="location", latitude=location["lat"], longitude=location["lon"])
    elif kind == "contact":
        contact = message["contact"]
        # the share-phone button and a forwarded card look the same: Viber vouches for neither
        fields.update(kind="contact", phone=contact.get("phone_number", ""))
        fields["text"] = f"{contact.get('name', '')} {fields['phone']}".strip()
    elif kind == "url":
        fields["text"] = message.get("media", "")
    elif kind != "text":
        fields["text"] = f"[{kind}]"
    return InboundMessage(**fields)


class ViberClient(HttpClient):
    """The REST Bot API of one Viber bot, with plain HTTP calls."""

    label = "Viber"

    def __init__(self, token, api_url, sender_name="", timeout=10.0):
        super().__init__(token, api_url, timeout)
        self.sender_name = sender_name[:28]  # Viber's limit

    def _call(self, method, payload):
        response = self._request(
            "POST", method, json=payload, headers={"X-Viber-Auth-Token": self.token}
        )
        try:
            body = response.json()
        except ValueError as exc:
            raise DeliveryError(f"Viber answered no JSON: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryError(f"Viber {response.status_code}")
        status = body.get("status")
        if status != 0:
            text = f"Viber {body.get('status_message') or 'error'} (status {status})"
            raise DeliveryError(
                text, permanent=status in PERMANENT_STATUSES, blocked=status == NOT_SUBSCRIBED
            )
        return body

    def check(self):
        info = self._call("get_account_info", {})
        return f"{info.get('name')} ({info.get('uri')})"

    def set_webhook(self, url, _secret):
        """Viber signs callbacks with the token itself: no separate secret."""
        return self._call(
            "set_webhook", {"url": url, "event_types": EVENT_TYPES, "send_name": True}
        )

    def delete_webhook(self):
        return self._call("set_webhook", {"url": ""})

    def send_one(self, message):
        return str(self._call("send_message", self._payload(message))["message_token"])

    def welcome_reply(self, data, text):
        """The answer to a newcomer's conversation_started callback (see opened_by_newcomer),
        shown as the bot's first words: the only message a bot may send before they subscribe."""
        user_id = clean_text(str((data.get("user") or {}).get("id", "")))  # goes out as JSON
        return self._payload(OutboundMessage(user_id, text))

    def _payload(self, message):
        payload = {
            "receiver": message.chat_id,
            "min_api_version": MIN_API_VERSION,
            "sender": {"name": self.sender_name},
            "type": "text",
            "text": message.text,
        }
        file = message.file
        if file and file.kind == "photo":
            payload.update(type="picture", media=file.url)  # the text is its description
        elif file:
            payload.update(type="file", media=file.url, size=file.size, file_name=file.name)
            del payload["text"]
        if message.buttons:
            payload["keyboard"] = {
                "Type": "keyboard",
                "DefaultHeight": False,
                "Buttons": [
                    {
                        "ActionType": "share-phone" if key == SHARE_PHONE else "reply",
                        "ActionBody": label,
                        "Text": label,
                        "Columns": 6,
                        "Rows": 1,
                    }
                    for row in message.buttons
                    for key, label in row
                ],
            }
        return payload

    def download(self, file_id, max_bytes):
        """Viber gives a plain URL for each media, in the callback."""
        content = fetch_media(
            file_id, self.api_url, MEDIA_DOMAINS, max_bytes=max_bytes, timeout=self.timeout
        )
        return content, file_id.rsplit("/", 1)[-1].split("?")[0] or "file"
