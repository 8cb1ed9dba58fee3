"""MAX Bot API (dev.max.ru) with requests: check and parse updates, send messages with buttons.

Every call carries the bot's token in the Authorization header (never in the query). The API's
host is served under the Russian Ministry of Digital Development's root certificate, which is
not in certifi: the account's CA bundle adds it (see ca_bundle_verify).
"""

import datetime
import hashlib
import json
import re

from .base import (
    SHARE_PHONE,
    Capabilities,
    DeliveryError,
    HttpClient,
    InboundMessage,
    SecretHeaderProvider,
    ca_bundle_verify,
    fetch_media,
)

API_URL = "https://platform-api2.max.ru"
SECRET_HEADER = "X-Max-Bot-Api-Secret"
UPDATE_TYPES = [
    "message_created",
    "message_edited",
    "message_callback",
    "bot_started",
    "bot_stopped",
]
# where attachments' URLs point: MAX's own hosts, OneMe (its former name) and VK's OK CDN
MEDIA_DOMAINS = ("max.ru", "oneme.ru", "okcdn.ru")
MEDIA_KINDS = {
    "image": "photo",
    "sticker": "photo",
    "file": "document",
    "video": "document",
    "audio": "voice",
}
BUTTON_TEXT_LENGTH = 128
# a video's attachment URL is no file: its links come from GET /videos/{token}
VIDEO = "video:"
VIDEO_TOKEN = re.compile(r"[\w-]+")
VIDEO_QUALITIES = ("mp4_720", "mp4_480", "mp4_360", "mp4_240", "mp4_144", "mp4_1080")
# a vCard's phone line: TEL, its parameters, the number
VCARD_PHONE = re.compile(r"^TEL[^:\r\n]*:([^\r\n]+)", re.IGNORECASE | re.MULTILINE)


class MaxProvider(SecretHeaderProvider):
    """MAX bots: a secret header of ours on every update, webhook or polling; a CA bundle for
    the API's certificate."""

    secret_header = SECRET_HEADER
    code = "max"
    label = "MAX"
    api_url = API_URL
    channel_xmlid = "messenger_leads.messenger_channel_max"
    capabilities = Capabilities(
        manages_webhook=True,
        polling=True,
        max_text_length=4000,
        share_phone=True,
        credentials=("webhook_secret", "ca_bundle"),
        per_chat_interval=0.5,  # two messages a second per dialog
        per_bot_per_second=30,
    )

    def shape_error(self, data):
        return shape_error(data)

    def delivery_key(self, data, body):
        return delivery_key(data)

    def parse(self, data):
        return parse_max_update(data)

    def client(self, credentials):
        return MaxClient(credentials.token, credentials.api_url, ca_bundle=credentials.ca_bundle)


PROVIDER = MaxProvider()


def _is_object(value):
    return isinstance(value, dict)


def _is_id(value):
    return isinstance(value, str) and bool(value)


def shape_error(data):
    """Why a decoded body is not a MAX update, or "" when it is one."""
    if not _is_object(data) or not isinstance(data.get("update_type"), str):
        return "not a MAX update: no update_type"
    message = data.get("message") or {}
    body = (message.get("body") or {}) if _is_object(message) else {}
    objects = {key: data.get(key) for key in ("message", "callback", "user")}
    if _is_object(message):
        objects |= {
            f"message.{key}": message.get(key) for key in ("body", "sender", "recipient", "link")
        }
    attachments = body.get("attachments") if _is_object(body) else None
    kind = data["update_type"]
    errors = [
        *(
            f"{key} is not an object"
            for key, value in objects.items()
            if value is not None and not _is_object(value)
        ),
        attachments is not None
        and not (isinstance(attachments, list) and all(map(_is_object, attachments)))
        and "attachments are not a list of objects",
        kind in ("message_created", "message_edited")
        and not (_is_object(body) and _is_id(body.get("mid")))
        and "a message without body.mid",
        kind == "message_callback"
        and not (_is_object(data.get("callback")) and _is_id(data["callback"].get("callback_id")))
        and "a callback without callback_id",
    ]
    error = next(filter(None, errors), "")
    return f"malformed MAX update: {error}" if error else ""


def delivery_key(data):
    """What MAX sends again when it retries a delivery: a message's mid (with the time of an
    edit: each edit is news), a callback's id, else the update as a whole (type, time, chat,
    user). Hashed: the parts are whatever the body says, of any length and characters."""
    kind = data["update_type"]
    if kind in ("message_created", "message_edited"):
        parts = [kind, data["message"]["body"]["mid"]]
        if kind == "message_edited":
            parts.append(data.get("timestamp"))
    elif kind == "message_callback":
        parts = [kind, data["callback"]["callback_id"]]
    else:
        parts = [kind, data.get("timestamp"), data.get("chat_id"), data.get("user")]
    encoded = json.dumps(parts, sort_keys=True, default=str).encode(errors="surrogatepass")
    return "max:" + hashlib.sha256(encoded).hexdigest()


def parse_max_update(data):
    """Return the InboundMessages of one MAX update; [] for what we do not bridge (group chats,
    channels, other update types).

    Raises ValueError when the body is not a MAX update.
    """
    if error := shape_error(data):
        raise ValueError(error)
    try:
        kind = data["update_type"]
        when = _when(data.get("timestamp"))
        if kind in ("message_created", "message_edited"):
            return _parse_message(data, when, edited=kind == "message_edited")
        if kind == "message_callback":
            return _parse_callback(data, when)
        if kind in ("bot_started", "bot_stopped"):
            return [_parse_start_stop(data, when)]
        return []
    except (TypeError, KeyError, ValueError, AttributeError, OverflowError, OSError) as exc:
        raise ValueError(f"malformed MAX update: {exc}") from exc


def _when(timestamp):
    """MAX's times are milliseconds since the epoch."""
    if timestamp is None:
        return datetime.datetime.now(datetime.UTC)
    return datetime.datetime.fromtimestamp(int(timestamp) / 1000, datetime.UTC)


def _user_fields(user, locale):
    """The customer's identity: their MAX user id is the chat (messages go to user_id)."""
    user_id = user["user_id"]
    if isinstance(user_id, bool) or not isinstance(user_id, int | str) or not str(user_id):
        raise ValueError(f"user_id is not an id: {user_id!r:.40}")
    user_id = str(user_id)
    return {
        "chat_id": user_id,
        "user_id": user_id,
        "username": user.get("username") or "",
        "first_name": user.get("first_name") or user.get("name") or "",
        "last_name": user.get("last_name") or "",
        "language_code": locale or "",
    }


def _parse_message(data, when, edited):
    """A customer's message in their dialog with the bot: its text with its first file,
    location or own contact; each further one its own event (mid/1, mid/2...)."""
    message = data["message"]
    recipient = message.get("recipient") or {}
    sender = message.get("sender")
    if recipient.get("chat_type") != "dialog" or not sender or sender.get("is_bot"):
        return []  # group chats, channels, and the bot's own messages
    body = message["body"]
    mid = body["mid"]
    base = {
        "update_id": mid,
        "date": when,
        "edited": edited,
        **_user_fields(sender, data.get("user_locale")),
    }
    main = {"message_id": mid, "kind": "text", "text": body.get("text") or _forwarded(message)}
    further = []
    # a forwarded message's card was someone's before: it vouches for no one
    forwarded = (message.get("link") or {}).get("type") == "forward"
    for attachment in body.get("attachments") or []:
        parsed = _attachment_fields(attachment, None if forwarded else sender["user_id"])
        if not parsed:
            continue
        if parsed["kind"] == "text":
            main["text"] = "\n".join(filter(None, (main["text"], parsed["text"])))
        elif main["kind"] == "text":
            main.update(parsed, text=main["text"] or parsed.get("text", ""))
        else:
            further.append(
                InboundMessage(
                    **base, **{"text": "", **parsed}, message_id=f"{mid}/{len(further) + 1}"
                )
            )
    return [InboundMessage(**base, **main), *further]


def _forwarded(message):
    """A forwarded message comes with an empty body: its text is in the link."""
    link = message.get("link") or {}
    linked = link.get("message") if link.get("type") == "forward" else None
    return (linked.get("text") or "") if isinstance(linked, dict) else ""


def _attachment_fields(attachment, sender_id):
    """The InboundMessage fields of one attachment; {} for what shows nothing (keyboards)."""
    kind = attachment.get("type")
    payload = attachment.get("payload") or {}
    if not isinstance(payload, dict):
        raise ValueError(f"{kind} payload is not an object")
    if kind in MEDIA_KINDS:
        return _file_fields(kind, attachment, payload)
    readers = {
        "location": lambda: {
            "kind": "location",
            "latitude": float(attachment["latitude"]),
            "longitude": float(attachment["longitude"]),
        },
        "contact": lambda: _contact_fields(payload, sender_id),
        "share": lambda: {"kind": "text", "text": payload.get("url") or ""},
        "inline_keyboard": dict,
    }
    reader = readers.get(kind)
    return reader() if reader else {"kind": "text", "text": f"[{kind}]"}


def _file_fields(kind, attachment, payload):
    """A file is fetched from its URL (see MaxClient.download); without one, it is named."""
    url = payload.get("url")
    token = payload.get("token")
    if kind == "video" and isinstance(token, str) and VIDEO_TOKEN.fullmatch(token):
        url = VIDEO + token
    if not isinstance(url, str) or not url:
        return {"kind": "text", "text": f"[{kind}]"}
    return {
        "kind": MEDIA_KINDS[kind],
        "file_id": url,
        "file_name": attachment.get("filename") or "",
        "mimetype": "image/jpeg" if kind == "image" else "",
    }


def _contact_fields(payload, sender_id):
    """A contact card. What the request_contact button sends is the sender's own card: MAX
    fills its max_info with the MAX user the card is (and the schema says no more). Only a card
    whose max_info is the sender counts as their own number; any other card (a contact from
    their address book, someone else's, one forwarded: `sender_id` None) is information, not an
    identity."""
    vcard = payload.get("vcf_info") or ""
    if not isinstance(vcard, str):
        raise ValueError("vcf_info is not text")
    found = VCARD_PHONE.search(vcard)
    phone = found.group(1).strip() if found else ""
    owner = payload.get("max_info") or {}
    own = (
        bool(phone)
        and sender_id is not None
        and isinstance(owner, dict)
        and owner.get("user_id") == sender_id
    )
    name = (
        " ".join(str(part) for part in (owner.get("first_name"), owner.get("last_name")) if part)
        if isinstance(owner, dict)
        else ""
    )
    return {
        "kind": "contact" if own else "text",
        "phone": phone,
        "phone_is_senders": own,
        "text": f"{name} {phone}".strip() or "[contact]",
    }


def _parse_callback(data, when):
    """A button pressed: its payload is what the customer chose, as if they had written it."""
    callback = data["callback"]
    message = data.get("message") or {}
    if (message.get("recipient") or {}).get("chat_type") not in (None, "dialog"):
        return []
    return [
        InboundMessage(
            update_id=callback["callback_id"],
            message_id=callback["callback_id"],
            date=_when(callback.get("timestamp") or data.get("timestamp")),
            kind="text",
            text=callback.get("payload") or "",
            **_user_fields(callback["user"], data.get("user_locale")),
        )
    ]


def _parse_start_stop(data, when):
    """Stop: the customer blocked the bot. Start (the first time, or again after a stop): the
    customer's /start, with the deep link's payload, which also unblocks the chat."""
    user_fields = _user_fields(data["user"], data.get("user_locale"))
    if data["update_type"] == "bot_stopped":
        return InboundMessage(update_id="", kind="blocked", date=when, **user_fields)
    payload = data.get("payload") or ""
    return InboundMessage(
        update_id="",
        message_id=f"bot_started:{data.get('timestamp')}",
        kind="text",
        date=when,
        text="/start",
        start_payload=payload if isinstance(payload, str) else "",
        **user_fields,
    )


def _delivery_error(response):
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    status = response.status_code
    text = f"MAX {status}: {body.get('message') or body.get('code') or 'no details'}"
    if status == 429:
        retry_after = response.headers.get("Retry-After", "")
        wait = float(retry_after) if retry_after.replace(".", "", 1).isdigit() else 0.0
        return DeliveryError(text, retry_after=max(wait, 1.0))  # the limits are per second
    if status >= 500:
        return DeliveryError(text)
    # 403: the customer stopped the bot, or it has no access to the chat
    return DeliveryError(text, permanent=True, blocked=status == 403)


def _button(key, label):
    label = label[:BUTTON_TEXT_LENGTH]
    if key == SHARE_PHONE:
        return {"type": "request_contact", "text": label}
    # a message button writes its label in the chat as the customer's message, as a reply
    # keyboard does elsewhere: the bridge reads the choice like any other answer
    return {"type": "message", "text": label}


def _message_body(message):
    body = {"text": message.text}
    if message.buttons:
        rows = [[_button(key, label) for key, label in row] for row in message.buttons]
        body["attachments"] = [{"type": "inline_keyboard", "payload": {"buttons": rows}}]
    return body


class MaxClient(HttpClient):
    """The Bot API of one MAX bot, with plain HTTP calls."""

    label = "MAX"

    def __init__(self, token, api_url, ca_bundle="", timeout=10.0):
        super().__init__(token, api_url, timeout)
        self.ca_bundle = ca_bundle
        self._batch = (None, None)  # the last update of the last get_updates, and its marker

    def _verify(self):
        try:
            return ca_bundle_verify(self.ca_bundle)
        except ValueError as exc:
            raise DeliveryError(f"the CA bundle is unusable: {exc}", permanent=True) from exc

    def _call(self, method, path, params=None, payload=None, timeout=None):
        response = self._request(
            method,
            path,
            params=params,
            json=payload,
            headers={"Authorization": self.token},
            timeout=timeout or self.timeout,
            verify=self._verify(),
        )
        if not response.ok:
            raise _delivery_error(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise DeliveryError(f"MAX answered no JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise DeliveryError("MAX answered no JSON object")
        if body.get("success") is False:
            raise DeliveryError(f"MAX: {body.get('message') or 'refused'}", permanent=True)
        return body

    def check(self):
        me = self._call("GET", "me")
        name = me.get("first_name") or me.get("name")
        return f"@{me.get('username')} ({name}), id {me.get('user_id')}"

    def set_webhook(self, url, secret):
        return self._call(
            "POST",
            "subscriptions",
            payload={"url": url, "update_types": UPDATE_TYPES, "secret": secret},
        )

    def delete_webhook(self):
        """MAX removes a subscription by its URL: all of the bot's go."""
        for subscription in self._call("GET", "subscriptions").get("subscriptions") or []:
            self._call("DELETE", "subscriptions", params={"url": subscription["url"]})

    def send_one(self, message):
        sent = self._call(
            "POST", "messages", params={"user_id": message.chat_id}, payload=_message_body(message)
        )
        return str(sent["message"]["body"]["mid"])

    def get_updates(self, offset, timeout):
        """Long-poll from the marker `offset` (none at first: what was not taken yet)."""
        params = {"timeout": timeout, "types": ",".join(UPDATE_TYPES)}
        if offset:
            params["marker"] = offset
        answer = self._call("GET", "updates", params=params, timeout=timeout + self.timeout)
        updates = answer.get("updates") or []
        if not isinstance(updates, list):
            raise DeliveryError("MAX answered updates that are not a list")
        self._batch = (updates[-1] if updates else None, answer.get("marker"), offset)
        return updates

    def offset_after(self, update):
        """MAX gives one marker per batch: the batch's own once its last update is stored,
        until then the one it was fetched with (a restart fetches it again; the webhook ignores
        what it has)."""
        last, marker, fetched_with = self._batch
        return marker if update is last else fetched_with

    def download(self, file_id, max_bytes):
        """MAX gives a URL for each file in the update; a video's, through GET /videos."""
        name = file_id.rsplit("/", 1)[-1].split("?")[0] or "file"
        if file_id.startswith(VIDEO):
            token = file_id.removeprefix(VIDEO)
            urls = self._call("GET", f"videos/{token}").get("urls") or {}
            found = [urls[q] for q in VIDEO_QUALITIES if isinstance(urls.get(q), str) and urls[q]]
            if not found:
                raise DeliveryError("MAX gave no link for this video")
            file_id, name = found[0], f"{token}.mp4"
        content = fetch_media(
            file_id,
            self.api_url,
            MEDIA_DOMAINS,
            max_bytes=max_bytes,
            timeout=self.timeout,
            verify=self._verify(),
        )
        return content, name
