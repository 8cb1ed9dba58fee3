from psycopg2 import IntegrityError

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestMessengerConversation(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["messenger.bot.account"].create(
            {"name": "@test_bot", "token": "42:TEST"}
        )
        cls.partner = cls.env["res.partner"].create({"name": "Maria Test"})
        cls.lead = cls.env["crm.lead"].create({"name": "Chat lead", "partner_id": cls.partner.id})
        cls.thread = cls.env["discuss.channel"].create({"name": "Telegram · Maria Test"})

    def _conversation(self, chat_id="777"):
        return self.env["messenger.conversation"].create(
            {
                "account_id": self.account.id,
                "external_chat_id": chat_id,
                "partner_id": self.partner.id,
                "lead_id": self.lead.id,
                "discuss_channel_id": self.thread.id,
            }
        )

    def test_new_account_defaults(self):
        self.assertEqual(self.account.mode, "webhook")
        self.assertEqual(
            self.account.channel_id, self.env.ref("messenger_leads.messenger_channel_telegram")
        )
        self.assertGreaterEqual(len(self.account.webhook_secret), 32)
        other = self.env["messenger.bot.account"].create({"name": "@other_bot"})
        self.assertNotEqual(other.webhook_secret, self.account.webhook_secret)

    @mute_logger("odoo.sql_db")
    def test_one_conversation_per_chat(self):
        self._conversation()
        with self.assertRaises(IntegrityError):
            self._conversation()

    def test_lead_opens_its_chat_in_discuss(self):
        conversation = self._conversation()
        self.assertEqual(self.lead.messenger_conversation_count, 1)
        self.assertEqual(conversation.display_name, "Telegram · Maria Test")
        action = self.lead.action_open_messenger_chat()
        self.assertEqual(action["tag"], "mail.action_discuss")
        self.assertEqual(action["params"]["active_id"], f"discuss.channel_{self.thread.id}")

    def test_token_is_for_administrators_only(self):
        salesman = new_test_user(self.env, "seller", groups="sales_team.group_sale_salesman")
        account = self.account.with_user(salesman)
        self.assertEqual(account.name, "@test_bot")
        with self.assertRaises(AccessError):
            account.read(["token"])
        with self.assertRaises(AccessError):
            account.read(["webhook_secret"])
