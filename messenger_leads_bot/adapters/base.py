"""What every messenger adapter produces and consumes."""

import dataclasses
import datetime
import functools
import hashlib
import hmac
import os
import ssl
import tempfile
import threading
import unicodedata
from urllib.parse import urljoin, urlsplit

import certifi
import requests

SHARE_PHONE = "share_phone"  # keyboard key: ask for the customer's own number, where it can
# marks and overrides of the writing direction: in a name they make "gpj.exe" read "exe.jpg"
DIRECTION_CONTROLS = dict.fromkeys([0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
NAME_FIELDS = ("username", "first_name", "last_name", "file_name")
MAX_REDIRECTS = 3
TEMPLATE_PLACEHOLDERS = ("customer", "salesperson", "company")
MB = 2**20
FILE_KINDS = ("photo", "document")  # a file goes shown as a picture, else as a file
FILE_TIMEOUT = 120.0  # seconds to upload or send a file (texts keep the client's timeout)


_per_thread = threading.local()


def http_session():
    """This thread's HTTP session for the plain-HTTP messenger APIs (WhatsApp, Viber, MAX).

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
    profile_url: str = ""  # the customer's public profile page, where the messenger has one
    delivery_status: str = ""  # kind "status": sent, delivered, read or failed (of message_id)
    # the file of file_id, fetched before the chat is locked; None with why when it was not
    file_content: bytes | None = None
    file_error: str = ""
    # the listing (classified ad) the customer writes about, where the messenger says
    listing_ref: str = ""
    listing_title: str = ""
    listing_price: str = ""
    listing_url: str = ""

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
class OutboundFile:
    """A file to a customer, as file_kind said it goes: its bytes to upload, or the URL the
    messenger fetches it from (Capabilities.files_by_url)."""

    name: str
    mimetype: str
    size: int
    kind: str  # one of FILE_KINDS
    content: bytes | None = None
    url: str = ""


@dataclasses.dataclass(frozen=True)
class OutboundMessage:
    """One message to a customer: text with reply buttons [[(key, label)]], a template, or a
    file (its caption the text, when there is one)."""

    chat_id: str
    text: str
    buttons: list | None = None  # None: leave the keyboard; []: remove it
    template: dict | None = None  # {"name", "language", "values"}: a messenger-approved one
    file: OutboundFile | None = None
    # a person's reply past the reply window, within the human agent window: it goes with the
    # messenger's human agent tag (Capabilities.human_agent_window)
    human_agent: bool = False
    # the same for every try of this message (its database and outbox row): a messenger that
    # takes a key against sending twice (VK's random_id) sends a retried message once
    key: str = ""


@dataclasses.dataclass(frozen=True)
class OutboundResult:
    external_message_id: str


class DeliveryError(Exception):
    """A send that failed. `permanent` ones (blocked, chat gone) must not be retried;
    `certificate`: the server's TLS certificate is not trusted (see ca_bundle_verify)."""

    def __init__(self, message, permanent=False, retry_after=0.0, blocked=False, certificate=False):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.blocked = blocked
        self.certificate = certificate


class NotConfirmed(ValueError):
    """A notification whose messages the messenger's API does not know (Client.confirm)."""


def request_error(label, exc):
    """The DeliveryError of a request that got no answer: an untrusted certificate says so."""
    if isinstance(exc, requests.exceptions.SSLError):
        return DeliveryError(
            f"{label}'s server certificate is not trusted: {exc}", permanent=True, certificate=True
        )
    return DeliveryError(f"{label} unreachable: {exc}")


class Client:
    """The calls the bridge makes to a messenger. Each adapter implements those its provider's
    capabilities offer (see Capabilities); the others raise NotImplementedError."""

    def check(self):
        """Return a short description of the bot account, or raise DeliveryError."""
        raise NotImplementedError

    def send_texts(self, messages):
        """Send OutboundMessages in order, texts and files (Capabilities.max_file_bytes); return
        an OutboundResult or a DeliveryError each."""
        raise NotImplementedError

    def download(self, file_id, max_bytes):
        """Return (bytes, file name) of a file the customer sent, or raise DeliveryError when
        it cannot be fetched or is larger than max_bytes."""
        raise NotImplementedError

    def set_webhook(self, url, secret):
        """Point the messenger at `url` (Capabilities.manages_webhook), or raise DeliveryError."""
        raise NotImplementedError

    def delete_webhook(self):
        """Stop the messenger calling the webhook (Capabilities.manages_webhook)."""
        raise NotImplementedError

    def get_updates(self, offset, timeout):
        """Long-poll for the updates from `offset` on (Capabilities.polling): the webhook bodies
        they would have been, as dicts. Raises DeliveryError."""
        raise NotImplementedError

    def offset_after(self, update):
        """The offset to poll from once `update` (of get_updates) is stored (polling)."""
        raise NotImplementedError

    def welcome_reply(self, data, text):
        """The answer to a newcomer opening the chat (Capabilities.welcome_on_open), as the JSON
        the messenger shows as the bot's first words."""
        raise NotImplementedError

    def sender_profile(self, user_id):
        """The customer's name, where the messenger's updates carry none
        (Capabilities.sender_profile): a dict of InboundMessage fields (first_name, last_name,
        username). Raises DeliveryError."""
        raise NotImplementedError

    def webhook_info(self):
        """How the messenger sees our webhook (Capabilities.webhook_status): a dict with its
        url, pending_update_count, last_error_date and last_error_message. Raises
        DeliveryError."""
        raise NotImplementedError

    def confirm(self, events):
        """The InboundMessages of `events` the messenger's API knows, read back through it
        with what it says of them (text, author, file, listing); those it does not know are
        left out (Capabilities.confirms_by_api: a notification proves nothing). Raises
        DeliveryError when the API cannot tell (the update is tried again)."""
        raise NotImplementedError

    def recent_updates(self, since):
        """The webhook bodies of the customers' messages since `since` (an aware datetime), as
        the webhook would have had them, read through the API (Capabilities.syncs_by_api: what
        a lost webhook missed). Raises DeliveryError."""
        raise NotImplementedError


class HttpClient(Client):
    """A messenger's API over plain HTTP (requests, with this thread's http_session): the
    account's token and API server, a timeout for each call; send_texts sends the messages one
    by one (send_one)."""

    label = ""  # the messenger's name, in the errors

    def __init__(self, token, api_url, timeout=10.0):
        self.token = token
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    def _request(self, method, path, **kwargs):
        """One request to `path` on the API server, with requests' keyword arguments (the
        client's timeout unless given); DeliveryError when it gets no answer (request_error)."""
        try:
            return http_session().request(
                method, f"{self.api_url}/{path}", **({"timeout": self.timeout} | kwargs)
            )
        except requests.RequestException as exc:
            raise request_error(self.label, exc) from exc

    def send_texts(self, messages):
        results = []
        for message in messages:
            try:
                results.append(OutboundResult(self.send_one(message)))
            except DeliveryError as exc:
                results.append(exc)
            except (KeyError, IndexError, TypeError) as exc:  # an answer without the id
                results.append(DeliveryError(f"{self.label} answered without a message id: {exc}"))
        return results

    def send_one(self, message):
        """Send one OutboundMessage; return the messenger's id of the message sent. Raises
        DeliveryError."""
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Credentials:
    """What a bot account holds for its messenger, without Odoo: each provider reads its own."""

    token: str = ""
    api_url: str = ""
    webhook_secret: str = ""  # ours: a header the messenger sends back, or a verify token
    app_secret: str = ""  # the messenger's app secret that signs the bodies
    phone_number_id: str = ""  # the business number the messages go from
    name: str = ""  # the account's name, shown as the sender where the messenger does
    # root certificates to trust besides certifi's, PEM text or a file's path (ca_bundle_verify)
    ca_bundle: str = ""
    # what the webhook answers the messenger's request confirming it (Provider.verification)
    confirmation_code: str = ""
    # OAuth2 client credentials, where the messenger's API takes no token of ours
    client_id: str = ""
    client_secret: str = dataclasses.field(default="", repr=False)
    # the access token they gave last and when it expires (seconds since the epoch), kept by
    # the account; `token_saver(access_token, expires_at)` keeps a renewed one
    access_token: str = dataclasses.field(default="", repr=False)
    access_token_expires_at: float = 0.0
    token_saver: object = dataclasses.field(default=None, repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What a messenger offers, as data: models and views ask these, never a messenger's name."""

    # free-form replies only within this time of the customer's last message (None: always);
    # past it only an approved template goes (`templates`)
    reply_window: datetime.timedelta | None = None
    # past the reply window, a person's reply (not the bot's) still goes within this time of the
    # customer's last message, with the messenger's human agent tag (OutboundMessage.human_agent)
    human_agent_window: datetime.timedelta | None = None
    templates: bool = False  # messenger-approved templates can be sent
    manages_webhook: bool = False  # set_webhook / delete_webhook through the API
    webhook_status: bool = False  # webhook_info: how the messenger sees our webhook
    polling: bool = False  # get_updates: the polling relay can fetch updates
    max_text_length: int = 4096  # longer texts go in several messages
    max_text_bytes: int = 0  # and the most UTF-8 bytes a message takes, where it counts them
    welcome_on_open: bool = False  # welcome_reply to someone opening the chat before writing
    delivery_statuses: bool = False  # sent / delivered / read / failed of our messages
    share_phone: bool = False  # a button that shares the customer's own number
    # updates carry no name: the contact's comes from Client.sender_profile, once per contact
    sender_profile: bool = False
    # a notification proves nothing (the messenger signs none): each message is read back
    # through the API before it counts (Client.confirm)
    confirms_by_api: bool = False
    # the recent chats are read through the API now and then (Client.recent_updates) and
    # stored like the webhook's: what a lost webhook missed is repaired
    syncs_by_api: bool = False
    # the files it takes from us, by how they go (FILE_KINDS): the largest size of each kind
    # ({"photo": 10 * MB, "document": 50 * MB}); a kind it lacks is not sent, no kind no file
    max_file_bytes: dict = dataclasses.field(default_factory=dict, hash=False)
    photo_mimetypes: tuple = ()  # the types that go as a picture
    document_mimetypes: tuple = ()  # the only types that go as a file; () for any
    refused_extensions: tuple = ()  # file name endings it does not take (lower case)
    files_by_url: bool = False  # it fetches each file from a URL of ours instead of an upload
    # the Credentials fields the account needs besides the token
    credentials: tuple = ()
    # the outbox's pace: seconds between two messages to one chat, messages a second per bot
    per_chat_interval: float = 1.0
    per_bot_per_second: int = 30


class Provider:
    """One messenger: how its requests are recognised and read, its client and capabilities.

    An adapter module defines one subclass and its instance; the registry (adapters/__init__.py)
    maps provider codes to them. Nothing here knows Odoo.
    """

    code = ""  # the bot account's provider and the webhook route's first part
    label = ""
    api_url = ""  # the default API server
    channel_xmlid = ""  # the messenger.channel its leads are counted under
    capabilities = Capabilities()
    handshakes = False  # the messenger verifies the webhook with a GET first

    def authentic(self, headers, body, credentials, query=None):
        """Whether a POST (its headers, raw body and the webhook URL's `query` parameters)
        comes from the messenger for the account of `credentials`: a secret or signature,
        compared in constant time."""
        raise NotImplementedError

    def webhook_query(self, credentials):
        """The query parameters the webhook URL carries for the account (a messenger that
        signs nothing gets a per-account token there, see authentic)."""
        return {}

    def handshake(self, params, credentials):
        """The answer to the messenger's GET verifying the webhook (query `params`), or None to
        refuse it; only for providers that `handshakes`."""
        raise NotImplementedError

    def verification(self, data, credentials):
        """The answer to an authentic POST that only confirms the webhook (VK's confirmation
        event): stored never, answered with this text; None for the others."""
        return None

    def stored_body(self, data):
        """What of an authentic notification is stored: all of it but a secret it carries,
        which the people who read stored updates must not learn."""
        return data

    def accepted_answer(self, data, stored):
        """The text answering an accepted notification, `stored` or already had: some
        messengers take only one exact answer as a success."""
        return "ok" if stored else "duplicate"

    def relay_headers(self, body, credentials):
        """The headers that make `body`, forwarded by the polling relay, authentic."""
        raise NotImplementedError

    def shape_error(self, data):
        """Why a decoded body is not one of the messenger's notifications, "" when it is."""
        raise NotImplementedError

    def delivery_key(self, data, body):
        """What identifies a delivery, the messenger retrying the same one (idempotency)."""
        raise NotImplementedError

    def parse(self, data):
        """The InboundMessages of one notification; ValueError when it is not one."""
        raise NotImplementedError

    def newcomer_language(self, data):
        """For a request from someone opening the chat who is due a welcome: the language they
        use ("" when unsaid); None for any other request (see welcome_on_open)."""
        return None

    def client(self, credentials):
        """A Client for the account of `credentials`."""
        raise NotImplementedError


class SecretHeaderProvider(Provider):
    """A messenger that sends a secret of ours back in a header of every request (the secret
    given when the webhook is set): the request is its if the header matches."""

    secret_header = ""

    def authentic(self, headers, body, credentials, query=None):
        return same_secret(headers.get(self.secret_header), credentials.webhook_secret)

    def relay_headers(self, body, credentials):
        return {self.secret_header: credentials.webhook_secret}


def same_secret(given, expected):
    """A secret as sent matches the expected one (constant time); an unset one matches none."""
    return bool(expected) and hmac.compare_digest((given or "").encode(), expected.encode())


def file_kind(capabilities, name, mimetype, size):
    """How a file goes to a messenger of these capabilities: (kind, 0) with kind one of
    FILE_KINDS, a picture first when it can; (None, limit) when it is larger than the messenger
    takes files of its type (the largest it takes, in bytes); (None, 0) when it takes no file
    of its type."""
    limits = capabilities.max_file_bytes
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kinds = []
    if "photo" in limits and mimetype in capabilities.photo_mimetypes:
        kinds.append("photo")
    if (
        "document" in limits
        and extension not in capabilities.refused_extensions
        and (not capabilities.document_mimetypes or mimetype in capabilities.document_mimetypes)
    ):
        kinds.append("document")
    for kind in kinds:
        if size <= limits[kind]:
            return kind, 0
    return None, max((limits[kind] for kind in kinds), default=0)


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


def fetch_media(url, api_url, media_domains, *, max_bytes, timeout, headers=None, verify=True):
    """The body of a file at `url` (see media_url_allowed), read as a stream and given up as
    soon as it is larger than max_bytes; redirects are followed only to allowed URLs, with the
    headers only on the first host; `verify` as requests takes it (see ca_bundle_verify).
    Raises DeliveryError."""
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
                verify=verify,
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


def ca_bundle_pem(ca_bundle):
    """The PEM certificates of an account's CA bundle: the text itself, or the content of the
    file it names. Raises ValueError when they are neither readable nor certificates."""
    text = (ca_bundle or "").strip()
    if text and "-----BEGIN" not in text:
        try:
            with open(text, encoding="ascii") as pem_file:
                text = pem_file.read()
        except (OSError, UnicodeError) as exc:
            raise ValueError(f"{text}: {exc.strerror or exc}") from exc
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=text)
    except (ssl.SSLError, ValueError, TypeError) as exc:
        raise ValueError(f"not PEM certificates: {exc}") from exc
    return text


def ca_bundle_verify(ca_bundle):
    """What requests' `verify=` takes for an account: True (certifi's roots) without a CA
    bundle; else the path of a file with certifi's roots and the bundle's (see _bundle_file).
    Raises ValueError (see ca_bundle_pem)."""
    if not (ca_bundle or "").strip():
        return True
    pem = ca_bundle_pem(ca_bundle)
    path = _bundle_file(pem)
    if not os.path.exists(path):  # the temporary folder was cleaned
        _bundle_file.cache_clear()
        path = _bundle_file(pem)
    return path


@functools.lru_cache(maxsize=16)
def _bundle_file(pem):
    """certifi's roots and `pem` in one file, written once per content (every worker's requests
    share it), remembered per process: certifi's bundle is read once, not on every call."""
    with open(certifi.where(), encoding="ascii") as roots:
        content = f"{roots.read()}\n{pem}\n"
    digest = hashlib.sha256(content.encode()).hexdigest()
    folder = os.path.join(tempfile.gettempdir(), "messenger_leads_ca")
    path = os.path.join(folder, f"{digest}.pem")
    if not os.path.exists(path):
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as part:
            part.write(content)
        os.replace(part.name, path)  # whole or not at all, for another worker reading it
    return path


def split_text(text, limit, max_bytes=0):
    """Split text into chunks of at most `limit` characters (and `max_bytes` UTF-8 bytes, when
    given), preferring line then word breaks."""
    chunks = []
    while len(text) > limit or (max_bytes and _utf8_length(text) > max_bytes):
        most = _fitting(text, limit, max_bytes)
        cut = text.rfind("\n", 0, most + 1)
        if cut <= 0:
            cut = text.rfind(" ", 0, most + 1)
        if cut <= 0:
            cut = most
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text or not chunks:
        chunks.append(text)
    return chunks


def _utf8_length(text):
    return len(text.encode(errors="surrogatepass"))


def _fitting(text, limit, max_bytes):
    """How many of text's first characters fit in `limit` characters and `max_bytes` bytes."""
    most = min(len(text), limit)
    if max_bytes:
        while _utf8_length(text[:most]) > max_bytes:
            most -= max(1, (_utf8_length(text[:most]) - max_bytes) // 4)
    return most
