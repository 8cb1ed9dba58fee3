"""Instagram Direct and Facebook Messenger: Meta's Messenger Platform, the same app as WhatsApp.

Each test runs for both (TestInstagram, TestFacebookMessenger), over HTTP: the webhook route with
Meta's signature and handshake, a local Graph API (fake_meta_api.py) for what Odoo sends."""

import hashlib
import hmac
import itertools
import json
import time
from datetime import timedelta
from urllib.parse import urlsplit

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from ..adapters import PROVIDERS, OutboundMessage
from ..adapters.meta_messaging import MetaMessagingClient
from .common import MessengerCase, always_open_team, process_received, russian_reply
from .fake_meta_api import PAGE_ID, FakeMetaApi
from .test_outbound_files import JPEG, PDF, content

APP_SECRET = "meta-app-secret"
_ids = itertools.count(1)


def now_ms():
    return int(time.time() * 1000)


def meta_notification(webhook_object, sender, message=None, **event):
    """A Messenger Platform notification with one messaging event of the customer `sender`: a
    message (its mid made unique) or any other event (postback, delivery, read...)."""
    if message is not None:
        event["message"] = {"mid": f"m_IN{next(_ids)}-{time.time_ns()}", **message}
    messaging = {
        "sender": {"id": sender},
        "recipient": {"id": PAGE_ID},
        "timestamp": now_ms(),
        **event,
    }
    return {
        "object": webhook_object,
        "entry": [{"id": PAGE_ID, "time": now_ms(), "messaging": [messaging]}],
    }


class MetaMessagingCase(MessengerCase):
    """The tests both providers pass; a subclass names the provider and its fake's limits."""

    allow_inherited_tests_method = True  # Odoo's loader: run this class's tests in each
    code = ""
    fake_limits = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider = PROVIDERS[cls.code]
        cls.api = cls.enterClassContext(FakeMetaApi(**cls.fake_limits))
        cls.team = always_open_team(cls.env)
        cls.account = cls.env["messenger.bot.account"].create(
            {
                "name": f"Shop {cls.code}",
                "provider": cls.code,
                "token": cls.api.token,
                "api_url": cls.api.url,
                "app_secret": APP_SECRET,
                "team_id": cls.team.id,
            }
        )
        cls.path = f"/messenger_leads/{cls.code}/{cls.account.id}"
        cls.seller = new_test_user(
            cls.env, f"meta_seller_{cls.code}", groups="sales_team.group_sale_salesman"
        )

    def notification(self, sender, message=None, **event):
        return meta_notification(self.provider.webhook_object, sender, message, **event)

    def post(self, data, secret=APP_SECRET, signed=True):
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        headers = {"Content-Type": "application/json"}
        if signed:
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
        answer = self.url_open(self.path, data=body, headers=headers)
        process_received(self.env)
        return answer

    def psid(self, n):
        return f"{hash(self.code) % 1000:03d}{n:010d}"

    def chat_of_seller(self, psid, text="Hello"):
        self.post(self.notification(psid, {"text": text}))
        conversation = self.conversation(psid)
        conversation.lead_id.user_id = self.seller
        self.deliver_all()
        return conversation

    # -- parsing ---------------------------------------------------------------

    def test_parsing_texts_quick_replies_files_stories_and_echoes(self):
        parse = self.provider.parse
        (text,) = parse(self.notification("11", {"text": "Hello"}))
        self.assertEqual(
            (text.kind, text.chat_id, text.user_id, text.text), ("text", "11", "11", "Hello")
        )
        chosen = {
            "text": "Connect me to a per",
            "quick_reply": {"payload": "Connect me to a person"},
        }
        self.assertEqual(parse(self.notification("11", chosen))[0].text, "Connect me to a person")
        files = {
            "attachments": [
                {"type": "image", "payload": {"url": "https://scontent.cdninstagram.com/a.jpg"}},
                {"type": "file", "payload": {"url": "https://cdn.fbsbx.com/v/plan.pdf?x=1"}},
            ]
        }
        photo, document = parse(self.notification("11", files))
        self.assertEqual(
            (photo.kind, photo.file_id), ("photo", "https://scontent.cdninstagram.com/a.jpg")
        )
        self.assertEqual(
            (document.kind, document.message_id), ("document", f"{photo.message_id}/1")
        )
        story_reply = {
            "text": "Is it in blue?",
            "reply_to": {"story": {"url": "https://lookaside.fbsbx.com/story/1", "id": "17"}},
        }
        (reply,) = parse(self.notification("11", story_reply))
        self.assertEqual(
            reply.text, "Is it in blue?\n[story reply] https://lookaside.fbsbx.com/story/1"
        )
        mention = {
            "attachments": [
                {"type": "story_mention", "payload": {"url": "https://lookaside.fbsbx.com/s/2"}}
            ]
        }
        (mentioned,) = parse(self.notification("11", mention))
        self.assertEqual(
            (mentioned.kind, mentioned.text, mentioned.file_id),
            ("text", "[story_mention] https://lookaside.fbsbx.com/s/2", ""),
            "a story's link, never its content",
        )
        echo = self.notification(PAGE_ID, {"text": "Our own answer", "is_echo": True})
        echo["entry"][0]["messaging"][0]["recipient"]["id"] = "11"
        self.assertEqual(parse(echo), [], "our own messages come back as echoes: ignored")
        unsent = self.notification("11", {"is_deleted": True})
        self.assertEqual(parse(unsent), [], "an unsent message changes nothing")
        (unsupported,) = parse(self.notification("11", {"is_unsupported": True}))
        self.assertEqual(unsupported.text, "[unsupported]", "shown, never an empty message")
        pressed = self.notification("11", postback={"title": "Start", "payload": "/start"})
        self.assertEqual(parse(pressed)[0].text, "/start")
        edit = self.notification("11", message_edit={"mid": "m_5", "text": "Fixed", "num_edit": 1})
        (edited,) = parse(edit)
        self.assertEqual((edited.edited, edited.message_id, edited.text), (True, "m_5", "Fixed"))
        again = self.notification("11", message_edit={"mid": "m_5", "text": "Again", "num_edit": 2})
        self.assertNotEqual(
            self.provider.delivery_key(edit, b""),
            self.provider.delivery_key(again, b""),
            "each edit is news",
        )
        (delivered,) = parse(self.notification("11", delivery={"mids": ["m_1"], "watermark": 1}))
        self.assertEqual(
            (delivered.kind, delivered.message_id, delivered.delivery_status),
            ("status", "m_1", "delivered"),
        )
        (read,) = parse(self.notification("11", read={"watermark": 1_700_000_000_000}))
        self.assertEqual((read.kind, read.message_id, read.delivery_status), ("status", "", "read"))
        self.assertEqual(read.date.year, 2023, "read up to its watermark")
        other = "page" if self.provider.webhook_object == "instagram" else "instagram"
        for broken in (
            {"object": other, "entry": []},
            {"object": self.provider.webhook_object, "entry": "x"},
            {"object": self.provider.webhook_object, "entry": [{"messaging": [{"message": "x"}]}]},
            {"object": self.provider.webhook_object, "entry": [{"messaging": [{"message": {}}]}]},
        ):
            with self.assertRaises(ValueError, msg=broken):
                parse(broken)

    # -- the webhook -----------------------------------------------------------

    def test_subscription_check(self):
        self.assert_meta_subscription_check()

    def test_wrong_or_missing_signature_is_refused_and_nothing_stored(self):
        updates = self.env["messenger.update"].search_count([])
        data = self.notification(self.psid(1), {"text": "hi"})
        self.assertEqual(self.post(data, secret="forged").status_code, 403)
        self.assertEqual(self.post(data, signed=False).status_code, 403)
        self.assertEqual(self.env["messenger.update"].search_count([]), updates, "nothing stored")
        self.assertFalse(self.conversation(self.psid(1)))

    def test_odd_bodies_answer_400_and_nothing_is_stored(self):
        updates = self.env["messenger.update"].search_count([])
        envelope = {"object": self.provider.webhook_object}
        for entry in ("x", ["x"], [{"messaging": "x"}], [{"messaging": [{"sender": "x"}]}]):
            answer = self.post(dict(envelope, entry=entry))
            self.assertEqual(answer.status_code, 400, entry)
        self.assertEqual(self.env["messenger.update"].search_count([]), updates)

    def test_duplicate_mid_is_ignored(self):
        data = self.notification(self.psid(2), {"text": "Once"})
        self.assertEqual(self.post(data).text, "ok")
        self.assertEqual(self.post(data).text, "duplicate")
        self.assertEqual(len(self.customer_messages(self.psid(2))), 1)

    def test_customer_writes_lead_name_and_acknowledgement_with_quick_replies(self):
        psid = self.psid(3)
        self.api.profiles[psid] = {"name": "Olga Smirnova", "username": "olga.smirnova"}
        self.assertEqual(
            self.post(self.notification(psid, {"text": "Price of the sofa?"})).text, "ok"
        )
        conversation = self.conversation(psid)
        lead = conversation.lead_id
        channel = self.env.ref(self.provider.channel_xmlid)
        self.assertEqual((lead.messenger_channel_id, lead.source_id), (channel, channel.source_id))
        self.assertEqual(lead.team_id, self.team)
        self.assertEqual(conversation.partner_id.name, "Olga Smirnova", "asked of the Graph API")
        self.assertIn("Price of the sofa?", self.customer_messages(psid).body)
        self.deliver_all()
        (ack,) = self.api.sent_to(psid)
        self.assertEqual(ack["messaging_type"], "RESPONSE")
        self.assertIn("5 minutes", ack["message"]["text"])
        (handoff,) = ack["message"]["quick_replies"]
        self.assertEqual(
            (handoff["title"], handoff["payload"]),
            ("Connect me to a pers", "Connect me to a person"),
            "no share-phone button; the payload carries the whole label",
        )
        self.assertEqual(self.outbox(psid).external_message_id, ack["message_id"])
        self.post(self.notification(psid, {"text": "Connect me to a pers", "quick_reply": handoff}))
        self.deliver_all()
        self.assertIn("A manager has been asked", self.api.sent_to(psid)[-1]["message"]["text"])

    def test_name_is_best_effort(self):
        psid = self.psid(4)  # no profile: the Graph API refuses
        self.assertEqual(self.post(self.notification(psid, {"text": "Hi"})).text, "ok")
        self.assertEqual(self.conversation(psid).partner_id.name, psid)
        self.api.profiles[psid] = {"name": "Too late"}
        calls = len(self.api.calls)
        self.post(self.notification(psid, {"text": "Again"}))
        self.assertEqual(self.conversation(psid).partner_id.name, psid, "never overwritten")
        self.assertFalse(
            [call for call in self.api.calls[calls:] if call[0] == psid],
            "a known customer's name is not asked again",
        )

    def test_delivered_and_read(self):
        psid = self.psid(5)
        self.post(self.notification(psid, {"text": "Hi"}))
        self.deliver_all()
        row = self.outbox(psid)
        message = row.mail_message_id
        self.post(
            self.notification(
                psid, delivery={"mids": [row.external_message_id], "watermark": now_ms()}
            )
        )
        self.assertEqual(message.messenger_delivery_state, "delivered")
        self.post(self.notification(psid, read=self.read_receipt(row)))
        self.assertEqual(message.messenger_delivery_state, "read")

    def read_receipt(self, row):
        return {"watermark": now_ms() + 1000}

    def test_picture_is_fetched_and_media_only_from_meta(self):
        psid = self.psid(6)
        self.api.media["sofa.jpg"] = b"\xff\xd8 a sofa"
        picture = {"type": "image", "payload": {"url": self.api.media_url("sofa.jpg")}}
        self.post(self.notification(psid, {"attachments": [picture]}))
        message = self.customer_messages(psid)
        self.assertEqual(message.attachment_ids.raw, b"\xff\xd8 a sofa")
        elsewhere = self.enterContext(FakeMetaApi())
        elsewhere.media["leak.jpg"] = b"internal"
        leak = {"type": "image", "payload": {"url": elsewhere.media_url("leak.jpg")}}
        self.post(self.notification(self.psid(7), {"text": "This", "attachments": [leak]}))
        message = self.customer_messages(self.psid(7))
        self.assertFalse(message.attachment_ids)
        self.assertIn("not fetched: not a URL of the messenger's own servers", message.body)
        self.assertEqual(elsewhere.downloads, [])

    # -- sending ---------------------------------------------------------------

    def test_rate_limited_send_is_retried(self):
        psid = self.psid(8)
        self.api.fail_code("messages", 613)  # calls within one hour exceeded
        self.post(self.notification(psid, {"text": "Hi"}))
        row = self.outbox(psid)
        self.env["messenger.outbox"]._deliver_due(auto_commit=False)
        self.assertEqual((row.state, row.attempts), ("queued", 1), "tried again later")
        self.api.fail_next("messages", 503)
        row.next_attempt_at = fields.Datetime.now()
        self.env["messenger.outbox"]._deliver_due(auto_commit=False)
        self.assertEqual((row.state, row.attempts), ("queued", 2), "5xx: tried again")
        row.next_attempt_at = fields.Datetime.now()
        self.env["messenger.outbox"]._deliver_due(auto_commit=False)
        self.assertEqual(row.state, "sent")
        self.assertEqual(len(self.api.sent_to(psid)), 1)

    def test_reply_from_discuss_is_delivered_whole(self):
        """A salesperson's 3,000-character answer in paragraphs reaches the customer whole, in
        as many messages as the messenger's text limit needs, cut between paragraphs."""
        conversation = self.chat_of_seller(self.psid(9))
        text = russian_reply()
        self.reply_as_seller(conversation, text)
        self.deliver_all()
        parts = [m["message"]["text"] for m in self.api.sent_to(self.psid(9))[1:]]
        self.assertEqual("\n\n".join(parts), text, "every character and line break kept")
        self.assertEqual(len(parts), self.reply_parts)
        self.assertTrue(all(row.state == "sent" for row in self.outbox(self.psid(9))))

    def test_past_24_hours_a_persons_reply_goes_with_the_human_agent_tag_for_7_days(self):
        psid = self.psid(10)
        conversation = self.chat_of_seller(psid)
        conversation.last_message_at = fields.Datetime.now() - timedelta(days=3)
        self.api.closed_windows.add(psid)
        self.assertFalse(conversation._reachable(), "the bot itself stays silent past 24 hours")
        self.reply_as_seller(conversation, "Are you still interested?")
        self.deliver_all()
        reply = self.api.sent_to(psid)[-1]
        self.assertEqual(
            (reply["message"]["text"], reply["messaging_type"], reply["tag"]),
            ("Are you still interested?", "MESSAGE_TAG", "HUMAN_AGENT"),
        )
        self.assertEqual(self.outbox(psid)[-1].state, "sent")
        conversation.last_message_at = fields.Datetime.now() - timedelta(days=8)
        with self.assertRaisesRegex(UserError, "only within 7 days of the customer's last message"):
            self.reply_as_seller(conversation, "Hello?")
        self.assertEqual(len(self.api.sent_to(psid)), 2, "nothing more sent")

    def test_within_24_hours_no_tag(self):
        conversation = self.chat_of_seller(self.psid(11))
        conversation.last_message_at = fields.Datetime.now() - timedelta(hours=23)
        self.reply_as_seller(conversation, "Yes, in blue too.")
        self.deliver_all()
        reply = self.api.sent_to(self.psid(11))[-1]
        self.assertEqual(reply["messaging_type"], "RESPONSE")
        self.assertNotIn("tag", reply)

    def test_a_send_refused_as_unavailable_marks_the_chat_blocked(self):
        psid = self.psid(12)
        self.api.blocked_chats.add(psid)
        self.post(self.notification(psid, {"text": "Hi"}))
        self.deliver_all()
        row = self.outbox(psid)
        self.assertEqual((row.state, row.attempts), ("failed", 1), "permanent: never retried")
        self.assertTrue(self.conversation(psid).blocked)
        self.assertIn("551", row.error)

    def test_files_go_by_url(self):
        """Meta fetches each file from Odoo, by a URL that opens that file only."""
        conversation = self.chat_of_seller(self.psid(13))
        attachments = self.env["ir.attachment"]
        for name, data in (("sofa.jpg", content(JPEG, 5000)), ("offer.pdf", content(PDF, 3000))):
            attachments |= (
                self.env["ir.attachment"]
                .with_user(self.seller)
                .create(
                    {"name": name, "raw": data, "res_model": "mail.compose.message", "res_id": 0}
                )
            )
        conversation.discuss_channel_id.with_user(self.seller).message_post(
            body="Here",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            attachment_ids=attachments.ids,
        )
        self.deliver_all()
        sent = self.api.sent_to(self.psid(13))[2:]
        payloads = [m["message"]["attachment"] for m in sent]
        self.assertEqual([payload["type"] for payload in payloads], self.file_kinds)
        notes = " ".join(conversation.discuss_channel_id.message_ids.mapped("body"))
        for name in self.refused_files:
            self.assertIn(f"{name} was not sent", notes)
        for payload, attachment in zip(payloads, attachments, strict=False):
            url = urlsplit(payload["payload"]["url"])
            self.assertIn(f"access_token={attachment.access_token}", url.query)
            self.opener.cookies.clear()  # Meta's servers have no session
            answer = self.url_open(f"{url.path}?{url.query}")
            self.assertEqual(answer.content, attachment.raw, "the file whole")


@tagged("post_install", "-at_install")
class TestInstagram(MetaMessagingCase, HttpCase):
    code = "instagram"
    fake_limits = {"max_text_length": 1000, "max_text_bytes": 1000}  # Instagram's: 1,000 bytes
    reply_parts = 5  # 3,000 characters, mostly Cyrillic (two bytes each)
    file_kinds = ["image"]  # pictures, videos, audio: no documents
    refused_files = ["offer.pdf"]

    def read_receipt(self, row):
        return {"mid": row.external_message_id}  # Instagram's messaging_seen

    def test_profile_asks_name_and_username(self):
        client = MetaMessagingClient(self.api.token, self.api.url, "Instagram", "name,username")
        self.api.profiles["77"] = {"name": "Olga", "username": "olga.s", "follower_count": 5}
        self.assertEqual(client.sender_profile("77"), {"first_name": "Olga", "username": "olga.s"})
        self.assertEqual(self.api.calls[-1], ("77", {"fields": "name,username"}))


@tagged("post_install", "-at_install")
class TestFacebookMessenger(MetaMessagingCase, HttpCase):
    code = "facebook"
    fake_limits = {"max_text_length": 2000}
    reply_parts = 2
    file_kinds = ["image", "file"]
    refused_files = []

    def test_a_human_agent_message_needs_the_tag_past_24_hours(self):
        """What the client sends, without Odoo: the tag only for a person past the window."""
        client = self.provider.client(self.account._credentials())
        self.api.closed_windows.add("88")
        late, tagged_reply = client.send_texts(
            [OutboundMessage("88", "Hello"), OutboundMessage("88", "Hello", human_agent=True)]
        )
        self.assertTrue(late.permanent)
        self.assertIn("more than 24 hours", str(late))
        self.assertEqual(tagged_reply.external_message_id, self.api.sent_to("88")[0]["message_id"])
