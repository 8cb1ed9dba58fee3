"""A local HTTP(S) server that speaks the MAX Bot API (dev.max.ru), for tests. No Odoo here.

It shares the Telegram fake's server, records and failure queue: `fail_next("messages", 429,
retry_after=1)` answers 429 with Retry-After, status 0 drops the connection;
`blocked_chats.add(user_id)` answers 403 as MAX does for a customer who stopped the bot. Every
call must carry the token in the Authorization header (a token in the query is refused, as MAX
does). `updates` feeds GET /updates with markers; media are served at `media_url(name)`.
With `tls=(certfile, keyfile)` it serves HTTPS with that certificate.
"""

import itertools
import ssl
import time

from .fake_bot_api import FakeBotApi, routed_handler

MAX_TEXT_LENGTH = 4000


class FakeMaxApi(FakeBotApi):
    def __init__(self, token="max-TEST-token", tls=None):
        self._mids = itertools.count(1)
        self._markers = itertools.count(1)
        self.media = {}  # name -> bytes
        self.subscriptions = []  # the POST /subscriptions bodies in force
        self.videos = {}  # token -> the urls GET /videos/{token} gives
        self.taken = 0  # the marker up to which updates were committed by a poll
        super().__init__(token)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.url = f"https://127.0.0.1:{self.server.server_port}"

    def media_url(self, name):
        return f"{self.url}/media/{name}"

    def queue_update(self, update):
        """An update for GET /updates, with its sequence number."""
        with self._lock:
            self.updates.append((next(self._markers), update))

    # -- server side --------------------------------------------------------

    def _max(self, verb, path, query, body, token):
        method, *rest = path.strip("/").split("/")
        if token != self.token or "access_token" in query:
            return 401, {"code": "verify.token", "message": "Invalid access_token"}, {}
        with self._lock:
            self.calls.append((method, {**query, **(body if isinstance(body, dict) else {})}))
            failures = self._failures.get(method)
            if failures:
                status, retry_after = failures.pop(0)
                self.failures_returned.append((method, status, query))
                headers = {"Retry-After": str(retry_after)} if retry_after else {}
                return status, {"code": "too.many.requests", "message": "fake error"}, headers
        handler = getattr(self, f"_max_{verb.lower()}_{method}", None)
        if not handler:
            return 404, {"code": "not.found", "message": f"{verb} /{method}"}, {}
        return (*handler(query, body, *rest), {})

    def _max_get_me(self, _query, _body, *_rest):
        return 200, {
            "user_id": 4200,
            "first_name": "Test shop",
            "username": "test_shop_max_bot",
            "is_bot": True,
            "last_activity_time": int(time.time() * 1000),
        }

    def _max_post_subscriptions(self, _query, body, *_rest):
        with self._lock:
            self.subscriptions = [s for s in self.subscriptions if s["url"] != body.get("url")]
            self.subscriptions.append(body)
            self.webhook = body
        return 200, {"success": True}

    def _max_get_subscriptions(self, _query, _body, *_rest):
        listed = [
            {"url": s["url"], "time": 1, "update_types": s.get("update_types")}
            for s in self.subscriptions
        ]
        return 200, {"subscriptions": listed}

    def _max_delete_subscriptions(self, query, _body, *_rest):
        with self._lock:
            self.subscriptions = [s for s in self.subscriptions if s["url"] != query.get("url")]
            if not self.subscriptions:
                self.webhook = {}
        return 200, {"success": True}

    def _max_post_messages(self, query, body, *_rest):
        user_id = query.get("user_id") or query.get("chat_id")
        if user_id in self.blocked_chats:
            return 403, {"code": "chat.denied", "message": "dialog.suspended"}
        if len(body.get("text") or "") > MAX_TEXT_LENGTH:
            return 400, {"code": "proto.payload", "message": "text: size must be <= 4000"}
        mid = f"mid.{next(self._mids):016x}"
        with self._lock:
            self.sent.append(dict(body, chat_id=user_id, message_id=mid, at=time.monotonic()))
        message = {
            "sender": {"user_id": 4200, "first_name": "Test shop", "is_bot": True},
            "recipient": {"chat_id": 9000, "chat_type": "dialog", "user_id": int(user_id)},
            "timestamp": int(time.time() * 1000),
            "body": {"mid": mid, "seq": 1, "text": body.get("text")},
        }
        return 200, {"message": message}

    def _max_get_videos(self, _query, _body, token=""):
        if token not in self.videos:
            return 404, {"code": "not.found", "message": "video not found"}
        details = {"token": token, "urls": self.videos[token], "width": 1, "height": 1}
        return 200, dict(details, duration=1)

    def _max_get_updates(self, query, _body, *_rest):
        marker = int(query["marker"]) if query.get("marker") else None
        timeout = min(float(query.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if marker is not None:
                    self.taken = max(self.taken, marker)  # what came before is committed
                pending = [(seq, u) for seq, u in self.updates if seq >= self.taken]
            if pending or time.monotonic() >= deadline:
                following = pending[-1][0] + 1 if pending else self.taken or None
                return 200, {"updates": [u for _seq, u in pending], "marker": following}
            time.sleep(0.05)

    def _handler(self):
        return routed_handler(self, self._max)
