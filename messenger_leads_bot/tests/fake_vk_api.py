"""A local HTTP server that speaks the VK API (dev.vk.com) as far as the VK client uses it, for
tests. No Odoo here.

It shares the Telegram fake's server, records and failure queue: `fail_next("messages.send", 6)`
answers VK's error 6 (too many requests per second), status 0 drops the connection;
`lose_answers = 1` sends the next message but drops the answer; `blocked_chats.add(user_id)`
answers error 901, as VK does for a user who does not allow the
community's messages. Every call must carry the access key and the version in its POST body (a
key in the URL is refused). messages.send sends a random_id once, as VK does. `queue_event`
feeds the Bots Long Poll server (groups.getLongPollServer, then GET ?act=a_check); `users` names
users.get's users; media are served at `media_url(name)`. Files go as VK takes them: an upload
server (photos. / docs.getMessagesUploadServer), the upload, then photos.saveMessagesPhoto or
docs.save; a message sent with the saved attachment has its "file" in `sent`.
"""

import itertools
import json
import time
from urllib.parse import parse_qs, urlparse

from .fake_bot_api import FakeBotApi, FakeHandler, file_record, parse_multipart

MAX_TEXT_LENGTH = 4096
GROUP_ID = 218000001


class FakeVkApi(FakeBotApi):
    def __init__(self, token="vk1.a.TEST-community-key"):
        self._message_ids = itertools.count(1)
        self._numbers = itertools.count(1)
        self.media = {}  # name -> bytes
        self.users = {}  # user id -> (first name, last name, screen name)
        self.random_ids = {}  # random_id -> the message id it sent
        self.uploads = {}  # what an upload server answered -> the file's record
        self.attachments = {}  # a saved attachment ("photo-1_2_key", "doc-1_3") -> its record
        self.longpoll_key = "lp-key-1"
        self.lose_answers = 0  # messages.send calls done but never answered (a lost answer)
        self.longpoll_failures = []  # "failed" codes the next polls answer (1: history lost...)
        super().__init__(token)

    def media_url(self, name):
        return f"{self.url}/media/{name}"

    def queue_event(self, event):
        """An event for the Long Poll, with its number."""
        with self._lock:
            self.updates.append((next(self._numbers), event))

    # -- server side --------------------------------------------------------

    def _vk(self, method, query, params):
        if params.get("access_token") != self.token or "access_token" in query:
            return {"error": {"error_code": 5, "error_msg": "User authorization failed"}}
        if not params.get("v"):
            return {"error": {"error_code": 8, "error_msg": "Invalid request: v is required"}}
        with self._lock:
            self.calls.append((method, params))
            failures = self._failures.get(method)
            if failures:
                code, _retry_after = failures.pop(0)
                self.failures_returned.append((method, code, params))
                if code <= 0:
                    return code
                return {"error": {"error_code": code, "error_msg": f"fake error {code}"}}
        handler = getattr(self, "_vk_" + method.replace(".", "_"), None)
        if not handler:
            return {"error": {"error_code": 3, "error_msg": "Unknown method passed"}}
        return {"response": handler(params)}

    def _vk_groups_getById(self, _params):
        group = {"id": GROUP_ID, "name": "Test shop", "screen_name": "test_shop", "type": "group"}
        return {"groups": [group], "profiles": []}

    def _vk_groups_getLongPollServer(self, params):
        assert str(params.get("group_id")) == str(GROUP_ID), params
        with self._lock:
            following = self.updates[-1][0] + 1 if self.updates else 1
        return {"server": f"{self.url}/longpoll", "key": self.longpoll_key, "ts": str(following)}

    def _vk_users_get(self, params):
        user_id = params["user_ids"]
        first, last, screen = self.users.get(user_id, ("Анна", "Иванова", f"id{user_id}"))
        return [{"id": int(user_id), "first_name": first, "last_name": last, "screen_name": screen}]

    def _vk_photos_getMessagesUploadServer(self, _params):
        return {"upload_url": f"{self.url}/upload/photo", "album_id": -3, "group_id": GROUP_ID}

    def _vk_docs_getMessagesUploadServer(self, params):
        assert params.get("type") == "doc", params
        return {"upload_url": f"{self.url}/upload/file"}

    def _upload(self, field, files):
        if field not in files:
            return {"error": "ERR_UPLOAD_FILE_NOT_UPLOADED: file not uploaded"}
        token = f"uploaded-{len(self.uploads) + 1}"
        with self._lock:
            self.uploads[token] = file_record(files[field])
        if field == "photo":
            return {"server": 1, "photo": token, "hash": "h"}
        return {"file": token}

    def _save(self, token, kind):
        number = next(self._message_ids)
        with self._lock:
            self.attachments[f"{kind}-{GROUP_ID}_{number}" + ("_ak" if kind == "photo" else "")] = (
                self.uploads.pop(token)
            )
        return number

    def _vk_photos_saveMessagesPhoto(self, params):
        if params.get("photo") not in self.uploads:
            raise VkError(121, "Invalid hash")
        number = self._save(params["photo"], "photo")
        return [{"id": number, "owner_id": -GROUP_ID, "access_key": "ak"}]

    def _vk_docs_save(self, params):
        if params.get("file") not in self.uploads:
            raise VkError(1152, "Invalid document title")
        number = self._save(params["file"], "doc")
        return {
            "type": "doc",
            "doc": {"id": number, "owner_id": -GROUP_ID, "title": params["title"]},
        }

    def _vk_messages_send(self, params):
        peer_id = params["peer_id"]
        if peer_id in self.blocked_chats:
            raise VkError(901, "Can't send messages for users without permission")
        if len(params.get("message") or "") > MAX_TEXT_LENGTH:
            raise VkError(914, "Message is too long")
        random_id = params["random_id"]
        with self._lock:
            if random_id in self.random_ids:  # sent already: VK answers its id again
                return self.random_ids[random_id]
            message_id = self.random_ids[random_id] = next(self._message_ids)
            keyboard = json.loads(params["keyboard"]) if "keyboard" in params else None
            attachment = params.get("attachment")
            if attachment and attachment not in self.attachments:
                raise VkError(100, "One of the parameters specified was missing or invalid")
            self.sent.append(
                dict(
                    params,
                    text=params.get("message") or "",
                    keyboard=keyboard,
                    file=self.attachments.get(attachment),
                    chat_id=peer_id,
                    message_id=message_id,
                    at=time.monotonic(),
                )
            )
        return message_id

    def _longpoll(self, query):
        if query.get("key") != self.longpoll_key:
            return {"failed": 2}
        with self._lock:
            failed = self.longpoll_failures.pop(0) if self.longpoll_failures else None
            newest = self.updates[-1][0] + 1 if self.updates else 1
        if failed == 1:  # the events from ts on are lost: go on from the newest
            return {"failed": 1, "ts": str(newest)}
        if failed:
            return {"failed": failed}
        number = int(query.get("ts") or 0)
        deadline = time.monotonic() + min(float(query.get("wait") or 0), 2.0)
        while True:
            with self._lock:
                pending = [(n, event) for n, event in self.updates if n >= number]
            if pending or time.monotonic() >= deadline:
                following = pending[-1][0] + 1 if pending else number
                return {"ts": str(following), "updates": [event for _n, event in pending]}
            time.sleep(0.05)

    def _handler(self):
        api = self

        class Handler(FakeHandler):
            def _route(self):
                parsed = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                if parsed.path.startswith("/media/"):
                    name = parsed.path.rsplit("/", 1)[-1]
                    self.send_download(api, name, api.media.get(name))
                    return
                if parsed.path == "/longpoll":
                    self.send_json(200, api._longpoll(query))
                    return
                if parsed.path.startswith("/upload/"):
                    length = int(self.headers.get("Content-Length") or 0)
                    _fields, files = parse_multipart(
                        self.rfile.read(length), self.headers["Content-Type"]
                    )
                    self.send_json(200, api._upload(parsed.path.rsplit("/", 1)[-1], files))
                    return
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode()) if length else {}
                params = {k: v[0] for k, v in form.items()}
                method = parsed.path.rsplit("/", 1)[-1]
                try:
                    answer = api._vk(method, query, params)
                except VkError as error:
                    answer = {"error": {"error_code": error.code, "error_msg": error.message}}
                if isinstance(answer, int):  # status 0: no answer at all, a network failure
                    time.sleep(-answer)
                    self.close_connection = True
                    return
                if api.lose_answers and method == "messages.send" and "response" in answer:
                    api.lose_answers -= 1  # sent, the answer lost
                    self.close_connection = True
                    return
                self.send_json(200, answer)

            do_GET = _route
            do_POST = _route

        return Handler


class VkError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message
