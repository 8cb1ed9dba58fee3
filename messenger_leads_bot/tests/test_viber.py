import hashlib
import hmac
import itertools
import json
import time

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..adapters.viber import parse_viber_update
from .common import MessengerCase, always_open_team, process_received
from .fake_viber_api import FakeViberApi

_tokens = itertools.count(4912661846655238145)


def viber_event(sender, event="message", message=None, **extra):
    """A Viber callback as the REST Bot API sends it."""
    data = {
        "event": event,
        "timestamp": int(time.time() * 1000),
        "message_token": next(_tokens),
        **extra,
    }
    if event == "message":
        data["sender"] = {"id": sender, "name": "Anna Ivanova", "language": "ru"}
        data["message"] = message or {"type": "text", "text": "Hello"}
    return data


@tagged("post_install", "-at_install")
class TestViber(MessengerCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api = cls.enterClassContext(FakeViberApi())
        cls.team = always_open_team(cls.env)
        cls.account = cls.env["messenger.bot.account"].create(
            {
                "name": "Shop Viber",
                "provider": "viber",
                "token": cls.api.token,
                "api_url": cls.api.url,
                "team_id": cls.team.id,
            }
        )
        cls.path = f"/messenger_leads/viber/{cls.account.id}"

    def post(self, data, token=None):
        body = json.dumps(data).encode()
        key = (token or self.api.token).encode()
        answer = self.url_open(
            self.path,
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Viber-Content-Signature": hmac.new(key, body, hashlib.sha256).hexdigest(),
            },
        )
        process_received(self.env)
        return answer

    def test_parsing(self):
        (text,) = parse_viber_update(viber_event("U1=", message={"type": "text", "text": "Hi"}))
        self.assertEqual(
            (text.kind, text.chat_id, text.first_name), ("text", "U1=", "Anna Ivanova")
        )
        shared = viber_event(
            "U1=",
            message={"type": "contact", "contact": {"name": "Anna", "phone_number": "79031112233"}},
        )
        self.assertEqual(parse_viber_update(shared)[0].phone, "79031112233")
        seen = parse_viber_update(
            {"event": "seen", "timestamp": 1, "message_token": 7, "user_id": "U1="}
        )
        self.assertEqual((seen[0].kind, seen[0].delivery_status), ("status", "read"))
        gone = parse_viber_update(
            {"event": "unsubscribed", "timestamp": 1, "message_token": 8, "user_id": "U1="}
        )
        self.assertEqual(gone[0].kind, "blocked")
        self.assertEqual(
            parse_viber_update({"event": "webhook", "timestamp": 1, "message_token": 9}), []
        )
        for broken in ([], {"event": 5}, {"event": "message", "timestamp": "x"}):
            with self.assertRaises(ValueError):
                parse_viber_update(broken)

    def test_set_webhook_and_check(self):
        self.account.action_set_webhook()
        self.assertTrue(self.api.webhook["url"].endswith(self.path))
        self.assertIn("seen", self.api.webhook["event_types"])
        self.assertIn("conversation_started", self.api.webhook["event_types"])
        notification = self.account.action_check_connection()
        self.assertIn("Test shop", notification["params"]["message"])

    def test_wrong_signature_is_refused(self):
        updates = self.env["messenger.update"].search_count([])
        self.assertEqual(self.post(viber_event("U2="), token="not-the-token").status_code, 403)
        self.assertEqual(self.env["messenger.update"].search_count([]), updates, "nothing stored")

    def test_customer_writes_lead_keyboard_and_share_phone(self):
        self.assertEqual(self.post(viber_event("U3=")).text, "ok")
        conversation = self.conversation("U3=")
        self.assertEqual(
            conversation.lead_id.messenger_channel_id,
            self.env.ref("messenger_leads.messenger_channel_viber"),
        )
        self.deliver()
        (ack,) = self.api.sent_to("U3=")
        actions = [button["ActionType"] for button in ack["keyboard"]["Buttons"]]
        self.assertEqual(
            actions, ["share-phone", "reply"], "share my phone, connect me to a person"
        )
        self.assertEqual(ack["sender"]["name"], "Shop Viber")
        contact = {"type": "contact", "contact": {"name": "Anna", "phone_number": "79031112233"}}
        self.post(viber_event("U3=", message=contact))
        self.assertEqual(conversation.lead_id.phone, "+79031112233")
        self.assertFalse(conversation.partner_id.phone, "Viber does not vouch it is theirs")
        outbox = self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)])[
            :1
        ]
        self.post(
            {
                "event": "delivered",
                "timestamp": 1,
                "message_token": int(ack["message_id"]),
                "user_id": "U3=",
            }
        )
        self.assertEqual(outbox.mail_message_id.messenger_delivery_state, "delivered")

    def test_picture_is_fetched_into_the_thread(self):
        self.api.media["sofa.jpg"] = b"\xff\xd8 a sofa"
        picture = {"type": "picture", "text": "This one", "media": self.api.media_url("sofa.jpg")}
        self.post(viber_event("U6=", message=picture))
        conversation = self.conversation("U6=")
        message = self.env["mail.message"].search(
            [
                ("model", "=", "discuss.channel"),
                ("res_id", "=", conversation.discuss_channel_id.id),
                ("author_id", "=", conversation.partner_id.id),
            ]
        )
        self.assertEqual(
            (message.attachment_ids.name, message.attachment_ids.raw),
            ("sofa.jpg", b"\xff\xd8 a sofa"),
        )
        self.assertIn("This one", message.body)

    def test_media_only_from_viber_and_within_the_size_limit(self):
        elsewhere = self.enterContext(FakeViberApi())  # another host: the intranet, say
        elsewhere.media["leak.jpg"] = b"internal"
        self.api.media["hop.jpg"] = b"\xff\xd8 a sofa"
        self.api.redirects["hop.jpg"] = elsewhere.media_url("leak.jpg")
        self.api.media["big.jpg"] = b"x" * (1024 * 1024 + 1)
        self.env["res.config.settings"].create({"messenger_max_download_mb": 1}).execute()
        refused = "not a URL of the messenger's own servers"
        for user_id, url, why in (
            ("U10=", elsewhere.media_url("leak.jpg"), refused),
            ("U11=", "http://169.254.169.254/latest/meta-data/", refused),
            ("U12=", self.api.media_url("hop.jpg"), refused),
            ("U13=", self.api.media_url("big.jpg"), "larger than 1 MB"),
        ):
            picture = {"type": "picture", "text": "This one", "media": url}
            self.assertEqual(self.post(viber_event(user_id, message=picture)).text, "ok")
            message = self.customer_messages(user_id)
            self.assertFalse(message.attachment_ids, url)
            self.assertIn(f"This one [photo not fetched: {why}]", message.body)
        self.assertEqual(elsewhere.downloads, [], "nothing asked of another host")

    def test_odd_callbacks_answer_400_never_500(self):
        updates = self.env["messenger.update"].search_count([])
        opened = viber_event(None, event="conversation_started", type="open", subscribed=False)
        for odd in (
            dict(opened, user="x"),
            dict(opened, user=["W2="]),
            viber_event("U14=", message="Hello"),
            dict(viber_event("U14="), sender="U14="),
        ):
            answer = self.post(odd)
            self.assertEqual(answer.status_code, 400, odd)
            self.assertIn("malformed Viber callback", answer.text)
        self.assertEqual(self.env["messenger.update"].search_count([]), updates, "none stored")
        # what is odd inside a well-shaped callback is no error
        welcomed = self.post(dict(opened, user={"id": "W3=", "language": 5}))
        self.assertEqual(welcomed.json()["receiver"], "W3=")

    def test_odd_characters_never_fail_a_callback(self):
        gone = {"event": "unsubscribed", "timestamp": 1, "message_token": 11}
        self.assertEqual(self.post(dict(gone, user_id="U\x00\ud800")).text, "ok")
        self.assertTrue(self.conversation("U").blocked)
        # a key of any length: this one is too long for a plain index
        garbled = "".join(chr(0x4E00 + i * 7919 % 20000) for i in range(1500))
        with self.assertLogs("odoo.addons.messenger_leads_bot.models.messenger_update", "ERROR"):
            self.assertEqual(self.post(dict(gone, user_id=garbled)).text, "ok", "kept as failed")
        opened = viber_event(
            None,
            event="conversation_started",
            type="open",
            user={"id": "W4=\ud800", "language": "en\x00"},
            subscribed=False,
        )
        self.assertEqual(self.post(opened).json()["receiver"], "W4=")

    def test_duplicate_callback_is_ignored(self):
        event = viber_event("U4=")
        self.assertEqual(self.post(event).text, "ok")
        self.assertEqual(self.post(event).text, "duplicate")
        self.assertEqual(len(self.conversation("U4=").lead_id), 1)

    def test_too_many_requests_then_success_and_unsubscribed(self):
        self.api.fail_next("send_message", 12)
        self.post(viber_event("U5="))
        outbox = self.env["messenger.outbox"].search(
            [("conversation_id", "=", self.conversation("U5=").id)]
        )
        self.deliver()
        self.assertEqual((outbox.state, outbox.attempts), ("queued", 1))
        outbox.next_attempt_at = fields.Datetime.now()
        self.deliver()
        self.assertEqual(outbox.state, "sent")
        self.post(viber_event("U5=", event="unsubscribed", user_id="U5="))
        self.assertTrue(self.conversation("U5=").blocked)

    def test_welcome_when_the_chat_is_opened(self):
        self.account.welcome_text = "Hello! Ask us anything."
        opened = viber_event(
            None,
            event="conversation_started",
            type="open",
            user={"id": "W1=", "name": "Oleg", "language": "en"},
            subscribed=False,
        )
        answer = self.post(opened)
        self.assertEqual(answer.status_code, 200)
        welcome = answer.json()
        self.assertEqual(
            (welcome["type"], welcome["text"], welcome["sender"]["name"]),
            ("text", "Hello! Ask us anything.", "Shop Viber"),
        )
        self.assertFalse(self.conversation("W1="), "no chat and no lead before they write")
        returning = dict(opened, message_token=opened["message_token"] + 1, subscribed=True)
        self.assertEqual(self.post(returning).text, "ok", "a subscriber is not welcomed again")
        self.account.welcome_text = False
        closed = dict(opened, message_token=opened["message_token"] + 2)
        self.assertEqual(self.post(closed).text, "ok", "no welcome text: nothing shown")
