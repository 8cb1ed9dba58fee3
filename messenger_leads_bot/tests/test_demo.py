from odoo.tests import TransactionCase, tagged

from ..adapters import PROVIDERS


@tagged("post_install", "-at_install")
class TestDemo(TransactionCase):
    """The demo database shows a new user every messenger at work: a bot account of each
    provider in the registry, with conversations whose lead is on the messenger's channel and
    whose thread has messages both ways. A new messenger's author adds its demo here too."""

    def test_every_messenger_has_a_demo_account_with_conversations(self):
        for code, provider in PROVIDERS.items():
            with self.subTest(provider=code):
                account = self.env.ref(f"messenger_leads_bot.messenger_bot_account_{code}_demo")
                self.assertEqual(account.provider, code)
                channel = self.env.ref(provider.channel_xmlid)
                self.assertEqual(account.channel_id, channel)
                conversations = account.conversation_ids
                self.assertGreaterEqual(len(conversations), 2, "a few conversations")
                for conversation in conversations:
                    self.assertEqual(conversation.lead_id.messenger_channel_id, channel)
                    self.assertEqual(conversation.lead_id.partner_id, conversation.partner_id)
                authors = (
                    self.env["mail.message"]
                    .search(
                        [
                            ("model", "=", "discuss.channel"),
                            ("res_id", "in", conversations.discuss_channel_id.ids),
                            ("message_type", "=", "comment"),
                        ]
                    )
                    .author_id
                )
                self.assertTrue(authors & conversations.partner_id, "the customers write")
                self.assertTrue(authors - conversations.partner_id, "and the salespeople answer")

    def test_the_avito_demo_lead_carries_its_listing(self):
        account = self.env.ref("messenger_leads_bot.messenger_bot_account_avito_demo")
        leads = account.conversation_ids.lead_id
        self.assertTrue(leads)
        for lead in leads:
            self.assertTrue(lead.messenger_listing_ref)
            self.assertTrue(lead.messenger_listing_title)
            self.assertTrue(lead.messenger_listing_price)
            self.assertTrue(lead.messenger_listing_url.startswith("https://www.avito.ru/"))
