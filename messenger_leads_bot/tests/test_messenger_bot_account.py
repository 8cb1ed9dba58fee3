from odoo.exceptions import ValidationError
from odoo.tests import Form, HttpCase, tagged


@tagged("post_install", "-at_install")
class TestMessengerCapabilities(HttpCase):
    """The account shows and allows what its messenger offers, asked as capabilities."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.telegram, cls.whatsapp, cls.viber = cls.env["messenger.bot.account"].create(
            [
                {"name": "Caps Telegram", "token": "1:T"},
                {"name": "Caps WhatsApp", "provider": "whatsapp", "token": "t", "app_secret": "s"},
                {"name": "Caps Viber", "provider": "viber", "token": "v"},
            ]
        )

    def capabilities(self, account):
        names = (
            "manages_webhook",
            "can_poll",
            "uses_templates",
            "welcomes_on_open",
            "signs_with_app_secret",
            "uses_phone_number_id",
            "uses_webhook_secret",
        )
        return {name for name in names if account[name]}

    def test_each_account_offers_what_its_messenger_does(self):
        self.assertEqual(
            self.capabilities(self.telegram), {"manages_webhook", "can_poll", "uses_webhook_secret"}
        )
        self.assertEqual(
            self.capabilities(self.whatsapp),
            {
                "uses_templates",
                "signs_with_app_secret",
                "uses_phone_number_id",
                "uses_webhook_secret",
            },
        )
        self.assertEqual(self.capabilities(self.viber), {"manages_webhook", "welcomes_on_open"})
        self.assertEqual(self.whatsapp.api_url, "https://graph.facebook.com/v21.0")
        self.assertEqual(
            self.viber.channel_id, self.env.ref("messenger_leads.messenger_channel_viber")
        )

    def test_only_a_messenger_that_polls_takes_the_polling_relay(self):
        self.telegram.mode = "polling"
        with self.assertRaises(ValidationError):
            self.whatsapp.mode = "polling"
        form = Form(self.env["messenger.bot.account"])
        form.name = "Switched"
        form.mode = "polling"
        form.provider = "viber"
        self.assertEqual(form.mode, "webhook", "a messenger that does not poll takes webhooks")
        self.assertEqual(form.api_url, "https://chatapi.viber.com/pa")

    def test_a_request_reaches_an_account_only_by_its_own_messenger(self):
        secret = {"X-Telegram-Bot-Api-Secret-Token": self.telegram.webhook_secret}
        body = '{"update_id": 1}'
        for provider in ("whatsapp", "viber", "nope"):
            answer = self.url_open(
                f"/messenger_leads/{provider}/{self.telegram.id}", data=body, headers=secret
            )
            self.assertEqual(answer.status_code, 403, provider)
        self.assertEqual(
            self.env["messenger.update"].search_count([("account_id", "=", self.telegram.id)]), 0
        )
        # only a messenger that verifies its webhook with a GET has one
        for provider, account in (("telegram", self.telegram), ("viber", self.viber)):
            answer = self.url_open(f"/messenger_leads/{provider}/{account.id}")
            self.assertEqual(answer.status_code, 404, provider)
