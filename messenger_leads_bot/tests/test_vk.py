import itertools
import json
import time
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from ..adapters import PROVIDERS, file_kind
from ..adapters.relay import Webhook, relay_once
from ..adapters.vk import parse_vk_event, random_id
from .common import MessengerCase, always_open_team, process_received
from .fake_vk_api import GROUP_ID, FakeVkApi
from .test_outbound_files import JPEG, PDF, FilesCase, content

VK_LOGGER = "odoo.addons.messenger_leads_bot.adapters.vk"

_ids = itertools.count(1)
_now = int(time.time())


def vk_event(kind, event_object, secret="", event_id=None):
    """A Callback API event as VK posts it (v5.199)."""
    return {
        "group_id": GROUP_ID,
        "type": kind,
        "event_id": event_id or f"{next(_ids):040x}",
        "v": "5.199",
        "object": event_object,
        "secret": secret,
    }


def vk_message(user_id, text="Здравствуйте", attachments=None, **message_fields):
    """The message object of a customer's message in the community's dialog."""
    return {
        "date": _now,
        "from_id": user_id,
        "id": next(_ids),
        "out": 0,
        "attachments": attachments or [],
        "conversation_message_id": next(_ids),
        "fwd_messages": [],
        "important": False,
        "is_hidden": False,
        "peer_id": user_id,
        "random_id": 0,
        "text": text,
        **message_fields,
    }


def message_new(user_id, text="Здравствуйте", attachments=None, lang_id=0, **message_fields):
    client_info = {
        "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
        "keyboard": True,
        "inline_keyboard": True,
        "carousel": True,
        "lang_id": lang_id,
    }
    message = vk_message(user_id, text, attachments, **message_fields)
    return vk_event("message_new", {"message": message, "client_info": client_info})


def photo(url):
    sizes = [
        {"type": "s", "url": url + "?size=75", "width": 75, "height": 56},
        {"type": "x", "url": url, "width": 604, "height": 453},
    ]
    return {"type": "photo", "photo": {"id": 457239017, "owner_id": 1, "sizes": sizes}}


@tagged("post_install", "-at_install")
class TestVk(MessengerCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ru_RU")
        cls.env["ir.module.module"]._load_module_terms(["messenger_leads_bot"], ["ru_RU"])
        cls.api = cls.enterClassContext(FakeVkApi())
        cls.team = always_open_team(cls.env)
        cls.account = cls.env["messenger.bot.account"].create(
            {
                "name": "Shop VK",
                "provider": "vk",
                "token": cls.api.token,
                "api_url": cls.api.url + "/method",
                "confirmation_code": "a1b2c3d4",
                "team_id": cls.team.id,
            }
        )
        cls.path = f"/messenger_leads/vk/{cls.account.id}"
        cls.seller = new_test_user(cls.env, "vk_seller", groups="sales_team.group_sale_salesman")

    def post(self, event, secret=None):
        """POST an event as VK does, with the account's secret key unless told otherwise
        (False: without one)."""
        body = dict(event)
        body.pop("secret", None)
        if secret is not False:
            body["secret"] = self.account.webhook_secret if secret is None else secret
        answer = self.url_open(
            self.path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        process_received(self.env)
        return answer

    def updates(self):
        return self.env["messenger.update"].search_count([("account_id", "=", self.account.id)])

    # -- parsing ---------------------------------------------------------------

    def test_parsing(self):
        (text,) = parse_vk_event(message_new(11, "Привет", lang_id=3))
        self.assertEqual(
            (text.kind, text.chat_id, text.user_id, text.text, text.language_code),
            ("text", "11", "11", "Привет", "en"),
        )
        self.assertEqual(text.profile_url, "https://vk.com/id11")
        document = {
            "type": "doc",
            "doc": {"id": 5, "owner_id": 11, "title": "plan.pdf", "ext": "pdf", "size": 3,
                    "url": "https://vk.com/doc11_5?hash=h"},
        }  # fmt: skip
        picture, file = parse_vk_event(
            message_new(11, "This one", [photo("https://sun9-1.userapi.com/s/1.jpg"), document])
        )
        self.assertEqual(
            (picture.kind, picture.file_id, picture.text),
            ("photo", "https://sun9-1.userapi.com/s/1.jpg", "This one"),
            "the largest size of the photo",
        )
        self.assertEqual((file.kind, file.file_name), ("document", "plan.pdf"))
        self.assertEqual(file.message_id, f"{picture.message_id}/1", "each file its own id")
        edit = vk_event("message_edit", vk_message(11, "Fixed"))
        self.assertTrue(parse_vk_event(edit)[0].edited)
        chat = message_new(11)
        chat["object"]["message"]["peer_id"] = 2_000_000_001
        self.assertEqual(parse_vk_event(chat), [], "group chats are not leads")
        started = message_new(11, "Начать", payload='{"command":"start"}', ref="summer_sale")
        (start,) = parse_vk_event(started)
        self.assertEqual((start.text, start.start_payload), ("/start", "summer_sale"))
        (deny,) = parse_vk_event(vk_event("message_deny", {"user_id": 11}))
        (allow,) = parse_vk_event(vk_event("message_allow", {"user_id": 11, "key": "k"}))
        self.assertEqual((deny.kind, allow.kind, allow.chat_id), ("blocked", "unblocked", "11"))
        for broken in (
            [],
            {"type": 5},
            {"type": "message_new", "object": {"message": {"text": "no ids"}}, "event_id": "e"},
            dict(message_new(11), event_id=None),
            vk_event("message_deny", {"user_id": "11"}),
        ):
            with self.assertRaises(ValueError):
                parse_vk_event(broken)

    # -- the webhook -----------------------------------------------------------

    def test_confirmation_is_answered_with_the_string_and_nothing_stored(self):
        confirmation = {"type": "confirmation", "group_id": GROUP_ID}
        answer = self.post(confirmation)
        self.assertEqual((answer.status_code, answer.text), (200, "a1b2c3d4"))
        self.assertEqual(self.updates(), 0, "nothing stored")
        self.assertEqual(self.post(confirmation, secret="wrong").status_code, 403)

    def test_wrong_or_missing_secret_is_refused_and_nothing_stored(self):
        for secret in ("not-the-secret", "", False):
            answer = self.post(message_new(23), secret=secret)
            self.assertEqual(answer.status_code, 403, secret)
            self.assertNotIn("a1b2c3d4", answer.text)
        answer = self.url_open(self.path, data=b"not json", headers={"Content-Type": "text/plain"})
        self.assertEqual(answer.status_code, 403)
        self.assertEqual(self.updates(), 0, "nothing stored")
        self.assertFalse(self.conversation(23))

    def test_customer_writes_lead_russian_acknowledgement_name_and_link(self):
        self.api.users["21"] = ("Анна", "Иванова", "anna_iv")
        answer = self.post(message_new(21, "Есть ли диван Осло?"))
        self.assertEqual((answer.status_code, answer.text), (200, "ok"))
        conversation = self.conversation(21)
        lead = conversation.lead_id
        self.assertEqual(
            lead.messenger_channel_id, self.env.ref("messenger_leads.messenger_channel_vk")
        )
        self.assertEqual(lead.source_id, self.env.ref("messenger_leads.utm_source_vk"))
        partner = conversation.partner_id
        self.assertEqual(partner.name, "Анна Иванова", "the name from users.get")
        self.assertEqual(partner.website, "https://vk.com/id21", "the VK page on the contact")
        self.assertEqual(conversation.external_username, "anna_iv")
        self.assertIn("Есть ли диван Осло?", self.customer_messages(21).body)
        stored = self.env["messenger.update"].search([("account_id", "=", self.account.id)])
        self.assertNotIn("secret", json.loads(stored.payload), "the secret key is not stored")
        self.deliver()
        (ack,) = self.api.sent_to(21)
        self.assertEqual(
            ack["text"],
            "Здравствуйте! Мы получили ваше сообщение. Менеджер ответит вам в течение 5 минут.",
            "lang_id 0: the bot texts in Russian",
        )
        labels = [button["action"]["label"] for row in ack["keyboard"]["buttons"] for button in row]
        self.assertEqual(labels, ["Соедините меня с человеком"])
        self.assertEqual(self.outbox(21).external_message_id, str(ack["message_id"]))
        send = next(
            params
            for method, params in self.api.calls
            if method == "messages.send" and params["peer_id"] == "21"
        )
        self.assertEqual(send["v"], "5.199")
        database = self.env["ir.config_parameter"].get_param("database.uuid")
        key = f"{database}:{self.outbox(21).id}"
        self.assertEqual(send["random_id"], str(random_id(key)), "of the outbox row")

    def test_english_interface_gets_english(self):
        self.post(message_new(22, "Hello", lang_id=3))
        self.deliver()
        self.assertEqual(
            self.api.sent_to(22)[0]["text"],
            "Hello! We have your message. A manager will answer you within 5 minutes.",
        )

    def test_duplicate_event_is_ignored_and_answered_ok(self):
        event = message_new(24)
        self.assertEqual(self.post(event).text, "ok")
        self.assertEqual(self.post(event).text, "ok", "VK takes nothing but ok")
        self.assertEqual(self.updates(), 1)
        self.assertEqual(len(self.customer_messages(24)), 1)
        edited = dict(event["object"]["message"], text="Edited")
        self.assertEqual(self.post(vk_event("message_edit", edited)).text, "ok")
        self.assertEqual(len(self.customer_messages(24)), 1)
        self.assertIn("Edited", self.customer_messages(24).body, "the message itself changes")

    def test_odd_events_answer_400_and_nothing_is_stored(self):
        for odd in (
            {"object": {}},
            vk_event("message_new", "x"),
            vk_event("message_new", {"message": {"text": "no ids"}}),
            dict(message_new(25), event_id=""),
        ):
            self.assertEqual(self.post(odd).status_code, 400, odd)
        self.assertEqual(self.updates(), 0)

    def test_too_many_requests_is_retried_and_sent_once(self):
        self.api.fail_next("messages.send", 6)
        self.post(message_new(26))
        outbox = self.outbox(26)
        self.deliver()
        self.assertEqual((outbox.state, outbox.attempts), ("queued", 1), "error 6: again")
        self.api.fail_next("messages.send", 9)
        before = fields.Datetime.now()
        outbox.next_attempt_at = before
        self.deliver()
        self.assertEqual((outbox.state, outbox.attempts), ("queued", 2), "flood control: later")
        self.assertGreaterEqual(outbox.next_attempt_at, before + timedelta(seconds=59))
        outbox.next_attempt_at = fields.Datetime.now()
        self.deliver()
        self.assertEqual(outbox.state, "sent")
        self.assertEqual(len(self.api.sent_to(26)), 1)
        random_ids = {
            params["random_id"]
            for method, params in self.api.calls
            if method == "messages.send" and params["peer_id"] == "26"
        }
        self.assertEqual(len(random_ids), 1, "every try with the same random_id")

    def test_a_send_whose_answer_was_lost_is_retried_and_reaches_the_customer_once(self):
        self.api.lose_answers = 1
        self.post(message_new(32))
        self.deliver()
        self.assertEqual(self.outbox(32).state, "queued", "no answer: tried again")
        self.assertEqual(len(self.api.sent_to(32)), 1, "VK has it already")
        self.deliver_all()
        self.assertEqual(self.outbox(32).state, "sent")
        self.assertEqual(len(self.api.sent_to(32)), 1, "the same random_id: sent once")

    def test_reply_from_discuss_is_delivered_whole(self):
        """A salesperson's 3,000-character Russian answer in paragraphs goes as one message
        (VK takes 4,096), every character and line break kept."""
        self.post(message_new(27))
        self.assert_reply_goes_as_one_message(27)

    def test_deny_shown_blocked_and_allow_unblocks(self):
        self.post(message_new(28))
        self.deliver()
        self.assertEqual(self.post(vk_event("message_deny", {"user_id": 28})).text, "ok")
        conversation = self.conversation(28)
        self.assertTrue(conversation.blocked)
        notices = conversation.discuss_channel_id.message_ids.mapped("body")
        self.assertTrue(any("blocked the bot" in body for body in notices))
        conversation._queue_outbound("Are you there?", "person")
        self.deliver_all()
        self.assertEqual(len(self.api.sent_to(28)), 1, "nothing sent to a customer who denied")
        self.post(vk_event("message_allow", {"user_id": 28, "key": "k"}))
        self.assertFalse(conversation.blocked, "allowed again: unblocked")

    def test_a_send_refused_901_marks_the_chat_blocked(self):
        self.api.blocked_chats.add("29")
        self.post(message_new(29))
        self.deliver()
        self.assertEqual(self.outbox(29).state, "failed")
        self.assertTrue(self.conversation(29).blocked)

    def test_picture_is_fetched_and_media_only_from_vk(self):
        self.api.media["sofa.jpg"] = b"\xff\xd8 a sofa"
        self.post(message_new(33, "This one", [photo(self.api.media_url("sofa.jpg"))]))
        self.assertEqual(self.customer_messages(33).attachment_ids.raw, b"\xff\xd8 a sofa")
        elsewhere = self.enterContext(FakeVkApi())
        elsewhere.media["leak.jpg"] = b"internal"
        self.post(message_new(34, "This one", [photo(elsewhere.media_url("leak.jpg"))]))
        message = self.customer_messages(34)
        self.assertFalse(message.attachment_ids)
        self.assertIn("not fetched: not a URL of the messenger's own servers", message.body)
        self.assertEqual(elsewhere.downloads, [])

    def test_confirmation_string_shows_for_vk_and_is_the_administrators(self):
        self.assertTrue(self.account.uses_confirmation_code)
        self.assertFalse(self.account.copy({"provider": "max"}).uses_confirmation_code)
        manager = new_test_user(
            self.env, "vk_manager", groups="sales_team.group_sale_manager,base.group_user"
        )
        with self.assertRaises(AccessError):
            self.account.with_user(manager).read(["confirmation_code"])
        self.assertEqual(self.account.with_user(manager).read(["name"])[0]["name"], "Shop VK")

    # -- the API ---------------------------------------------------------------

    def test_check_connection_names_the_community(self):
        notification = self.account.action_check_connection()
        self.assertIn("Test shop (vk.com/test_shop)", notification["params"]["message"])

    def test_polling_relay_forwards_authentic_events_and_moves_past_a_stored_batch(self):
        credentials = self.account._credentials()
        provider = PROVIDERS["vk"]
        client = provider.client(credentials)
        self.assertEqual(client.get_updates(0, 0), [], "from now on")
        first, second = message_new(35, "One"), message_new(35, "Two")
        for event in (first, second):
            event.pop("secret")
            self.api.queue_event(event)
        updates = client.get_updates(0, 0)
        self.assertEqual([u["event_id"] for u in updates], [first["event_id"], second["event_id"]])
        self.assertEqual(client.offset_after(updates[0]), 0, "not before the batch is stored")
        ts = client.offset_after(updates[1])
        self.assertTrue(ts)
        for update in updates:
            body = json.dumps(update).encode()
            headers = provider.relay_headers(body, credentials)
            self.assertTrue(provider.authentic(headers, body, credentials))
        webhook = Webhook(self.opener, self.base_url() + self.path, lambda body: {}, timeout=30)
        self.assertEqual(webhook.forward(updates[0]), 200)
        process_received(self.env)
        self.assertIn("One", self.customer_messages(35).body)
        self.assertEqual(relay_once(client, webhook, ts, 0, lambda: False), ts, "nothing new")
        self.api.longpoll_key = "lp-key-2"  # the session's key expired
        self.api.queue_event(message_new(35, "Three"))
        self.assertEqual(client.get_updates(ts, 0), [], "failed 2: a new key")
        (third,) = client.get_updates(ts, 0)
        self.assertEqual(third["object"]["message"]["text"], "Three")
        ts = client.offset_after(third)
        self.api.queue_event(message_new(35, "Lost"))
        self.api.longpoll_failures.append(1)  # VK lost the events from ts on
        with self.assertLogs(VK_LOGGER, "WARNING") as logged:
            self.assertEqual(client.get_updates(ts, 0), [], "failed 1: on from the newest")
        self.assertIn("may be missed. The Callback API (webhook mode) loses none", logged.output[0])
        self.api.queue_event(message_new(35, "Four"))
        (fourth,) = client.get_updates(ts, 0)  # the relay still has the lost number
        self.assertEqual(fourth["object"]["message"]["text"], "Four", "not stuck on it")
        self.api.longpoll_failures.append(3)  # the key and the events lost
        with self.assertLogs(VK_LOGGER, "WARNING") as logged:
            self.assertEqual(client.get_updates(client.offset_after(fourth), 0), [])
        self.assertIn("may be missed", logged.output[0])
        self.api.queue_event(message_new(35, "Five"))
        (fifth,) = client.get_updates(client.offset_after(fourth), 0)
        self.assertEqual(fifth["object"]["message"]["text"], "Five")


@tagged("post_install", "-at_install")
class TestVkFiles(FilesCase, HttpCase):
    """A salesperson's pictures and files go as VK takes them: uploaded to the server VK names,
    saved, and sent as the message's attachment."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.add_account(FakeVkApi(), name="Shop VK files", provider="vk")

    def first_message(self, chat_id):
        return message_new(chat_id)

    def test_pictures_and_documents_are_uploaded_and_sent_whole(self):
        conversation = self.chat(41)
        photo = self.upload("sofa.jpg", content(JPEG, 500_000))
        report = self.upload("report.pdf", content(PDF, 3000))
        program = self.upload("setup.exe", content(b"MZ", 1000))
        self.post(conversation, "<p>Photos and the offer</p>", photo | report | program)
        self.assertIn(
            "setup.exe was not sent: VK does not take files of this type",
            self.notes(conversation).mapped("body")[-1],
        )
        self.deliver_all()
        text, picture, document = self.api.sent_to(41)[1:]
        self.assertEqual((text["text"], text["file"]), ("Photos and the offer", None))
        self.assertTrue(picture["attachment"].startswith(f"photo-{GROUP_ID}_"))
        self.assertTrue(document["attachment"].startswith(f"doc-{GROUP_ID}_"))
        self.assert_received_whole(picture["file"], photo)
        self.assert_received_whole(document["file"], report)
        self.assertEqual(
            file_kind(PROVIDERS["vk"].capabilities, "song.mp3", "audio/mpeg", 1000), (None, 0)
        )
