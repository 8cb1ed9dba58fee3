"""A local HTTP server that speaks the Viber REST Bot API, for tests.

It shares the Telegram fake's server, records and failure queue: `fail_next("send_message", 12)`
answers Viber's status 12 (too many requests), `blocked_chats.add(user_id)` status 6. Media the
customers send are served at `media_url(name)` from `media`.

Files the bot sends (send_message of type picture or file) are in `sent` with their "media" URL,
which Viber's servers would fetch; with `fetch_files` set the fake fetches it at once and
records "file": {"name", "mimetype", "size", "sha256"}, or the HTTP status it got.
"""

import itertools
import time
from urllib.parse import urlparse

import requests

from .fake_bot_api import FakeBotApi, FakeHandler, file_record

STATUS_MESSAGES = {2: "invalidAuthToken", 6: "receiverNotSubscribed", 12: "tooManyRequests"}


class FakeViberApi(FakeBotApi):
    def __init__(self, token="4453b6ac-TEST"):
        self._tokens = itertools.count(5741311803571721087)
        self.media = {}  # name -> bytes
        self.fetch_files = False  # fetch the media URL of each file sent, as Viber does
        super().__init__(token)

    def media_url(self, name):
        return f"{self.url}/media/{name}"

    def _viber(self, method, body, token):
        if token != self.token:
            return {"status": 2, "status_message": STATUS_MESSAGES[2]}
        with self._lock:
            self.calls.append((method, body))
            failures = self._failures.get(method)
            if failures:
                status, _retry_after = failures.pop(0)
                self.failures_returned.append((method, status, body))
                return {"status": status, "status_message": STATUS_MESSAGES.get(status, "error")}
        handler = getattr(self, f"_viber_{method}", None)
        return handler(body) if handler else {"status": 3, "status_message": "badData"}

    def _viber_get_account_info(self, _body):
        return {"status": 0, "status_message": "ok", "name": "Test shop", "uri": "testshop"}

    def _viber_set_webhook(self, body):
        self.webhook = body
        return {"status": 0, "status_message": "ok", "event_types": body.get("event_types")}

    def _viber_send_message(self, body):
        chat_id = str(body.get("receiver"))
        if chat_id in self.blocked_chats:
            return {"status": 6, "status_message": STATUS_MESSAGES[6]}
        if body.get("type") in ("picture", "file"):
            if not str(body.get("media", "")).startswith(("http://", "https://")):
                return {"status": 3, "status_message": "badData"}
            if self.fetch_files:
                body = dict(body, file=self._fetch(body))
        token = next(self._tokens)
        with self._lock:
            self.sent.append(dict(body, chat_id=chat_id, message_id=token, at=time.monotonic()))
        return {"status": 0, "status_message": "ok", "message_token": token}

    def _fetch(self, body):
        """The file at the media URL, fetched without any session, as Viber's servers do."""
        response = requests.get(body["media"], timeout=30)
        if not response.ok:
            return {"status": response.status_code}
        name = body.get("file_name") or urlparse(body["media"]).path.rsplit("/", 1)[-1]
        mimetype = response.headers.get("Content-Type", "").split(";")[0]
        return file_record({"name": name, "mimetype": mimetype, "content": response.content})

    def _handler(self):
        api = self

        class Handler(FakeHandler):
            def do_GET(self):
                name = urlparse(self.path).path.rsplit("/", 1)[-1]
                self.send_download(api, name, api.media.get(name))

            def do_POST(self):
                method = urlparse(self.path).path.rsplit("/", 1)[-1]
                answer = api._viber(
                    method, self.read_json(), self.headers.get("X-Viber-Auth-Token")
                )
                self.send_json(200, answer)  # Viber answers 200 and tells errors in the body

        return Handler
