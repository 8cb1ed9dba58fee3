"""What every messenger adapter produces and consumes."""

import dataclasses
import datetime
import threading
import unicodedata

import requests

SHARE_PHONE = "share_phone"  # keyboard key: ask for the customer's own number, where it can
# marks and overrides of the writing direction: in a name they make "gpj.exe" read "exe.jpg"
DIRECTION_CONTROLS = dict.fromkeys([0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
NAME_FIELDS = ("username", "first_name", "last_name", "file_name")


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
    phone: str = ""
    latitude: float = 0.0
    longitude: float = 0.0
    start_payload: str = ""
    sender_phone: str = ""  # E.164, when the messenger identifies customers by number
    delivery_status: str = ""  # kind "status": sent, delivered, read or failed (of message_id)

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

    def download(self, file_id):
        """Return (bytes, file name) of a file the customer sent."""
        raise NotImplementedError


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
