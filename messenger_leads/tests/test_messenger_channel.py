from psycopg2 import IntegrityError

from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestMessengerChannel(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.telegram = cls.env.ref("messenger_leads.messenger_channel_telegram")
        cls.email = cls.env.ref("messenger_leads.messenger_channel_email")
        cls.web_form = cls.env.ref("messenger_leads.messenger_channel_web_form")
        cls.web_chat = cls.env.ref("messenger_leads.messenger_channel_web_chat")

    def test_default_channels_and_targets(self):
        targets = {
            channel.code: channel.response_target_minutes
            for channel in self.env["messenger.channel"].search([])
        }
        self.assertEqual(
            targets,
            {
                "telegram": 5,
                "whatsapp": 5,
                "viber": 5,
                "max": 5,
                "instagram": 5,
                "facebook": 5,
                "vk": 5,
                "avito": 5,
                "web_chat": 5,
                "web_form": 20,
                "phone": 20,
                "email": 180,
                "walk_in": 5,
            },
        )

    def test_lead_from_an_email_alias(self):
        raw = (
            "From: Olga <olga@example.com>\r\nTo: sales@example.com\r\n"
            "Subject: Quote for 20 chairs\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
            "Message-ID: <quote-20-chairs@example.com>\r\n\r\nHow much for 20 chairs?\r\n"
        )
        lead_id = self.env["mail.thread"].message_process("crm.lead", raw)
        lead = self.env["crm.lead"].browse(lead_id)
        self.assertEqual(lead.messenger_channel_id, self.email)
        self.assertEqual(
            str(lead.messenger_first_message_at), "2026-11-23 09:00:00", "the e-mail's time"
        )
        self.assertTrue(
            lead.messenger_response_deadline, "a first-response deadline, like any channel"
        )
        form_alias = {"messenger_channel_id": self.web_form.id}
        lead_id = self.env["mail.thread"].message_process(
            "crm.lead", raw.replace("quote-20-chairs", "form-1"), custom_values=form_alias
        )
        self.assertEqual(self.env["crm.lead"].browse(lead_id).messenger_channel_id, self.web_form)

    def test_channel_from_source(self):
        lead = self.env["crm.lead"].create(
            {"name": "From Telegram", "source_id": self.telegram.source_id.id}
        )
        self.assertEqual(lead.messenger_channel_id, self.telegram)

    def test_channel_from_medium_when_source_is_unknown(self):
        lead = self.env["crm.lead"].create(
            {
                "name": "Newsletter reply",
                "source_id": self.env.ref("utm.utm_source_newsletter").id,
                "medium_id": self.env.ref("utm.utm_medium_email").id,
            }
        )
        self.assertEqual(lead.messenger_channel_id, self.email)

    def test_website_form_lead_is_a_web_form(self):
        # website_crm gives every form lead the medium Website; a UTM cookie may add a source
        website = self.env.ref("utm.utm_medium_website")
        newsletter = self.env.ref("utm.utm_source_newsletter")
        form_lead, form_lead_with_cookie, chat_lead = self.env["crm.lead"].create(
            [
                {"name": "Contact us", "medium_id": website.id},
                {"name": "Contact us", "medium_id": website.id, "source_id": newsletter.id},
                {"name": "Chat", "medium_id": website.id, "source_id": self.web_chat.source_id.id},
            ]
        )
        self.assertEqual(form_lead.messenger_channel_id, self.web_form)
        self.assertEqual(form_lead_with_cookie.messenger_channel_id, self.web_form)
        self.assertTrue(
            form_lead.messenger_response_deadline, "a first-response deadline, like any channel"
        )
        self.assertEqual(
            chat_lead.messenger_channel_id, self.web_chat, "a chat is known by its source"
        )

    def test_explicit_channel_is_kept(self):
        lead = self.env["crm.lead"].create(
            {
                "name": "Set by the bridge",
                "messenger_channel_id": self.telegram.id,
                "medium_id": self.env.ref("utm.utm_medium_email").id,
            }
        )
        self.assertEqual(lead.messenger_channel_id, self.telegram)
        lead.source_id = self.web_form.source_id
        self.assertEqual(
            lead.messenger_channel_id, self.telegram, "a known channel is never overwritten"
        )

    def test_no_channel_without_utm(self):
        lead = self.env["crm.lead"].create({"name": "Typed in by hand"})
        self.assertFalse(lead.messenger_channel_id)

    def test_channel_is_searchable_and_groupable(self):
        self.env["crm.lead"].create(
            [
                {"name": "A", "messenger_channel_id": self.telegram.id},
                {"name": "B", "messenger_channel_id": self.telegram.id},
                {"name": "C", "messenger_channel_id": self.email.id},
            ]
        )
        groups = dict(
            self.env["crm.lead"]._read_group(
                [("messenger_channel_id", "in", (self.telegram | self.email).ids)],
                ["messenger_channel_id"],
                ["__count"],
            )
        )
        self.assertGreaterEqual(groups[self.telegram], 2)
        self.assertGreaterEqual(groups[self.email], 1)

    @mute_logger("odoo.sql_db")
    def test_points_must_be_1_to_5(self):
        with self.assertRaises(IntegrityError):
            self.telegram.score_points = 6
            self.telegram.flush_recordset()
