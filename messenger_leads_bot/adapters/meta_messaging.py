"""Meta's Messenger Platform (Facebook Messenger, and Instagram Direct through it) with requests:
check, parse and answer webhooks of `entry[].messaging[]`, send through the Send API.

The same Meta app as WhatsApp (see meta.py): a GET handshake with our verify token, bodies signed
with the app's secret. A customer is a page-scoped id (PSID; Instagram's IGSID), the chat with
them; the account's token is the Page's access token, so the page (or the Instagram account
linked to it) is `me`.
"""

import datetime
import hashlib
import json

from . import meta
from .base import (
    MB,
    SHARE_PHONE,
    Capabilities,
    DeliveryError,
    HttpClient,
    InboundMessage,
    Provider,
    fetch_media,
)

REPLY_WINDOW = datetime.timedelta(hours=24)  # free replies (messaging_type RESPONSE) within it
HUMAN_AGENT_WINDOW = datetime.timedelta(days=7)  # a person's reply with the HUMAN_AGENT tag
OUTSIDE_WINDOW = (10, 2018278)  # "This message is sent outside of allowed window"
# the customer cannot be reached: they blocked the page or turned its messages off
UNAVAILABLE = (551, (200, 1545041), (10, 2018108))
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TITLE_LENGTH = 20  # longer titles are cut; the payload carries the whole label
MEDIA_KINDS = {"image": "photo", "video": "document", "audio": "voice", "file": "document"}
# what the Send API takes by URL: a picture of up to 8 MB, any other file of up to 25 MB
MAX_FILE_BYTES = {"photo": 8 * MB, "document": 25 * MB}
VIDEO_AND_AUDIO = (
    *("video/mp4", "video/ogg", "video/quicktime", "video/webm", "video/x-msvideo"),
    *("audio/aac", "audio/mp4", "audio/x-m4a", "audio/wav", "audio/x-wav", "audio/mpeg"),
)
EVENT_KINDS = ("message", "postback", "delivery", "read", "message_edit")
# attachments' URLs: Meta's media hosts and CDN, and Instagram's CDN
MEDIA_DOMAINS = (*meta.MEDIA_DOMAINS, "cdninstagram.com")


class MetaMessagingProvider(Provider):
    """A Messenger Platform webhook of one `object` (page, instagram): Meta's signature and
    handshake, a 24-hour reply window and the human agent tag for 7 days."""

    handshakes = True
    webhook_object = ""  # the notifications' `object`
    profile_fields = "name"  # what GET /<customer id> asks for their name

    def authentic(self, headers, body, credentials, query=None):
        return meta.authentic(headers, body, credentials)

    def handshake(self, params, credentials):
        return meta.handshake(params, credentials)

    def shape_error(self, data):
        return shape_error(data, self.webhook_object, self.label)

    def delivery_key(self, data, body):
        return delivery_key(data, body, self.code)

    def parse(self, data):
        if error := self.shape_error(data):
            raise ValueError(error)
        try:
            return parse_messaging(data)
        except (TypeError, KeyError, ValueError, AttributeError, OverflowError, OSError) as exc:
            raise ValueError(f"malformed {self.label} notification: {exc}") from exc

    def client(self, credentials):
        return MetaMessagingClient(
            credentials.token, credentials.api_url, self.label, self.profile_fields
        )


def capabilities(max_text_length, photo_mimetypes, document_mimetypes=(), max_text_bytes=0):
    """What Messenger and Instagram offer alike, with their own text and file limits."""
    return Capabilities(
        reply_window=REPLY_WINDOW,
        human_agent_window=HUMAN_AGENT_WINDOW,
        max_text_length=max_text_length,
        max_text_bytes=max_text_bytes,
        delivery_statuses=True,
        sender_profile=True,
        credentials=("app_secret", "webhook_secret"),
        max_file_bytes=MAX_FILE_BYTES,
        photo_mimetypes=photo_mimetypes,
        document_mimetypes=document_mimetypes,
        files_by_url=True,
    )


def _objects(items):
    return isinstance(items, list) and all(isinstance(item, dict) for item in items)


def _events(data):
    """Every messaging event of a notification, with its entry (the page's) id."""
    for entry in data["entry"]:
        for event in entry.get("messaging") or []:
            yield entry, event


def shape_error(data, webhook_object, label):
    """Why a decoded body is not a notification of `webhook_object`, or "" when it is one."""
    if not isinstance(data, dict) or data.get("object") != webhook_object:
        return f"not a {label} notification"
    entries = data.get("entry")
    if not _objects(entries):
        return f"malformed {label} notification: entry is not a list of objects"
    if not all(_objects(entry.get("messaging") or []) for entry in entries):
        return f"malformed {label} notification: messaging is not a list of objects"
    for _entry, event in _events(data):
        for key in ("sender", "recipient", *EVENT_KINDS):
            if event.get(key) is not None and not isinstance(event[key], dict):
                return f"malformed {label} notification: {key} is not an object"
        message = event.get("message")
        if message is not None and not isinstance(message.get("mid"), str):
            return f"malformed {label} notification: a message without mid"
    return ""


def delivery_key(data, body, code):
    """What identifies a delivery, Meta retrying the same one: its events, each by its kind and
    message id (an edit by its number, a receipt by its watermark); a notification without
    events (another field's change) is its whole body. Hashed: the parts are whatever the body
    says."""
    parts = sorted(
        json.dumps(
            [
                kind,
                (event.get("sender") or {}).get("id"),
                value.get("mid"),
                value.get("mids"),
                value.get("watermark"),
                value.get("num_edit"),
                event.get("timestamp") if kind == "postback" and not value.get("mid") else None,
            ],
            default=str,
        )
        for _entry, event in _events(data)
        for kind in EVENT_KINDS
        if isinstance(value := event.get(kind), dict)
    )
    if not parts:
        return f"{code}:body:" + hashlib.sha256(body).hexdigest()
    encoded = "|".join(parts).encode(errors="surrogatepass")
    return f"{code}:" + hashlib.sha256(encoded).hexdigest()


def _when(milliseconds):
    return datetime.datetime.fromtimestamp(int(milliseconds) / 1000, datetime.UTC)


def _id(value):
    """An id as Meta gives it (a string of digits), never an object."""
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value):
        raise ValueError(f"not an id: {value!r:.40}")
    return str(value)


def parse_messaging(data):
    """The InboundMessages of a well-shaped notification (see shape_error): customers' messages,
    edits and button presses, and the delivered/read receipts of ours; nothing for our own
    messages' echoes and the events we do not bridge (reactions, referrals...)."""
    events = []
    for entry, event in _events(data):
        sender = _id((event.get("sender") or {}).get("id"))
        when = _when(event.get("timestamp") or entry.get("time"))
        if event.get("message"):
            message = event["message"]
            if message.get("is_echo") or sender == str(entry.get("id")):
                continue  # what the page itself sent: ours, or written in Meta's inbox
            events += _parse_message(message, sender, when)
        elif event.get("message_edit"):
            edit = event["message_edit"]
            events.append(
                InboundMessage(
                    update_id=_id(edit["mid"]),
                    chat_id=sender,
                    user_id=sender,
                    kind="text",
                    date=when,
                    message_id=_id(edit["mid"]),
                    edited=True,
                    text=edit.get("text") or "",
                )
            )
        elif event.get("postback"):
            events.append(_parse_postback(event["postback"], sender, when, event))
        elif event.get("delivery") or event.get("read"):
            events += _parse_receipt(event, sender, when)
    return events


def _parse_message(message, sender, when):
    """A customer's message: its text (a quick reply's whole label, a story's link) with its
    first file; each further file its own event (mid/1, mid/2...)."""
    if message.get("is_deleted"):
        return []  # the customer unsent it (Instagram): what was posted stays
    mid = message["mid"]
    base = {"update_id": mid, "chat_id": sender, "user_id": sender, "date": when}
    quick_reply = message.get("quick_reply") or {}
    # the payload carries the whole label: titles are cut to 20 characters
    texts = [quick_reply.get("payload") or message.get("text") or ""]
    story = (message.get("reply_to") or {}).get("story") or {}
    if story:
        texts.append(f"[story reply] {story.get('url') or story.get('id') or ''}".strip())
    main = {"message_id": mid, "kind": "text"}
    further = []
    for attachment in message.get("attachments") or []:
        parsed = _attachment_fields(attachment)
        if parsed["kind"] == "text":
            texts.append(parsed["text"])
        elif main["kind"] == "text":
            main.update(parsed)
        else:
            further.append(InboundMessage(**base, **parsed, message_id=f"{mid}/{len(further) + 1}"))
    # a message Meta cannot show through the API still shows that it came
    main["text"] = "\n".join(filter(None, texts)) or (
        "[unsupported]" if main["kind"] == "text" else ""
    )
    return [InboundMessage(**base, **main), *further]


def _attachment_fields(attachment):
    """A file to fetch from Meta's CDN; a story mention, a shared post or link as its link (a
    story is the customer's: its link is kept, its content is not)."""
    if not isinstance(attachment, dict):
        raise ValueError("an attachment is not an object")
    kind = attachment.get("type")
    payload = attachment.get("payload") or {}
    if not isinstance(payload, dict):
        raise ValueError(f"{kind} payload is not an object")
    url = payload.get("url")
    url = url if isinstance(url, str) else ""
    if kind in MEDIA_KINDS and url:
        return {
            "kind": MEDIA_KINDS[kind],
            "file_id": url,
            "mimetype": "image/jpeg" if kind == "image" else "",
        }
    title = payload.get("title") or attachment.get("title") or ""
    title = title if isinstance(title, str) else ""
    return {"kind": "text", "text": " ".join(filter(None, (f"[{kind}]", title, url)))}


def _parse_postback(postback, sender, when, event):
    """A button pressed (Get Started, an icebreaker, a menu item): its payload is what the
    customer chose, as if they had written it."""
    mid = postback.get("mid") or f"postback:{event.get('timestamp')}"
    return InboundMessage(
        update_id=_id(mid),
        chat_id=sender,
        user_id=sender,
        kind="text",
        date=when,
        message_id=_id(mid),
        text=postback.get("payload") or postback.get("title") or "",
    )


def _parse_receipt(event, customer, when):
    """Delivered or read (the customer is its sender): of the messages named (mids, Instagram's
    read mid), else of all our messages to the customer sent up to the watermark (a status
    without a message id)."""
    state = "delivered" if event.get("delivery") else "read"
    receipt = event.get("delivery") or event.get("read")
    mids = receipt.get("mids") or ([receipt["mid"]] if receipt.get("mid") else [])
    common = {"chat_id": customer, "user_id": customer, "kind": "status", "delivery_status": state}
    if mids:
        return [
            InboundMessage(**common, update_id=_id(mid), date=when, message_id=_id(mid))
            for mid in mids
        ]
    watermark = receipt.get("watermark")
    return [InboundMessage(**common, update_id="", date=_when(watermark))]


class MetaMessagingClient(HttpClient):
    """The Send API of one Page (or of the Instagram account linked to it), plain HTTP."""

    def __init__(self, token, api_url, label, profile_fields, timeout=10.0):
        super().__init__(token, api_url, timeout)
        self.label = label
        self.profile_fields = profile_fields

    def _call(self, method, path, payload=None, params=None):
        response = self._request(
            method,
            path,
            json=payload,
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not response.ok:
            raise meta.graph_error(
                self.label,
                response.status_code,
                body,
                closed_window=(OUTSIDE_WINDOW,),
                window_note="more than 24 hours since the customer's last message (7 days for "
                "a person's reply with the human agent tag)",
                blocked=UNAVAILABLE,
            )
        if not isinstance(body, dict):
            raise DeliveryError(f"{self.label} answered no JSON object")
        return body

    def check(self):
        me = self._call("GET", "me", params={"fields": "id,name"})
        return f"{me.get('name')} (id {me.get('id')})"

    def sender_profile(self, user_id):
        found = self._call("GET", user_id, params={"fields": self.profile_fields})
        names = {"first_name": found.get("name"), "username": found.get("username")}
        return {key: value for key, value in names.items() if isinstance(value, str) and value}

    def send_one(self, message):
        return str(self._call("POST", "me/messages", _payload(message))["message_id"])

    def download(self, file_id, max_bytes):
        """Meta gives a URL on its CDN for each file, in the notification."""
        content = fetch_media(
            file_id, self.api_url, MEDIA_DOMAINS, max_bytes=max_bytes, timeout=self.timeout
        )
        return content, file_id.rsplit("/", 1)[-1].split("?")[0] or "file"


def _payload(message):
    """The Send API body of an OutboundMessage: a file by its URL (Meta takes no caption: the
    text went before it) or a text with quick replies; a reply past the 24 hours as a person's,
    with the HUMAN_AGENT tag."""
    payload = {"recipient": {"id": message.chat_id}, "messaging_type": "RESPONSE"}
    if message.human_agent:
        payload.update(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    if message.file:
        return payload | {"message": {"attachment": _attachment(message.file)}}
    body = {"text": message.text}
    # a quick reply cannot share the customer's number: no such button
    options = [label for row in message.buttons or [] for key, label in row if key != SHARE_PHONE]
    if options:
        body["quick_replies"] = [
            {"content_type": "text", "title": label[:QUICK_REPLY_TITLE_LENGTH], "payload": label}
            for label in options[:MAX_QUICK_REPLIES]
        ]
    return payload | {"message": body}


def _attachment(file):
    if file.kind == "photo":
        kind = "image"
    else:
        kind = next(
            (kind for kind in ("video", "audio") if file.mimetype.startswith(f"{kind}/")), "file"
        )
    return {"type": kind, "payload": {"url": file.url, "is_reusable": False}}
