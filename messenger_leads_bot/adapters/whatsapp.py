"""WhatsApp Cloud API (Meta's Graph API) with requests: check, parse and answer webhooks."""

import datetime
import hashlib

from . import meta
from .base import (
    FILE_TIMEOUT,
    MB,
    SHARE_PHONE,
    Capabilities,
    DeliveryError,
    HttpClient,
    InboundMessage,
    Provider,
    fetch_media,
)

# Meta's media hosts, and WhatsApp's own CDN they may lead to
MEDIA_DOMAINS = (*meta.MEDIA_DOMAINS, "whatsapp.net")
SERVICE_WINDOW = datetime.timedelta(hours=24)  # free-form replies only within it
REENGAGEMENT_REQUIRED = 131047  # the window is closed: only a template can go
RATE_LIMIT_CODES = (*meta.RATE_LIMIT_CODES, 80007, 130429, 131048, 131056)
MAX_REPLY_BUTTONS = 3  # more options go as a list
BUTTON_TITLE_LENGTH = 20
LIST_TITLE_LENGTH = 24
INTERACTIVE_BODY_LENGTH = 1024
# the Cloud API's supported media (reference/media): images as pictures, these as documents
DOCUMENT_MIMETYPES = (
    "text/plain",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
MEDIA_KINDS = {
    "image": "photo",
    "document": "document",
    "audio": "voice",
    "video": "document",
    "sticker": "photo",
}


class WhatsAppProvider(Provider):
    """WhatsApp Cloud API: bodies signed with the Meta app's secret, a GET handshake with our
    verify token, a 24-hour window for free replies and approved templates past it."""

    code = "whatsapp"
    label = "WhatsApp"
    api_url = meta.GRAPH_API_URL
    channel_xmlid = "messenger_leads.messenger_channel_whatsapp"
    capabilities = Capabilities(
        reply_window=SERVICE_WINDOW,
        templates=True,
        max_text_length=4096,
        delivery_statuses=True,
        credentials=("phone_number_id", "app_secret", "webhook_secret"),
        max_file_bytes={"photo": 5 * MB, "document": 100 * MB},
        photo_mimetypes=("image/jpeg", "image/png"),
        document_mimetypes=DOCUMENT_MIMETYPES,
        # the Cloud API's throughput: 80 messages a second per business number by default
        per_bot_per_second=80,
    )
    handshakes = True

    def authentic(self, headers, body, credentials, query=None):
        return meta.authentic(headers, body, credentials)

    def handshake(self, params, credentials):
        return meta.handshake(params, credentials)

    def shape_error(self, data):
        return shape_error(data)

    def delivery_key(self, data, body):
        return delivery_key(data, body)

    def parse(self, data):
        return parse_whatsapp_update(data)

    def client(self, credentials):
        return WhatsAppClient(
            credentials.token, credentials.api_url, phone_number_id=credentials.phone_number_id
        )


PROVIDER = WhatsAppProvider()


def delivery_key(data, body):
    """What identifies a delivery, Meta retrying the same one: its messages and statuses; a
    notification with neither (another field's change) is its whole body."""
    parts = sorted(
        f"{item.get('id')}:{item.get('status', 'message')}"
        for value in _change_values(data)
        for kind in ("messages", "statuses")
        for item in value.get(kind) or []
    )
    if not parts:
        return "wa:body:" + hashlib.sha256(body).hexdigest()
    # surrogatepass: an id is whatever the body says, and its key must not fail
    return "wa:" + hashlib.sha256("|".join(parts).encode(errors="surrogatepass")).hexdigest()


def _change_values(data):
    """The `value` of every change of a notification. Raises ValueError when the envelope
    (entries, changes, their contacts, messages and statuses) is not lists of objects."""
    entries = data.get("entry")
    if not _objects(entries):
        raise ValueError("entry is not a list of objects")
    for entry in entries:
        changes = entry.get("changes") or []
        if not _objects(changes):
            raise ValueError("changes is not a list of objects")
        for change in changes:
            value = change.get("value") or {}
            if not isinstance(value, dict) or not all(
                _objects(value.get(kind) or []) for kind in ("contacts", "messages", "statuses")
            ):
                raise ValueError("a change's value is not an object of lists of objects")
            yield value


def _objects(items):
    return isinstance(items, list) and all(isinstance(item, dict) for item in items)


def shape_error(data):
    """Why a decoded body is not a WhatsApp Cloud API notification, or "" when it is one."""
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        return "not a WhatsApp Cloud API notification"
    try:
        list(_change_values(data))
    except ValueError as exc:
        return f"malformed WhatsApp notification: {exc}"
    return ""


def parse_whatsapp_update(data):
    """Return the InboundMessages (messages and statuses) of one webhook notification.

    Raises ValueError when the body is not a WhatsApp Cloud API notification.
    """
    if error := shape_error(data):
        raise ValueError(error)
    try:
        events = []
        for value in _change_values(data):
            names = {
                str(contact.get("wa_id")): (contact.get("profile") or {}).get("name", "")
                for contact in value.get("contacts") or []
            }
            events += [_parse_message(m, names) for m in value.get("messages") or []]
            events += [_parse_status(s) for s in value.get("statuses") or []]
        return events
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise ValueError(f"malformed WhatsApp notification: {exc}") from exc


def _when(timestamp):
    return datetime.datetime.fromtimestamp(int(timestamp), datetime.UTC)


def _parse_message(message, names):
    sender = str(message["from"])
    fields = {
        "update_id": message["id"],
        "chat_id": sender,
        "user_id": sender,
        "message_id": message["id"],
        "date": _when(message["timestamp"]),
        "first_name": names.get(sender, ""),
        "sender_phone": f"+{sender}",
        "kind": "text",
    }
    kind = message.get("type")
    if kind == "text":
        fields["text"] = message["text"]["body"]
    elif kind in MEDIA_KINDS:
        media = message[kind]
        fields.update(
            kind=MEDIA_KINDS[kind],
            file_id=media["id"],
            file_name=media.get("filename", ""),
            mimetype=media.get("mime_type", ""),
            text=media.get("caption", ""),
        )
    elif kind == "location":
        location = message["location"]
        fields.update(
            kind="location", latitude=location["latitude"], longitude=location["longitude"]
        )
    elif kind == "contacts":
        contact = message["contacts"][0]
        phone = (contact.get("phones") or [{}])[0]
        own = str(phone.get("wa_id", "")) == sender
        fields.update(
            kind="contact" if own else "text",
            phone=phone.get("phone", ""),
            phone_is_senders=own,
            text=f"{(contact.get('name') or {}).get('formatted_name', '')} "
            f"{phone.get('phone', '')}".strip(),
        )
    elif kind == "interactive":
        interactive = message["interactive"]
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        # the id carries the whole label: titles are cut to 20 characters
        fields["text"] = reply.get("id") or reply.get("title", "")
    elif kind == "button":
        fields["text"] = message["button"].get("text", "")
    else:
        fields["text"] = f"[{kind}]"  # shown in the thread: nothing the customer sent is lost
    return InboundMessage(**fields)


def _parse_status(status):
    errors = status.get("errors") or [{}]
    return InboundMessage(
        update_id=status["id"],
        chat_id=str(status.get("recipient_id", "")),
        user_id=str(status.get("recipient_id", "")),
        kind="status",
        date=_when(status["timestamp"]),
        message_id=status["id"],
        delivery_status=status["status"],
        text=errors[0].get("title") or errors[0].get("message") or "",
    )


def _delivery_error(status_code, body):
    return meta.graph_error(
        "WhatsApp",
        status_code,
        body,
        rate_limits=RATE_LIMIT_CODES,
        closed_window=(REENGAGEMENT_REQUIRED,),
        window_note="more than 24 hours since the customer's last message, only an approved "
        "template can be sent",
    )


class WhatsAppClient(HttpClient):
    """The Cloud API for one business phone number, with plain HTTP calls."""

    label = "WhatsApp"

    def __init__(self, token, api_url, phone_number_id="", timeout=10.0):
        super().__init__(token, api_url, timeout)
        self.phone_number_id = phone_number_id

    def _call(self, method, path, payload=None, **kwargs):
        response = self._request(
            method, path, json=payload, headers={"Authorization": f"Bearer {self.token}"}, **kwargs
        )
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not response.ok:
            raise _delivery_error(response.status_code, body)
        return body

    def check(self):
        number = self._call(
            "GET", f"{self.phone_number_id}?fields=display_phone_number,verified_name"
        )
        return f"{number.get('verified_name')} ({number.get('display_phone_number')})"

    def send_one(self, message):
        payload = _payload(message, self._upload(message.file) if message.file else "")
        sent = self._call("POST", f"{self.phone_number_id}/messages", payload)
        return sent["messages"][0]["id"]

    def _upload(self, file):
        """The media id of a file uploaded for this number (POST /<number>/media, multipart)."""
        media = self._call(
            "POST",
            f"{self.phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": file.mimetype},
            files={"file": (file.name, file.content, file.mimetype)},
            timeout=FILE_TIMEOUT,
        )
        return media["id"]

    def download(self, file_id, max_bytes):
        media = self._call("GET", file_id)
        if not isinstance(media.get("url"), str):
            raise DeliveryError(f"WhatsApp gave no URL for media {file_id}")
        content = fetch_media(
            media["url"],
            self.api_url,
            MEDIA_DOMAINS,
            max_bytes=max_bytes,
            timeout=self.timeout,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        extension = str(media.get("mime_type") or "").split("/")[-1].split(";")[0]
        return content, f"{file_id}.{extension}" if extension else file_id


def _payload(message, media_id=""):
    """The Cloud API body of an OutboundMessage: template, file (uploaded as `media_id`), text,
    reply buttons or a list."""
    base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.chat_id}
    if message.file:
        kind = "image" if message.file.kind == "photo" else "document"
        media = {"id": media_id}
        if kind == "document":
            media["filename"] = message.file.name
        if message.text:
            media["caption"] = message.text
        return base | {"type": kind, kind: media}
    if message.template:
        template = {
            "name": message.template["name"],
            "language": {"code": message.template["language"]},
        }
        if message.template.get("values"):
            parameters = [{"type": "text", "text": text} for text in message.template["values"]]
            template["components"] = [{"type": "body", "parameters": parameters}]
        return base | {"type": "template", "template": template}
    # WhatsApp gives the number with every message: no button asks for it
    options = [label for row in message.buttons or [] for key, label in row if key != SHARE_PHONE]
    if not options or len(message.text) > INTERACTIVE_BODY_LENGTH:
        return base | {"type": "text", "text": {"body": message.text, "preview_url": True}}
    if len(options) <= MAX_REPLY_BUTTONS:
        action = {
            "buttons": [
                {"type": "reply", "reply": {"id": label, "title": label[:BUTTON_TITLE_LENGTH]}}
                for label in options
            ]
        }
        kind = "button"
    else:
        rows = [{"id": label, "title": label[:LIST_TITLE_LENGTH]} for label in options]
        action = {"button": "☰", "sections": [{"rows": rows}]}  # the list's opening button
        kind = "list"
    interactive = {"type": kind, "body": {"text": message.text}, "action": action}
    return base | {"type": "interactive", "interactive": interactive}
