"""A local HTTP server that speaks the Telegram Bot API, for tests. No Odoo imports here.

It records what the bot sent, serves getUpdates from a queue, serves files, and can be told to
fail: `fail_next("sendMessage", 429, retry_after=1)`, `blocked_chats.add(chat_id)`; every
injected failure it actually answered is in `failures_returned`. File downloads are recorded in
`downloads` and redirected to `redirects[name]` when there is one. getWebhookInfo tells the
webhook set and what `webhook_status` says (pending_update_count, last_error_date,
last_error_message).

Files the bot sends (sendPhoto, sendDocument; multipart uploads) are in `sent` like messages,
with "file": {"name", "mimetype", "size", "sha256"} and their "caption"; a file over the Bot
API's upload limits is refused as Telegram does.
"""

import hashlib
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

MAX_TEXT_LENGTH = 4096  # characters of a message, as the Bot API refuses longer ones
MAX_UPLOAD_BYTES = {"sendPhoto": 10 * 2**20, "sendDocument": 50 * 2**20}  # bots' uploads


def parse_multipart(body, content_type):
    """The fields and files of a multipart/form-data body: ({name: text}, {name: file}) with
    each file a dict of its name, mimetype and content."""
    boundary = re.search(r'boundary="?([^";]+)"?', content_type).group(1).encode()
    fields, files = {}, {}
    for part in body.split(b"--" + boundary)[1:-1]:
        head, _blank, content = part[2:].partition(b"\r\n\r\n")  # each part begins a line
        content = content[:-2]  # the line break before the next boundary
        headers = head.decode(errors="replace")
        name = re.search(r'\bname="([^"]*)"', headers).group(1)
        filename = re.search(r'filename="([^"]*)"', headers)
        if filename:
            mimetype = re.search(r"Content-Type: *([^\r\n;]+)", headers, re.IGNORECASE)
            files[name] = {
                "name": filename.group(1),
                "mimetype": mimetype.group(1) if mimetype else "",
                "content": content,
            }
        else:
            fields[name] = content.decode()
    return fields, files


def file_record(file):
    """What the fakes keep of a file they received: enough to tell it arrived whole."""
    return {
        "name": file["name"],
        "mimetype": file["mimetype"],
        "size": len(file["content"]),
        "sha256": hashlib.sha256(file["content"]).hexdigest(),
    }


class FakeHandler(BaseHTTPRequestHandler):
    """What the fake APIs' request handlers share: quiet, JSON bodies in and out, files out."""

    def log_message(self, *args):
        pass

    def read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else {}

    def send_json(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_file(self, content):
        """The bytes of a file, or 404 when it is None."""
        self.send_response(200 if content is not None else 404)
        self.end_headers()
        self.wfile.write(content or b"")

    def send_download(self, api, name, content):
        """A file a customer sent, as the fakes serve them (see the module's docstring)."""
        with api._lock:
            api.downloads.append(self.path)
        if name in api.redirects:
            self.send_response(302)
            self.send_header("Location", api.redirects[name])
            self.end_headers()
            return
        self.send_file(content)


def routed_handler(api, route):
    """A request handler for a fake API that answers every request with
    route(method, path, query, body, authorization) -> (status, answer[, headers]).

    Files under /media/ are what customers sent (`api.media`); a body is JSON when its
    Content-Type says so, else a form; a status <= 0 waits that many seconds and drops the
    connection without an answer, as a network failure does."""

    class Handler(FakeHandler):
        def _serve(self):
            parsed = urlparse(self.path)
            if parsed.path.startswith("/media/"):
                name = parsed.path.rsplit("/", 1)[-1]
                self.send_download(api, name, api.media.get(name))
                return
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if "json" in (self.headers.get("Content-Type") or ""):
                body = json.loads(raw or b"{}")
            else:
                body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            status, answer, *headers = route(
                self.command, parsed.path, query, body, self.headers.get("Authorization")
            )
            if status <= 0:
                time.sleep(-status)
                self.close_connection = True
                return
            self.send_json(status, answer, headers[0] if headers else None)

        do_GET = do_POST = do_DELETE = _serve

    return Handler


class FakeBotApi:
    def __init__(self, token="42:TEST"):
        self.token = token
        self.sent = []  # dicts of every sendMessage that succeeded
        self.calls = []  # (method, params) of every call
        self.webhook = {}
        self.webhook_status = {}  # what getWebhookInfo adds to the webhook's URL
        self.files = {}  # file_id -> (path, bytes)
        self.downloads = []  # paths of the files asked for
        self.redirects = {}  # file name -> URL its download redirects to
        self.blocked_chats = set()
        self.updates = []  # queued for getUpdates
        self._failures = {}  # method -> [(status, retry_after)]
        self.failures_returned = []  # (method, status, params) of each injected failure answered
        self._message_ids = itertools.count(1000)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, method, status, retry_after=0, times=1):
        """Answer the next calls of `method` with `status`; status 0 drops the connection, and
        a negative status waits that many seconds first (a timeout for the client)."""
        with self._lock:
            self._failures.setdefault(method, []).extend([(status, retry_after)] * times)

    def sent_to(self, chat_id):
        with self._lock:
            return [m for m in self.sent if str(m["chat_id"]) == str(chat_id)]

    def wait_sent(self, chat_id, count, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.sent_to(chat_id)
            if len(messages) >= count:
                return messages
            time.sleep(0.02)
        return self.sent_to(chat_id)

    # -- server side --------------------------------------------------------

    def _answer(self, method, params):
        with self._lock:
            self.calls.append((method, params))
            failures = self._failures.get(method)
            if failures:
                status, retry_after = failures.pop(0)
                self.failures_returned.append((method, status, params))
                body = {"ok": False, "error_code": status, "description": f"fake error {status}"}
                if retry_after:
                    body["parameters"] = {"retry_after": retry_after}
                    body["description"] = f"Too Many Requests: retry after {retry_after}"
                return status, body
        handler = getattr(self, f"_api_{method}", None)
        if not handler:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        return handler(params)

    def _ok(self, result):
        return 200, {"ok": True, "result": result}

    def _api_getMe(self, _params):
        return self._ok(
            {"id": 42, "is_bot": True, "first_name": "Test shop", "username": "test_shop_bot"}
        )

    def _api_setWebhook(self, params):
        self.webhook = params
        return self._ok(True)

    def _api_deleteWebhook(self, _params):
        self.webhook = {}
        return self._ok(True)

    def _api_getWebhookInfo(self, _params):
        return self._ok(
            {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": 0,
                **self.webhook_status,
            }
        )

    def _api_sendMessage(self, params):
        chat_id = str(params.get("chat_id"))
        if chat_id in self.blocked_chats:
            return 403, {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        if len(params.get("text", "")) > MAX_TEXT_LENGTH:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message is too long",
            }
        return self._record_sent(params)

    def _record_sent(self, params):
        chat_id = str(params.get("chat_id"))
        message_id = next(self._message_ids)
        with self._lock:
            self.sent.append(dict(params, message_id=message_id, at=time.monotonic()))
        return self._ok(
            {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": int(chat_id), "type": "private"},
                "text": params.get("text", ""),
            }
        )

    def _send_file(self, method, field, params):
        chat_id = str(params.get("chat_id"))
        if chat_id in self.blocked_chats:
            return 403, {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        file = params.pop("_files", {}).get(field)
        if not file:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: no {field}"}
        if len(file["content"]) > MAX_UPLOAD_BYTES[method]:
            return 413, {"ok": False, "error_code": 413, "description": "Request Entity Too Large"}
        return self._record_sent(dict(params, method=method, file=file_record(file)))

    def _api_sendPhoto(self, params):
        return self._send_file("sendPhoto", "photo", params)

    def _api_sendDocument(self, params):
        return self._send_file("sendDocument", "document", params)

    def _api_getFile(self, params):
        file_id = params.get("file_id")
        if file_id not in self.files:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: no file"}
        path, content = self.files[file_id]
        return self._ok(
            {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_path": path,
                "file_size": len(content),
            }
        )

    def _api_getUpdates(self, params):
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                pending = list(self.updates)
            if pending or time.monotonic() >= deadline:
                return self._ok(pending[:100])
            time.sleep(0.05)

    def _file(self, path):
        for file_path, content in self.files.values():
            if file_path == path:
                return content
        return None

    def _handler(self):
        api = self

        class Handler(FakeHandler):
            def _params(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                params = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                ctype = self.headers.get("Content-Type", "")
                if raw and "json" in ctype:
                    params.update(json.loads(raw))
                elif raw and ctype.startswith("multipart/form-data"):
                    fields, params["_files"] = parse_multipart(raw, ctype)
                    params.update(fields)
                elif raw:
                    params.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})
                for key in ("reply_markup", "allowed_updates"):
                    if isinstance(params.get(key), str):
                        params[key] = json.loads(params[key])
                return params

            def _route(self):
                path = unquote(urlparse(self.path).path)
                file_prefix = f"/file/bot{api.token}/"
                if path.startswith(file_prefix):
                    name = path[len(file_prefix) :]
                    self.send_download(api, name, api._file(name))
                    return
                prefix = f"/bot{api.token}/"
                if not path.startswith(prefix):
                    status, body = (
                        401,
                        {"ok": False, "error_code": 401, "description": "Unauthorized"},
                    )
                else:
                    status, body = api._answer(path[len(prefix) :], self._params())
                if status <= 0:
                    time.sleep(-status)
                    self.close_connection = True  # no answer at all: a network failure
                    return
                self.send_json(status, body)

            do_GET = _route
            do_POST = _route

        return Handler
