"""VK community messages (dev.vk.com) with requests: the Callback API's events, the Bots Long
Poll API for the polling relay, replies with messages.send.

Every call is a POST to the API with the community's access key and the API version in the
body (never in a URL that a log could keep). Every Callback API event carries the community's
secret key in its body and an event_id that VK sends again when it retries; VK takes only the
literal answer "ok" and answers its confirmation request with the community's confirmation
string. The Long Poll's events come without the secret: the client gives them as the Callback
API would have delivered them, secret included, so the relay's requests pass the one check.
"""

import datetime
import hashlib
import json
import logging
import secrets

import requests

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
    http_session,
    request_error,
    same_secret,
)

_logger = logging.getLogger(__name__)

API_URL = "https://api.vk.com/method"
API_VERSION = "5.199"
CONFIRMATION = "confirmation"
MESSAGE_EVENTS = ("message_new", "message_edit")
# where attachments' URLs point: VK's own hosts and its CDNs (photos on sun*.userapi.com,
# documents on vk.com redirected to psv*.userapi.com, voice messages on *.userapi.com)
MEDIA_DOMAINS = (
    "userapi.com",
    "vk.com",
    "vk.ru",
    "vk.me",
    "vkuserphoto.ru",
    "vkuseraudio.net",
    "vkuservideo.net",
    "vkuser.net",
    "vk-cdn.net",
)
# client_info.lang_id: the language of the customer's VK interface
LANGUAGES = {0: "ru", 1: "uk", 2: "be", 3: "en", 4: "es", 5: "fi", 6: "de", 7: "it"}
BUTTON_LABEL_LENGTH = 40
START_COMMAND = "start"  # the payload of the Start button VK shows in a new dialog
PEER_CHATS = 2_000_000_000  # peer ids from here on are group chats
RANDOM_IDS = 2**31  # messages.send's random_id is a 32-bit signed integer
# error codes of the API: retried after a pause, or the customer cannot be written to
TOO_MANY_REQUESTS, FLOOD_CONTROL = 6, 9
TRANSIENT = (1, 10)  # unknown error, internal server error
CANNOT_WRITE = (901, 902)  # no permission from the user, their privacy settings
FLOOD_PAUSE = 60.0
LOST_EVENTS = (
    "VK's Long Poll no longer has the events from number %s on: going on from %s; messages "
    "customers sent in between may be missed. The Callback API (webhook mode) loses none."
)


class VkProvider(Provider):
    """VK communities: the secret key in every event's body, a confirmation string, an
    event_id per delivery; the Long Poll for the polling relay."""

    code = "vk"
    label = "VK"
    api_url = API_URL
    channel_xmlid = "messenger_leads.messenger_channel_vk"
    capabilities = Capabilities(
        polling=True,
        max_text_length=4096,
        sender_profile=True,
        # photos up to 50 MB, documents up to 200 MB; no executables or audio as documents
        max_file_bytes={"photo": 50 * MB, "document": 200 * MB},
        photo_mimetypes=("image/jpeg", "image/png", "image/gif"),
        refused_extensions=("exe", "bat", "cmd", "com", "msi", "scr", "apk", "mp3"),
        credentials=("webhook_secret", "confirmation_code"),
        # a community's access key: 20 API requests a second (error 6 past it)
        per_bot_per_second=20,
    )

    def authentic(self, headers, body, credentials, query=None):
        """The secret key is in the JSON body: read it, and nothing else, to check it."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return False
        given = data.get("secret") if isinstance(data, dict) else None
        return isinstance(given, str) and same_secret(given, credentials.webhook_secret)

    def verification(self, data, credentials):
        return credentials.confirmation_code if data["type"] == CONFIRMATION else None

    def accepted_answer(self, data, stored):
        return "ok"  # VK retries any other answer, a duplicate too

    def relay_headers(self, body, credentials):
        return {}  # the body carries the secret (see VkClient.get_updates)

    def stored_body(self, data):
        return {key: value for key, value in data.items() if key != "secret"}

    def shape_error(self, data):
        return shape_error(data)

    def delivery_key(self, data, body):
        return "vk:" + hashlib.sha256(data["event_id"].encode(errors="surrogatepass")).hexdigest()

    def parse(self, data):
        return parse_vk_event(data)

    def client(self, credentials):
        return VkClient(credentials.token, credentials.api_url, credentials.webhook_secret)


PROVIDER = VkProvider()


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool)


def shape_error(data):
    """Why a decoded body is not a VK event, or "" when it is one."""
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return "not a VK event: no type"
    kind = data["type"]
    if kind == CONFIRMATION:
        return ""
    event = data.get("object")
    message = event.get("message") if kind == "message_new" and isinstance(event, dict) else event
    errors = [
        not (isinstance(data.get("event_id"), str) and data["event_id"]) and "no event_id",
        event is not None and not isinstance(event, dict) and "object is not an object",
        kind in MESSAGE_EVENTS
        and not (
            isinstance(message, dict)
            and _is_id(message.get("from_id"))
            and _is_id(message.get("peer_id"))
            and _is_id(message.get("id"))
        )
        and "a message without from_id, peer_id and id",
        kind in MESSAGE_EVENTS
        and isinstance(message, dict)
        and not isinstance(message.get("attachments", []), list)
        and "attachments are not a list",
        kind in ("message_allow", "message_deny")
        and not (isinstance(event, dict) and _is_id(event.get("user_id")))
        and "no user_id",
    ]
    error = next(filter(None, errors), "")
    return f"malformed VK event: {error}" if error else ""


def parse_vk_event(data):
    """Return the InboundMessages of one VK event; [] for what we do not bridge (group chats,
    other communities, other event types).

    Raises ValueError when the body is not a VK event.
    """
    if error := shape_error(data):
        raise ValueError(error)
    try:
        kind = data["type"]
        event = data.get("object") or {}
        if kind == "message_new":
            return _parse_message(event["message"], event.get("client_info"), edited=False)
        if kind == "message_edit":
            return _parse_message(event, None, edited=True)
        if kind in ("message_allow", "message_deny"):
            user_id = str(event["user_id"])
            return [
                InboundMessage(
                    update_id="",
                    chat_id=user_id,
                    user_id=user_id,
                    kind="unblocked" if kind == "message_allow" else "blocked",
                    date=datetime.datetime.now(datetime.UTC),
                    profile_url=profile_url(user_id),
                )
            ]
        return []
    except (TypeError, KeyError, ValueError, AttributeError, OverflowError, OSError) as exc:
        raise ValueError(f"malformed VK event: {exc}") from exc


def profile_url(user_id):
    """A VK user's page, by their id (a short name can change)."""
    return f"https://vk.com/id{user_id}"


def _language(client_info):
    lang_id = client_info.get("lang_id") if isinstance(client_info, dict) else None
    return LANGUAGES.get(lang_id, "") if _is_id(lang_id) else ""


def _parse_message(message, client_info, edited):
    """A customer's message in their dialog with the community: its text with its first file
    or place; each further file its own event (id/1, id/2...)."""
    sender, peer = message["from_id"], message["peer_id"]
    if sender <= 0 or peer != sender or peer >= PEER_CHATS or message.get("out"):
        return []  # group chats, communities, the community's own messages
    message_id = str(message["id"])
    user_id = str(sender)
    base = {
        "update_id": message_id,
        "chat_id": user_id,
        "user_id": user_id,
        "date": datetime.datetime.fromtimestamp(int(message.get("date") or 0), datetime.UTC),
        "edited": edited,
        "language_code": _language(client_info),
        "profile_url": profile_url(user_id),
    }
    main = {"message_id": message_id, "kind": "text", "text": message.get("text") or ""}
    if not main["text"]:
        main["text"] = _forwarded(message)
    if _is_start(message):
        ref = message.get("ref")
        main.update(text="/start", start_payload=ref if isinstance(ref, str) else "")
    further = []
    geo = message.get("geo")
    if isinstance(geo, dict) and isinstance(geo.get("coordinates"), dict):
        coordinates = geo["coordinates"]
        main.update(
            kind="location",
            latitude=float(coordinates["latitude"]),
            longitude=float(coordinates["longitude"]),
        )
    for attachment in message.get("attachments") or []:
        parsed = _attachment_fields(attachment)
        if parsed["kind"] == "text":
            main["text"] = "\n".join(filter(None, (main["text"], parsed["text"])))
        elif main["kind"] == "text":
            main.update(parsed)
        else:
            further.append(
                InboundMessage(**base, **parsed, message_id=f"{message_id}/{len(further) + 1}")
            )
    return [InboundMessage(**base, **main), *further]


def _is_start(message):
    """The Start button of a new dialog: its payload is {"command": "start"}."""
    try:
        payload = json.loads(message.get("payload") or "{}")
    except (TypeError, ValueError, RecursionError):
        return False
    return isinstance(payload, dict) and payload.get("command") == START_COMMAND


def _forwarded(message):
    """A forwarded message comes with an empty text: the forwarded ones' texts say it."""
    forwarded = message.get("fwd_messages") or []
    if not isinstance(forwarded, list):
        return ""
    return "\n".join(
        item["text"] for item in forwarded if isinstance(item, dict) and item.get("text")
    )


def _attachment_fields(attachment):
    """The InboundMessage fields of one attachment: a file to fetch from its URL, else its
    kind named in the text."""
    if not isinstance(attachment, dict):
        raise ValueError("an attachment is not an object")
    kind = attachment.get("type")
    content = attachment.get(kind) if isinstance(kind, str) else None
    if not isinstance(content, dict):
        return {"kind": "text", "text": f"[{kind}]"}
    if kind == "photo":
        url = _largest_photo(content)
        name = f"photo{content.get('owner_id')}_{content.get('id')}.jpg"
        return _file("photo", url, name, "image/jpeg") if url else _named(kind)
    if kind == "doc":
        title = content.get("title") or ""
        return _file("document", content.get("url"), title) if content.get("url") else _named(kind)
    if kind == "audio_message":
        url = content.get("link_mp3") or content.get("link_ogg")
        return _file("voice", url, "voice.mp3", "audio/mpeg") if url else _named(kind)
    if kind == "link":
        return {"kind": "text", "text": content.get("url") or "[link]"}
    return _named(kind)


def _named(kind):
    return {"kind": "text", "text": f"[{kind}]"}


def _file(kind, url, name, mimetype=""):
    if not isinstance(url, str):
        raise ValueError(f"a {kind}'s url is not text")
    return {"kind": kind, "file_id": url, "file_name": name, "mimetype": mimetype}


def _largest_photo(photo):
    """The URL of a photo's original, else of its largest size."""
    original = photo.get("orig_photo")
    if isinstance(original, dict) and original.get("url"):
        return original["url"]
    sizes = [size for size in photo.get("sizes") or [] if isinstance(size, dict)]
    sizes = [size for size in sizes if size.get("url")]
    if not sizes:
        return ""
    largest = max(sizes, key=lambda size: (size.get("width") or 0) * (size.get("height") or 0))
    return largest["url"]


def _api_error(error):
    """The DeliveryError of an API answer with an error: too many requests and flood control
    are tried again after a pause; a customer who does not allow messages is blocked."""
    code = error.get("error_code") if isinstance(error, dict) else None
    text = f"VK error {code}: {error.get('error_msg') if isinstance(error, dict) else error}"
    if code == TOO_MANY_REQUESTS:
        return DeliveryError(text, retry_after=1.0)  # the limits are per second
    if code == FLOOD_CONTROL:
        return DeliveryError(text, retry_after=FLOOD_PAUSE)
    if code in TRANSIENT:
        return DeliveryError(text)
    return DeliveryError(text, permanent=True, blocked=code in CANNOT_WRITE)


def _button(key, label):
    """A text button writes its label in the chat as the customer's message, as a reply
    keyboard does elsewhere: the bridge reads the choice like any other answer."""
    return {
        "action": {
            "type": "text",
            "label": label[:BUTTON_LABEL_LENGTH],
            "payload": json.dumps({"key": key}),
        },
        "color": "secondary",
    }


def keyboard(buttons):
    """messages.send's keyboard of reply buttons, without the share-phone one (VK shares no
    numbers); an empty one removes the keyboard."""
    rows = [[_button(key, label) for key, label in row if key != SHARE_PHONE] for row in buttons]
    rows = [row for row in rows if row]
    return json.dumps({"one_time": not rows, "buttons": rows}, ensure_ascii=False)


def random_id(key):
    """messages.send's random_id: VK sends a message with one it already sent from the
    community once, so every try of one outbox row (its key) carries the same."""
    if not key:
        return secrets.randbelow(RANDOM_IDS)
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8]) % RANDOM_IDS


class VkClient(HttpClient):
    """The API of one VK community, with plain HTTP calls."""

    label = "VK"

    def __init__(self, token, api_url, secret="", timeout=10.0):
        super().__init__(token, api_url, timeout)
        self.secret = secret
        self._session = None  # the Long Poll's server and key
        self._ts = ""  # the newest event number the Long Poll gave
        self._outdated = None  # (an offset the Long Poll no longer has, the one to use instead)
        self._batch = (None, None, None)  # the last event of the last poll, its ts, the offset

    def _call(self, method, params=None, timeout=None):
        response = self._request(
            "POST",
            method,
            data={**(params or {}), "access_token": self.token, "v": API_VERSION},
            timeout=timeout or self.timeout,
        )
        if response.status_code >= 500:
            raise DeliveryError(f"VK {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise DeliveryError(f"VK answered no JSON: {exc}", permanent=True) from exc
        if not isinstance(body, dict):
            raise DeliveryError("VK answered no JSON object", permanent=True)
        if "error" in body:
            raise _api_error(body["error"])
        if "response" not in body:
            raise DeliveryError("VK answered without a response", permanent=True)
        return body["response"]

    def _community(self):
        """The community of the access key (groups.getById without an id)."""
        answer = self._call("groups.getById")
        groups = answer.get("groups") if isinstance(answer, dict) else answer
        if not (isinstance(groups, list) and groups and isinstance(groups[0], dict)):
            raise DeliveryError("VK gave no community for this access key", permanent=True)
        return groups[0]

    def check(self):
        community = self._community()
        return f"{community.get('name')} (vk.com/{community.get('screen_name')})"

    def send_one(self, message):
        params = {
            "peer_id": message.chat_id,
            "random_id": random_id(message.key),
            "message": message.text,
        }
        if isinstance(message.buttons, list):  # None (or an outbox row's False): as it is
            params["keyboard"] = keyboard(message.buttons)
        if message.file:
            params["attachment"] = self._upload(message.chat_id, message.file)
        sent = self._call("messages.send", params)
        if not _is_id(sent):
            raise DeliveryError(f"VK answered without a message id: {sent!r:.40}")
        return str(sent)

    def _upload(self, peer_id, file):
        """Upload a file for a message to `peer_id`: a photo or a document, as VK takes them
        (the upload server VK names, then saved); return messages.send's attachment."""
        if file.kind == "photo":
            server = self._call("photos.getMessagesUploadServer", {"peer_id": peer_id})
            uploaded = self._post_file(server, "photo", file)
            saved = self._call("photos.saveMessagesPhoto", uploaded)
            photo = saved[0] if isinstance(saved, list) and saved else {}
            attachment = f"photo{photo.get('owner_id')}_{photo.get('id')}"
            return f"{attachment}_{photo['access_key']}" if photo.get("access_key") else attachment
        server = self._call("docs.getMessagesUploadServer", {"type": "doc", "peer_id": peer_id})
        uploaded = self._post_file(server, "file", file)
        saved = self._call("docs.save", {"file": uploaded.get("file"), "title": file.name})
        doc = saved.get("doc") if isinstance(saved, dict) else None
        if not isinstance(doc, dict):
            raise DeliveryError("VK saved no document", permanent=True)
        return f"doc{doc.get('owner_id')}_{doc.get('id')}"

    def _post_file(self, server, field, file):
        """The upload server's answer to the file, posted as `field`."""
        url = server.get("upload_url") if isinstance(server, dict) else None
        if not isinstance(url, str) or not url:
            raise DeliveryError("VK gave no upload server")
        try:
            response = http_session().post(
                url, files={field: (file.name, file.content, file.mimetype)}, timeout=FILE_TIMEOUT
            )
            answer = response.json()
        except requests.RequestException as exc:
            raise request_error("VK", exc) from exc
        except ValueError as exc:
            raise DeliveryError(f"VK's upload server answered no JSON: {exc}") from exc
        if not isinstance(answer, dict) or answer.get("error") or not answer.get(field):
            error = answer.get("error") if isinstance(answer, dict) else answer
            raise DeliveryError(f"VK refused the file: {error!r:.80}", permanent=True)
        return answer

    def sender_profile(self, user_id):
        users = self._call("users.get", {"user_ids": user_id, "fields": "screen_name"})
        if not (isinstance(users, list) and users and isinstance(users[0], dict)):
            raise DeliveryError(f"VK has no user {user_id}")
        user = users[0]
        screen_name = user.get("screen_name") or ""
        return {
            "first_name": user.get("first_name") or "",
            "last_name": user.get("last_name") or "",
            "username": "" if screen_name == f"id{user_id}" else screen_name,
        }

    def download(self, file_id, max_bytes):
        """VK gives a URL for each file in the event."""
        name = file_id.rsplit("/", 1)[-1].split("?")[0] or "file"
        content = fetch_media(
            file_id, self.api_url, MEDIA_DOMAINS, max_bytes=max_bytes, timeout=self.timeout
        )
        return content, name

    def _connect(self, keep_ts=False):
        """A Long Poll session: its server and key, and the newest event number unless
        `keep_ts` (a key that expired: the events after ours are still there)."""
        group_id = self._community()["id"]
        session = self._call("groups.getLongPollServer", {"group_id": group_id})
        if not (isinstance(session, dict) and session.get("server") and session.get("key")):
            raise DeliveryError("VK gave no Long Poll server: is the Long Poll API on?")
        self._session = session
        if not (keep_ts and self._ts):
            self._ts = str(session.get("ts") or "")

    def get_updates(self, offset, timeout):
        """Long-poll from the event number `offset` (none at first: from now on). The events
        come as the Callback API delivers them, with the community's secret key."""
        if self._session is None:
            self._connect()
        if self._outdated and offset == self._outdated[0]:
            offset = self._outdated[1]
        ts = offset or self._ts
        try:
            response = http_session().get(
                self._session["server"],
                params={"act": "a_check", "key": self._session["key"], "ts": ts, "wait": timeout},
                timeout=timeout + self.timeout,
            )
            answer = response.json()
        except requests.RequestException as exc:
            raise request_error("VK", exc) from exc
        except ValueError as exc:
            raise DeliveryError(f"VK's Long Poll answered no JSON: {exc}") from exc
        if not isinstance(answer, dict):
            raise DeliveryError("VK's Long Poll answered no JSON object")
        failed = answer.get("failed")
        if failed == 1:  # events lost from our number on: on from the number VK gives
            self._ts = str(answer.get("ts") or "")
            self._outdated = (offset, self._ts)
            _logger.warning(LOST_EVENTS, ts, self._ts)
            return []
        if failed in (2, 3):  # the key expired (2): a new one, same number; lost (3): both new
            self._connect(keep_ts=failed == 2)
            if failed == 3:
                self._outdated = (offset, self._ts)
                _logger.warning(LOST_EVENTS, ts, self._ts)
            return []
        events = answer.get("updates")
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise DeliveryError("VK's Long Poll answered updates that are not a list of objects")
        self._ts = str(answer.get("ts") or ts)
        updates = [dict(event, secret=self.secret) for event in events]
        self._batch = (updates[-1] if updates else None, self._ts, offset)
        return updates

    def offset_after(self, update):
        """The Long Poll gives one number per batch: the batch's own once its last event is
        stored, until then the one it was fetched with (a restart fetches it again; the
        webhook ignores what it has)."""
        last, ts, fetched_with = self._batch
        return ts if update is last else fetched_with
