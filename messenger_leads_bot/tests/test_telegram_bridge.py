from unittest.mock import patch

import odoo
from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import BotCase, tg_blocked, tg_update


@tagged("post_install", "-at_install")
class TestTelegramBridge(BotCase):
    def test_new_chat_makes_contact_thread_lead_and_acknowledgement(self):
        self.assertTrue(self.receive(tg_update(601, "/start spring_sale")))
        conversation = self.conversation(601)
        lead = conversation.lead_id
        self.assertEqual(conversation.partner_id.name, "Maria Test")
        self.assertEqual(conversation.external_username, "maria601")
        self.assertEqual(lead.partner_id, conversation.partner_id)
        self.assertEqual(
            lead.messenger_channel_id, self.env.ref("messenger_leads.messenger_channel_telegram")
        )
        self.assertEqual(lead.source_id, lead.messenger_channel_id.source_id)
        self.assertEqual(lead.medium_id, lead.messenger_channel_id.medium_id)
        self.assertEqual(lead.campaign_id.name, "spring_sale")
        self.assertEqual(lead.team_id, self.team)
        thread = conversation.discuss_channel_id
        self.assertEqual(thread.channel_type, "group")
        self.assertIn(self.leader.partner_id, thread.channel_member_ids.partner_id)
        customer_message, bot_message = self.thread_messages(conversation)
        self.assertEqual(customer_message.author_id, conversation.partner_id)
        self.assertIn("/start spring_sale", customer_message.body)
        self.assertIn("within 5 minutes", bot_message.body)
        (ack,) = self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)])
        self.assertEqual((ack.origin, ack.state), ("bot", "queued"))
        self.assertEqual(
            ack.buttons,
            [[["share_phone", "Share my phone number"]], [["handoff", "Connect me to a person"]]],
        )

    def test_duplicate_update_is_stored_once(self):
        update = tg_update(602, "Hello")
        self.assertTrue(self.receive(update))
        self.assertFalse(self.receive(update))
        conversation = self.conversation(602)
        self.assertEqual(len(self.thread_messages(conversation)), 2, "customer + acknowledgement")
        self.assertEqual(
            self.env["messenger.update"].search_count(
                [
                    ("account_id", "=", self.account.id),
                    ("external_id", "=", str(update["update_id"])),
                ]
            ),
            1,
        )

    def test_next_messages_join_the_same_lead_without_a_new_acknowledgement(self):
        self.receive(tg_update(603, "Hello"))
        self.receive(tg_update(603, "Do you deliver?"))
        conversation = self.conversation(603)
        self.assertEqual(
            self.env["crm.lead"].search_count([("partner_id", "=", conversation.partner_id.id)]), 1
        )
        self.assertEqual(len(self.thread_messages(conversation)), 3)
        self.assertEqual(
            self.env["messenger.outbox"].search_count([("conversation_id", "=", conversation.id)]),
            1,
        )

    def test_won_lead_makes_a_new_one_on_the_next_message(self):
        self.receive(tg_update(604, "Hello"))
        conversation = self.conversation(604)
        first = conversation.lead_id
        first.action_set_won()
        self.receive(tg_update(604, "I want another one"))
        self.assertNotEqual(conversation.lead_id, first)
        self.assertEqual(conversation.discuss_channel_id.messenger_conversation_ids, conversation)

    def test_photo_is_fetched_as_attachment(self):
        self.api.files["ph1"] = ("photos/file_1.jpg", b"\xff\xd8jpeg-bytes")
        self.receive(
            tg_update(
                605, photo=[{"file_id": "ph1", "file_unique_id": "u", "width": 10, "height": 10}]
            )
        )
        message = self.thread_messages(self.conversation(605))[0]
        self.assertEqual(message.attachment_ids.mapped("name"), ["file_1.jpg"])
        self.assertEqual(message.attachment_ids.raw, b"\xff\xd8jpeg-bytes")

    def test_missing_file_is_shown_not_lost(self):
        self.receive(
            tg_update(
                606, document={"file_id": "gone", "file_unique_id": "g", "file_name": "plan.pdf"}
            )
        )
        message = self.thread_messages(self.conversation(606))[0]
        self.assertIn("document not fetched", message.body)

    def test_a_file_over_the_size_limit_is_not_downloaded(self):
        self.env["res.config.settings"].create({"messenger_max_download_mb": 1}).execute()
        self.api.files["big"] = ("documents/big.pdf", b"x" * (1024 * 1024 + 1))
        document = {"file_id": "big", "file_unique_id": "b", "file_name": "big.pdf"}
        self.receive(tg_update(630, document=document, caption="My plan"))
        message = self.thread_messages(self.conversation(630))[0]
        self.assertFalse(message.attachment_ids)
        self.assertIn("My plan [document not fetched: larger than 1 MB]", message.body)
        self.assertFalse(
            [path for path in self.api.downloads if path.endswith("/documents/big.pdf")],
            "getFile told its size: not downloaded at all",
        )

    def test_the_file_is_fetched_before_the_chat_is_locked(self):
        """A slow download must not hold the chat: the customer's next message waits for it."""
        self.api.files["ph3"] = ("photos/file_3.jpg", b"\xff\xd8jpeg-bytes")
        conversations = type(self.env["messenger.conversation"])
        lock = conversations._lock_or_create
        fetched_when_locked = []

        def locking(model, account, chat_id):
            fetched_when_locked.append(
                any(path.endswith("/photos/file_3.jpg") for path in self.api.downloads)
            )
            return lock(model, account, chat_id)

        photo = [{"file_id": "ph3", "file_unique_id": "u3", "width": 10, "height": 10}]
        with patch.object(conversations, "_lock_or_create", locking):
            self.receive(tg_update(631, photo=photo))
        self.assertEqual(fetched_when_locked, [True])
        message = self.thread_messages(self.conversation(631))[0]
        self.assertEqual(message.attachment_ids.raw, b"\xff\xd8jpeg-bytes")

    def test_odd_characters_never_fail_the_update(self):
        self.api.files["doc9"] = ("documents/file_9.pdf", b"%PDF-1.4")
        document = {"file_id": "doc9", "file_unique_id": "d9", "file_name": "\u202efdp.exe"}
        update = tg_update(632, document=document, caption="pri\x00ce\ud800?")
        update["message"]["from"].update(
            first_name="Ma\x00ria\ud800",
            last_name="\u202eTest\u2069",
            username="maria\ud800632",
            language_code="ru\x00\ud800",
        )
        # typed after /start: no campaign of it (a long name would not even fit its index)
        starts = [
            tg_update(633, "/start sale\x00\ud800"),
            tg_update(
                634, "/start " + "".join(chr(0x4E00 + i * 7919 % 20000) for i in range(1500))
            ),
        ]
        for received in (update, *starts):
            self.receive(received)
        stored = self.env["messenger.update"].search(
            [("external_id", "in", [str(u["update_id"]) for u in (update, *starts)])]
        )
        self.assertEqual(stored.mapped("state"), ["done"] * 3)
        conversation = self.conversation(632)
        self.assertEqual(
            (
                conversation.partner_id.name,
                conversation.external_username,
                conversation.language_code,
            ),
            ("Maria Test", "maria632", "ru"),
        )
        message = self.thread_messages(conversation)[0]
        self.assertIn("price?", message.body)
        self.assertEqual(message.attachment_ids.name, "fdp.exe")
        self.assertFalse((self.conversation(633) | self.conversation(634)).lead_id.campaign_id)

    def test_edit_updates_the_message(self):
        self.receive(tg_update(607, "I need 4 chairs", message_id=70))
        self.receive(tg_update(607, "I need 40 chairs", edited=True, message_id=70, edit_date=1))
        message = self.thread_messages(self.conversation(607))[0]
        self.assertIn("I need 40 chairs", message.body)
        self.assertIn("(edited)", message.body)

    def test_shared_phone_is_normalised_and_thanked(self):
        self.receive(tg_update(608, "Hello"))
        self.receive(
            tg_update(
                608, contact={"phone_number": "79161230608", "first_name": "M", "user_id": 608}
            )
        )
        conversation = self.conversation(608)
        self.assertEqual(conversation.partner_id.phone, "+79161230608")
        self.assertEqual(conversation.lead_id.phone, "+79161230608")
        last = self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)])[-1]
        self.assertEqual(last.text, "Thank you! We will call you back at +79161230608.")
        self.assertEqual(last.buttons, [[["handoff", "Connect me to a person"]]])
        self.assertEqual(
            set(conversation.lead_id.messenger_signal_ids.signal_id.mapped("code")),
            {"customer_replied", "phone_shared"},
            "writing again and sharing the phone both raise the score",
        )

    def test_invalid_shared_phone_is_reported(self):
        self.receive(
            tg_update(609, contact={"phone_number": "123", "first_name": "M", "user_id": 609})
        )
        conversation = self.conversation(609)
        self.assertFalse(conversation.partner_id.phone)
        notices = self.env["mail.message"].search(
            [
                ("model", "=", "discuss.channel"),
                ("res_id", "=", conversation.discuss_channel_id.id),
                ("message_type", "=", "notification"),
            ]
        )
        self.assertIn("is not valid", notices[0].body)

    def test_connect_me_to_a_person(self):
        self.receive(tg_update(610, "Hello"))
        self.receive(tg_update(610, "Connect me to a person"))
        lead = self.conversation(610).lead_id
        self.assertEqual(lead.activity_ids.summary, "Answer the customer in the messenger")
        self.assertEqual(lead.activity_ids.user_id, self.leader, "no salesperson yet: the leader")

    def test_bot_is_silent_after_a_person_wrote(self):
        self.receive(tg_update(611, "Hello"))
        conversation = self.conversation(611)
        seller = new_test_user(self.env, "bot_seller", groups="sales_team.group_sale_salesman")
        conversation.discuss_channel_id.add_members(partner_ids=seller.partner_id.ids)
        conversation.discuss_channel_id.with_user(seller).message_post(
            body="Good morning, Maria!", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.receive(tg_update(611, "Connect me to a person"))
        outbox = self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)])
        self.assertEqual(outbox.mapped("origin"), ["bot", "person"])
        self.assertEqual(outbox[1].text, "Good morning, Maria!")
        self.assertTrue(conversation.person_replied_at)

    def test_daily_cap_on_automated_messages(self):
        self.account.daily_automated_cap = 1
        self.receive(tg_update(612, "Hello"))
        self.receive(tg_update(612, "Connect me to a person"))
        conversation = self.conversation(612)
        self.assertEqual(
            self.env["messenger.outbox"].search_count([("conversation_id", "=", conversation.id)]),
            1,
        )

    def test_out_of_hours_text(self):
        closed = self.env["resource.calendar"].create(
            {"name": "never", "tz": "UTC", "attendance_ids": [Command.clear()]}
        )
        # a calendar with no attendance at all never opens: use one far from now instead
        closed.attendance_ids = [
            Command.create(
                {
                    "name": "x",
                    "dayofweek": "0",
                    "hour_from": 0,
                    "hour_to": 0.01,
                    "day_period": "morning",
                }
            )
        ]
        self.team.messenger_resource_calendar_id = closed
        self.receive(tg_update(613, "Hello"))
        (ack,) = self.env["messenger.outbox"].search(
            [("conversation_id", "=", self.conversation(613).id)]
        )
        self.assertIn("We are closed now", ack.text)

    def test_blocked_bot_is_recorded(self):
        self.receive(tg_update(614, "Hello"))
        self.receive(tg_blocked(614, 61400))
        self.assertTrue(self.conversation(614).blocked)
        self.assertEqual(
            self.conversation(614).lead_id.messenger_signal_ids.signal_id.code, "bot_blocked"
        )

    def test_unreachable_by_phone_gets_the_bot_instead(self):
        self.env.company.messenger_callback_attempts = 1
        self.receive(tg_update(618, "Hello"))
        lead = self.conversation(618).lead_id
        lead.phone = "+7 916 555-00-18"
        self.assertEqual(lead.messenger_callback_state, "planned")
        lead.action_callback_no_answer()
        self.assertEqual(lead.messenger_callback_state, "exhausted")
        self.assertTrue(lead.active, "the chat is tried before the lead is closed")
        last = self.env["messenger.outbox"].search(
            [("conversation_id", "=", self.conversation(618).id)]
        )[-1]
        self.assertIn("could not get through", last.text)

    def test_stop_silences_the_bot_until_start(self):
        self.receive(tg_update(617, "Hello"))
        conversation = self.conversation(617)
        outbox = self.env["messenger.outbox"]
        sent = outbox.search_count([("conversation_id", "=", conversation.id)])
        self.receive(tg_update(617, "/stop"))
        self.receive(tg_update(617, "Connect me to a person"))
        self.assertTrue(conversation.unsubscribed)
        self.assertEqual(outbox.search_count([("conversation_id", "=", conversation.id)]), sent)
        self.assertIn(
            "unsubscribed", conversation.lead_id.messenger_signal_ids.signal_id.mapped("code")
        )
        self.assertIn("Connect me to a person", self.thread_messages(conversation)[-1].body)
        self.receive(tg_update(617, "/start"))
        self.assertFalse(conversation.unsubscribed)

    def test_a_failing_update_is_kept_for_retry(self):
        update = tg_update(615, "Hello")
        update["message"]["from"] = "not a user"
        with self.assertLogs("odoo.addons.messenger_leads_bot.models.messenger_update", "ERROR"):
            self.receive(update)
        stored = self.env["messenger.update"].search(
            [("external_id", "=", str(update["update_id"]))]
        )
        self.assertEqual((stored.state, stored.attempts), ("failed", 1))
        self.assertTrue(stored.error)
        self.assertFalse(self.conversation(615))


@tagged("post_install", "-at_install")
class TestRetryFailedUpdates(BotCase):
    """The retry cron works in bounded batches and keeps every attempt, even a fatal one."""

    def failing_update(self, chat_id):
        update = tg_update(chat_id, "Hello")
        update["message"]["from"] = "not a user"
        with self.assertLogs("odoo.addons.messenger_leads_bot.models.messenger_update", "ERROR"):
            self.receive(update)
        return self.env["messenger.update"].search([("external_id", "=", str(update["update_id"]))])

    def test_a_batch_per_run_and_the_cron_runs_again_while_more_wait(self):
        updates = self.failing_update(640) | self.failing_update(641) | self.failing_update(642)
        cron = self.env.ref("messenger_leads_bot.ir_cron_messenger_update_retry")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        with self.assertLogs("odoo.addons.messenger_leads_bot.models.messenger_update", "ERROR"):
            self.env["messenger.update"]._cron_retry_failed(batch_size=2)
        self.assertEqual(updates.mapped("attempts"), [2, 2, 1])
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers,
            "one more update waits: the cron runs again at once",
        )

    def test_a_fresh_failure_goes_before_updates_that_keep_failing(self):
        stubborn = self.failing_update(644) | self.failing_update(645)
        stubborn.attempts = 3
        fresh = self.failing_update(646)
        with self.assertLogs("odoo.addons.messenger_leads_bot.models.messenger_update", "ERROR"):
            self.env["messenger.update"]._cron_retry_failed(batch_size=1)
        self.assertEqual((stubborn | fresh).mapped("attempts"), [3, 3, 2])

    def test_an_attempt_is_committed_before_the_update_is_processed_again(self):
        """An update that kills the worker (a timeout) does not get its attempt back: it is
        tried a bounded number of times, not forever."""
        update = self.failing_update(643)
        events = []

        def commit():
            self.env.flush_all()
            self.env.cr.execute("SELECT attempts FROM messenger_update WHERE id = %s", [update.id])
            events.append(("committed attempts", self.env.cr.fetchone()[0]))

        def process(*_args):
            events.append(("processing",))
            raise MemoryError("the worker dies")

        updates = type(self.env["messenger.update"])
        with (
            patch.object(odoo.modules.module, "current_test", False),
            patch.object(self.env.cr, "commit", commit),
            patch.object(updates, "_process", process),
            self.assertRaises(MemoryError),
        ):
            self.env["messenger.update"]._cron_retry_failed()
        self.assertEqual(events, [("committed attempts", 2), ("processing",)])


@tagged("post_install", "-at_install")
class TestSpamAndAccess(BotCase):
    def test_reject_spam_from_the_lead(self):
        self.receive(tg_update(620, "Buy cheap followers!!!"))
        conversation = self.conversation(620)
        lead = conversation.lead_id
        lead.action_messenger_reject_spam()
        self.assertTrue(conversation.muted)
        self.assertFalse(lead.active)
        self.assertEqual(
            lead.lost_reason_id, self.env.ref("messenger_leads_bot.crm_lost_reason_spam")
        )
        self.receive(tg_update(620, "Buy more!!!"))
        self.assertEqual(conversation.lead_id, lead, "no new lead for a muted chat")
        self.assertEqual(len(self.thread_messages(conversation)), 3, "kept, not lost")
        self.assertEqual(
            self.env["messenger.outbox"].search_count([("conversation_id", "=", conversation.id)]),
            1,
            "only the first acknowledgement, nothing after the rejection",
        )

    def test_salespeople_see_only_their_teams_chats(self):
        seller = new_test_user(self.env, "team_seller", groups="sales_team.group_sale_salesman")
        other_team = self.env["crm.team"].create({"name": "Other team"})
        self.env["crm.team.member"].create({"crm_team_id": self.team.id, "user_id": seller.id})
        self.receive(tg_update(621, "Mine"))
        self.receive(tg_update(622, "Not mine"))
        self.conversation(622).lead_id.write({"team_id": other_team.id, "user_id": self.leader.id})
        visible = (
            self.env["messenger.conversation"]
            .with_user(seller)
            .search([("account_id", "=", self.account.id)])
        )
        self.assertEqual(visible, self.conversation(621))


@tagged("post_install", "-at_install")
class TestRating(BotCase):
    def test_rating_is_asked_when_won_and_kept_on_the_lead(self):
        self.receive(tg_update(630, "Hello"))
        conversation = self.conversation(630)
        lead = conversation.lead_id
        lead.action_set_won()
        request = self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)])[
            -1
        ]
        self.assertIn("How would you rate our service", request.text)
        self.assertEqual(request.buttons, [[[str(n), str(n)] for n in range(1, 6)]])
        self.receive(tg_update(630, "2"))
        self.assertEqual(lead.messenger_rating, 2)
        self.assertEqual(conversation.lead_id, lead, "a rating opens no new lead")
        self.assertFalse(conversation.rating_lead_id)
        low = lead.activity_ids.filtered(lambda a: a.summary == "Low customer rating: 2 of 5")
        self.assertEqual(low.user_id, self.leader)

    def test_lost_lead_asks_too_but_spam_does_not(self):
        self.receive(tg_update(631, "Hello"))
        self.receive(tg_update(632, "Spam spam"))
        self.conversation(631).lead_id.action_set_lost()
        self.conversation(632).lead_id.action_messenger_reject_spam()
        self.assertEqual(self.conversation(631).rating_lead_id, self.conversation(631).lead_id)
        self.assertFalse(self.conversation(632).rating_lead_id)
        self.receive(tg_update(631, "5"))
        self.assertEqual(
            self.env["crm.lead"]
            .with_context(active_test=False)
            .browse(self.conversation(631).lead_id.id)
            .messenger_rating,
            5,
        )


@tagged("post_install", "-at_install")
class TestBotLanguages(BotCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ru_RU")
        cls.env["ir.module.module"]._load_module_terms(["messenger_leads_bot"], ["ru_RU"])
        cls.account = cls.env["messenger.bot.account"].create(
            {
                "name": "@bilingual_bot",
                "token": cls.api.token,
                "api_url": cls.api.url,
                "team_id": cls.team.id,
            }
        )

    def test_customers_get_the_bot_in_their_language(self):
        self.receive(tg_update(650, "Здравствуйте"))  # language_code "ru"
        english = tg_update(651, "Hello")
        english["message"]["from"]["language_code"] = "en"
        self.receive(english)
        (russian_ack,) = self.env["messenger.outbox"].search(
            [("conversation_id", "=", self.conversation(650).id)]
        )
        (english_ack,) = self.env["messenger.outbox"].search(
            [("conversation_id", "=", self.conversation(651).id)]
        )
        self.assertEqual(
            russian_ack.text,
            "Здравствуйте! Мы получили ваше сообщение. Менеджер ответит вам в течение 5 минут.",
        )
        self.assertIn("Соедините меня с человеком", str(russian_ack.buttons))
        self.assertEqual(
            english_ack.text,
            "Hello! We have your message. A manager will answer you within 5 minutes.",
        )


@tagged("post_install", "-at_install")
class TestQualificationQuestions(BotCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.script = cls.env["chatbot.script"].create({"title": "Furniture questions"})
        step = cls.env["chatbot.script.step"]
        step.create(
            {
                "chatbot_script_id": cls.script.id,
                "sequence": 1,
                "step_type": "text",
                "message": "Two quick questions while a manager is on the way.",
            }
        )
        cls.need = step.create(
            {
                "chatbot_script_id": cls.script.id,
                "sequence": 2,
                "step_type": "question_selection",
                "message": "What do you need?",
                "answer_ids": [
                    Command.create(
                        {
                            "name": "Kitchen",
                            "sequence": 1,
                            "messenger_criterion_id": cls.env.ref(
                                "messenger_leads.criterion_need"
                            ).id,
                            "messenger_points": 5,
                        }
                    ),
                    Command.create({"name": "Wardrobe", "sequence": 2}),
                ],
            }
        )
        step.create(
            {
                "chatbot_script_id": cls.script.id,
                "sequence": 3,
                "step_type": "free_input_single",
                "message": "What budget do you have in mind?",
                "messenger_asks_budget": True,
            }
        )
        step.create(
            {
                "chatbot_script_id": cls.script.id,
                "sequence": 4,
                "step_type": "question_phone",
                "message": "Your phone number?",
            }
        )
        step.create(
            {
                "chatbot_script_id": cls.script.id,
                "sequence": 5,
                "step_type": "forward_operator",
                "message": "A manager takes it from here.",
            }
        )
        cls.account.chatbot_script_id = cls.script

    def outbox_texts(self, chat_id):
        return (
            self.env["messenger.outbox"]
            .search([("conversation_id", "=", self.conversation(chat_id).id)])
            .mapped("text")
        )

    def test_questions_answers_on_the_lead_and_handover(self):
        self.receive(tg_update(660, "Hello"))
        conversation = self.conversation(660)
        texts = self.outbox_texts(660)
        self.assertEqual(
            texts[1:], ["Two quick questions while a manager is on the way.", "What do you need?"]
        )
        question = self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)])[
            -1
        ]
        self.assertEqual(
            [row[0][1] for row in question.buttons],
            ["Kitchen", "Wardrobe", "Share my phone number", "Connect me to a person"],
        )
        self.assertEqual(conversation.chatbot_step_id, self.need)

        self.receive(tg_update(660, "Kitchen"))
        lead = conversation.lead_id
        self.assertEqual(conversation.chatbot_answer_ids.name, "Kitchen")
        need = lead.messenger_score_ids.filtered(
            lambda line: line.criterion_id == self.env.ref("messenger_leads.criterion_need")
        )
        self.assertEqual(need.points, "5", "the answer scores its criterion")
        note = lead.message_ids.filtered(lambda m: "What do you need?" in m.body)
        self.assertIn("Kitchen", note.body)
        self.assertEqual(self.outbox_texts(660)[-1], "What budget do you have in mind?")

        self.receive(tg_update(660, "about 1.2 million"))
        self.assertEqual(lead.messenger_budget, 1_200_000)
        self.assertEqual(self.outbox_texts(660)[-1], "Your phone number?")

        self.receive(tg_update(660, "+7 916 123-45-67"))
        self.assertEqual(conversation.lead_id.phone, "+79161234567", "typed: on the lead only")
        self.assertFalse(conversation.partner_id.phone)
        self.assertEqual(self.outbox_texts(660)[-1], "A manager takes it from here.")
        self.assertFalse(conversation.chatbot_step_id)
        self.assertTrue(conversation.lead_id.activity_ids)

    def test_a_person_stops_the_questions(self):
        self.receive(tg_update(661, "Hello"))
        conversation = self.conversation(661)
        conversation.discuss_channel_id.with_user(self.leader).message_post(
            body="Hi, I am Olga", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.receive(tg_update(661, "Kitchen"))
        self.assertEqual(self.outbox_texts(661)[-1], "Hi, I am Olga", "the bot asks nothing more")


@tagged("post_install", "-at_install")
class TestSendFromLead(BotCase):
    def test_send_via_telegram_from_the_lead_and_notes_stay_internal(self):
        self.receive(tg_update(670, "Hello"))
        conversation = self.conversation(670)
        lead = conversation.lead_id
        lead.message_post(body="Customer seems price-sensitive", subtype_xmlid="mail.mt_note")
        wizard = (
            self.env["messenger.send.wizard"]
            .with_user(self.leader)
            .create({"lead_id": lead.id, "body": "Price: 45,000"})
        )
        self.assertEqual(wizard.conversation_id, conversation)
        wizard.action_send()
        outbox = self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)])
        self.assertEqual(outbox.mapped("origin"), ["bot", "person"])
        self.assertEqual(outbox[-1].text, "Price: 45,000")
        self.assertNotIn("price-sensitive", " ".join(outbox.mapped("text")))
        self.assertIn("Price: 45,000", self.thread_messages(conversation)[-1].body)

    def test_links_are_tracked_and_a_click_scores(self):
        self.receive(tg_update(671, "Hello"))
        conversation = self.conversation(671)
        lead = conversation.lead_id
        conversation.discuss_channel_id.with_user(self.leader).message_post(
            body="Catalogue: https://shop.example/catalogue?page=2. And https://shop.example/",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        sent = self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)])[-1]
        trackers = self.env["link.tracker"].search([("messenger_lead_id", "=", lead.id)])
        self.assertEqual(
            sorted(trackers.mapped("url")),
            ["https://shop.example/", "https://shop.example/catalogue?page=2"],
        )
        self.assertNotIn("shop.example", sent.text)
        self.assertTrue(sent.text.startswith("Catalogue: " + trackers[0].short_url_host))
        self.assertIn(". And ", sent.text, "the sentence's full stop stays out of the link")
        self.env["link.tracker.click"].sudo().add_click(trackers[0].code, ip="192.0.2.1")
        self.assertIn("link_clicked", lead.messenger_signal_ids.signal_id.mapped("code"))


@tagged("post_install", "-at_install")
class TestAccountButtons(BotCase):
    def test_check_connection_and_webhook(self):
        result = self.account.action_check_connection()
        self.assertIn("@test_shop_bot", result["params"]["message"])
        self.account.action_set_webhook()
        self.assertEqual(self.api.webhook["url"], self.account._webhook_url())
        self.assertTrue(
            self.api.webhook["url"].endswith(f"/messenger_leads/telegram/{self.account.id}")
        )
        self.assertEqual(self.api.webhook["secret_token"], self.account.webhook_secret)
        self.assertEqual(
            self.api.webhook["allowed_updates"], ["message", "edited_message", "my_chat_member"]
        )
        self.account.action_remove_webhook()
        self.assertEqual(self.api.webhook, {})

    def test_wrong_token_is_a_clear_error(self):
        self.account.token = "42:WRONG"
        with self.assertRaisesRegex(UserError, "Telegram refused the connection"):
            self.account.action_check_connection()


@tagged("post_install", "-at_install")
class TestAssignedOnArrival(BotCase):
    def test_new_chat_is_assigned_at_once_and_the_salesperson_joins_the_thread(self):
        seller = new_test_user(self.env, "arrival_seller", groups="sales_team.group_sale_salesman")
        self.env["crm.team.member"].create({"crm_team_id": self.team.id, "user_id": seller.id})
        self.team.messenger_assignment = "round_robin"
        self.env["bus.presence"].create({"user_id": seller.id, "status": "online"})
        self.receive(tg_update(680, "Hello"))
        conversation = self.conversation(680)
        self.assertEqual(conversation.lead_id.user_id, seller)
        self.assertIn(
            seller.partner_id, conversation.discuss_channel_id.channel_member_ids.partner_id
        )
        self.assertTrue(conversation.lead_id.messenger_first_message_at)
        self.assertEqual(conversation.lead_id.messenger_sla_state, "on_track")
        conversation.discuss_channel_id.with_user(seller).message_post(
            body="Hello!", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertEqual(conversation.lead_id.messenger_sla_state, "met")

    def test_the_next_salesperson_joins_the_thread_when_the_lead_is_reassigned(self):
        first, second = (
            new_test_user(self.env, login, groups="sales_team.group_sale_salesman")
            for login in ("first_seller", "second_seller")
        )
        self.env["crm.team.member"].create(
            [{"crm_team_id": self.team.id, "user_id": user.id} for user in (first, second)]
        )
        self.team.write(
            {"messenger_assignment": "round_robin", "messenger_require_presence": False}
        )
        self.receive(tg_update(684, "Hello"))
        conversation = self.conversation(684)
        lead = conversation.lead_id
        thread = conversation.discuss_channel_id
        self.assertIn(lead.user_id.partner_id, thread.channel_member_ids.partner_id)
        nobody_answered = lead.user_id
        lead._messenger_reassign_breached()  # the escalation's second step
        self.assertNotEqual(lead.user_id, nobody_answered)
        self.assertIn(
            lead.user_id.partner_id,
            thread.channel_member_ids.partner_id,
            "in the thread at once, before the customer writes again",
        )
        by_hand = new_test_user(self.env, "third_seller", groups="sales_team.group_sale_salesman")
        self.leader.email = "leader@example.com"  # crm mails the new salesperson from them
        lead.with_user(self.leader).user_id = by_hand  # the team leader reassigns it by hand
        self.assertIn(by_hand.partner_id, thread.channel_member_ids.partner_id)
        self.assertIn(nobody_answered.partner_id, thread.channel_member_ids.partner_id, "stays")

    def test_busy_in_chats_gets_no_new_chat(self):
        seller = new_test_user(self.env, "busy_seller", groups="sales_team.group_sale_salesman")
        member = self.env["crm.team.member"].create(
            {"crm_team_id": self.team.id, "user_id": seller.id, "messenger_chat_capacity": 1}
        )
        self.team.write(
            {"messenger_assignment": "least_loaded", "messenger_require_presence": False}
        )
        self.receive(tg_update(681, "Hello"))
        self.assertEqual(self.conversation(681).lead_id.user_id, seller)
        self.receive(tg_update(682, "Hello"))
        self.assertNotEqual(self.conversation(682).lead_id.user_id, seller, "one live chat at most")
        member.messenger_chat_capacity = 2
        self.receive(tg_update(683, "Hello"))
        self.assertEqual(self.conversation(683).lead_id.user_id, seller)
