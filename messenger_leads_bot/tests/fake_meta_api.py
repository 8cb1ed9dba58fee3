"""A local HTTP server that speaks Meta's Messenger Platform (Send API, User Profile API) as the
Graph API serves it to a Page, for Facebook Messenger and Instagram tests. No Odoo here.

It shares the Telegram fake's server, records and failure queue: `fail_next("messages", 503)`,
`fail_code("messages", 613)` (a Graph error code, HTTP 400); `blocked_chats.add(psid)` answers
error 551 (the person is not available); `closed_windows.add(psid)`: more than 24 hours since the
customer wrote, so a RESPONSE is refused (code 10, subcode 2018278) and only a HUMAN_AGENT tag
goes. Texts longer than `max_text_length` characters or `max_text_bytes` UTF-8 bytes are
refused. `profiles[psid]` is what GET /<psid> answers. Media customers send are served at
`media_url(name)` from `media`.

Files the page sends go by URL (message.attachment.payload.url), which Meta's servers fetch:
with `fetch_files` set the fake fetches it at once and records "file": {"name", "mimetype",
"size", "sha256"}, or the HTTP status it got (the end-to-end tests; an Odoo test's server
cannot answer while the test waits for the send).
"""

import itertools
import time
from urllib.parse import parse_qs, urlparse

import requests

from .fake_bot_api import FakeBotApi, FakeHandler, file_record

PAGE_ID = "104500000000001"


class FakeMetaApi(FakeBotApi):
    def __init__(self, token="EAAP-PAGE-TEST", max_text_length=2000, max_text_bytes=0):
        self.max_text_length = max_text_length
        self.max_text_bytes = max_text_bytes
        self.closed_windows = set()
        self.profiles = {}  # psid -> the fields GET /<psid> answers
        self.media = {}  # name -> bytes
        self.fetch_files = False
        self._mids = itertools.count(1)
        super().__init__(token)

    def media_url(self, name):
        return f"{self.url}/media/{name}"

    def fail_code(self, method, code, subcode=None, status=400, times=1):
        """Answer the next calls of `method` with a Graph error of this code."""
        with self._lock:
            self._failures.setdefault(method, []).extend([(status, (code, subcode))] * times)

    # -- server side --------------------------------------------------------

    def _error(self, status, code, message, subcode=None):
        error = {"message": message, "type": "OAuthException", "code": code}
        if subcode:
            error["error_subcode"] = subcode
        return status, {"error": error}

    def _graph(self, method, path, body, authorization):
        """(status, body) of one Graph API call."""
        if authorization != f"Bearer {self.token}":
            return self._error(401, 190, "Invalid OAuth access token")
        parts = path.strip("/").split("/")
        with self._lock:
            self.calls.append((parts[-1], body))
            failures = self._failures.get(parts[-1])
            if failures:
                status, code = failures.pop(0)
                self.failures_returned.append((parts[-1], status, body))
                code, subcode = code if code else (613 if status == 429 else 1, None)
                return self._error(status, code, f"fake error {status}", subcode)
        if parts == ["me"] and method == "GET":
            return 200, {"id": PAGE_ID, "name": "Test shop"}
        if parts == ["me", "messages"] and method == "POST":
            return self._send(body)
        if len(parts) == 1 and method == "GET" and parts[0] in self.profiles:
            return 200, {"id": parts[0], **self.profiles[parts[0]]}
        return self._error(400, 100, "Unsupported get request")

    def _send(self, body):
        chat_id = str((body.get("recipient") or {}).get("id"))
        message = body.get("message") or {}
        if chat_id in self.blocked_chats:
            return self._error(400, 551, "This person isn't available right now.")
        tagged = body.get("messaging_type") == "MESSAGE_TAG" and body.get("tag") == "HUMAN_AGENT"
        if chat_id in self.closed_windows and not tagged:
            return self._error(
                400, 10, "This message is sent outside of allowed window.", subcode=2018278
            )
        text = message.get("text") or ""
        if len(text) > self.max_text_length or (
            self.max_text_bytes and len(text.encode()) > self.max_text_bytes
        ):
            return self._error(400, 100, "Length of param message[text] must be less")
        attachment = message.get("attachment")
        if attachment:
            url = str((attachment.get("payload") or {}).get("url", ""))
            if not url.startswith(("http://", "https://")):
                return self._error(400, 100, "Invalid parameter: attachment url")
            if self.fetch_files:
                body = dict(body, file=self._fetch(url))
        mid = f"m_TEST{next(self._mids)}"
        with self._lock:
            self.sent.append(dict(body, chat_id=chat_id, message_id=mid, at=time.monotonic()))
        return 200, {"recipient_id": chat_id, "message_id": mid}

    def _fetch(self, url):
        """The file at the URL, fetched without any session, as Meta's servers do."""
        response = requests.get(url, timeout=30)
        if not response.ok:
            return {"status": response.status_code}
        name = urlparse(url).path.rsplit("/", 1)[-1]
        mimetype = response.headers.get("Content-Type", "").split(";")[0]
        return file_record({"name": name, "mimetype": mimetype, "content": response.content})

    def _handler(self):
        api = self

        class Handler(FakeHandler):
            def _route(self):
                url = urlparse(self.path)
                if url.path.startswith("/media/"):
                    name = url.path.rsplit("/", 1)[-1]
                    self.send_download(api, name, api.media.get(name))
                    return
                body = self.read_json() if self.command == "POST" else {}
                body = body or {k: v[0] for k, v in parse_qs(url.query).items()}
                status, answer = api._graph(
                    self.command, url.path, body, self.headers.get("Authorization")
                )
                self.send_json(status, answer)

            do_GET = _route
            do_POST = _route

        return Handler
