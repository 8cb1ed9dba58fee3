"""What every messenger adapter produces and consumes."""

import dataclasses
import datetime
import threading
import unicodedata
from urllib.parse import urljoin, urlsplit

import requests

SHARE_PHONE = "share_phone"  # keyboard key: ask for the customer's own number, where it can
# marks and overrides of the writing direction: in a name they make "gpj.exe" read "exe.jpg"
DIRECTION_CONTROLS = dict.fromkeys([0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
NAME_FIELDS = ("username", "first_name", "last_name", "file_name")
MAX_REDIRECTS = 3


_per_thread = threading.local()


def http_session():
    """This thread's HTTP session for the plain-HTTP messenger APIs (WhatsApp, Viber).

    Its connections stay open between messages: without it every message opened a new TLS
    connection and loaded the CA bundle into a new TLS context (~20 ms of CPU) first.
    """
    session = getattr(_per_thread, "session", None)
    if session is None:
        session = _per_thread.session = requests.Session()
    return session


def clean_text(text):
    """Text as people see it and PostgreSQL takes it: control characters (NUL and the like)
    and lone surrogates dropped, lines kept."""
    if not text:
        return ""
    return "".join(
        char for char in text if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cs")
    )


def clean_name(text):
    """A name or file name as people see it: clean_text on one line, without the direction
    controls that would show it in another order."""
    return " ".join(clean_text(text).translate(DIRECTION_CONTROLS).split())


@dataclasses.dataclass(frozen=True)
class InboundMessage:
    """One customer event from a messenger, in the terms the bridge understands."""

    update_id: str
    chat_id: str
    user_id: str
    kind: str  # text, photo, document, voice, location, contact, blocked, unblocked, status
    date: datetime.datetime
    message_id: str = ""
    edited: bool = False
    text: str = ""
    username: str = ""
    first_name: str = ""
    last_name: str = ""
    language_code: str = ""
    file_id: str = ""
    file_name: str = ""
    mimetype: str = ""
    phone: str = ""  # kind "contact": the number shared
    # the messenger vouches that `phone` is the sender's own (Telegram's contact whose user_id
    # is the sender, WhatsApp's own number): only such a number may find a known contact
    phone_is_senders: bool = False
    latitude: float = 0.0
    longitude: float = 0.0
    start_payload: str = ""
    sender_phone: str = ""  # E.164, when the messenger identifies customers by number
    delivery_status: str = ""  # kind "status": sent, delivered, read or failed (of message_id)
    # the file of file_id, fetched before the chat is locked; None with why when it was not
    file_content: bytes | None = None
    file_error: str = ""

    def __post_init__(self):
        """Every text is cleaned here, once for all messengers (see clean_text, clean_name);
        a text field given anything but text (or None, for empty) is a malformed update."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.type is not str:
                continue
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise TypeError(f"{field.name} is not text: {value!r:.40}")
            clean = clean_name if field.name in NAME_FIELDS else clean_text
            object.__setattr__(self, field.name, clean(value))

    @property
    def display_name(self):
        full = " ".join(part for part in (self.first_name, self.last_name) if part)
        return full or (f"@{self.username}" if self.username else f"{self.chat_id}")


@dataclasses.dataclass(frozen=True)
class OutboundMessage:
    """One message to a customer: text with reply buttons [[(key, label)]], or a template."""

    chat_id: str
    text: str
    buttons: list | None = None  # None: leave the keyboard; []: remove it
    template: dict | None = None  # {"name", "language", "values"}: a messenger-approved one


@dataclasses.dataclass(frozen=True)
class OutboundResult:
    external_message_id: str


class DeliveryError(Exception):
    """A send that failed. `permanent` ones (blocked, chat gone) must not be retried."""

    def __init__(self, message, permanent=False, retry_after=0.0, blocked=False):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.blocked = blocked


class Client:
    """The calls the bridge makes to a messenger. Each adapter implements them."""

    max_text_length = 4096

    def check(self):
        """Return a short description of the bot account, or raise DeliveryError."""
        raise NotImplementedError

    def send_texts(self, messages):
        """Send OutboundMessages in order; return an OutboundResult or a DeliveryError each."""
        raise NotImplementedError

    def download(self, file_id, max_bytes):
        """Return (bytes, file name) of a file the customer sent, or raise DeliveryError when
        it cannot be fetched or is larger than max_bytes."""
        raise NotImplementedError


def too_large(max_bytes):
    return DeliveryError(f"larger than {max_bytes / 2**20:g} MB")


def media_url_allowed(url, api_url, media_domains):
    """A URL a messenger gives for a file may be fetched from the account's API server (as
    configured: scheme, host and port) or, over https, from the messenger's media domains and
    their subdomains; nowhere else (no cloud metadata, no intranet)."""
    try:
        parts, api = urlsplit(url), urlsplit(api_url)
        origin = (parts.scheme, parts.hostname, parts.port)
        api_origin = (api.scheme, api.hostname, api.port)
    except ValueError:  # not a URL, or a port out of range
        return False
    if "@" in parts.netloc or "\\" in url:  # parsers read those differently
        return False
    if origin == api_origin:
        return True
    host = parts.hostname or ""
    return (
        parts.scheme == "https"
        and parts.port in (None, 443)
        and any(host == domain or host.endswith(f".{domain}") for domain in media_domains)
    )


def fetch_media(url, api_url, media_domains, *, max_bytes, timeout, headers=None):
    """The body of a file at `url` (see media_url_allowed), read as a stream and given up as
    soon as it is larger than max_bytes; redirects are followed only to allowed URLs, with the
    headers only on the first host. Raises DeliveryError."""
    first_host = urlsplit(url).netloc
    for _hop in range(MAX_REDIRECTS + 1):
        if not media_url_allowed(url, api_url, media_domains):
            raise DeliveryError("not a URL of the messenger's own servers")
        try:
            response = http_session().get(
                url,
                headers=headers if urlsplit(url).netloc == first_host else None,
                timeout=timeout,
                stream=True,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise DeliveryError(f"unreachable: {exc}") from exc
        with response:
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                continue
            if not response.ok:
                raise DeliveryError(f"HTTP {response.status_code}")
            return _read_capped(response, max_bytes)
    raise DeliveryError("too many redirects")


def _read_capped(response, max_bytes):
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large(max_bytes)
    content = bytearray()
    try:
        for chunk in response.iter_content(64 * 1024):
            content += chunk
            if len(content) > max_bytes:
                raise too_large(max_bytes)
    except requests.RequestException as exc:
        raise DeliveryError(f"interrupted: {exc}") from exc
    return bytes(content)


def split_text(text, limit):
    """Split text into chunks of at most `limit` characters, preferring line then word breaks."""
    chunks = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text or not chunks:
        chunks.append(text)
    return chunks
