import itertools
from datetime import UTC, datetime, timedelta

from odoo import Command, fields
from odoo.tests import TransactionCase

from odoo.addons.messenger_leads.tests.test_lead_sla import office_hours

from .fake_bot_api import FakeBotApi

_update_ids = itertools.count(1)


def tg_update(chat_id, text="", edited=False, message_id=None, **message_fields):
    """A Telegram update of a private message as the Bot API sends it."""
    update_id = next(_update_ids)
    user = {
        "id": chat_id,
        "is_bot": False,
        "first_name": "Maria",
        "last_name": "Test",
        "username": f"maria{chat_id}",
        "language_code": "ru",
    }
    message = {
        "message_id": message_id or update_id,
        "date": int(datetime.now(UTC).timestamp()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Maria"},
        "from": user,
    }
    if text:
        message["text"] = text
    message.update(message_fields)
    return {"update_id": update_id, "edited_message" if edited else "message": message}


def tg_blocked(chat_id, update_id):
    """The update Telegram sends when a customer blocks the bot."""
    bot_user = {"id": 42, "is_bot": True, "first_name": "b"}
    return {
        "update_id": update_id,
        "my_chat_member": {
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Maria"},
            "date": 1700000000,
            "old_chat_member": {"status": "member", "user": bot_user},
            "new_chat_member": {"status": "kicked", "until_date": 0, "user": bot_user},
        },
    }


def always_open_team(env):
    """A team with a leader, always at work."""
    always_open = office_hours(env, "UTC", days=range(7), hours=(0, 24))
    leader = env["res.users"].create(
        {
            "name": "Team Leader",
            "login": "bot_leader",
            "groups_id": [Command.set([env.ref("sales_team.group_sale_manager").id])],
        }
    )
    return env["crm.team"].create(
        {"name": "Bot team", "user_id": leader.id, "resource_calendar_id": always_open.id}
    )


def process_received(env):
    """Run the intake as its cron does right after a webhook stored an update."""
    env["messenger.update"]._cron_process_received()


class DeliverAll:
    """For test cases: run the outbox until nothing is queued, without waiting between rounds."""

    def deliver_all(self):
        outbox = self.env["messenger.outbox"]
        for _round in range(10):
            outbox._deliver_due(auto_commit=False)
            queued = outbox.search([("state", "=", "queued")])
            if not queued:
                return
            queued.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        self.fail("the outbox never emptied")


class BotCase(DeliverAll, TransactionCase):
    """A bot account talking to a local Bot API server, with a team that is always at work."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api = cls.enterClassContext(FakeBotApi())
        cls.team = always_open_team(cls.env)
        cls.leader = cls.team.user_id
        cls.always_open = cls.team.resource_calendar_id
        cls.account = cls.env["messenger.bot.account"].create(
            {
                "name": "@test_shop_bot",
                "token": cls.api.token,
                "api_url": cls.api.url,
                "team_id": cls.team.id,
            }
        )

    def after_commit_delivery(self):
        """The outbox's delivery this transaction set to run once it commits."""
        (deliver,) = [f for f in self.env.cr.postcommit._funcs if f.__name__ == "deliver"]
        return deliver

    def receive(self, update):
        stored = self.env["messenger.update"]._receive(
            self.account, update, str(update["update_id"])
        )
        process_received(self.env)
        return stored

    def conversation(self, chat_id):
        return self.env["messenger.conversation"].search(
            [("account_id", "=", self.account.id), ("external_chat_id", "=", str(chat_id))]
        )

    def thread_messages(self, conversation):
        return self.env["mail.message"].search(
            [
                ("model", "=", "discuss.channel"),
                ("res_id", "=", conversation.discuss_channel_id.id),
                ("message_type", "=", "comment"),
            ],
            order="id",
        )
