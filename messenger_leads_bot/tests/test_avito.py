import json
import logging
import time
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from ..adapters import PROVIDERS
from ..adapters.avito import parse_avito_update
from .common import MessengerCase, always_open_team, process_received
from .fake_avito_api import OWN_ID, FakeAvitoApi
from .test_person_reply import long_reply

_logger = logging.getLogger(__name__)
SOFA = {
    "id": 4071239,
    "title": "Диван Осло, серый",
    "price_string": "45 000 ₽",
    "url": "https://www.avito.ru/moskva/mebel/divan_oslo_4071239",
}


class Recorder(logging.Handler):
    """Every log record of the test, at any level, as it would be written."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(f"{record.name} {record.getMessage()}")


@tagged("post_install", "-at_install")
class TestAvito(MessengerCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ru_RU")
        cls.env["ir.module.module"]._load_module_terms(["messenger_leads_bot"], ["ru_RU"])
        cls.api = cls.enterClassContext(FakeAvitoApi())
        cls.team = always_open_team(cls.env)
        cls.account = cls.env["messenger.bot.account"].create(
            {
                "name": "Shop on Avito",
                "provider": "avito",
                "client_id": cls.api.client_id,
                "client_secret": cls.api.client_secret,
                "api_url": cls.api.url,
                "team_id": cls.team.id,
            }
        )
        cls.path = f"/messenger_leads/avito/{cls.account.id}"
        cls.seller = new_test_user(cls.env, "avito_seller", groups="sales_team.group_sale_salesman")

    def post(self, data, token=None):
        token = self.account.webhook_secret if token is None else token
        answer = self.url_open(
            f"{self.path}?token={token}" if token is not False else self.path,
            data=json.dumps(data).encode(),
            headers={"Content-Type": "application/json"},
        )
        process_received(self.env)
        return answer

    def updates(self):
        return self.env["messenger.update"].search([("account_id", "=", self.account.id)])

    # -- parsing ---------------------------------------------------------------

    def test_parsing(self):
        (text,) = parse_avito_update(self.api.buyer_writes("u2i-p1", 501, "Диван ещё продаётся?"))
        self.assertEqual(
            (text.kind, text.chat_id, text.user_id, text.text),
            ("text", "u2i-p1", "501", "Диван ещё продаётся?"),
        )
        image = {"image": {"sizes": {"140x105": "https://1.img.avito.st/s", "1280x960": "L"}}}
        (photo,) = parse_avito_update(
            self.api.buyer_writes("u2i-p1", 501, kind="image", content=image)
        )
        self.assertEqual((photo.kind, photo.file_id), ("photo", "L"), "the largest size")
        own = self.api.notification(
            "u2i-p1", {**self.api.messages["u2i-p1"][0], "author_id": OWN_ID}
        )
        self.assertEqual(parse_avito_update(own), [], "the account's own messages are no leads")
        system = self.api.notification(
            "u2i-p1", {**self.api.messages["u2i-p1"][0], "author_id": 0, "type": "system"}
        )
        self.assertEqual(parse_avito_update(system), [], "nor are Avito's system messages")

    # -- the webhook -----------------------------------------------------------

    def test_wrong_or_missing_url_token_is_refused_and_nothing_stored(self):
        notification = self.api.buyer_writes("u2i-t1", 502, item=SOFA)
        for token in ("not-the-token", "", False, self.account.webhook_secret[:-1]):
            self.assertEqual(self.post(notification, token=token).status_code, 403, token)
        self.assertFalse(self.updates(), "nothing stored")
        self.assertFalse(self.conversation("u2i-t1"))

    def test_forged_notification_creates_nothing_and_says_why(self):
        """The URL's token leaked: a notification of a message Avito does not have (in a real
        chat, or in a chat that does not exist) is stored, read back, and makes nothing."""
        self.api.buyer_writes("u2i-f1", 503, item=SOFA)
        leads = self.env["crm.lead"].search_count([])
        for forged in (
            self.api.forged("u2i-f1", 503, "Pay here: https://evil.example"),
            self.api.forged("u2i-nowhere", 504),
        ):
            self.assertEqual(self.post(forged).text, "ok", "answered at once: Avito waits 2 s")
        self.assertEqual(self.updates().mapped("state"), ["failed", "failed"])
        for update in self.updates():
            self.assertIn("Avito's API does not know this message", update.error)
        self.assertFalse(self.conversation("u2i-f1") | self.conversation("u2i-nowhere"))
        self.assertEqual(self.env["crm.lead"].search_count([]), leads, "no lead")
        self.assertFalse(
            self.api.sent_to("u2i-f1") + self.api.sent_to("u2i-nowhere"), "no acknowledgement"
        )

    def test_buyer_writes_lead_with_the_listing_and_acknowledgement(self):
        notification = self.api.buyer_writes(
            "u2i-l1", 505, "Есть ли диван Осло?", name="Анна", item=SOFA
        )
        # what the notification says is not what counts: Avito's API is
        notification["payload"]["value"]["content"]["text"] = "tampered"
        self.assertEqual(self.post(notification).text, "ok")
        conversation = self.conversation("u2i-l1")
        lead = conversation.lead_id
        self.assertEqual(
            lead.messenger_channel_id, self.env.ref("messenger_leads.messenger_channel_avito")
        )
        self.assertEqual(lead.source_id, self.env.ref("messenger_leads.utm_source_avito"))
        self.assertEqual(
            (
                lead.messenger_listing_ref,
                lead.messenger_listing_title,
                lead.messenger_listing_price,
                lead.messenger_listing_url,
            ),
            ("4071239", SOFA["title"], SOFA["price_string"], SOFA["url"]),
        )
        self.assertEqual(conversation.partner_id.name, "Анна", "the name Avito's API gives")
        self.assertEqual(
            self.customer_messages("u2i-l1").mapped("body"), ["<p>Есть ли диван Осло?</p>"]
        )
        self.deliver_all()
        (ack,) = self.api.sent_to("u2i-l1")
        self.assertEqual(
            ack["text"],
            f"{self.account.acknowledgement_text.format(minutes=5)}\n\n"
            f"› {self.account.handoff_button}",
            "acknowledged; no buttons on Avito: the hand-off's label to write back",
        )
        self.post(self.api.buyer_writes("u2i-l1", 505, self.account.handoff_button))
        self.deliver_all()
        self.assertTrue(
            self.api.sent_to("u2i-l1")[-1]["text"].startswith(self.account.handoff_text),
            "the label written back hands over to a person",
        )
        self.assertEqual(self.updates().mapped("state"), ["done", "done"])

    def test_duplicate_delivery_is_ignored(self):
        notification = self.api.buyer_writes("u2i-d1", 506, item=SOFA)
        self.assertEqual(self.post(notification).text, "ok")
        again = dict(notification, id="another-notification-id")
        self.assertEqual(self.post(again).text, "duplicate", "the same message id")
        self.assertEqual(len(self.customer_messages("u2i-d1")), 1)

    def test_sync_repairs_dropped_webhooks_without_doubling(self):
        delivered = self.api.buyer_writes("u2i-s0", 510, "Delivered", item=SOFA)
        self.post(delivered)
        dropped = [
            self.api.buyer_writes(f"u2i-s{n % 3 + 1}", 511 + n % 3, f"Dropped {n}", item=SOFA)
            for n in range(5)
        ]
        self.assertEqual(len(dropped), 5)
        # the cron syncs every Avito account: this test's alone (the demo's has no API here)
        others = self.env["messenger.bot.account"].search(
            [("provider", "=", "avito"), ("id", "!=", self.account.id)]
        )
        others.active = False
        started = time.monotonic()
        self.env["messenger.bot.account"]._cron_sync_recent()
        process_received(self.env)
        took = time.monotonic() - started
        texts = [
            body
            for chat in ("u2i-s0", "u2i-s1", "u2i-s2", "u2i-s3")
            for body in self.customer_messages(chat).mapped("body")
        ]
        self.assertEqual(
            sorted(texts),
            ["<p>Delivered</p>", *(f"<p>Dropped {n}</p>" for n in range(5))],
            "each message once",
        )
        _logger.info("5 messages whose webhooks were dropped repaired by the sync in %.2f s", took)
        self.assertEqual(
            self.account._sync_recent(), 0, "a sync again stores nothing: all are there"
        )
        self.assertEqual(
            self.post(self.api.notification("u2i-s1", self.api.messages["u2i-s1"][0])).text,
            "duplicate",
            "a late webhook of a synced message",
        )

    def test_long_reply_goes_in_1000_character_parts_in_order(self):
        self.post(self.api.buyer_writes("u2i-r1", 520, item=SOFA))
        conversation = self.conversation("u2i-r1")
        conversation.lead_id.user_id = self.seller
        text = long_reply(2400)
        self.assertEqual(len(text), 2400)
        self.reply_as_seller(conversation, text)
        self.deliver_all()
        _ack, *parts = self.api.sent_to("u2i-r1")
        self.assertEqual(len(parts), 3)
        self.assertTrue(all(len(part["text"]) <= 1000 for part in parts))
        self.assertEqual(
            "".join(part["text"] for part in parts).replace("\n", "").replace(" ", ""),
            text.replace("\n", "").replace(" ", ""),
            "every character, in order",
        )

    def test_rate_limited_send_is_retried(self):
        self.api.fail_next("send", 429, retry_after=3)
        self.post(self.api.buyer_writes("u2i-q1", 521, item=SOFA))
        outbox = self.env["messenger.outbox"].search(
            [("conversation_id", "=", self.conversation("u2i-q1").id)]
        )
        before = fields.Datetime.now()
        self.env["messenger.outbox"]._deliver_due(auto_commit=False)
        self.assertEqual((outbox.state, outbox.attempts), ("queued", 1))
        self.assertGreaterEqual(outbox.next_attempt_at, before + timedelta(seconds=2))
        self.api.fail_next("send", 502)
        outbox.next_attempt_at = fields.Datetime.now()
        self.env["messenger.outbox"]._deliver_due(auto_commit=False)
        self.assertEqual((outbox.state, outbox.attempts), ("queued", 2), "5xx: tried again")
        self.deliver_all()
        self.assertEqual(outbox.state, "sent")
        self.assertEqual(len(self.api.sent_to("u2i-q1")), 1)

    def test_a_send_refused_403_marks_the_chat_blocked(self):
        self.api.blocked_chats.add("u2i-b1")
        self.post(self.api.buyer_writes("u2i-b1", 522, item=SOFA))
        self.deliver_all()
        self.assertTrue(self.conversation("u2i-b1").blocked)

    def test_picture_is_fetched_and_media_only_from_avito(self):
        self.api.media["sofa.jpg"] = b"\xff\xd8 a sofa"
        image = {"image": {"sizes": {"1280x960": self.api.media_url("sofa.jpg")}}}
        self.post(self.api.buyer_writes("u2i-m1", 523, kind="image", content=image, item=SOFA))
        self.assertEqual(self.customer_messages("u2i-m1").attachment_ids.raw, b"\xff\xd8 a sofa")
        leak = {"image": {"sizes": {"1280x960": "http://169.254.169.254/latest/meta-data"}}}
        self.post(self.api.buyer_writes("u2i-m2", 524, kind="image", content=leak, item=SOFA))
        message = self.customer_messages("u2i-m2")
        self.assertFalse(message.attachment_ids)
        self.assertIn("not a URL of the messenger's own servers", message.body)

    # -- the API ---------------------------------------------------------------

    def test_a_renewed_token_is_written_at_once(self):
        """Before the call that needed it: a worker that renewed it at the same moment makes
        this transaction fail then, not after a reply went out (sent again on the retry)."""
        self.account._save_access_token("fresh-token", time.time() + 3600)
        self.env.cr.execute(
            "SELECT access_token FROM messenger_bot_account WHERE id = %s", [self.account.id]
        )
        self.assertEqual(self.env.cr.fetchone()[0], "fresh-token")

    def test_token_obtained_once_renewed_near_expiry_and_never_logged(self):
        recorder = Recorder()
        root, sql = logging.getLogger(), logging.getLogger("odoo.sql_db")
        levels = root.level, sql.level
        root.addHandler(recorder)
        root.setLevel(logging.DEBUG)
        # but SQL's debug log (--log-sql), which shows every stored value, any password alike
        sql.setLevel(logging.INFO)
        issued = self.api.tokens_issued  # the other tests' (each rolled back its own)
        try:
            self.post(self.api.buyer_writes("u2i-k1", 530, item=SOFA))
            self.deliver_all()
            self.post(self.api.buyer_writes("u2i-k2", 532, "Again", item=SOFA))
            self.deliver_all()
            self.assertEqual(self.api.tokens_issued - issued, 1, "one token for every call")
            first = self.account.access_token
            self.assertTrue(first)
            self.assertGreater(
                self.account.access_token_expires_at,
                fields.Datetime.now() + timedelta(hours=23),
                "kept with its expiry",
            )
            # 30 minutes before it expires: renewed before the next call
            self.account.access_token_expires_at = fields.Datetime.now() + timedelta(minutes=30)
            self.post(self.api.buyer_writes("u2i-k3", 533, "Third", item=SOFA))
            self.assertEqual(self.api.tokens_issued - issued, 2)
            self.assertNotEqual(self.account.access_token, first)
            self.deliver_all()
            acknowledged = [self.api.sent_to(f"u2i-k{n}") for n in (1, 2, 3)]
            self.assertTrue(all(acknowledged), "every send with a live token")
        finally:
            root.removeHandler(recorder)
            root.setLevel(levels[0])
            sql.setLevel(levels[1])
        secrets = (first, self.account.access_token, self.api.client_secret)
        leaked = [line for line in recorder.lines for secret in secrets if secret in line]
        self.assertFalse(leaked, "no token nor secret in any log line")
        self.assertTrue(recorder.lines, "the logs were recorded")
        in_urls = [call for call in self.api.calls for secret in secrets if secret in str(call)]
        self.assertFalse(in_urls, "no token in any URL")
        self.assertNotIn(first, repr(self.account._credentials()))

    def test_set_and_remove_webhook_check_connection(self):
        self.account.action_set_webhook()
        url = self.api.webhook["url"]
        self.assertTrue(url.endswith(f"{self.path}?token={self.account.webhook_secret}"))
        self.assertEqual(self.account.webhook_url, url, "shown on the form to administrators")
        self.assertGreaterEqual(len(self.account.webhook_secret), 40, "long, unguessable")
        self.api.subscriptions.append("https://other-crm.example/avito")
        notification = self.account.action_check_connection()
        self.assertIn(f"Avito user {OWN_ID}", notification["params"]["message"])
        self.account.action_remove_webhook()
        self.assertEqual(
            self.api.subscriptions, ["https://other-crm.example/avito"], "only its own"
        )

    def test_confirmation_needs_the_api(self):
        """While Avito's API does not answer, the message waits (failed, tried again), and
        counts once it does."""
        self.api.fail_next("messages", 503)
        with self.assertLogs("odoo.addons.messenger_leads_bot.models.messenger_update", "ERROR"):
            self.post(self.api.buyer_writes("u2i-w1", 531, "Wait", item=SOFA))
        update = self.updates()
        self.assertEqual(update.state, "failed")
        self.assertFalse(self.conversation("u2i-w1"))
        self.env["messenger.update"]._cron_retry_failed()
        self.assertEqual(update.state, "done")
        self.assertEqual(self.customer_messages("u2i-w1").mapped("body"), ["<p>Wait</p>"])

    def test_client_credentials_are_administrators_only(self):
        client = PROVIDERS["avito"].client(self.account._credentials())
        self.assertEqual(client.check(), f"Test shop (Avito user {OWN_ID})")
        for name in ("client_id", "client_secret", "access_token", "access_token_expires_at"):
            self.assertEqual(
                self.account._fields[name].groups, "base.group_system", f"{name}: admins only"
            )

    def test_a_salesperson_cannot_read_the_webhook_url_with_its_token(self):
        """The URL carries the account's secret: a salesperson reading the account over RPC
        gets neither."""
        account = self.account.with_user(self.seller)
        self.assertEqual(account.read(["name"])[0]["name"], "Shop on Avito")
        for field in ("webhook_url", "webhook_secret", "access_token", "client_secret"):
            with self.assertRaises(AccessError, msg=field):
                account.read([field])
