import itertools
from datetime import UTC, datetime, timedelta

from markupsafe import Markup, escape

from odoo import Command, fields
from odoo.tests import TransactionCase

from odoo.addons.messenger_leads.tests.common import office_hours

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
        {"name": "Bot team", "user_id": leader.id, "messenger_resource_calendar_id": always_open.id}
    )


def composer_body(text):
    """The body Discuss's composer posts for a typed text: escaped, line breaks as <br>."""
    return Markup("<br>").join(escape(line) for line in text.split("\n"))


def russian_reply():
    """A salesperson's 3,000-character answer in Russian paragraphs, with what HTML must escape
    (a messenger's limit counts its characters, not their bytes)."""
    paragraphs = [
        f"{n}. Диван «Осло» в сером цвете стоит 45 000 ₽, доставка — 3 дня. "
        f"Ткань: рогожка & велюр <на выбор>."
        for n in range(1, 60)
    ]
    return "\n\n".join(paragraphs)[:2999] + "."


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


class MessengerCase(DeliverAll):
    """For test cases of one messenger's bot account (`self.account`): a chat by its id, what
    its customer wrote, its outbox rows, a round of delivery."""

    def conversation(self, chat_id):
        return self.env["messenger.conversation"].search(
            [("account_id", "=", self.account.id), ("external_chat_id", "=", str(chat_id))]
        )

    def customer_messages(self, chat_id):
        """The chat's messages by its customer, in the order they came."""
        conversation = self.conversation(chat_id)
        return self.env["mail.message"].search(
            [
                ("model", "=", "discuss.channel"),
                ("res_id", "=", conversation.discuss_channel_id.id),
                ("author_id", "=", conversation.partner_id.id),
            ],
            order="id",
        )

    def outbox(self, chat_id):
        return self.env["messenger.outbox"].search(
            [("conversation_id", "=", self.conversation(chat_id).id)], order="id"
        )

    def reply_as_seller(self, conversation, text):
        """`text` typed by `self.seller` in the chat's thread, as Discuss's composer posts it."""
        return conversation.discuss_channel_id.with_user(self.seller).message_post(
            body=composer_body(text), message_type="comment", subtype_xmlid="mail.mt_comment"
        )

    def assert_reply_goes_as_one_message(self, chat_id):
        """The salesperson's 3,000-character answer in Russian paragraphs reaches the customer
        of the chat as one message after the acknowledgement, every character and line break
        kept."""
        conversation = self.conversation(chat_id)
        conversation.lead_id.user_id = self.seller
        text = russian_reply()
        self.reply_as_seller(conversation, text)
        self.deliver_all()
        _ack, reply = self.api.sent_to(chat_id)
        self.assertEqual(reply["text"], text)

    def assert_meta_subscription_check(self):
        """Meta's subscription check (WhatsApp, Instagram, Facebook Messenger) at the account's
        webhook (`self.path`, an HttpCase): its challenge is answered for the account's verify
        token only."""
        token = self.account.webhook_secret
        query = f"hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={token}"
        answer = self.url_open(f"{self.path}?{query}")
        self.assertEqual((answer.status_code, answer.text), (200, "1158201444"))
        wrong = self.url_open(f"{self.path}?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x")
        self.assertEqual(wrong.status_code, 403)

    def deliver(self):
        """One round of the delivery cron: what is due now is sent or scheduled again."""
        self.env["messenger.outbox"]._deliver_due(auto_commit=False)


class BotCase(MessengerCase, TransactionCase):
    """A bot account talking to a local Bot API server, with a team that is always at work."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api = cls.enterClassContext(FakeBotApi())
        cls.team = always_open_team(cls.env)
        cls.leader = cls.team.user_id
        cls.always_open = cls.team.messenger_resource_calendar_id
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

    def thread_messages(self, conversation):
        return self.env["mail.message"].search(
            [
                ("model", "=", "discuss.channel"),
                ("res_id", "=", conversation.discuss_channel_id.id),
                ("message_type", "=", "comment"),
            ],
            order="id",
        )
