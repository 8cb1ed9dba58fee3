import json
import socket

from odoo.tests import HOST, HttpCase, tagged

from ..controllers.webhook import MAX_BODY_BYTES
from .common import tg_update


@tagged("post_install", "-at_install")
class TestWebhook(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["messenger.bot.account"].create(
            {"name": "@hook_bot", "token": "1:T", "api_url": "http://127.0.0.1:9"}
        )
        cls.account.daily_automated_cap = 0  # nothing to send: this tests the entry only
        cls.path = f"/messenger_leads/telegram/{cls.account.id}"
        whatsapp, viber = cls.env["messenger.bot.account"].create(
            [
                {"name": "Hook WhatsApp", "provider": "whatsapp", "app_secret": "s", "token": "t"},
                {"name": "Hook Viber", "provider": "viber", "token": "t"},
            ]
        )
        # a route and a header that looks right: what an attacker can send
        cls.routes = [
            (cls.path, "X-Telegram-Bot-Api-Secret-Token", cls.account.webhook_secret),
            (
                f"/messenger_leads/whatsapp/{whatsapp.id}",
                "X-Hub-Signature-256",
                "sha256=" + "a" * 64,
            ),
            (f"/messenger_leads/viber/{viber.id}", "X-Viber-Content-Signature", "b" * 64),
        ]

    def post(self, body, secret=None):
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.url_open(self.path, data=data, headers=headers)

    def stored(self):
        return self.env["messenger.update"].search_count([("account_id", "=", self.account.id)])

    def answer_to_a_partial_body(self, path, headers, body):
        """Send a POST's head and only `body`, no more; the status line Odoo answers within
        3 seconds, or "" when it is still waiting for the rest of the body."""
        head = f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        with socket.create_connection((HOST, self.http_port()), timeout=3) as connection:
            connection.sendall(head.encode() + b"\r\n" + body)
            try:
                return connection.recv(1024).split(b"\r\n", 1)[0].decode()
            except TimeoutError:
                return ""

    def test_secret_is_required(self):
        update = tg_update(801, "Hello")
        self.assertEqual(self.post(update).status_code, 403)
        self.assertEqual(self.post(update, secret="wrong").status_code, 403)
        self.assertEqual(self.stored(), 0)

    def test_update_is_accepted_once(self):
        update = tg_update(802, "Hello")
        secret = self.account.webhook_secret
        first = self.post(update, secret)
        self.assertEqual((first.status_code, first.text), (200, "ok"))
        again = self.post(update, secret)
        self.assertEqual((again.status_code, again.text), (200, "duplicate"))
        self.assertEqual(self.stored(), 1)

    def test_bad_bodies_get_clear_answers(self):
        secret = self.account.webhook_secret
        self.assertEqual(self.post(b"{not json", secret).status_code, 400)
        self.assertEqual(
            self.post({"hello": 1}, secret).text, "not a Telegram update: no integer update_id"
        )
        self.assertEqual(self.post(b"[" * 100000 + b"]" * 100000, secret).status_code, 400)
        self.assertEqual(self.post(b"x" * (1024 * 1024 + 1), secret).status_code, 413)
        self.assertEqual(self.stored(), 0)

    def test_odd_update_ids_answer_400(self):
        secret = self.account.webhook_secret
        for update_id in (True, -1, int("9" * 3000)):
            answer = self.post({"update_id": update_id, "message": {}}, secret)
            self.assertEqual(answer.status_code, 400, update_id)
        self.assertEqual(self.stored(), 0)

    def test_five_megabytes_are_refused_and_nothing_is_stored(self):
        updates = self.env["messenger.update"].search_count([])
        body = json.dumps({"update_id": 1, "pad": "x" * 5_000_000})
        for path, header, value in self.routes:
            answer = self.url_open(path, data=body, headers={header: value})
            self.assertEqual(answer.status_code, 413, path)
        self.assertEqual(self.env["messenger.update"].search_count([]), updates)

    def test_a_body_over_the_limit_is_refused_before_it_is_read(self):
        for path, header, value in self.routes:
            # by its Content-Length: the 5 MB announced are not waited for
            status = self.answer_to_a_partial_body(
                path, {header: value, "Content-Length": 5_000_000}, b'{"update_id": 1, '
            )
            self.assertIn(" 413 ", status, path)
            # without one (chunked): read to one byte over the limit, not to its end
            chunk = b"x" * (MAX_BODY_BYTES + 1)
            status = self.answer_to_a_partial_body(
                path,
                {header: value, "Transfer-Encoding": "chunked"},
                b"%x\r\n%s\r\n" % (len(chunk), chunk),
            )
            self.assertIn(" 413 ", status, path)

    def test_unknown_account(self):
        response = self.url_open(
            "/messenger_leads/telegram/999999",
            data="{}",
            headers={"X-Telegram-Bot-Api-Secret-Token": "x"},
        )
        self.assertEqual(response.status_code, 403)
