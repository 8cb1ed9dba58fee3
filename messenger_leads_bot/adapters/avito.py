"""Avito Messenger API (developers.avito.ru) with requests: the buyer-seller chat of Avito's
classifieds.

Every call carries an OAuth2 access token of the account's client credentials (POST /token,
grant_type=client_credentials, living 24 hours): it is kept by the account with its expiry and
renewed an hour before, never logged, never in a URL. Avito signs no webhook: the webhook URL
carries a long per-account token (`?token=`), and a notification proves nothing by itself:
each message is read back through the API (AvitoClient.confirm) before it counts. The recent
chats are read now and then (AvitoClient.recent_updates) to repair what a lost webhook missed:
Avito drops a webhook that is not answered within 2 seconds.
"""

import datetime
import hashlib
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

from .base import (
    SHARE_PHONE,
    Capabilities,
    DeliveryError,
    HttpClient,
    InboundMessage,
    Provider,
    fetch_media,
    same_secret,
)

API_URL = "https://api.avito.ru"
TOKEN_PARAMETER = "token"  # the webhook URL's query parameter with the account's token
# an access token is renewed this long before it expires (Avito's live 24 hours)
TOKEN_RENEW_BEFORE = 3600
# where the images of messages are: Avito's image CDN (NN.img.avito.st) and its own hosts
MEDIA_DOMAINS = ("avito.st", "avito.ru")
PAGE_SIZE = 100  # chats and messages per page, the API's largest
SYNC_CHAT_PAGES = 5  # the most recently updated chats looked at by one sync: 500
CHAT_TYPES = "u2i,u2u"  # about a listing, between users
# the own user id of each client id (it never changes), looked up once per process
_own_ids = {}
_own_ids_lock = threading.Lock()


class AvitoProvider(Provider):
    """Avito: a per-account token in the webhook URL, each message confirmed through the API,
    recent chats synchronised; replies of up to 1,000 characters into chats the buyer
    opened."""

    code = "avito"
    label = "Avito"
    api_url = API_URL
    channel_xmlid = "messenger_leads.messenger_channel_avito"
    capabilities = Capabilities(
        manages_webhook=True,
        max_text_length=1000,
        confirms_by_api=True,
        syncs_by_api=True,
        credentials=("client_id", "client_secret", "webhook_secret"),
        # Avito publishes no messenger rate limit: a Telegram-like pace (the outbox's round
        # takes the strictest per-bot figure of all messengers, so a guess lower would slow all)
        per_chat_interval=1.0,
        per_bot_per_second=30,
    )

    def authentic(self, headers, body, credentials, query=None):
        """The URL's token is the account's: Avito sends nothing else to check."""
        return same_secret((query or {}).get(TOKEN_PARAMETER), credentials.webhook_secret)

    def webhook_query(self, credentials):
        return {TOKEN_PARAMETER: credentials.webhook_secret}

    def shape_error(self, data):
        return shape_error(data)

    def delivery_key(self, data, body):
        return delivery_key(data)

    def parse(self, data):
        return parse_avito_update(data)

    def client(self, credentials):
        return AvitoClient(credentials)


PROVIDER = AvitoProvider()


def _is_id(value):
    return (isinstance(value, str) and bool(value)) or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def shape_error(data):
    """Why a decoded body is not an Avito notification (v3), or "" when it is one."""
    payload = data.get("payload") if isinstance(data, dict) else None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return "not an Avito notification: no payload.type"
    if payload["type"] != "message":
        return ""
    value = payload.get("value")
    if not isinstance(value, dict):
        return "malformed Avito notification: payload.value is not an object"
    if not (_is_id(value.get("id")) and _is_id(value.get("chat_id"))):
        return "malformed Avito notification: a message without id or chat_id"
    if value.get("content") is not None and not isinstance(value["content"], dict):
        return "malformed Avito notification: content is not an object"
    return ""


def delivery_key(data):
    """A message's id: the webhook's retries and the sync's copy of the same message are one
    delivery. Anything else by its whole body. Hashed: whatever the body says, of any length."""
    payload = data["payload"]
    if payload["type"] == "message":
        parts = ["message", str(payload["value"]["id"])]
    else:
        parts = [payload["type"], data.get("id"), data.get("timestamp")]
    encoded = json.dumps(parts, sort_keys=True, default=str).encode(errors="surrogatepass")
    return "avito:" + hashlib.sha256(encoded).hexdigest()


def parse_avito_update(data):
    """The InboundMessage of a buyer's message as the notification tells it (to be confirmed
    through the API, see AvitoClient.confirm); [] for the account's own messages, Avito's
    system messages and other notifications. Raises ValueError when it is not one."""
    if error := shape_error(data):
        raise ValueError(error)
    payload = data["payload"]
    if payload["type"] != "message":
        return []
    try:
        value = payload["value"]
        message = _message_fields(value, own_id=value.get("user_id"))
        if message is None:
            return []
        return [InboundMessage(chat_id=str(value["chat_id"]), **message)]
    except (TypeError, KeyError, ValueError, AttributeError, OverflowError, OSError) as exc:
        raise ValueError(f"malformed Avito notification: {exc}") from exc


def _when(created):
    """Avito's times are seconds since the epoch."""
    if created is None:
        return datetime.datetime.now(datetime.UTC)
    return datetime.datetime.fromtimestamp(int(created), datetime.UTC)


def _message_fields(message, own_id):
    """The InboundMessage fields of one Avito message (of a notification or of the API's
    list), None for what is not a buyer's: ours, Avito's own (author 0), system messages."""
    author = message.get("author_id")
    kind = message.get("type") or "text"
    if not _is_id(author) or str(author) in ("0", str(own_id)) or kind in ("system", "deleted"):
        return None
    if message.get("direction") == "out":
        return None
    content = message.get("content") or {}
    if not isinstance(content, dict):
        raise ValueError("content is not an object")
    return {
        "update_id": str(message["id"]),
        "message_id": str(message["id"]),
        "user_id": str(author),
        "date": _when(message.get("created")),
        **_content_fields(kind, content),
    }


def _content_fields(kind, content):
    """What a message of this type shows: text, a picture by its largest size, a place, a link
    or a listing as text; any other type by its name."""
    readers = {
        "text": lambda: {"kind": "text", "text": content.get("text") or ""},
        "image": lambda: _image_fields(content),
        "location": lambda: _location_fields(content.get("location") or {}),
        "link": lambda: {
            "kind": "text",
            "text": (content.get("link") or {}).get("text")
            or (content.get("link") or {}).get("url")
            or "[link]",
        },
        "item": lambda: _item_fields(content.get("item") or {}),
    }
    reader = readers.get(kind)
    return reader() if reader else {"kind": "text", "text": f"[{kind}]"}


def _image_fields(content):
    url = _largest((content.get("image") or {}).get("sizes") or {})
    if not url:
        return {"kind": "text", "text": "[image]"}
    return {"kind": "photo", "file_id": url, "mimetype": "image/jpeg"}


def _location_fields(place):
    return {
        "kind": "location",
        "latitude": float(place["lat"]),
        "longitude": float(place["lon"]),
        "text": place.get("text") or place.get("title") or "",
    }


def _item_fields(item):
    parts = (item.get("title"), item.get("price_string"), item.get("item_url"))
    return {"kind": "text", "text": " ".join(str(p) for p in parts if p) or "[item]"}


def _largest(sizes):
    """The URL of the largest of an image's sizes ({"1280x960": url, ...})."""

    def area(size):
        width, _x, height = size.partition("x")
        return int(width) * int(height) if width.isdigit() and height.isdigit() else 0

    if not isinstance(sizes, dict):
        return ""
    urls = [(area(size), url) for size, url in sizes.items() if isinstance(url, str) and url]
    return max(urls)[1] if urls else ""


def _listing_fields(chat):
    """The listing a chat is about (its context), as InboundMessage fields."""
    context = chat.get("context") or {}
    item = context.get("value") if isinstance(context, dict) else None
    if not isinstance(item, dict) or not _is_id(item.get("id")):
        return {}
    return {
        "listing_ref": str(item["id"]),
        "listing_title": str(item.get("title") or ""),
        "listing_price": str(item.get("price_string") or item.get("price") or ""),
        "listing_url": str(item.get("url") or ""),
    }


def _author_name(chat, author_id):
    for user in chat.get("users") or []:
        if isinstance(user, dict) and str(user.get("id")) == author_id:
            return str(user.get("name") or "")
    return ""


def _delivery_error(response):
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("message") if isinstance(error, dict) else None
    status = response.status_code
    text = f"Avito {status}: {details or 'no details'}"
    if status == 429:
        retry_after = response.headers.get("Retry-After", "")
        wait = float(retry_after) if retry_after.replace(".", "", 1).isdigit() else 0.0
        return DeliveryError(text, retry_after=max(wait, 1.0))
    if status >= 500:
        return DeliveryError(text)
    # 403: the buyer blocked the account or the chat is closed to it
    return DeliveryError(text, permanent=True, blocked=status == 403)


class AvitoClient(HttpClient):
    """The Messenger API of one Avito account, with plain HTTP calls; its token is the access
    token its client credentials get (_token)."""

    label = "Avito"

    def __init__(self, credentials, timeout=10.0):
        super().__init__("", credentials.api_url, timeout)
        self.credentials = credentials
        self._access_token = credentials.access_token
        self._expires_at = credentials.access_token_expires_at

    # -- the access token ---------------------------------------------------

    def _token(self, renew=False):
        """The account's access token, asked for when there is none, it expires within
        TOKEN_RENEW_BEFORE or `renew` (Avito refused it); a new one is given to the account."""
        if not renew and self._access_token and self._expires_at - TOKEN_RENEW_BEFORE > time.time():
            return self._access_token
        credentials = self.credentials
        response = self._request(
            "POST",
            "token",
            data={
                "grant_type": "client_credentials",
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
            },
        )
        if not response.ok:
            error = _delivery_error(response)
            if response.status_code in (400, 401, 403):
                error = DeliveryError(
                    f"Avito refused the client ID or secret (HTTP {response.status_code})",
                    permanent=True,
                )
            raise error
        try:
            answer = response.json()
            token, lifetime = answer["access_token"], int(answer.get("expires_in") or 86400)
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryError("Avito answered no access token") from exc
        if not isinstance(token, str) or not token:
            raise DeliveryError("Avito answered no access token")
        self._access_token, self._expires_at = token, time.time() + lifetime
        if credentials.token_saver:
            credentials.token_saver(token, self._expires_at)
        return token

    # -- calls --------------------------------------------------------------

    def _call(self, method, path, params=None, payload=None):
        """One API call with the access token; renewed once when Avito says it is not valid
        (revoked, or expired early)."""
        for attempt in (1, 2):
            response = self._request(
                method,
                path,
                params=params,
                json=payload,
                headers={"Authorization": f"Bearer {self._token(renew=attempt == 2)}"},
            )
            if response.status_code != 401:
                break
        if not response.ok:
            raise _delivery_error(response)
        try:
            return response.json()
        except ValueError as exc:
            raise DeliveryError(f"Avito answered no JSON: {exc}") from exc

    def _own_id(self):
        """The account's Avito user id: its chats are under it."""
        key = (self.api_url, self.credentials.client_id)
        if key not in _own_ids:
            me = self._call("GET", "core/v1/accounts/self")
            if not isinstance(me, dict) or not _is_id(me.get("id")):
                raise DeliveryError("Avito answered no account id")
            with _own_ids_lock:
                _own_ids[key] = str(me["id"])
        return _own_ids[key]

    def check(self):
        me = self._call("GET", "core/v1/accounts/self")
        return f"{me.get('name') or ''} (Avito user {me.get('id')})".strip()

    def set_webhook(self, url, secret):
        return self._call("POST", "messenger/v3/webhook", payload={"url": url})

    def delete_webhook(self):
        """Unsubscribe this account's webhooks only (those with its token): another
        integration of the same Avito account keeps its own."""
        listed = self._call("POST", "messenger/v1/subscriptions") or {}
        for subscription in listed.get("subscriptions") or []:
            url = subscription.get("url") or ""
            if same_secret(_url_token(url), self.credentials.webhook_secret):
                self._call("POST", "messenger/v1/webhook/unsubscribe", payload={"url": url})

    def send_one(self, message):
        path = f"messenger/v1/accounts/{self._own_id()}/chats/{message.chat_id}/messages"
        text = _with_choices(message)
        sent = self._call("POST", path, payload={"message": {"text": text}, "type": "text"})
        return str(sent["id"])

    def _chat(self, chat_id):
        chat = self._call("GET", f"messenger/v2/accounts/{self._own_id()}/chats/{chat_id}")
        return chat if isinstance(chat, dict) else {}

    def _messages(self, chat_id):
        """The chat's latest messages (a list in v3; an object with them, as some answer)."""
        answer = self._call(
            "GET",
            f"messenger/v3/accounts/{self._own_id()}/chats/{chat_id}/messages/",
            params={"limit": PAGE_SIZE, "offset": 0},
        )
        messages = answer.get("messages") if isinstance(answer, dict) else answer
        return [m for m in messages or [] if isinstance(m, dict)]

    def confirm(self, events):
        """Each event as the API tells its message (author, text, picture) with the chat's
        listing and the author's name; an event whose chat or message the API does not know
        (a forged notification) is left out."""
        confirmed = []
        chats = {}
        for event in events:
            if event.chat_id not in chats:
                try:
                    chat = self._chat(event.chat_id)
                    known = {str(m.get("id")): m for m in self._messages(event.chat_id)}
                except DeliveryError as exc:
                    if exc.retry_after or not exc.permanent:
                        raise
                    chat, known = {}, {}  # not a chat of this account
                chats[event.chat_id] = chat, known
            chat, known = chats[event.chat_id]
            message = known.get(event.message_id)
            fields = message and _message_fields(message, own_id=self._own_id())
            if not fields:
                continue
            confirmed.append(
                InboundMessage(
                    chat_id=event.chat_id,
                    first_name=_author_name(chat, fields["user_id"]),
                    **fields,
                    **_listing_fields(chat),
                )
            )
        return confirmed

    def recent_updates(self, since):
        """The buyers' messages since `since` in the chats updated since then, newest chats
        first, as v3 notifications: the same delivery key as the webhook's (delivery_key)."""
        own = self._own_id()
        threshold = since.timestamp()
        updates = []
        for page in range(SYNC_CHAT_PAGES):
            answer = self._call(
                "GET",
                f"messenger/v2/accounts/{own}/chats",
                params={"limit": PAGE_SIZE, "offset": page * PAGE_SIZE, "chat_types": CHAT_TYPES},
            )
            chats = [c for c in (answer or {}).get("chats") or [] if isinstance(c, dict)]
            recent = [c for c in chats if int(c.get("updated") or 0) >= threshold]
            for chat in recent:
                for message in self._messages(chat["id"]):
                    if int(message.get("created") or 0) < threshold:
                        continue
                    if not _message_fields(message, own_id=own):
                        continue
                    updates.append(_notification(own, chat, message))
            if len(recent) < len(chats) or len(chats) < PAGE_SIZE:
                break
        return sorted(updates, key=lambda update: update["timestamp"] or 0)

    def download(self, file_id, max_bytes):
        """A picture from Avito's image servers (its URL is in the message)."""
        name = file_id.rsplit("/", 1)[-1].split("?")[0] or "image"
        content = fetch_media(
            file_id, self.api_url, MEDIA_DOMAINS, max_bytes=max_bytes, timeout=self.timeout
        )
        return content, name if "." in name else f"{name}.jpg"


def _with_choices(message):
    """Avito has no buttons: their labels go as lines under the text, to be written back
    (the bridge reads a label written as the choice), where they fit in one message."""
    labels = [label for row in message.buttons or [] for key, label in row if key != SHARE_PHONE]
    text = "\n\n".join(filter(None, [message.text, "\n".join(f"› {label}" for label in labels)]))
    return text if len(text) <= PROVIDER.capabilities.max_text_length else message.text


def _notification(own_id, chat, message):
    """A v3 webhook body for a message read through the API."""
    context = chat.get("context") or {}
    item = context.get("value") if isinstance(context, dict) else None
    value = {
        "id": str(message["id"]),
        "chat_id": str(chat["id"]),
        "user_id": int(own_id) if own_id.isdigit() else own_id,
        "author_id": message.get("author_id"),
        "created": message.get("created"),
        "type": message.get("type") or "text",
        "chat_type": "u2i" if isinstance(item, dict) else "u2u",
        "content": message.get("content") or {},
    }
    if isinstance(item, dict) and item.get("id"):
        value["item_id"] = item["id"]
    return {
        "id": f"sync-{message['id']}",
        "version": "v3.0.0",
        "timestamp": message.get("created"),
        "payload": {"type": "message", "value": value},
    }


def _url_token(url):
    return (parse_qs(urlsplit(url).query).get(TOKEN_PARAMETER) or [""])[0]
