"""A local HTTP server that speaks the WhatsApp Cloud API (Graph API), for tests.

It shares the Telegram fake's server, records and failure queue: `fail_next("messages", 429)`,
`closed_windows.add(wa_id)` (more than 24 hours since the customer wrote: error 131047). A media
is served from its own URL, or from `media_urls[media_id]` when the test gives one.

Files the business sends are uploaded first (POST /<number>/media, multipart, kept in
`uploads`), then sent as an image or document message naming the media id: such messages are in
`sent` with "file": {"name", "mimetype", "size", "sha256"} and their "caption"; an image over
5 MB or a document over 100 MB is refused.
"""

import itertools
import time
from urllib.parse import urlparse

from .fake_bot_api import FakeBotApi, FakeHandler, file_record, parse_multipart

MAX_MEDIA_BYTES = {"image": 5 * 2**20, "document": 100 * 2**20}

PHONE_NUMBER_ID = "1098765"


class FakeWhatsAppApi(FakeBotApi):
    def __init__(self, token="EAAG-TEST"):
        self.closed_windows = set()
        self.media = {}  # media id -> (mime type, bytes)
        self.media_urls = {}  # media id -> the URL the Graph API gives instead of its own
        self.uploads = {}  # media id -> the file uploaded (name, mimetype, content)
        self._wamids = itertools.count(1)
        super().__init__(token)

    def _error(self, status, code, message):
        return status, {"error": {"message": message, "type": "OAuthException", "code": code}}

    def _graph(self, method, path, body, authorization):  # noqa: PLR0911 one return a route
        """(status, body) of one Graph API call."""
        if authorization != f"Bearer {self.token}":
            return self._error(401, 190, "Invalid OAuth access token")
        parts = path.strip("/").split("/")
        with self._lock:
            self.calls.append((parts[-1], body))
            failures = self._failures.get(parts[-1])
            if failures:
                status, _retry_after = failures.pop(0)
                self.failures_returned.append((parts[-1], status, body))
                return self._error(status, 130429 if status == 429 else 1, f"fake error {status}")
        if parts == [PHONE_NUMBER_ID] and method == "GET":
            return 200, {"display_phone_number": "+7 999 000-00-00", "verified_name": "Test shop"}
        if parts == [PHONE_NUMBER_ID, "messages"] and method == "POST":
            return self._send(body)
        if parts == [PHONE_NUMBER_ID, "media"] and method == "POST":
            return self._upload(body)
        if len(parts) == 1 and parts[0] in self.media:
            mimetype, _content = self.media[parts[0]]
            url = self.media_urls.get(parts[0], f"{self.url}/download/{parts[0]}")
            return 200, {"url": url, "mime_type": mimetype}
        return self._error(404, 100, "Unsupported request")

    def _send(self, body):
        chat_id = str(body.get("to"))
        if chat_id in self.closed_windows and body.get("type") != "template":
            return self._error(400, 131047, "Re-engagement message")
        kind = body.get("type")
        if kind in MAX_MEDIA_BYTES:
            media = body.get(kind) or {}
            file = self.uploads.get(media.get("id"))
            if not file:
                return self._error(400, 131053, "Media upload error: unknown media id")
            if len(file["content"]) > MAX_MEDIA_BYTES[kind]:
                return self._error(400, 131053, "Media upload error: file too large")
            body = dict(body, file=file_record(file), caption=media.get("caption", ""))
        wamid = f"wamid.TEST{next(self._wamids)}"
        with self._lock:
            self.sent.append(dict(body, chat_id=chat_id, message_id=wamid, at=time.monotonic()))
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": chat_id, "wa_id": chat_id}],
            "messages": [{"id": wamid}],
        }

    def _upload(self, body):
        file = body.get("_files", {}).get("file")
        if body.get("messaging_product") != "whatsapp" or not file:
            return self._error(400, 100, "Invalid parameter")
        media_id = f"MEDIA{next(self._wamids)}"
        with self._lock:
            self.uploads[media_id] = dict(file, mimetype=body.get("type") or file["mimetype"])
        return 200, {"id": media_id}

    def _handler(self):
        api = self

        class Handler(FakeHandler):
            def _route(self):
                url = urlparse(self.path)
                if url.path.startswith("/download/"):
                    name = url.path.rsplit("/", 1)[-1]
                    media = api.media.get(name)
                    self.send_download(api, name, media[1] if media else None)
                    return
                ctype = self.headers.get("Content-Type", "")
                if ctype.startswith("multipart/form-data"):
                    length = int(self.headers.get("Content-Length") or 0)
                    body, files = parse_multipart(self.rfile.read(length), ctype)
                    body["_files"] = files
                else:
                    body = self.read_json()
                status, answer = api._graph(
                    self.command, url.path, body, self.headers.get("Authorization")
                )
                self.send_json(status, answer)

            do_GET = _route
            do_POST = _route

        return Handler
