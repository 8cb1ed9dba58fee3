import hashlib
import hmac
import itertools
import json
from datetime import UTC, datetime, timedelta

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, tagged

from ..adapters.whatsapp import parse_whatsapp_update
from ..tools.bot_text import fill_template_values
from .common import MessengerCase, always_open_team, process_received, tg_update
from .fake_whatsapp_api import PHONE_NUMBER_ID, FakeWhatsAppApi

APP_SECRET = "app-secret"
_ids = itertools.count(1)


def wa_notification(wa_id, message=None, statuses=None, name="Ivan Petrov"):
    """A Cloud API webhook notification with one customer message and/or statuses."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "79990000000", "phone_number_id": PHONE_NUMBER_ID},
    }
    if message is not None:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id}]
        value["messages"] = [
            {
                "from": wa_id,
                "id": f"wamid.IN{next(_ids)}",
                "timestamp": str(int(datetime.now(UTC).timestamp())),
                **message,
            }
        ]
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }


def text(body):
    return {"type": "text", "text": {"body": body}}


def status(wamid, state, wa_id):
    return {
        "id": wamid,
        "status": state,
        "timestamp": str(int(datetime.now(UTC).timestamp())),
        "recipient_id": wa_id,
    }


@tagged("post_install", "-at_install")
class TestWhatsAppParsing(HttpCase):
    def test_messages_and_statuses(self):
        data = wa_notification("79161234567", text("Hello"), [status("wamid.X", "read", "7916")])
        message, read = parse_whatsapp_update(data)
        self.assertEqual(
            (message.kind, message.text, message.chat_id, message.sender_phone, message.first_name),
            ("text", "Hello", "79161234567", "+79161234567", "Ivan Petrov"),
        )
        self.assertEqual(
            (read.kind, read.message_id, read.delivery_status), ("status", "wamid.X", "read")
        )
        photo = wa_notification(
            "7916",
            {"type": "image", "image": {"id": "M1", "mime_type": "image/jpeg", "caption": "Look"}},
        )
        (event,) = parse_whatsapp_update(photo)
        self.assertEqual((event.kind, event.file_id, event.text), ("photo", "M1", "Look"))
        button = wa_notification(
            "7916",
            {
                "type": "interactive",
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {
                        "id": "Connect me to a person",
                        "title": "Connect me to a pers",
                    },
                },
            },
        )
        (event,) = parse_whatsapp_update(button)
        self.assertEqual(event.text, "Connect me to a person", "the whole label, not the cut title")
        where = wa_notification(
            "7916", {"type": "location", "location": {"latitude": 55.75, "longitude": 37.61}}
        )
        self.assertEqual(parse_whatsapp_update(where)[0].kind, "location")
        for broken in ({"object": "page"}, {"object": "whatsapp_business_account", "entry": 5}, []):
            with self.assertRaises(ValueError):
                parse_whatsapp_update(broken)

    def test_template_variables(self):
        spec = "{customer}, Dear {customer}, {salesperson} from {company},  , ok"
        self.assertEqual(
            fill_template_values(spec, customer="Olga", salesperson="Anna", company="Shop"),
            ["Olga", "Dear Olga", "Anna from Shop", "ok"],
        )
        self.assertEqual(fill_template_values("{customer}", customer=""), ["-"], "never empty")
        self.assertEqual(fill_template_values(False), [])
        for wrong in ("{phone}", "{0}", "{customer.__class__}", "50% off {", "{customer!r}x}"):
            with self.assertRaises(ValueError, msg=wrong):
                fill_template_values(wrong, customer="Olga")


@tagged("post_install", "-at_install")
class TestWhatsAppWebhook(MessengerCase, HttpCase):
    """Meta's side over HTTP: the webhook route, a local Graph API for what Odoo sends."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api = cls.enterClassContext(FakeWhatsAppApi())
        cls.team = always_open_team(cls.env)
        cls.account = cls.env["messenger.bot.account"].create(
            {
                "name": "Shop WhatsApp",
                "provider": "whatsapp",
                "token": cls.api.token,
                "api_url": cls.api.url,
                "whatsapp_phone_number_id": PHONE_NUMBER_ID,
                "app_secret": APP_SECRET,
                "whatsapp_template": "reopen_chat",
                "team_id": cls.team.id,
            }
        )
        cls.path = f"/messenger_leads/whatsapp/{cls.account.id}"

    def post(self, data, secret=APP_SECRET):
        body = json.dumps(data).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        answer = self.url_open(
            self.path,
            data=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        )
        process_received(self.env)
        return answer

    def test_subscription_check(self):
        self.assert_meta_subscription_check()

    def test_wrong_or_missing_signature_is_refused(self):
        updates = self.env["messenger.update"].search_count([])
        self.assertEqual(
            self.post(wa_notification("79160000001", text("hi")), "other").status_code, 403
        )
        answer = self.url_open(self.path, data=b"{}", headers={"Content-Type": "application/json"})
        self.assertEqual(answer.status_code, 403)
        self.assertEqual(self.env["messenger.update"].search_count([]), updates, "nothing stored")

    def test_customer_writes_lead_acknowledgement_and_statuses(self):
        self.assertEqual(self.post(wa_notification("79160000002", text("Price?"))).text, "ok")
        conversation = self.conversation("79160000002")
        lead = conversation.lead_id
        self.assertEqual(
            lead.messenger_channel_id, self.env.ref("messenger_leads.messenger_channel_whatsapp")
        )
        self.assertEqual(conversation.partner_id.phone, "+79160000002", "WhatsApp gives the number")
        self.assertEqual(lead.team_id, self.team)
        self.deliver()
        (ack,) = self.api.sent_to("79160000002")
        self.assertEqual(ack["type"], "interactive", "the hand-off button goes with it")
        self.assertIn(
            "Connect me to a person",
            [b["reply"]["id"] for b in ack["interactive"]["action"]["buttons"]],
        )
        outbox = self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)])
        self.assertEqual((outbox.state, outbox.external_message_id), ("sent", ack["message_id"]))
        for state in ("read", "delivered"):  # Meta does not promise the order
            self.post(
                wa_notification(
                    "79160000002", statuses=[status(ack["message_id"], state, "79160000002")]
                )
            )
        self.assertEqual(outbox.mail_message_id.messenger_delivery_state, "read")

    def test_customer_language_follows_their_number_as_whatsapp_does_not_say(self):
        self.env["res.lang"]._activate_lang("ru_RU")
        company = self.account.company_id.partner_id
        company.lang = "en_US"
        for wa_id, expected, why in (
            ("79160000009", "ru_RU", "Russia"),
            ("380441234567", "ru_RU", "Ukraine: Ukrainian is not installed, Russian next"),
            ("14155550123", "en_US", "USA"),
        ):
            self.post(wa_notification(wa_id, text("Hello")))
            self.assertEqual(self.conversation(wa_id).partner_id.lang, expected, why)
        company.lang = "ru_RU"
        self.post(wa_notification("37410123456", text("Hello")))
        self.assertEqual(
            self.conversation("37410123456").partner_id.lang,
            "ru_RU",
            "Armenia: none of its languages is installed, the company's",
        )

    def test_photo_is_fetched_into_the_thread(self):
        self.api.media["MEDIA1"] = ("image/jpeg", b"\xff\xd8 a photo")
        photo = {"type": "image", "image": {"id": "MEDIA1", "mime_type": "image/jpeg"}}
        self.post(wa_notification("79160000007", photo))
        conversation = self.conversation("79160000007")
        message = self.env["mail.message"].search(
            [
                ("model", "=", "discuss.channel"),
                ("res_id", "=", conversation.discuss_channel_id.id),
                ("author_id", "=", conversation.partner_id.id),
            ]
        )
        self.assertEqual(message.attachment_ids.raw, b"\xff\xd8 a photo")
        self.assertEqual(message.attachment_ids.name, "MEDIA1.jpeg")

    def test_media_only_from_meta_and_within_the_size_limit(self):
        elsewhere = self.enterContext(FakeWhatsAppApi())  # another host: the intranet, say
        elsewhere.media["LEAK"] = ("image/jpeg", b"internal")
        for media_id in ("OTHER_HOST", "REDIRECTED", "BIG"):
            self.api.media[media_id] = ("image/jpeg", b"\xff\xd8 a photo")
        self.api.media_urls["OTHER_HOST"] = f"{elsewhere.url}/download/LEAK"
        self.api.redirects["REDIRECTED"] = f"{elsewhere.url}/download/LEAK"
        self.api.media["BIG"] = ("image/jpeg", b"x" * (1024 * 1024 + 1))
        self.env["res.config.settings"].create({"messenger_max_download_mb": 1}).execute()
        for wa_id, media_id, why in (
            ("79160000011", "OTHER_HOST", "not a URL of the messenger's own servers"),
            ("79160000012", "REDIRECTED", "not a URL of the messenger's own servers"),
            ("79160000013", "BIG", "larger than 1 MB"),
        ):
            photo = {"type": "image", "image": {"id": media_id, "caption": "Look"}}
            self.assertEqual(self.post(wa_notification(wa_id, photo)).text, "ok")
            message = self.customer_messages(wa_id)
            self.assertFalse(message.attachment_ids, media_id)
            self.assertIn("Look", message.body)
            self.assertIn(f"photo not fetched: {why}", message.body)
        self.assertEqual(elsewhere.downloads, [], "nothing asked of another host")

    def test_odd_bodies_answer_400_never_500(self):
        updates = self.env["messenger.update"].search_count([])
        envelope = {"object": "whatsapp_business_account"}
        for entry in (
            "x",
            ["x"],
            [{"changes": "x"}],
            [{"changes": [{"value": "x"}]}],
            [{"changes": [{"value": {"messages": ["x"]}}]}],
            [{"changes": [{"value": {"statuses": {"id": "wamid.X"}}}]}],
        ):
            answer = self.post(dict(envelope, entry=entry))
            self.assertEqual(answer.status_code, 400, entry)
            self.assertIn("malformed WhatsApp notification", answer.text)
        self.assertEqual(self.env["messenger.update"].search_count([]), updates, "none stored")
        # what is odd inside a well-shaped notification is kept as a failed update
        late = wa_notification("79160000014", text("When?"))
        late["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = "x\x00\ud800"
        with self.assertLogs("odoo.addons.messenger_leads_bot.models.messenger_update", "ERROR"):
            self.assertEqual(self.post(late).text, "ok")
        update = self.env["messenger.update"].search([], order="id desc", limit=1)
        self.assertEqual(update.state, "failed")
        self.assertIn("invalid literal", update.error)

    def test_notifications_without_messages_are_not_taken_for_duplicates(self):
        """Meta notifies other changes too (templates, the account): no message, no status."""
        template, account = (
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": "WABA", "changes": [{"field": field, "value": value}]}],
            }
            for field, value in (
                ("message_template_status_update", {"event": "APPROVED"}),
                ("account_update", {"event": "VERIFIED_ACCOUNT"}),
            )
        )
        self.assertEqual(self.post(template).text, "ok")
        self.assertEqual(self.post(account).text, "ok")
        self.assertEqual(self.post(account).text, "duplicate", "Meta delivering it again")

    def test_odd_characters_never_fail_the_update(self):
        self.api.media["DOC1"] = ("application/pdf", b"%PDF-1.4")
        document = {
            "type": "document",
            "document": {"id": "DOC1", "filename": "\u202efdp.exe", "caption": "pri\x00ce\ud800?"},
        }
        data = wa_notification("79160000015", document, name="Iv\x00an\ud800 \u202ePetrov\u200f")
        data["entry"][0]["changes"][0]["value"]["messages"][0]["id"] += "\ud800\x00"
        self.assertEqual(self.post(data).text, "ok")
        update = self.env["messenger.update"].search([], order="id desc", limit=1)
        self.assertEqual((update.state, update.error), ("done", False))
        self.assertEqual(self.conversation("79160000015").partner_id.name, "Ivan Petrov")
        message = self.customer_messages("79160000015")
        self.assertIn("price?", message.body)
        self.assertEqual(message.attachment_ids.name, "fdp.exe")

    def test_duplicate_delivery_is_ignored(self):
        data = wa_notification("79160000003", text("Once"))
        self.assertEqual(self.post(data).text, "ok")
        self.assertEqual(self.post(data).text, "duplicate")
        messages = self.env["mail.message"].search(
            [
                ("model", "=", "discuss.channel"),
                ("res_id", "=", self.conversation("79160000003").discuss_channel_id.id),
                ("author_id", "=", self.conversation("79160000003").partner_id.id),
            ]
        )
        self.assertEqual(len(messages), 1)

    def test_rate_limit_then_success(self):
        self.api.fail_next("messages", 429)
        self.post(wa_notification("79160000004", text("Hi")))
        outbox = self.env["messenger.outbox"].search(
            [("conversation_id", "=", self.conversation("79160000004").id)]
        )
        self.deliver()
        self.assertEqual((outbox.state, outbox.attempts), ("queued", 1), "tried again later")
        outbox.next_attempt_at = fields.Datetime.now()
        self.deliver()
        self.assertEqual(outbox.state, "sent")

    def test_after_24_hours_only_a_template(self):
        self.post(wa_notification("79160000005", text("Call me next week")))
        self.deliver()  # the acknowledgement
        conversation = self.conversation("79160000005")
        conversation.last_message_at = fields.Datetime.now() - timedelta(hours=25)
        self.api.closed_windows.add("79160000005")
        salesperson = self.team.user_id
        with self.assertRaisesRegex(UserError, "24 hours"):
            conversation.discuss_channel_id.with_user(salesperson).message_post(
                body="Hello again", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        lost_reason = self.env["crm.lost.reason"].create({"name": "Went silent"})
        conversation.lead_id.action_set_lost(lost_reason_id=lost_reason.id)
        self.assertFalse(conversation.rating_lead_id, "no rating request WhatsApp would refuse")
        with self.assertRaisesRegex(ValidationError, "{phone}"):
            self.account.whatsapp_template_values = "{customer}, {phone}"
        self.account.whatsapp_template_values = "{customer}, {salesperson}"
        conversation.lead_id.user_id = salesperson
        conversation.with_user(salesperson).action_send_whatsapp_template()  # the chat's button
        self.deliver()
        template = self.api.sent_to("79160000005")[-1]
        self.assertEqual(
            (template["type"], template["template"]["name"]), ("template", "reopen_chat")
        )
        parameters = template["template"]["components"][0]["parameters"]
        self.assertEqual(
            [parameter["text"] for parameter in parameters],
            [conversation.partner_id.name, salesperson.name],
        )

    def test_same_phone_is_one_customer_across_messengers(self):
        telegram = self.env["messenger.bot.account"].create(
            {"name": "@shop_bot", "token": "1:T", "api_url": self.api.url, "team_id": self.team.id}
        )
        update = tg_update(
            5501, contact={"phone_number": "79160000006", "first_name": "Ivan", "user_id": 5501}
        )
        self.env["messenger.update"]._receive(telegram, update, str(update["update_id"]))
        process_received(self.env)
        telegram_chat = self.env["messenger.conversation"].search(
            [("account_id", "=", telegram.id)]
        )
        self.assertEqual(telegram_chat.partner_id.phone, "+79160000006")
        self.post(wa_notification("79160000006", text("It's me again, from WhatsApp")))
        whatsapp_chat = self.conversation("79160000006")
        self.assertEqual(whatsapp_chat.partner_id, telegram_chat.partner_id)
        self.assertEqual(whatsapp_chat.lead_id, telegram_chat.lead_id, "one open lead")

    def test_sharing_a_known_number_joins_the_customer_and_merges_the_leads(self):
        self.post(wa_notification("79160000008", text("Hello from WhatsApp")))
        whatsapp_chat = self.conversation("79160000008")
        telegram = self.env["messenger.bot.account"].create(
            {"name": "@shop_bot", "token": "1:T", "api_url": self.api.url, "team_id": self.team.id}
        )
        for update in (
            tg_update(5502, "Hello from Telegram"),
            tg_update(
                5502, contact={"phone_number": "79160000008", "first_name": "Ivan", "user_id": 5502}
            ),
        ):
            self.env["messenger.update"]._receive(telegram, update, str(update["update_id"]))
            process_received(self.env)
        telegram_chat = self.env["messenger.conversation"].search(
            [("account_id", "=", telegram.id)]
        )
        self.assertEqual(telegram_chat.partner_id, whatsapp_chat.partner_id, "one contact")
        self.assertEqual(telegram_chat.lead_id, whatsapp_chat.lead_id, "one lead, merged")
        self.assertEqual(
            self.env["crm.lead"].search_count([("partner_id", "=", whatsapp_chat.partner_id.id)]), 1
        )
