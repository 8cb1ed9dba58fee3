from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

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
