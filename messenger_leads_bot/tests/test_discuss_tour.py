from odoo.tests import HttpCase, tagged

from .common import BotCase, tg_update


@tagged("post_install", "-at_install")
class TestDiscussTour(HttpCase, BotCase):
    def test_messengers_category_and_open_lead(self):
        update = tg_update(640, "Do you have it in blue?")
        update["message"]["from"].update(first_name="Tour", last_name="Customer")
        self.receive(update)
        self.start_tour(
            "/odoo/action-mail.action_discuss",
            "messenger_leads_bot_discuss_tour",
            login="bot_leader",
        )
