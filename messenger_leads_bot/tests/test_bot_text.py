from odoo.exceptions import ValidationError
from odoo.tests import BaseCase, tagged

from ..tools.bot_text import BotTextError, fill_template_values, render_bot_text
from .common import BotCase, tg_update


@tagged("post_install", "-at_install")
class TestBotTextRenderer(BaseCase):
    def test_placeholders_are_filled(self):
        self.assertEqual(render_bot_text("Within {minutes} min", {"minutes": 5}), "Within 5 min")
        self.assertEqual(render_bot_text("{{50%}} off, {a}{a}", {"a": "!"}), "{50%} off, !!")
        self.assertEqual(render_bot_text(False, {}), "")

    def test_what_it_cannot_fill_is_named(self):
        for text, mistake in (
            ("Within {minute} minutes", "{minute}"),
            ("Within {minutes} minutes", "{minutes}"),  # not a placeholder of this text
            ("{phone.__class__}", "{phone.__class__}"),
            ("{phone!r} {phone:>9}", "{phone!r}"),
            ("{}", "{}"),
            ("Smile :-}", "}"),
            ("Open {", "{"),
        ):
            with self.subTest(text=text), self.assertRaises(BotTextError) as caught:
                render_bot_text(text, {"phone": "+7"})
            self.assertEqual(caught.exception.args[0], mistake)


@tagged("post_install", "-at_install")
class TestBotTexts(BotCase):
    """An administrator's typo in a bot text is refused when saved, in any language; one that
    got in anyway never fails the customer's update."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ru_RU")

    def test_a_typo_is_refused_with_the_placeholders_the_text_can_use(self):
        for fname, text, allowed in (
            ("acknowledgement_text", "We answer within {minute} minutes.", "{minutes}"),
            ("out_of_hours_text", "Back at {next_opening}.", "{next_open}"),
            ("phone_thanks_text", "We call {number}.", "{phone}"),
            ("handoff_text", "A manager comes within {minutes} minutes.", "no placeholders"),
            ("handoff_button", "Person {", "no placeholders"),
            ("welcome_text", "Hello {name}!", "no placeholders"),
        ):
            with self.subTest(fname), self.assertRaises(ValidationError) as caught:
                self.account[fname] = text
            self.assertIn(f"This text can use: {allowed}.", str(caught.exception))
        self.account.acknowledgement_text = "{{Shop}}: within {minutes} minutes."
        self.assertEqual(
            self.account._messenger_bot_text("acknowledgement_text", minutes=5),
            "{Shop}: within 5 minutes.",
        )

    def test_whatsapp_template_variables_are_checked_and_filled_like_every_bot_text(self):
        """One renderer: a format spec or conversion str.format would run is refused too."""
        for spec in ("{customer:>99999999}", "{customer!r}", "{customer}, {phone}"):
            with self.subTest(spec), self.assertRaises(ValidationError) as caught:
                self.account.whatsapp_template_values = spec
            self.assertIn(
                "This text can use: {customer}, {salesperson}, {company}.", str(caught.exception)
            )
            with self.assertRaises(BotTextError):
                fill_template_values(spec, customer="Olga", salesperson="Anna", company="Shop")
        spec = self.account.whatsapp_template_values = "{customer}, {{VIP}} {company}"
        self.assertEqual(
            fill_template_values(spec, customer="Olga", company="S"), ["Olga", "{VIP} S"]
        )

    def test_a_typo_in_another_language_is_refused_too(self):
        russian = self.account.with_context(lang="ru_RU")
        with self.assertRaises(ValidationError) as caught:
            russian.acknowledgement_text = "Ответим через {минут} минут."
        # said in the language being edited: the language, the mistake, what the text can use
        self.assertRegex(str(caught.exception), r"\(Russian.*\).* \{минут\}.*: \{minutes\}")
        with self.assertRaises(ValidationError) as caught:  # the translation dialog
            self.account.update_field_translations(
                "acknowledgement_text", {"ru_RU": "Ответим через {minute} минут."}
            )
        self.assertRegex(str(caught.exception), r"\(Russian.*\).* \{minute\}")
        russian.acknowledgement_text = "Ответим через {minutes} минут."
        self.assertEqual(
            russian._messenger_bot_text("acknowledgement_text", minutes=5),
            "Ответим через 5 минут.",
        )

    def break_acknowledgement(self, text):
        """Store a text as the database may hold it from before the check (or from SQL)."""
        self.env.cr.execute(
            "UPDATE messenger_bot_account SET acknowledgement_text = jsonb_build_object("
            "'en_US', %s::text, 'ru_RU', %s::text) WHERE id = %s",
            [text, text, self.account.id],
        )
        self.account.invalidate_recordset(["acknowledgement_text"])

    def test_a_broken_text_already_saved_is_refused_when_another_is_saved(self):
        self.break_acknowledgement("Within {minute} minutes")
        with self.assertRaises(ValidationError) as caught:
            self.account.handoff_text = "One moment please."
        self.assertIn("has {minute}", str(caught.exception))

    def test_a_text_that_still_fails_when_sent_falls_back_to_the_default(self):
        self.break_acknowledgement("Within {minute} minutes")
        with self.assertLogs("odoo.addons.messenger_leads_bot.models.messenger_bot_text_mixin"):
            self.receive(tg_update(690, "Hello"))
        conversation = self.conversation(690)
        update = self.env["messenger.update"].search([("conversation_id", "=", conversation.id)])
        self.assertEqual(update.state, "done", "the customer's message is not lost")
        (ack,) = self.env["messenger.outbox"].search([("conversation_id", "=", conversation.id)])
        self.assertEqual(conversation.partner_id.lang, "ru_RU")
        self.assertEqual(
            ack.text,
            "Здравствуйте! Мы получили ваше сообщение. Менеджер ответит вам в течение 5 минут.",
        )
