"""A salesperson's files in a chat's thread reach the customer: after the text, in the order
posted, each as the messenger takes it; what it does not take is named in the thread."""

import hashlib
import itertools
from datetime import timedelta
from urllib.parse import urlsplit

from markupsafe import Markup

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import BaseCase, HttpCase, TransactionCase, new_test_user, tagged

from ..adapters import MB, file_kind
from ..adapters.telegram import PROVIDER as TELEGRAM
from ..adapters.viber import PROVIDER as VIBER
from ..adapters.whatsapp import PROVIDER as WHATSAPP
from ..adapters.whatsapp import parse_whatsapp_update
from .common import BotCase, MessengerCase, always_open_team, process_received, tg_update
from .fake_viber_api import FakeViberApi
from .fake_whatsapp_api import PHONE_NUMBER_ID, FakeWhatsAppApi
from .test_viber import viber_event
from .test_whatsapp import status, text, wa_notification

PDF = b"%PDF-1.4\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
ZIP = b"PK\x03\x04"
_keys = itertools.count(1)


def content(header, size):
    """A file of `size` bytes whose type is told by its first bytes, as Odoo guesses it."""
    return header + b"\0" * (size - len(header))


@tagged("post_install", "-at_install")
class TestFileKind(BaseCase):
    """The messengers' limits as their capabilities say them, one rule for all."""

    def test_pictures_files_and_what_is_refused(self):
        cases = [
            (TELEGRAM, "sofa.jpg", "image/jpeg", 10 * MB, ("photo", 0)),
            (TELEGRAM, "sofa.jpg", "image/jpeg", 10 * MB + 1, ("document", 0)),
            (TELEGRAM, "report.pdf", "application/pdf", 50 * MB, ("document", 0)),
            (TELEGRAM, "report.pdf", "application/pdf", 50 * MB + 1, (None, 50 * MB)),
            (WHATSAPP, "sofa.png", "image/png", 5 * MB, ("photo", 0)),
            (WHATSAPP, "sofa.png", "image/png", 5 * MB + 1, (None, 5 * MB)),
            (WHATSAPP, "report.pdf", "application/pdf", 100 * MB, ("document", 0)),
            (WHATSAPP, "photos.zip", "application/zip", 1000, (None, 0)),
            (VIBER, "sofa.gif", "image/gif", 1 * MB, ("photo", 0)),
            (VIBER, "sofa.gif", "image/gif", 1 * MB + 1, ("document", 0)),
            (VIBER, "setup.EXE", "application/octet-stream", 1000, (None, 0)),
            (VIBER, "report.pdf", "application/pdf", 50 * MB + 1, (None, 50 * MB)),
        ]
        for provider, name, mimetype, size, expected in cases:
            with self.subTest(provider=provider.code, name=name, size=size):
                self.assertEqual(file_kind(provider.capabilities, name, mimetype, size), expected)


class FilesCase(MessengerCase):
    """A salesperson of the lead posting in the chat's thread, as Discuss does: files uploaded
    first (pending, theirs), then the message naming them. A messenger's case says what its
    customer's first message is (`first_message`)."""

    @classmethod
    def add_seller(cls):
        cls.seller = new_test_user(
            cls.env, f"files_seller_{cls.__name__}", groups="sales_team.group_sale_salesman"
        )

    @classmethod
    def add_account(cls, api, **values):
        """A bot account on the fake messenger `api` with a team always at work, and the
        salesperson."""
        cls.api = cls.enterClassContext(api)
        cls.account = cls.env["messenger.bot.account"].create(
            {
                "token": cls.api.token,
                "api_url": cls.api.url,
                "team_id": always_open_team(cls.env).id,
                **values,
            }
        )
        cls.add_seller()

    def first_message(self, chat_id):
        raise NotImplementedError

    def chat(self, chat_id):
        """The chat of a customer who wrote first, now the salesperson's (they join its
        thread), the bot's acknowledgement sent."""
        self.env["messenger.update"]._receive(
            self.account, self.first_message(chat_id), f"files-{next(_keys)}"
        )
        process_received(self.env)
        conversation = self.conversation(chat_id)
        conversation.lead_id.user_id = self.seller
        self.deliver_all()
        return conversation

    def upload(self, name, data):
        return (
            self.env["ir.attachment"]
            .with_user(self.seller)
            .create({"name": name, "raw": data, "res_model": "mail.compose.message", "res_id": 0})
        )

    def post(self, conversation, body, attachments):
        """Post as Discuss's composer does: `body` is its HTML."""
        return conversation.discuss_channel_id.with_user(self.seller).message_post(
            body=Markup(body),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            attachment_ids=attachments.ids,
        )

    def notes(self, conversation):
        return self.env["mail.message"].search(
            [
                ("model", "=", "discuss.channel"),
                ("res_id", "=", conversation.discuss_channel_id.id),
                ("message_type", "=", "notification"),
            ],
            order="id",
        )

    def rows(self, message):
        return self.env["messenger.outbox"].search([("mail_message_id", "=", message.id)])

    def make_due(self, rows):
        rows.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)

    def assert_received_whole(self, received, attachment):
        self.assertEqual(received["name"], attachment.name)
        self.assertEqual(received["size"], len(attachment.raw))
        self.assertEqual(received["sha256"], self.sha256(attachment))

    def sha256(self, attachment):
        return hashlib.sha256(attachment.raw).hexdigest()


@tagged("post_install", "-at_install")
class TestTelegramFiles(FilesCase, BotCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.add_seller()

    def first_message(self, chat_id):
        return tg_update(chat_id, "Hello, send me the offer")

    def sent_after_ack(self, chat_id):
        """(method, text or file name) of each message the customer got after the
        acknowledgement."""
        return [
            (
                message.get("method", "sendMessage"),
                message["file"]["name"] if "file" in message else message["text"],
            )
            for message in self.api.sent_to(chat_id)[1:]
        ]

    def files_received(self, chat_id):
        return [message["file"] for message in self.api.sent_to(chat_id) if "file" in message]

    def test_text_then_files_in_the_order_posted(self):
        conversation = self.chat(7601)
        report = self.upload("report.pdf", content(PDF, 300_000))
        photo = self.upload("sofa.jpg", content(JPEG, 200_000))
        message = self.post(
            conversation, "<p>Here is our offer, and the sofa in grey.</p>", report | photo
        )
        self.deliver_all()
        self.assertEqual(
            self.sent_after_ack(7601),
            [
                ("sendMessage", "Here is our offer, and the sofa in grey."),
                ("sendDocument", "report.pdf"),
                ("sendPhoto", "sofa.jpg"),
            ],
        )
        received_report, received_photo = self.files_received(7601)
        self.assert_received_whole(received_report, report)
        self.assert_received_whole(received_photo, photo)
        self.assertIsNone(self.api.sent_to(7601)[2].get("caption"), "the text went before")
        self.assertEqual(self.rows(message).mapped("state"), ["sent"] * 3)
        self.assertEqual(message.messenger_delivery_state, "sent")

    def test_a_file_at_telegrams_limit_goes_one_past_it_is_named_in_the_thread(self):
        """The real 50 MB of the Bot API, byte for byte: the catalogue of exactly 50 MB goes
        whole, the price list one byte larger stays, and the thread says so; the text goes."""
        conversation = self.chat(7602)
        catalogue = self.upload("catalogue.pdf", content(PDF, 50 * MB))
        price_list = self.upload("price list.pdf", content(PDF, 50 * MB + 1))
        message = self.post(conversation, "<p>Our catalogue and prices</p>", catalogue | price_list)
        self.assertIn(
            "price list.pdf was not sent: Telegram takes files of this type up to 50 MB.",
            self.notes(conversation).mapped("body")[-1],
        )
        self.assertEqual(len(self.rows(message)), 2, "the text and the catalogue")
        self.deliver_all()
        self.assertEqual(
            self.sent_after_ack(7602),
            [("sendMessage", "Our catalogue and prices"), ("sendDocument", "catalogue.pdf")],
        )
        (received,) = self.files_received(7602)
        self.assert_received_whole(received, catalogue)

    def test_files_go_by_the_cron_never_in_the_posting_request(self):
        """After the commit the request sends the text only; the cron, woken at once, uploads
        the file: the salesperson's click never waits for an upload."""
        conversation = self.chat(7607)
        report = self.upload("report.pdf", content(PDF, 1000))
        self.env.cr.postcommit.clear()  # the acknowledgement's transaction is done
        message = self.post(conversation, "<p>The offer</p>", report)
        text_row, file_row = self.rows(message)
        cron = self.env.ref("messenger_leads_bot.ir_cron_messenger_outbox_deliver")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.env.flush_all()  # as the commit would
        self.registry.enter_test_mode(self.env.cr)  # the after-commit cursor is the test's
        self.addCleanup(self.registry.leave_test_mode)
        self.after_commit_delivery()()
        self.env.invalidate_all()
        self.assertEqual((text_row.state, file_row.state), ("sent", "queued"))
        self.assertEqual(self.sent_after_ack(7607), [("sendMessage", "The offer")])
        woken = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        self.assertTrue(woken, "the cron is woken for the file")
        self.deliver_all()  # what the cron does
        self.assertEqual(file_row.state, "sent")

    def test_a_waiting_retry_holds_back_the_files_of_its_chat(self):
        """A 429 on the text, then a 502 on the first file: what follows in the chat waits for
        them, even when due first; the customer gets text, report, photo in this order."""
        conversation = self.chat(7603)
        report = self.upload("report.pdf", content(PDF, 1000))
        photo = self.upload("sofa.jpg", content(JPEG, 1000))
        message = self.post(conversation, "<p>The offer</p>", report | photo)
        text_row, report_row, photo_row = self.rows(message)
        self.api.fail_next("sendMessage", 429, retry_after=3)
        self.env["messenger.outbox"]._deliver_due(auto_commit=False)
        self.assertEqual((text_row.state, text_row.attempts), ("queued", 1))
        self.make_due(report_row | photo_row)  # due before the text's retry
        self.env["messenger.outbox"]._deliver_due(auto_commit=False)
        self.assertEqual(self.sent_after_ack(7603), [], "no file before the text")
        self.make_due(text_row)
        self.api.fail_next("sendDocument", 502)
        for _round in range(2):  # the text, then the report (failing)
            self.env["messenger.outbox"]._deliver_due(auto_commit=False)
            self.make_due(report_row | photo_row)
        self.assertEqual((report_row.state, report_row.attempts), ("queued", 1))
        self.env["messenger.outbox"]._deliver_due(auto_commit=False)
        self.assertEqual(photo_row.state, "queued", "not before the report")
        self.deliver_all()
        self.assertEqual(
            [method for method, _what in self.sent_after_ack(7603)],
            ["sendMessage", "sendDocument", "sendPhoto"],
        )

    def test_a_file_refused_for_good_shows_like_a_text_and_the_rest_goes(self):
        conversation = self.chat(7604)
        report = self.upload("report.pdf", content(PDF, 1000))
        photo = self.upload("sofa.jpg", content(JPEG, 1000))
        message = self.post(conversation, "", report | photo)
        self.assertEqual(len(self.rows(message)), 2, "no empty text")
        self.api.fail_next("sendDocument", 400)
        self.deliver_all()
        report_row, photo_row = self.rows(message)
        self.assertEqual((report_row.state, photo_row.state), ("failed", "sent"))
        self.assertIn(
            "Not delivered to Telegram: report.pdf: fake error 400",
            conversation.lead_id.message_ids[0].body,
        )
        self.assertEqual([m for m, _w in self.sent_after_ack(7604)], ["sendPhoto"])

    def test_only_the_files_posted_into_this_thread_go_out(self):
        """Odoo links to a message any attachment id an employee names and may read: a file of
        the lead, or of another chat's thread, stays in Odoo; only those posted here go."""
        other_chat = self.chat(7606)
        conversation = self.chat(7605)
        contract = self.env["ir.attachment"].create(
            {
                "name": "contract.pdf",
                "raw": content(PDF, 1000),
                "res_model": "crm.lead",
                "res_id": conversation.lead_id.id,
            }
        )
        other_thread_file = self.env["ir.attachment"].create(
            {
                "name": "passport.jpg",
                "raw": content(JPEG, 1000),
                "res_model": "discuss.channel",
                "res_id": other_chat.discuss_channel_id.id,
            }
        )
        own = self.upload("offer.pdf", content(PDF, 1000))
        message = self.post(conversation, "<p>Offer</p>", own | contract | other_thread_file)
        self.deliver_all()
        self.assertEqual(
            self.sent_after_ack(7605), [("sendMessage", "Offer"), ("sendDocument", "offer.pdf")]
        )
        self.assertEqual(self.rows(message).attachment_id, own)


@tagged("post_install", "-at_install")
class TestWhatsAppFiles(FilesCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.add_account(
            FakeWhatsAppApi(),
            name="Shop WhatsApp",
            provider="whatsapp",
            whatsapp_phone_number_id=PHONE_NUMBER_ID,
            app_secret="app-secret",
        )

    def first_message(self, chat_id):
        return wa_notification(chat_id, text("Hello"))

    def test_files_are_uploaded_then_sent_as_image_or_document(self):
        conversation = self.chat("79160007701")
        report = self.upload("report.pdf", content(PDF, 2000))
        photo = self.upload("sofa.jpg", content(JPEG, 5 * MB))
        too_big = self.upload("big.jpg", content(JPEG, 5 * MB + 1))
        archive = self.upload("photos.zip", content(ZIP, 1000))
        self.post(conversation, "<p>The offer</p>", report | photo | too_big | archive)
        self.assertEqual(
            [note.split("</p>")[0][3:] for note in self.notes(conversation).mapped("body")[-2:]],
            [
                "big.jpg was not sent: WhatsApp takes files of this type up to 5 MB.",
                "photos.zip was not sent: WhatsApp does not take files of this type "
                "(application/zip).",
            ],
        )
        self.deliver_all()
        sent = self.api.sent_to("79160007701")[1:]
        self.assertEqual([message["type"] for message in sent], ["text", "document", "image"])
        self.assertEqual(sent[1]["document"]["filename"], "report.pdf")
        self.assertIn(sent[1]["document"]["id"], self.api.uploads)
        self.assert_received_whole(sent[1]["file"], report)
        self.assertEqual(sent[2]["file"]["size"], 5 * MB)
        self.assertEqual(sent[2]["file"]["sha256"], self.sha256(photo))

    def test_a_failed_file_keeps_its_message_failed_whatever_the_texts_status(self):
        """The text went and is later read, its file failed for good: the message shows the
        failure, and the text's statuses (in a message of several rows) change nothing."""
        conversation = self.chat("79160007703")
        report = self.upload("report.pdf", content(PDF, 2000))
        message = self.post(conversation, "<p>The offer</p>", report)
        self.api.fail_next("media", 400)
        self.deliver_all()
        text_row, file_row = self.rows(message)
        self.assertEqual((text_row.state, file_row.state), ("sent", "failed"))
        self.assertEqual(message.messenger_delivery_state, "failed")
        for state in ("delivered", "read"):
            (event,) = parse_whatsapp_update(
                wa_notification(
                    None, statuses=[status(text_row.external_message_id, state, "79160007703")]
                )
            )
            self.env["messenger.outbox"]._apply_status(self.account, event)
        self.assertEqual(message.messenger_delivery_state, "failed")

    def test_files_keep_the_24_hour_window(self):
        conversation = self.chat("79160007702")
        conversation.last_message_at = fields.Datetime.now() - timedelta(hours=25)
        report = self.upload("report.pdf", content(PDF, 2000))
        with self.assertRaisesRegex(UserError, "within 24 hours"):
            self.post(conversation, "", report)


@tagged("post_install", "-at_install")
class TestViberFiles(FilesCase, HttpCase):
    """Viber fetches each file from Odoo: a URL that opens that file only, without a session."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.add_account(FakeViberApi(), name="Shop Viber", provider="viber")

    def first_message(self, chat_id):
        return viber_event(chat_id)

    def fetch(self, url):
        """What Viber's servers get at `url`: no session, no cookie."""
        self.opener.cookies.clear()
        parts = urlsplit(url)
        return self.url_open(f"{parts.path}?{parts.query}" if parts.query else parts.path)

    def test_pictures_and_files_go_as_urls_with_a_token_of_their_own(self):
        conversation = self.chat("VF1=")
        photo = self.upload("sofa.jpg", content(JPEG, 500_000))
        large_photo = self.upload("room.jpg", content(JPEG, MB + 1))
        report = self.upload("report.pdf", content(PDF, 3000))
        program = self.upload("setup.exe", content(b"MZ", 1000))
        self.post(
            conversation, "<p>Photos and the offer</p>", photo | large_photo | report | program
        )
        self.assertIn(
            "setup.exe was not sent: Viber does not take files of this type",
            self.notes(conversation).mapped("body")[-1],
        )
        self.assertTrue(
            all((photo | large_photo | report).mapped("access_token")),
            "made with the message: committed before Viber fetches the file, during the send",
        )
        self.assertFalse(program.access_token, "no URL for a file that does not go")
        self.deliver_all()
        sent = self.api.sent_to("VF1=")[1:]
        self.assertEqual(
            [(message["type"], message.get("file_name")) for message in sent],
            [("text", None), ("picture", None), ("file", "room.jpg"), ("file", "report.pdf")],
        )
        self.assertEqual((sent[2]["size"], sent[3]["size"]), (MB + 1, 3000))
        urls = [message["media"] for message in sent[1:]]
        for url, attachment in zip(urls, photo | large_photo | report, strict=True):
            self.assertTrue(
                url.startswith(f"{attachment.get_base_url()}/web/content/{attachment.id}/")
            )
            self.assertIn(f"access_token={attachment.access_token}", url)
            answer = self.fetch(url)
            self.assertEqual(answer.status_code, 200)
            self.assertEqual(answer.content, attachment.raw, "the file whole")
        self.assertEqual(len({a.access_token for a in photo | large_photo | report}), 3)
        # the id alone, or another file's token, opens nothing
        bare = urls[2].split("?")[0]
        self.assertNotEqual(self.fetch(bare).status_code, 200)
        borrowed = f"{bare}?access_token={photo.access_token}"
        self.assertNotEqual(self.fetch(borrowed).status_code, 200)
