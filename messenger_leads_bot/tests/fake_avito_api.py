"""A local HTTP server that speaks the Avito Messenger API (developers.avito.ru), for tests. No
Odoo here.

It issues OAuth2 tokens at POST /token (client credentials; `tokens_issued` counts them,
`expires_in` sets their life, `token_seconds` how long each takes) and refuses any other call
without a live one (401). Chats and messages are made with `buyer_writes(...)`, which returns
the v3 webhook notification Avito would send; a notification for a message it does not have is
what a forger sends (`forged(...)`); `chats_seconds` is how long listing the chats takes. Sends
are recorded in `sent` (a text over 1,000 characters is refused, as Avito does);
`fail_next("send", 429, retry_after=1)` answers 429 with Retry-After, status 0 drops the
connection; `blocked_chats.add(chat_id)` answers 403. Images are served at `media_url(name)`.
"""

import itertools
import json
import secrets
import time

from .fake_bot_api import FakeBotApi, routed_handler

MAX_TEXT_LENGTH = 1000
OWN_ID = 94235311  # the business's Avito user id


class FakeAvitoApi(FakeBotApi):
    def __init__(self, client_id="avito-client", client_secret="avito-SECRET"):
        self.client_id = client_id
        self.client_secret = client_secret
        self.expires_in = 86400
        self.tokens = {}  # access token -> when it expires (monotonic)
        self.tokens_issued = 0
        self.token_seconds = 0.0
        self.chats_seconds = 0.0  # how long listing the chats takes
        self.chats = {}  # chat id -> chat (as GET chat answers)
        self.messages = {}  # chat id -> [message], oldest first
        self.media = {}  # name -> bytes
        self.subscriptions = []  # webhook URLs
        self._ids = itertools.count(1)
        super().__init__(token="")

    def media_url(self, name):
        return f"{self.url}/media/{name}"

    # -- what buyers do -----------------------------------------------------

    def chat(self, chat_id, buyer_id, name="Покупатель", item=None):
        """The chat of a buyer about a listing (item: id, title, price_string, url)."""
        with self._lock:
            if chat_id not in self.chats:
                context = {"type": "item", "value": {"user_id": OWN_ID, **item}} if item else {}
                self.chats[chat_id] = {
                    "id": chat_id,
                    "context": context,
                    "users": [
                        {"id": buyer_id, "name": name},
                        {"id": OWN_ID, "name": "Test shop"},
                    ],
                    "created": int(time.time()),
                    "updated": int(time.time()),
                }
                self.messages[chat_id] = []
            return self.chats[chat_id]

    def buyer_writes(
        self, chat_id, buyer_id, text="Здравствуйте", kind="text", content=None, **chat
    ):
        """A buyer's message, stored as Avito keeps it; the webhook notification for it."""
        self.chat(chat_id, buyer_id, **chat)
        message = {
            "id": f"msg{next(self._ids):08d}{secrets.token_hex(4)}",
            "author_id": buyer_id,
            "created": int(time.time()),
            "type": kind,
            "content": content if content is not None else {"text": text},
            "direction": "in",
            "is_read": False,
        }
        with self._lock:
            self.messages[chat_id].append(message)
            self.chats[chat_id]["updated"] = message["created"]
        return self.notification(chat_id, message)

    def notification(self, chat_id, message):
        chat = self.chats.get(chat_id) or {}
        item = (chat.get("context") or {}).get("value") or {}
        value = {
            "id": message["id"],
            "chat_id": chat_id,
            "user_id": OWN_ID,
            "author_id": message["author_id"],
            "created": message["created"],
            "type": message["type"],
            "chat_type": "u2i" if item else "u2u",
            "content": json.loads(json.dumps(message["content"])),  # a copy: a test may change it
        }
        if item:
            value["item_id"] = item["id"]
        return {
            "id": secrets.token_hex(16),
            "version": "v3.0.0",
            "timestamp": message["created"],
            "payload": {"type": "message", "value": value},
        }

    def forged(self, chat_id, buyer_id, text="Free money", **chat):
        """A notification of a message Avito never had (in a chat it may have)."""
        message = {
            "id": f"forged{secrets.token_hex(6)}",
            "author_id": buyer_id,
            "created": int(time.time()),
            "type": "text",
            "content": {"text": text},
        }
        return self.notification(chat_id, message)

    # -- server side --------------------------------------------------------

    def _issue(self, form):
        if form.get("grant_type") != "client_credentials" or (
            form.get("client_id"),
            form.get("client_secret"),
        ) != (self.client_id, self.client_secret):
            return 400, {"error": "invalid_client", "error_description": "bad credentials"}
        time.sleep(self.token_seconds)
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = time.monotonic() + self.expires_in
            self.tokens_issued += 1
        return 200, {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}

    def _route(self, verb, path, query, body, authorization):
        if path.rstrip("/") == "/token" and verb == "POST":
            return self._fail("token", query) or self._issue(body)
        token = (authorization or "").removeprefix("Bearer ")
        with self._lock:
            live = self.tokens.get(token, 0) > time.monotonic()
        if not live or "access_token" in query:
            return 401, {"error": {"code": 401, "message": "Unauthorized"}}
        name, handler = self._resolve(verb, path.strip("/").split("/"), body, query)
        if not handler:
            return 404, {"error": {"code": 404, "message": f"{verb} {path}"}}
        return self._fail(name, query) or handler()

    def _resolve(self, verb, parts, body, query):
        """(the name fail_next knows the call by, its handler), or (None, None)."""
        routes = {
            ("GET", "core/v1/accounts/self"): lambda: (200, {"id": OWN_ID, "name": "Test shop"}),
            ("POST", "messenger/v3/webhook"): lambda: self._subscribe(body),
            ("POST", "messenger/v1/subscriptions"): lambda: (
                200,
                {"subscriptions": [{"url": url, "version": "3"} for url in self.subscriptions]},
            ),
            ("POST", "messenger/v1/webhook/unsubscribe"): lambda: self._unsubscribe(body),
        }
        joined = "/".join(parts)
        if (verb, joined) in routes:
            return joined.rsplit("/", 1)[-1], routes[verb, joined]
        if len(parts) < 5 or parts[:3] != ["messenger", parts[1], "accounts"]:
            return None, None
        if parts[3] != str(OWN_ID):
            return "forbidden", lambda: (403, {"error": {"code": 403, "message": "forbidden"}})
        rest = parts[4:]
        chat_id = rest[1] if len(rest) > 1 else ""
        calls = {
            ("GET", 1): ("chats", lambda: self._chats_page(query)),
            ("GET", 2): ("chat", lambda: self._chat(chat_id)),
            ("GET", 3): ("messages", lambda: self._messages(chat_id)),
            ("POST", 3): ("send", lambda: self._send(chat_id, body)),
        }
        if rest[0] != "chats" or (len(rest) == 3 and rest[2] != "messages"):
            return None, None
        return calls.get((verb, len(rest)), (None, None))

    def _fail(self, method, query):
        with self._lock:
            self.calls.append((method, query))
            failures = self._failures.get(method)
            if not failures:
                return None
            status, retry_after = failures.pop(0)
            self.failures_returned.append((method, status, query))
        headers = {"Retry-After": str(retry_after)} if retry_after else {}
        return status, {"error": {"code": status, "message": "fake error"}}, headers

    def _subscribe(self, body):
        with self._lock:
            self.subscriptions = [url for url in self.subscriptions if url != body.get("url")]
            self.subscriptions.append(body["url"])
            self.webhook = body
        return 200, {"ok": True}

    def _unsubscribe(self, body):
        with self._lock:
            self.subscriptions = [url for url in self.subscriptions if url != body.get("url")]
            if not self.subscriptions:
                self.webhook = {}
        return 200, {"ok": True}

    def _chats_page(self, query):
        limit, offset = int(query.get("limit") or 100), int(query.get("offset") or 0)
        time.sleep(self.chats_seconds)
        with self._lock:
            chats = sorted(self.chats.values(), key=lambda chat: -chat["updated"])
        return 200, {"chats": chats[offset : offset + limit]}

    def _chat(self, chat_id):
        with self._lock:
            chat = self.chats.get(chat_id)
        if not chat:
            return 404, {"error": {"code": 404, "message": "chat not found"}}
        return 200, chat

    def _messages(self, chat_id):
        with self._lock:
            messages = list(self.messages.get(chat_id) or [])
        if chat_id not in self.chats:
            return 404, {"error": {"code": 404, "message": "chat not found"}}
        return 200, list(reversed(messages))[:100]  # v3: a list, newest first

    def _send(self, chat_id, body):
        text = (body.get("message") or {}).get("text") or ""
        if chat_id not in self.chats:
            return 404, {"error": {"code": 404, "message": "chat not found"}}
        if chat_id in self.blocked_chats:
            return 403, {"error": {"code": 403, "message": "user is blocked"}}
        if body.get("type") != "text" or len(text) > MAX_TEXT_LENGTH:
            return 400, {"error": {"code": 400, "message": "text: up to 1000 characters"}}
        message = {
            "id": f"out{next(self._ids):08d}",
            "author_id": OWN_ID,
            "created": int(time.time()),
            "type": "text",
            "content": {"text": text},
            "direction": "out",
        }
        with self._lock:
            self.messages[chat_id].append(message)
            self.sent.append({"chat_id": chat_id, "text": text, "message_id": message["id"]})
        return 200, message

    def _handler(self):
        return routed_handler(self, self._route)
