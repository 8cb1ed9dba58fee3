import datetime

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import BaseCase, Form, new_test_user, tagged
from odoo.tools import SQL

from ..tools.links import carries_credentials, is_guessable, unguessable_code
from .common import BotCase, tg_update


@tagged("post_install", "-at_install")
class TestAccessHardening(BotCase):
    """What a salesperson (or a sales manager) can reach over RPC, acting as the attacker."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.seller = new_test_user(env, "hardening_seller", groups="sales_team.group_sale_salesman")
        cls.stranger = new_test_user(
            env, "hardening_stranger", groups="sales_team.group_sale_salesman"
        )
        env["crm.team.member"].create({"crm_team_id": cls.team.id, "user_id": cls.seller.id})
        cls.other_team = env["crm.team"].create({"name": "Hardening: other team"})
        env["crm.team.member"].create(
            {"crm_team_id": cls.other_team.id, "user_id": cls.stranger.id}
        )
        # a private Discuss channel the seller is not in
        cls.board = env["discuss.channel"].create({"name": "Board", "channel_type": "group"})

    def chat(self, chat_id, user=None, team=None):
        """A customer's chat whose lead is `user`'s (the seller's by default)."""
        self.receive(tg_update(chat_id, "Hello"))
        conversation = self.conversation(chat_id)
        conversation.lead_id.write(
            {"user_id": (user or self.seller).id, "team_id": (team or self.team).id}
        )
        return conversation

    # a chat's links are the bridge's alone ----------------------------------------------

    def test_a_salesperson_cannot_relink_their_chat(self):
        conversation = self.chat(9301)
        as_seller = conversation.with_user(self.seller)
        self.assertEqual(as_seller.external_chat_id, "9301", "the seller sees their chat")
        own_lead = self.env["crm.lead"].create({"name": "Seller's", "user_id": self.seller.id})
        for values in (
            {"discuss_channel_id": self.board.id},
            {"lead_id": own_lead.id},
            {"external_chat_id": "666"},
            {"account_id": self.account.id, "partner_id": self.seller.partner_id.id},
            {"muted": True},
            {"blocked": True, "unsubscribed": True},
            {"person_replied_at": fields.Datetime.now(), "rating_lead_id": own_lead.id},
        ):
            with self.subTest(values=values), self.assertRaises(AccessError):
                as_seller.write(values)
        self.assertNotIn(self.seller.partner_id, self.board.channel_member_ids.partner_id)
        self.assertEqual(conversation.external_chat_id, "9301")

    def test_a_sales_manager_cannot_relink_or_make_chats(self):
        conversation = self.chat(9302, user=self.leader)
        with self.assertRaises(AccessError):
            conversation.with_user(self.leader).write({"discuss_channel_id": self.board.id})
        with self.assertRaises(AccessError):
            self.env["messenger.conversation"].with_user(self.leader).create(
                {
                    "account_id": self.account.id,
                    "external_chat_id": "667",
                    "discuss_channel_id": self.board.id,
                    "lead_id": conversation.lead_id.id,
                }
            )
        self.assertNotIn(self.leader.partner_id, self.board.channel_member_ids.partner_id)

    def test_a_salesperson_rejects_spam_and_closes_leads_of_their_chats_only(self):
        spam, won, foreign = self.chat(9303), self.chat(9304), self.chat(9305)
        spam.with_user(self.seller).action_reject_spam()
        self.assertTrue(spam.muted)
        self.assertFalse(spam.lead_id.active)
        won.lead_id.with_user(self.seller).action_set_won()
        self.assertEqual(won.rating_lead_id, won.lead_id, "the bot asks for a rating")
        with self.assertRaises(AccessError):
            foreign.with_user(self.stranger).action_reject_spam()
        self.assertFalse(foreign.muted)

    def test_whatsapp_template_only_to_a_chat_one_sees(self):
        whatsapp = self.env["messenger.bot.account"].create(
            {
                "name": "Hardening WhatsApp",
                "provider": "whatsapp",
                "token": "wa-token",
                "whatsapp_template": "reopen_chat",
                "team_id": self.team.id,
            }
        )
        lead = self.env["crm.lead"].create({"name": "WA lead", "user_id": self.seller.id})
        conversation = self.env["messenger.conversation"].create(
            {"account_id": whatsapp.id, "external_chat_id": "79160009301", "lead_id": lead.id}
        )
        conversation.with_user(self.seller).action_send_whatsapp_template()
        self.assertTrue(conversation.discuss_channel_id, "the thread made for the template")
        sent = self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)])
        self.assertEqual(sent.template["name"], "reopen_chat")
        with self.assertRaises(AccessError):
            conversation.with_user(self.stranger).action_send_whatsapp_template()
        self.assertEqual(
            self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)]), sent
        )

    # the bot's credentials are the administrators' --------------------------------------

    def test_only_administrators_use_the_bot_credentials(self):
        calls = len(self.api.calls)
        for user in (self.seller, self.leader):
            account = self.account.with_user(user)
            for action in (
                "action_check_connection",
                "action_set_webhook",
                "action_remove_webhook",
            ):
                with self.subTest(user=user.login, action=action), self.assertRaises(AccessError):
                    getattr(account, action)()
        self.assertEqual(len(self.api.calls), calls, "the messenger was not called")
        admin = new_test_user(
            self.env, "hardening_admin", groups="base.group_system,sales_team.group_sale_manager"
        )
        self.account.with_user(admin).action_set_webhook()
        self.assertEqual(self.api.webhook["url"], self.account._webhook_url())

    # record rules: the outbox and the raw updates ---------------------------------------

    def test_outbox_and_updates_of_other_teams_and_companies_are_hidden(self):
        own, foreign = self.chat(9306), self.chat(9307, user=self.stranger, team=self.other_team)
        other_company = self.env["res.company"].create({"name": "Hardening: other company"})
        other_account = self.env["messenger.bot.account"].create(
            {"name": "@other_company_bot", "token": "1:O", "company_id": other_company.id}
        )
        other_chat = self.env["messenger.conversation"].create(
            {"account_id": other_account.id, "external_chat_id": "9308"}
        )
        self.env["messenger.outbox"].create(
            {"conversation_id": other_chat.id, "text": "Hi", "origin": "bot"}
        )
        self.env["messenger.update"].create(
            {"account_id": other_account.id, "external_id": "1", "payload": "{}"}
        )

        def visible(model, user, chat):
            return self.env[model].with_user(user).search_count([("conversation_id", "=", chat.id)])

        self.assertTrue(visible("messenger.outbox", self.seller, own), "the seller's own chat")
        self.assertFalse(visible("messenger.outbox", self.seller, foreign), "another team's")
        self.assertTrue(visible("messenger.outbox", self.stranger, foreign))
        self.assertTrue(visible("messenger.outbox", self.leader, foreign), "all leads")
        self.assertFalse(visible("messenger.outbox", self.leader, other_chat), "other company")
        updates = self.env["messenger.update"].with_user(self.leader)
        self.assertTrue(updates.search_count([("account_id", "=", self.account.id)]))
        self.assertFalse(updates.search_count([("account_id", "=", other_account.id)]))

    def test_nobody_rewrites_a_queued_message(self):
        conversation = self.chat(9310)
        queued = self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)])
        self.assertTrue(queued)
        for user in (self.seller, self.leader):
            with self.assertRaises(AccessError, msg="text and chat are the system's"):
                queued.with_user(user).write({"text": "Send this instead"})

    # tracked links ----------------------------------------------------------------------

    def test_tracked_links_are_unguessable_and_never_carry_secrets(self):
        conversation = self.chat(9309)
        lead = conversation.lead_id
        quote = "https://shop.example/my/orders/7?access_token=0f3c9a"
        private = "https://buyer:s3cret@files.example/price.pdf"
        catalogue = "https://shop.example/catalogue"
        conversation.discuss_channel_id.with_user(self.seller).message_post(
            body=f"Your quote {quote} , the price list {private} and our catalogue {catalogue}",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        sent = self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)])
        self.assertIn(quote, sent[-1].text, "a link with a token goes out as it is")
        self.assertIn(private, sent[-1].text)
        tracker = self.env["link.tracker"].search([("messenger_lead_id", "=", lead.id)])
        self.assertEqual(tracker.url, catalogue, "only the link without secrets is tracked")
        self.assertGreaterEqual(len(tracker.code), 16)
        self.assertIn(tracker.short_url, sent[-1].text)

    def test_a_short_code_of_before_is_replaced(self):
        lead = self.chat(9310).lead_id
        tracker = self.env["link.tracker"]._messenger_tracker("https://shop.example/a", lead)
        tracker.code = "Zq9"  # as Odoo made them before
        self.env["link.tracker"]._messenger_track_links("See https://shop.example/a", lead)
        self.assertGreaterEqual(len(tracker.code), 16)
        self.assertIsNone(self.env["link.tracker"].get_url_from_code("Zq9"))

    def test_clicks_raise_the_score_once(self):
        lead = self.chat(9311).lead_id
        self.env["link.tracker"]._messenger_track_links("See https://shop.example/b", lead)
        tracker = self.env["link.tracker"].search([("messenger_lead_id", "=", lead.id)])
        score = lead.messenger_qualification_score
        points = self.env.ref("messenger_leads.signal_link_clicked").points
        clicks = self.env["link.tracker.click"].sudo()  # as the public /r/ route does
        for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.1", "198.51.100.7"):
            clicks.add_click(tracker.code, ip=ip)
        self.assertEqual(tracker.count, 4)
        self.assertEqual(lead.messenger_qualification_score, score + points)
        self.assertEqual(
            lead.messenger_signal_ids.signal_id.mapped("code").count("link_clicked"), 1
        )

    def test_a_simultaneous_click_still_opens_the_page(self):
        lead = self.chat(9313).lead_id
        self.env["link.tracker"]._messenger_track_links("See https://shop.example/c", lead)
        tracker = self.env["link.tracker"].search([("messenger_lead_id", "=", lead.id)])
        self.assertFalse(lead.messenger_signal_ids, "read before the other click committed")
        signal = self.env.ref("messenger_leads.signal_link_clicked")
        self.env.cr.execute(  # the other click's row, unseen by this transaction's cache
            SQL(
                "INSERT INTO messenger_lead_signal (lead_id, signal_id, points, occurred_at)"
                " VALUES (%s, %s, %s, now())",
                lead.id,
                signal.id,
                signal.points,
            )
        )
        self.env["link.tracker.click"].sudo().add_click(tracker.code, ip="192.0.2.9")
        self.assertEqual(tracker.count, 1, "the click is kept")
        lead.invalidate_recordset()
        self.assertEqual(len(lead.messenger_signal_ids), 1, "and counted once")

    # retention --------------------------------------------------------------------------

    def test_processed_traffic_is_purged_after_the_retention_period(self):
        with Form(self.env["res.config.settings"]) as settings:
            self.assertEqual(settings.messenger_retention_days, 90, "the default")
            settings.messenger_retention_days = 30
        self.assertEqual(self.env.company.messenger_retention_days, 30)
        conversation = self.chat(9312)
        updates = self.env["messenger.update"].create(
            [
                {"account_id": self.account.id, "external_id": f"r{n}", "payload": "{}", **v}
                for n, v in enumerate(
                    [{"state": "done"}, {"state": "failed"}, {"state": "received"}, {}]
                )
            ]
        )
        outbox = self.env["messenger.outbox"].create(
            [
                {"conversation_id": conversation.id, "text": "Hi", "origin": "bot", **v}
                for v in ({"state": "sent"}, {"state": "failed"}, {"state": "queued"}, {})
            ]
        )
        old = fields.Datetime.now() - datetime.timedelta(days=31)
        self.env.flush_all()
        for rows in (updates[:3], outbox[:3]):  # the last ones are recent
            self.env.cr.execute(
                SQL(
                    "UPDATE %s SET write_date = %s WHERE id IN %s",
                    SQL.identifier(rows._table),
                    old,
                    tuple(rows.ids),
                )
            )
        updates[3].state = "done"
        outbox[3].state = "sent"
        self.env.invalidate_all()
        self.env["messenger.update"]._gc_processed()
        self.env["messenger.outbox"]._gc_sent()
        self.assertEqual(updates.exists(), updates[1:], "old processed updates go")
        self.assertEqual(outbox.exists(), outbox[1:], "old delivered messages go")


@tagged("post_install", "-at_install")
class TestLinkRules(BaseCase):
    def test_links_with_secrets(self):
        for url in (
            "https://shop.example/my/orders/7?access_token=0f3c",
            "https://shop.example/web/signup?token=abc&db=x",
            "https://api.example/v1?api_key=1",
            "https://bucket.example/f.pdf?X-Amz-Signature=ab&X-Amz-Credential=c",
            "https://shop.example/login?user=a&password=b",
            "https://app.example/cb#access_token=abc",
            "https://app.example/x?client_secret=1",
            "https://app.example/mail/view?model=crm.lead&res_id=1&pid=3&hash=ab",
            "https://app.example/x?Auth=1",
            "https://buyer:pw@files.example/price.pdf",
            "https://[broken/x",
        ):
            self.assertTrue(carries_credentials(url), url)
        for url in (
            "https://shop.example/catalogue?page=2&utm_source=tg",
            "https://shop.example/",
            "https://shop.example/product#reviews",
        ):
            self.assertFalse(carries_credentials(url), url)

    def test_codes(self):
        self.assertTrue(is_guessable("abc"))
        self.assertTrue(is_guessable(False))
        code = unguessable_code()
        self.assertFalse(is_guessable(code))
        self.assertRegex(code, r"^[A-Za-z0-9_-]{22}$")
        self.assertNotEqual(code, unguessable_code())
