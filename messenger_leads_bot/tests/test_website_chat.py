from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from .common import always_open_team


@tagged("post_install", "-at_install")
class TestWebsiteChat(TransactionCase):
    """Odoo's own live chat on the website feeds the same pipeline as the messengers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = always_open_team(cls.env)
        cls.operator = cls.env["res.users"].create(
            {
                "name": "Olga Operator",
                "login": "olga_operator",
                "groups_id": [Command.set([cls.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        cls.team.write(
            {
                "messenger_assignment": "least_loaded",
                "messenger_require_presence": False,
                "crm_team_member_ids": [Command.create({"user_id": cls.operator.id})],
            }
        )
        cls.livechat = cls.env["im_livechat.channel"].create(
            {"name": "Website", "user_ids": [Command.set(cls.operator.ids)]}
        )
        cls.public = cls.env.ref("base.public_user")

    def visitor_chat(self, name="Visitor 42"):
        guest = self.env["mail.guest"].create({"name": name})
        chat = self.env["discuss.channel"].create(
            {
                "name": name,
                "channel_type": "livechat",
                "livechat_channel_id": self.livechat.id,
                "livechat_operator_id": self.operator.partner_id.id,
                "anonymous_name": name,
                "channel_member_ids": [Command.create({"partner_id": self.operator.partner_id.id})],
            }
        )
        chat.add_members(guest_ids=guest.ids, post_joined_message=False)
        return chat, guest

    def visitor_says(self, chat, guest, text):
        chat.with_user(self.public).with_context(guest=guest).message_post(
            body=text, message_type="comment", subtype_xmlid="mail.mt_comment"
        )

    def test_first_visitor_message_makes_an_assigned_lead_and_is_acknowledged(self):
        self.livechat.messenger_team_id = self.team
        chat, guest = self.visitor_chat()
        self.visitor_says(chat, guest, "Do you deliver to Kazan?")
        lead = chat.messenger_lead_id
        self.assertEqual(
            lead.messenger_channel_id, self.env.ref("messenger_leads.messenger_channel_web_chat")
        )
        self.assertEqual((lead.team_id, lead.user_id), (self.team, self.operator))
        self.assertEqual(lead.contact_name, "Visitor 42")
        self.assertTrue(
            lead.messenger_response_deadline, "web chat: a 5-minute first-response target"
        )
        bot = chat.message_ids.filtered(lambda m: m.author_id == self.env.ref("base.partner_root"))
        self.assertIn("within 5 minutes", bot.body)
        self.visitor_says(chat, guest, "Hello?")
        self.assertEqual(len(chat.messenger_lead_id), 1, "one lead per chat")
        self.assertFalse(lead.messenger_first_response_at)
        chat.with_user(self.operator).message_post(
            body="Yes, in two days.", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertTrue(lead.messenger_first_response_at, "the operator's answer stops the clock")
        self.assertEqual(lead.messenger_sla_state, "met")

    def test_lead_command_names_the_chat_lead_instead_of_a_second_one(self):
        self.livechat.messenger_team_id = self.team
        chat, guest = self.visitor_chat()
        self.visitor_says(chat, guest, "I need 20 office chairs")
        leads = self.env["crm.lead"].search_count([])
        chat.with_user(self.operator).execute_command_lead(body="/lead Office chairs x20")
        self.assertEqual(self.env["crm.lead"].search_count([]), leads, "crm_livechat adds none")
        self.assertEqual(chat.messenger_lead_id.name, "Office chairs x20")

    def test_no_team_no_lead(self):
        chat, guest = self.visitor_chat()
        self.visitor_says(chat, guest, "Just looking")
        self.assertFalse(chat.messenger_lead_id)

    def test_a_typo_in_the_acknowledgement_is_refused_and_an_old_one_falls_back(self):
        with self.assertRaises(ValidationError) as caught:
            self.livechat.messenger_acknowledgement_text = "Within {minute} minutes"
        self.assertIn("has {minute}", str(caught.exception))
        self.assertIn("This text can use: {minutes}.", str(caught.exception))
        self.env.cr.execute(  # as saved before the check
            "UPDATE im_livechat_channel SET messenger_acknowledgement_text = "
            """'{"en_US": "Within {minute} minutes"}'::jsonb WHERE id = %s""",
            [self.livechat.id],
        )
        self.livechat.invalidate_recordset(["messenger_acknowledgement_text"])
        self.livechat.messenger_team_id = self.team
        chat, guest = self.visitor_chat()
        with self.assertLogs("odoo.addons.messenger_leads_bot.models.messenger_bot_text_mixin"):
            self.visitor_says(chat, guest, "Do you deliver to Kazan?")
        bot = chat.message_ids.filtered(lambda m: m.author_id == self.env.ref("base.partner_root"))
        self.assertIn("A manager will answer you within 5 minutes.", bot.body)
