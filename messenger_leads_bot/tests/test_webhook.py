import json

from odoo.tests import HttpCase, tagged

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

    def post(self, body, secret=None):
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.url_open(self.path, data=data, headers=headers)

    def stored(self):
        return self.env["messenger.update"].search_count([("account_id", "=", self.account.id)])

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

    def test_unknown_account(self):
        response = self.url_open(
            "/messenger_leads/telegram/999999",
            data="{}",
            headers={"X-Telegram-Bot-Api-Secret-Token": "x"},
        )
        self.assertEqual(response.status_code, 403)
