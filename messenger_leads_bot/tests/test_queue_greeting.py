from odoo.tests import new_test_user, tagged

from .common import BotCase, tg_update


@tagged("post_install", "-at_install")
class TestQueueGreeting(BotCase):
    """A team that keeps new chats in its queue when nobody has room: one salesperson with room
    for one lead."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ru_RU")
        cls.seller = new_test_user(cls.env, "queue_seller", groups="sales_team.group_sale_salesman")
        cls.env["crm.team.member"].create(
            {"crm_team_id": cls.team.id, "user_id": cls.seller.id, "messenger_capacity": 1}
        )
        cls.team.write(
            {
                "messenger_assignment": "round_robin",
                "messenger_require_presence": False,
                "messenger_nobody_available": "queue",
            }
        )

    def greeting(self, conversation):
        (greeting,) = self.env["messenger.outbox"].search(
            [("conversation_id", "=", conversation.id), ("origin", "=", "bot")]
        )
        return greeting.text

    def arrive(self, chat_id, language="en"):
        update = tg_update(chat_id, "Hello")
        update["message"]["from"]["language_code"] = language
        self.receive(update)
        return self.conversation(chat_id)

    def test_waiting_chats_are_told_their_place_and_shown_in_the_inbox(self):
        first, second, third = (self.arrive(chat_id) for chat_id in (9701, 9702, 9703))
        self.assertEqual(first.lead_id.user_id, self.seller)
        self.assertIn("within 5 minutes", self.greeting(first), "someone had room")
        self.assertFalse(second.lead_id.user_id | third.lead_id.user_id)
        self.assertEqual(
            self.greeting(third),
            "Hello! We have your message. All our managers are busy right now: you are number "
            "2 in the queue, and the first one free will answer you.",
        )
        inbox = self.env["messenger.conversation"].with_user(self.seller)
        queued = inbox.search([("queue_position", ">", 0)])
        self.assertEqual(queued, second | third)
        self.assertEqual(
            [queued.browse(conversation.id).queue_position for conversation in (second, third)],
            [1, 2],
            "as the seller reads them, in arrival order",
        )
        first.lead_id.action_set_lost()  # the seller's room frees: the oldest goes out
        self.assertEqual(second.lead_id.user_id, self.seller)
        self.env.invalidate_all()  # places are computed when read: the next request's
        self.assertEqual((second.queue_position, third.queue_position), (0, 1))

    def test_the_queue_text_is_the_administrator_s_in_the_customer_s_language(self):
        self.arrive(9711)  # the seller is full
        self.account.with_context(lang="ru_RU").queue_text = "Вы {position}-й в очереди."
        self.assertEqual(self.greeting(self.arrive(9712, language="ru")), "Вы 1-й в очереди.")
        self.assertIn("number 2 in the queue", self.greeting(self.arrive(9713)))
