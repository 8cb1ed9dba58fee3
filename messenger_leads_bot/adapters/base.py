"""What every messenger adapter produces and consumes."""

import dataclasses
import datetime


@dataclasses.dataclass(frozen=True)
class InboundMessage:
    """One customer event from a messenger, in the terms the bridge understands."""

    update_id: str
    chat_id: str
    user_id: str
    kind: str  # text, photo, document, voice, location, contact, blocked, unblocked
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

    @property
    def display_name(self):
        full = " ".join(part for part in (self.first_name, self.last_name) if part)
        return full or (f"@{self.username}" if self.username else f"{self.chat_id}")


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
        """Send [(chat_id, text, keyboard)] in order; yield OutboundResult or DeliveryError."""
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
