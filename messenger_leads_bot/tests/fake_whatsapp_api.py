"""A local HTTP server that speaks the WhatsApp Cloud API (Graph API), for tests.

It shares the Telegram fake's server, records and failure queue: `fail_next("messages", 429)`,
`closed_windows.add(wa_id)` (more than 24 hours since the customer wrote: error 131047). A media
is served from its own URL, or from `media_urls[media_id]` when the test gives one.
"""

import itertools
import time
from urllib.parse import urlparse

from .fake_bot_api import FakeBotApi, FakeHandler

PHONE_NUMBER_ID = "1098765"


class FakeWhatsAppApi(FakeBotApi):
    def __init__(self, token="EAAG-TEST"):
        self.closed_windows = set()
        self.media = {}  # media id -> (mime type, bytes)
        self.media_urls = {}  # media id -> the URL the Graph API gives instead of its own
        self._wamids = itertools.count(1)
        super().__init__(token)

    def _error(self, status, code, message):
        return status, {"error": {"message": message, "type": "OAuthException", "code": code}}

    def _graph(self, method, path, body, authorization):
        """(status, body) of one Graph API call."""
        if authorization != f"Bearer {self.token}":
            return self._error(401, 190, "Invalid OAuth access token")
        parts = path.strip("/").split("/")
        with self._lock:
            self.calls.append((parts[-1], body))
            failures = self._failures.get(parts[-1])
            if failures:
                status, _retry_after = failures.pop(0)
                return self._error(status, 130429 if status == 429 else 1, f"fake error {status}")
        if parts == [PHONE_NUMBER_ID] and method == "GET":
            return 200, {"display_phone_number": "+7 999 000-00-00", "verified_name": "Test shop"}
        if parts == [PHONE_NUMBER_ID, "messages"] and method == "POST":
            return self._send(body)
        if len(parts) == 1 and parts[0] in self.media:
            mimetype, _content = self.media[parts[0]]
            url = self.media_urls.get(parts[0], f"{self.url}/download/{parts[0]}")
            return 200, {"url": url, "mime_type": mimetype}
        return self._error(404, 100, "Unsupported request")

    def _send(self, body):
        chat_id = str(body.get("to"))
        if chat_id in self.closed_windows and body.get("type") != "template":
            return self._error(400, 131047, "Re-engagement message")
        wamid = f"wamid.TEST{next(self._wamids)}"
        with self._lock:
            self.sent.append(dict(body, chat_id=chat_id, message_id=wamid, at=time.monotonic()))
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": chat_id, "wa_id": chat_id}],
            "messages": [{"id": wamid}],
        }

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
                status, answer = api._graph(
                    self.command, url.path, self.read_json(), self.headers.get("Authorization")
                )
                self.send_json(status, answer)

            do_GET = _route
            do_POST = _route

        return Handler
