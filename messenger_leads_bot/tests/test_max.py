import datetime
import ipaddress
import itertools
import json
import os
import tempfile
import time
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from ..adapters import PROVIDERS
from ..adapters.max_messenger import SECRET_HEADER, parse_max_update
from ..adapters.relay import Webhook, relay_once
from ..models.messenger_outbox import PER_ROUND
from .common import MessengerCase, always_open_team, process_received
from .fake_max_api import FakeMaxApi
from .test_whatsapp import text, wa_notification

_mids = itertools.count(1)
_now_ms = int(time.time() * 1000)


def max_user(user_id, name="Анна"):
    return {"user_id": user_id, "first_name": name, "last_name": "Иванова", "is_bot": False}


def max_message(user_id, text="Здравствуйте", attachments=None, locale="ru", **message_fields):
    """A message_created update of a dialog, as MAX sends it."""
    body = {"mid": f"mid.{next(_mids):016x}", "seq": next(_mids), "text": text}
    if attachments is not None:
        body["attachments"] = attachments
    message = {
        "sender": max_user(user_id),
        "recipient": {"chat_id": 7_000_000 + user_id, "chat_type": "dialog"},
        "timestamp": _now_ms,
        "body": body,
        **message_fields,
    }
    return {
        "update_type": "message_created",
        "timestamp": _now_ms,
        "message": message,
        "user_locale": locale,
    }


def max_started(user_id, update_type="bot_started", **fields_):
    return {
        "update_type": update_type,
        "timestamp": _now_ms + next(_mids),
        "chat_id": 7_000_000 + user_id,
        "user": max_user(user_id),
        "user_locale": "ru",
        **fields_,
    }


def contact_card(phone, owner):
    vcard = f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Анна\r\nTEL;TYPE=cell:{phone}\r\nEND:VCARD"
    return {"type": "contact", "payload": {"vcf_info": vcard, "max_info": owner}}


def self_signed_ca(folder):
    """A root CA and a certificate for 127.0.0.1 it signed, as files in `folder`; the CA's PEM."""
    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject, issuer, public_key, signing_key, *, ca, names=()):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate(
        "Test Trusted Root CA", "Test Trusted Root CA", ca_key.public_key(), ca_key, ca=True
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server = certificate(
        "127.0.0.1", "Test Trusted Root CA", server_key.public_key(), ca_key, ca=False, names=names
    )
    paths = {name: os.path.join(folder, name) for name in ("ca.pem", "server.pem", "key.pem")}
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    with open(paths["ca.pem"], "wb") as out:
        out.write(ca_pem)
    with open(paths["server.pem"], "wb") as out:
        out.write(server.public_bytes(serialization.Encoding.PEM))
    with open(paths["key.pem"], "wb") as out:
        out.write(
            server_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return paths, ca_pem.decode()


@tagged("post_install", "-at_install")
class TestMax(MessengerCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ru_RU")
        cls.env["ir.module.module"]._load_module_terms(["messenger_leads_bot"], ["ru_RU"])
        cls.api = cls.enterClassContext(FakeMaxApi())
        cls.team = always_open_team(cls.env)
        cls.account = cls.env["messenger.bot.account"].create(
            {
                "name": "Shop MAX",
                "provider": "max",
                "token": cls.api.token,
                "api_url": cls.api.url,
                "team_id": cls.team.id,
            }
        )
        cls.path = f"/messenger_leads/max/{cls.account.id}"
        cls.seller = new_test_user(cls.env, "max_seller", groups="sales_team.group_sale_salesman")

    def post(self, data, secret=None, headers=None):
        answer = self.url_open(
            self.path,
            data=json.dumps(data).encode(),
            headers={
                "Content-Type": "application/json",
                SECRET_HEADER: self.account.webhook_secret if secret is None else secret,
                **(headers or {}),
            },
        )
        process_received(self.env)
        return answer

    # -- parsing ---------------------------------------------------------------

    def test_parsing(self):
        (text,) = parse_max_update(max_message(11, "Привет", locale="ru-RU"))
        self.assertEqual(
            (text.kind, text.chat_id, text.user_id, text.text, text.language_code),
            ("text", "11", "11", "Привет", "ru-RU"),
        )
        self.assertEqual((text.first_name, text.last_name), ("Анна", "Иванова"))
        picture = {
            "type": "image",
            "payload": {"photo_id": 1, "token": "t", "url": "https://i.oneme.ru/1.jpg"},
        }
        document = {
            "type": "file",
            "filename": "plan.pdf",
            "size": 3,
            "payload": {"token": "t", "url": "https://fd.oneme.ru/plan.pdf"},
        }
        photo, file = parse_max_update(max_message(11, "This one", [picture, document]))
        self.assertEqual(
            (photo.kind, photo.file_id, photo.text),
            ("photo", "https://i.oneme.ru/1.jpg", "This one"),
        )
        self.assertEqual((file.kind, file.file_name), ("document", "plan.pdf"))
        self.assertEqual(file.message_id, f"{photo.message_id}/1", "each file its own reference")
        edited = dict(max_message(11, "Fixed"), update_type="message_edited")
        self.assertTrue(parse_max_update(edited)[0].edited)
        group = max_message(11)
        group["message"]["recipient"]["chat_type"] = "chat"
        self.assertEqual(parse_max_update(group), [], "group chats are not leads")
        pressed = {
            "update_type": "message_callback",
            "timestamp": _now_ms,
            "callback": {
                "callback_id": "cb.1",
                "payload": "Yes",
                "timestamp": _now_ms,
                "user": max_user(11),
            },
            "user_locale": "en",
        }
        (choice,) = parse_max_update(pressed)
        self.assertEqual(
            (choice.kind, choice.text, choice.chat_id, choice.language_code),
            ("text", "Yes", "11", "en"),
        )
        (start,) = parse_max_update(max_started(11, payload="summer_sale"))
        self.assertEqual(
            (start.kind, start.text, start.start_payload), ("text", "/start", "summer_sale")
        )
        (stop,) = parse_max_update(max_started(11, "bot_stopped"))
        self.assertEqual(stop.kind, "blocked")
        for broken in (
            [],
            {"update_type": 5},
            {"update_type": "message_created", "message": {"body": {}}},
        ):
            with self.assertRaises(ValueError):
                parse_max_update(broken)

    def test_only_the_senders_own_card_is_their_number(self):
        """The request_contact button sends the sender's own card (max_info is them): that
        number is vouched. Another person's card, or one without max_info, is not."""
        own = contact_card("+7 916 123-45-67", max_user(12))
        (shared,) = parse_max_update(max_message(12, "", [own]))
        self.assertEqual(
            (shared.kind, shared.phone, shared.phone_is_senders),
            ("contact", "+7 916 123-45-67", True),
        )
        for owner in (max_user(99), None, {"user_id": "12"}):
            (card,) = parse_max_update(max_message(12, "", [contact_card("+79160000000", owner)]))
            self.assertEqual((card.kind, card.phone_is_senders), ("text", False), owner)
            self.assertIn("+79160000000", card.text, "shown in the thread all the same")
        forward = {"type": "forward", "message": {"mid": "mid.0", "seq": 1}}
        (passed_on,) = parse_max_update(max_message(12, "", [own], link=forward))
        self.assertFalse(passed_on.phone_is_senders, "a forwarded card vouches for no one")

    # -- the webhook -----------------------------------------------------------

    def test_customer_writes_lead_russian_acknowledgement_and_buttons(self):
        self.assertEqual(self.post(max_message(21, "Есть ли диван Осло?")).text, "ok")
        conversation = self.conversation(21)
        lead = conversation.lead_id
        self.assertEqual(
            lead.messenger_channel_id, self.env.ref("messenger_leads.messenger_channel_max")
        )
        self.assertEqual(lead.source_id, self.env.ref("messenger_leads.utm_source_max"))
        self.assertEqual(conversation.partner_id.name, "Анна Иванова")
        self.assertIn("Есть ли диван Осло?", self.customer_messages(21).body)
        self.deliver()
        (ack,) = self.api.sent_to(21)
        self.assertEqual(
            ack["text"],
            "Здравствуйте! Мы получили ваше сообщение. Менеджер ответит вам в течение 5 минут.",
            "user_locale ru: the bot texts in Russian",
        )
        (keyboard,) = ack["attachments"]
        buttons = [button for row in keyboard["payload"]["buttons"] for button in row]
        self.assertEqual(keyboard["type"], "inline_keyboard")
        self.assertEqual([b["type"] for b in buttons], ["request_contact", "message"])
        self.assertIn("Соедините меня с человеком", buttons[1]["text"])
        self.assertEqual(self.outbox(21).external_message_id, ack["message_id"])

    def test_english_locale_gets_english(self):
        self.post(max_message(22, "Hello", locale="en-US"))
        self.deliver()
        self.assertEqual(
            self.api.sent_to(22)[0]["text"],
            "Hello! We have your message. A manager will answer you within 5 minutes.",
        )

    def test_wrong_or_missing_secret_is_refused_and_nothing_stored(self):
        updates = self.env["messenger.update"].search_count([])
        self.assertEqual(self.post(max_message(23), secret="not-the-secret").status_code, 403)
        self.assertEqual(self.post(max_message(23), secret="").status_code, 403)
        self.assertEqual(self.env["messenger.update"].search_count([]), updates, "nothing stored")
        self.assertFalse(self.conversation(23))

    def test_duplicate_delivery_is_ignored(self):
        update = max_message(24)
        self.assertEqual(self.post(update).text, "ok")
        self.assertEqual(self.post(update).text, "duplicate")
        self.assertEqual(len(self.customer_messages(24)), 1)
        edited = dict(update, update_type="message_edited", timestamp=_now_ms + 5000)
        edited["message"] = dict(
            update["message"], body=dict(update["message"]["body"], text="Edited")
        )
        self.assertEqual(self.post(edited).text, "ok", "an edit of the same message is news")
        self.assertEqual(self.post(edited).text, "duplicate")
        self.assertEqual(len(self.customer_messages(24)), 1)
        self.assertIn("Edited", self.customer_messages(24).body, "the message itself changes")
        start = max_started(24)
        self.assertEqual(self.post(start).text, "ok")
        self.assertEqual(self.post(start).text, "duplicate", "an update without a message too")

    def test_odd_updates_answer_400_and_nothing_is_stored(self):
        updates = self.env["messenger.update"].search_count([])
        for odd in (
            {"message": {}},
            {"update_type": "message_created", "timestamp": 1, "message": "x"},
            {
                "update_type": "message_created",
                "timestamp": 1,
                "message": {"body": {"text": "no mid"}},
            },
            dict(max_message(25), message=dict(max_message(25)["message"], sender=[1])),
        ):
            answer = self.post(odd)
            self.assertEqual(answer.status_code, 400, odd)
        self.assertEqual(self.env["messenger.update"].search_count([]), updates)

    def test_rate_limited_send_is_retried_after_the_asked_delay(self):
        self.api.fail_next("messages", 429, retry_after=3)
        self.post(max_message(26))
        outbox = self.outbox(26)
        before = fields.Datetime.now()
        self.deliver()
        self.assertEqual((outbox.state, outbox.attempts), ("queued", 1))
        self.assertGreaterEqual(outbox.next_attempt_at, before + timedelta(seconds=2))
        self.api.fail_next("messages", 503)
        outbox.next_attempt_at = fields.Datetime.now()
        self.deliver()
        self.assertEqual((outbox.state, outbox.attempts), ("queued", 2), "5xx: tried again")
        outbox.next_attempt_at = fields.Datetime.now()
        self.deliver()
        self.assertEqual(outbox.state, "sent")
        self.assertEqual(len(self.api.sent_to(26)), 1)

    def test_reply_from_discuss_is_delivered_whole(self):
        """A salesperson's 3,000-character Russian answer in paragraphs goes as one message
        (MAX takes 4,000), every character and line break kept."""
        self.post(max_message(27))
        self.assert_reply_goes_as_one_message(27)

    def test_blocked_shown_and_started_again(self):
        self.post(max_message(28))
        self.deliver()
        self.assertEqual(self.post(max_started(28, "bot_stopped")).text, "ok")
        conversation = self.conversation(28)
        self.assertTrue(conversation.blocked)
        conversation._queue_outbound("Are you there?", "person")
        self.deliver_all()
        self.assertEqual(
            len(self.api.sent_to(28)), 1, "nothing sent to a customer who stopped the bot"
        )
        self.post(max_started(28))
        self.assertFalse(conversation.blocked, "Start again: unblocked")
        notices = conversation.discuss_channel_id.message_ids.mapped("body")
        self.assertTrue(any("started the bot again" in body for body in notices))

    def test_a_send_refused_403_marks_the_chat_blocked(self):
        self.api.blocked_chats.add("29")
        self.post(max_message(29))
        self.deliver()
        self.assertEqual(self.outbox(29).state, "failed")
        self.assertTrue(self.conversation(29).blocked)

    def test_start_with_a_deep_link_makes_a_lead(self):
        self.assertEqual(self.post(max_started(30, payload="summer_sale")).text, "ok")
        conversation = self.conversation(30)
        self.assertTrue(conversation.lead_id)
        self.assertEqual(conversation.lead_id.campaign_id.name, "summer_sale")

    def test_shared_phone_is_the_customers_own(self):
        self.post(max_message(31))
        # a number no demo customer has: a known one would join that customer (see
        # test_a_customer_on_max_after_whatsapp_stays_one_contact_with_one_lead)
        self.post(max_message(31, "", [contact_card("+79161230031", max_user(31))]))
        conversation = self.conversation(31)
        self.assertEqual(conversation.partner_id.phone, "+79161230031", "MAX vouches for it")
        self.post(max_message(32))
        self.post(max_message(32, "", [contact_card("+79167654321", max_user(99))]))
        self.assertFalse(self.conversation(32).partner_id.phone, "someone else's card")

    def test_a_customer_on_max_after_whatsapp_stays_one_contact_with_one_lead(self):
        """The same customer wrote on WhatsApp (whose number WhatsApp vouches for), then on MAX,
        sharing their own number with MAX's button: one contact, one open lead."""
        whatsapp = self.env["messenger.bot.account"].create(
            {
                "name": "Shop WhatsApp",
                "provider": "whatsapp",
                "token": "wa-token",
                "api_url": self.api.url,
                "whatsapp_phone_number_id": "1000",
                "app_secret": "wa-secret",
                "team_id": self.team.id,
            }
        )
        update = wa_notification("79161230033", text("Здравствуйте, пишу из WhatsApp"))
        self.env["messenger.update"]._receive(whatsapp, update, "wa-33")
        process_received(self.env)
        whatsapp_chat = self.env["messenger.conversation"].search(
            [("account_id", "=", whatsapp.id)]
        )
        self.post(max_message(33, "А теперь из MAX"))
        self.post(max_message(33, "", [contact_card("+7 916 123-00-33", max_user(33))]))
        max_chat = self.conversation(33)
        self.assertEqual(max_chat.partner_id, whatsapp_chat.partner_id, "one contact")
        self.assertEqual(max_chat.lead_id, whatsapp_chat.lead_id, "one open lead")
        open_leads = self.env["crm.lead"].search(
            [
                ("partner_id", "=", max_chat.partner_id.id),
                *max_chat.lead_id._messenger_open_domain(),
            ]
        )
        self.assertEqual(open_leads, max_chat.lead_id)

    def test_picture_is_fetched_and_media_only_from_max(self):
        self.api.media["sofa.jpg"] = b"\xff\xd8 a sofa"
        picture = {
            "type": "image",
            "payload": {"photo_id": 1, "token": "t", "url": self.api.media_url("sofa.jpg")},
        }
        self.post(max_message(33, "This one", [picture]))
        message = self.customer_messages(33)
        self.assertEqual(message.attachment_ids.raw, b"\xff\xd8 a sofa")
        self.api.media["sofa.mp4"] = b"a video of the sofa"
        self.api.videos["vid-1"] = {"mp4_480": self.api.media_url("sofa.mp4"), "hls": "x"}
        video = {"type": "video", "payload": {"token": "vid-1", "url": "https://max.ru/v"}}
        self.post(max_message(37, "Video", [video]))
        message = self.customer_messages(37)
        self.assertEqual(
            (message.attachment_ids.name, message.attachment_ids.raw),
            ("vid-1.mp4", b"a video of the sofa"),
            "a video's file comes through GET /videos",
        )
        elsewhere = self.enterContext(FakeMaxApi())
        elsewhere.media["leak.jpg"] = b"internal"
        leak = {
            "type": "image",
            "payload": {"photo_id": 2, "token": "t", "url": elsewhere.media_url("leak.jpg")},
        }
        self.post(max_message(34, "This one", [leak]))
        message = self.customer_messages(34)
        self.assertFalse(message.attachment_ids)
        self.assertIn("not fetched: not a URL of the messenger's own servers", message.body)
        self.assertEqual(elsewhere.downloads, [])

    # -- the API ---------------------------------------------------------------

    def test_set_and_remove_webhook_check_connection(self):
        self.account.action_set_webhook()
        self.assertTrue(self.api.webhook["url"].endswith(self.path))
        self.assertEqual(self.api.webhook["secret"], self.account.webhook_secret)
        self.assertIn("bot_stopped", self.api.webhook["update_types"])
        notification = self.account.action_check_connection()
        self.assertIn("@test_shop_max_bot", notification["params"]["message"])
        self.account.action_remove_webhook()
        self.assertEqual(self.api.subscriptions, [])
        token_in_header = [call for call in self.api.calls if call[0] == "me"]
        self.assertTrue(token_in_header, "the fake refuses a token anywhere but the header")

    def test_polling_relay_moves_past_a_batch_once_all_of_it_is_stored(self):
        credentials = self.account._credentials()
        client = PROVIDERS["max"].client(credentials)
        first, second = max_message(35, "One"), max_message(35, "Two")
        self.api.queue_update(first)
        self.api.queue_update(second)
        updates = client.get_updates(0, 0)
        self.assertEqual(updates, [first, second])
        self.assertEqual(client.offset_after(updates[0]), 0, "not before the batch is stored")
        marker = client.offset_after(updates[1])
        self.assertTrue(marker)
        headers = PROVIDERS["max"].relay_headers(b"{}", credentials)
        self.assertTrue(PROVIDERS["max"].authentic(headers, b"{}", credentials))
        forwarded = []

        class Odoo(Webhook):
            def forward(self, update):
                forwarded.append(update)
                return 200

        webhook = Odoo(None, "http://odoo.invalid", lambda body: headers)
        self.assertEqual(relay_once(client, webhook, marker, 0, lambda: False), marker)
        self.assertEqual(forwarded, [], "nothing new after the marker")

    def test_outbox_paces_max_at_two_messages_a_second_per_chat_and_30_per_bot(self):
        capabilities = PROVIDERS["max"].capabilities
        self.assertEqual(
            (capabilities.per_chat_interval, capabilities.per_bot_per_second), (0.5, 30)
        )
        self.post(max_message(36))
        conversation = self.conversation(36)
        second = conversation._queue_outbound("Second", "person")
        before = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        self.deliver()
        self.assertEqual((self.outbox(36)[0].state, second.state), ("sent", "queued"))
        wait = (second.next_attempt_at - before).total_seconds()
        self.assertTrue(0.5 <= wait < 1.0, f"half a second later, not a second: {wait}")
        outbox = self.env["messenger.outbox"]
        for user_id in range(100, 120):
            self.post(max_message(user_id))
        queued = outbox.search([("state", "=", "queued"), ("account_id", "=", self.account.id)])
        queued.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        claimed = outbox._queue_claim(
            datetime.datetime.now(datetime.UTC).replace(tzinfo=None), None, None, PER_ROUND
        )
        mine = claimed.filtered(lambda row: row.account_id == self.account)
        self.assertEqual(len(mine), 15, "rounds of half a second: 15 a round is 30 a second")


@tagged("post_install", "-at_install")
class TestMaxCertificate(HttpCase):
    """MAX's API is served under a root CA that is not in certifi: without the account's CA
    bundle Check connection says so; with it (PEM text or a file's path) it connects."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        folder = cls.enterClassContext(tempfile.TemporaryDirectory())
        paths, cls.ca_pem = self_signed_ca(folder)
        cls.ca_path = paths["ca.pem"]
        cls.api = cls.enterClassContext(FakeMaxApi(tls=(paths["server.pem"], paths["key.pem"])))
        cls.account = cls.env["messenger.bot.account"].create(
            {"name": "TLS MAX", "provider": "max", "token": cls.api.token, "api_url": cls.api.url}
        )

    def test_check_connection_says_when_the_certificate_is_the_problem(self):
        self.assertTrue(self.api.url.startswith("https://"))
        with self.assertRaises(UserError) as refused:
            self.account.action_check_connection()
        message = str(refused.exception)
        self.assertIn(f"The certificate of MAX's server {self.api.url} is not trusted", message)
        self.assertIn("CA bundle", message)
        for bundle in (self.ca_pem, self.ca_path):
            self.account.ca_bundle = bundle
            notification = self.account.action_check_connection()
            self.assertIn("@test_shop_max_bot", notification["params"]["message"])

    def test_a_ca_bundle_that_is_no_certificate_is_refused(self):
        for wrong in (
            "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----",
            "/nonexistent/ca.pem",
        ):
            with self.assertRaises(ValidationError):
                self.account.ca_bundle = wrong
