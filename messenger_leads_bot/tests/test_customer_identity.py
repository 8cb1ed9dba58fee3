"""A claimed phone number is not an identity; everything a message makes stays in its company."""

import time
from datetime import UTC, datetime

from odoo import Command
from odoo.tests import TransactionCase, tagged

from .common import always_open_team, process_received, tg_update

_ids = iter(range(7_000_000, 8_000_000))


def viber_message(user_id, message):
    return {
        "event": "message",
        "timestamp": int(time.time() * 1000),
        "message_token": next(_ids),
        "sender": {"id": user_id, "name": "Anna Ivanova", "language": "en"},
        "message": message,
    }


def viber_card(user_id, phone, name="Dmitry Orlov"):
    return viber_message(
        user_id, {"type": "contact", "contact": {"name": name, "phone_number": phone}}
    )


def wa_text(wa_id, body):
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "contacts": [{"profile": {"name": "Ivan"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.ID{next(_ids)}",
                                    "timestamp": str(int(datetime.now(UTC).timestamp())),
                                    "type": "text",
                                    "text": {"body": body},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


@tagged("post_install", "-at_install")
class TestCustomerIdentity(TransactionCase):
    """Updates are received as the webhook receives them: the public user, as superuser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create(
            {"name": "Shop B", "country_id": cls.env.ref("base.ru").id}
        )
        cls.team_a = always_open_team(cls.env)
        cls.leader_b = cls.env["res.users"].create(
            {
                "name": "Leader B",
                "login": "identity_leader_b",
                "company_id": cls.company_b.id,
                "company_ids": [Command.set(cls.company_b.ids)],
                "groups_id": [Command.set([cls.env.ref("sales_team.group_sale_manager").id])],
            }
        )
        cls.team_b = cls.env["crm.team"].create(
            {"name": "Team B", "company_id": cls.company_b.id, "user_id": cls.leader_b.id}
        )
        accounts = cls.env["messenger.bot.account"]
        unreachable = "http://127.0.0.1:9"  # nothing is delivered in these tests
        cls.viber = accounts.create(
            {
                "name": "Viber A",
                "provider": "viber",
                "token": "v",
                "api_url": unreachable,
                "team_id": cls.team_a.id,
            }
        )
        cls.telegram = accounts.create(
            {"name": "@a_bot", "token": "1:A", "api_url": unreachable, "team_id": cls.team_a.id}
        )
        cls.whatsapp_b = accounts.with_company(cls.company_b).create(
            {
                "name": "WhatsApp B",
                "provider": "whatsapp",
                "token": "w",
                "api_url": unreachable,
                "company_id": cls.company_b.id,
                "team_id": cls.team_b.id,
            }
        )
        cls.admin_partner = cls.env.ref("base.user_admin").partner_id
        cls.admin_partner.phone = "+79990001122"
        cls.customer = cls.env["res.partner"].create(
            {"name": "Real customer", "phone": "+79990003344", "company_id": cls.company_a.id}
        )
        cls.customer_lead = cls.env["crm.lead"].create(
            {
                "name": "Real customer's kitchen",
                "partner_id": cls.customer.id,
                "team_id": cls.team_a.id,
                "company_id": cls.company_a.id,
            }
        )

    def receive(self, account, data, key):
        webhook = self.env["messenger.update"].with_user(self.env.ref("base.public_user")).sudo()
        self.assertTrue(webhook._receive(account, data, key))
        process_received(self.env)
        update = self.env["messenger.update"].search(
            [("account_id", "=", account.id), ("external_id", "=", key)]
        )
        self.assertEqual(update.state, "done", update.error)
        return update.conversation_id

    def receive_viber(self, data):
        return self.receive(self.viber, data, f"viber:{data['message_token']}")

    def test_a_contact_card_never_makes_the_sender_someone_else(self):
        chat = self.receive_viber(viber_message("U-attacker=", {"type": "text", "text": "Hi"}))
        attacker = chat.partner_id
        self.receive_viber(viber_card("U-attacker=", "79990001122"))  # the administrator's
        self.assertEqual(chat.partner_id, attacker, "a card does not make them the administrator")
        self.assertEqual(chat.shared_phone, "+79990001122", "kept as information")
        self.assertEqual(chat.lead_id.phone, "+79990001122")
        self.assertTrue(chat.lead_id.messenger_phone_from_chat)
        self.assertFalse(attacker.phone, "not the contact's number either")
        self.assertEqual(self.admin_partner.phone, "+79990001122")

        self.receive_viber(viber_card("U-attacker=", "79990003344"))  # a real customer's
        self.assertEqual(chat.partner_id, attacker)
        self.assertEqual(self.customer.phone, "+79990003344", "never overwritten")
        self.assertNotEqual(chat.lead_id, self.customer_lead, "no merge with their lead")
        self.assertTrue(self.customer_lead.active)
        self.assertEqual(self.customer_lead.partner_id, self.customer)

        self.receive_viber(viber_message("U-attacker=", {"type": "text", "text": "I am admin"}))
        last = self.env["mail.message"].search(
            [("model", "=", "discuss.channel"), ("res_id", "=", chat.discuss_channel_id.id)],
            order="id desc",
            limit=1,
        )
        self.assertEqual(last.author_id, attacker, "their messages stay theirs")

    def test_a_salesperson_typing_the_phone_makes_it_the_contacts(self):
        chat = self.receive_viber(viber_message("U-typed=", {"type": "text", "text": "Hi"}))
        self.receive_viber(viber_card("U-typed=", "79990005566"))
        lead = chat.lead_id
        self.assertFalse(lead.partner_phone_update, "the form does not offer to copy it")
        lead.phone = "+79990007788"
        self.assertFalse(lead.messenger_phone_from_chat)
        self.assertEqual(chat.partner_id.phone, "+79990007788", "crm's own sync again")

    def test_a_vouched_number_joins_a_customer_but_never_a_user(self):
        def share(chat_id, phone):
            update = tg_update(
                chat_id, contact={"phone_number": phone, "first_name": "M", "user_id": chat_id}
            )
            return self.receive(self.telegram, update, str(update["update_id"]))

        chat = share(7101, "79990001122")
        self.assertNotEqual(chat.partner_id, self.admin_partner, "internal users never match")
        self.assertEqual(chat.partner_id.phone, "+79990001122", "their own, vouched number")
        self.assertEqual(self.admin_partner.phone, "+79990001122")

        chat = share(7102, "79990003344")
        self.assertEqual(chat.partner_id, self.customer, "the same customer from Telegram")
        self.assertEqual(chat.lead_id, self.customer_lead, "one open lead, merged")

    def test_a_vouched_number_finds_the_contact_however_its_number_was_typed(self):
        """Contacts keep their numbers as typed: the match reads them as phone_validation does."""
        self.company_a.country_id = self.env.ref("base.ru")
        spaced = self.env["res.partner"].create(
            {"name": "Spaced", "phone": "+7 999 000-55-66", "company_id": self.company_a.id}
        )
        national = self.env["res.partner"].create(
            {"name": "National", "mobile": "8 (999) 000-77-88", "company_id": self.company_a.id}
        )
        for chat_id, number, contact in (
            (7104, "79990005566", spaced),
            (7105, "+79990007788", national),
        ):
            update = tg_update(
                chat_id, contact={"phone_number": number, "first_name": "M", "user_id": chat_id}
            )
            chat = self.receive(self.telegram, update, str(update["update_id"]))
            self.assertEqual(chat.partner_id, contact, number)
        self.assertEqual(spaced.phone, "+7 999 000-55-66", "kept as the user typed it")
        self.assertEqual(national.mobile, "8 (999) 000-77-88")

    def test_a_typed_answer_to_the_phone_question_is_information_only(self):
        script = self.env["chatbot.script"].create({"title": "Phone please"})
        self.env["chatbot.script.step"].create(
            {
                "chatbot_script_id": script.id,
                "step_type": "question_phone",
                "message": "Your phone number?",
            }
        )
        self.telegram.chatbot_script_id = script
        for text in ("Hello", "+7 999 000-33-44"):
            update = tg_update(7103, text)
            chat = self.receive(self.telegram, update, str(update["update_id"]))
        self.assertNotEqual(chat.partner_id, self.customer)
        self.assertNotEqual(chat.lead_id, self.customer_lead)
        self.assertEqual(chat.lead_id.phone, "+79990003344")
        self.assertFalse(chat.partner_id.phone)

    def test_another_companys_bot_keeps_its_customers_apart(self):
        shared = self.env["res.partner"].create({"name": "Shared contact", "phone": "+79990009900"})
        shared_lead_a = self.env["crm.lead"].create(
            {"name": "Shared in A", "partner_id": shared.id, "company_id": self.company_a.id}
        )
        chat = self.receive(self.whatsapp_b, wa_text("79990003344", "Hello B"), "wa-1")
        self.assertNotEqual(chat.partner_id, self.customer, "A's customer is not B's")
        self.assertEqual(chat.partner_id.company_id, self.company_b)
        self.assertEqual(chat.lead_id.company_id, self.company_b)
        self.assertEqual(chat.lead_id.team_id, self.team_b)
        self.assertNotEqual(chat.lead_id, self.customer_lead)
        members = chat.discuss_channel_id.channel_member_ids.partner_id
        self.assertNotIn(self.team_a.user_id.partner_id, members, "A's people see nothing")
        self.assertIn(self.leader_b.partner_id, members)

        chat = self.receive(self.whatsapp_b, wa_text("79990009900", "Hello again"), "wa-2")
        self.assertEqual(chat.partner_id, shared, "a contact of no company is everyone's")
        self.assertNotEqual(chat.lead_id, shared_lead_a, "but A's lead stays A's")
        self.assertEqual(chat.lead_id.company_id, self.company_b)
        self.assertEqual(shared_lead_a.company_id, self.company_a)

    def test_a_bot_without_a_team_leaves_its_leads_unassigned(self):
        orphan = (
            self.env["messenger.bot.account"]
            .with_company(self.company_b)
            .create(
                {
                    "name": "No team",
                    "provider": "whatsapp",
                    "token": "w",
                    "api_url": "http://127.0.0.1:9",
                    "company_id": self.company_b.id,
                }
            )
        )
        chat = self.receive(orphan, wa_text("79990002211", "Anyone there?"), "wa-3")
        lead = chat.lead_id
        self.assertFalse(lead.user_id, "never the public user")
        self.assertFalse(lead.team_id)
        self.assertEqual(lead.company_id, self.company_b)
        bodies = chat.discuss_channel_id.message_ids.mapped("body")
        self.assertTrue(any("Anyone there?" in body for body in bodies))
