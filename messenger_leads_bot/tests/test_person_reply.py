from markupsafe import Markup, escape

from odoo.tests import BaseCase, new_test_user, tagged

from ..tools.message_text import message_text
from .common import BotCase, composer_body, tg_update


def long_reply(length):
    """A multi-paragraph answer of `length` characters, with what HTML must escape."""
    paragraphs = []
    while sum(len(paragraph) + 2 for paragraph in paragraphs) < length:
        number = len(paragraphs) + 1
        paragraphs.append(
            f"{number}. The sofa «Oslo» in grey & blue costs 45 000 ₽ (<3 weeks to make it>).\n"
            f"    Line two of point {number}: \"quotes\", 'apostrophes' — and Кириллица too."
        )
    return "\n\n".join(paragraphs)[: length - 1] + "."


@tagged("post_install", "-at_install")
class TestMessageText(BaseCase):
    """What a message written in Discuss reads like in the messenger (plain text)."""

    def test_a_typed_text_comes_back_unchanged(self):
        text = long_reply(500)
        self.assertEqual(message_text(composer_body(text)), text)
        self.assertEqual(message_text(escape(text)), text, "posted as text (RPC, the wizard)")
        self.assertEqual(message_text(Markup("two&nbsp; spaces")), "two  spaces")

    def test_formatting_becomes_plain_text_and_links_keep_their_address(self):
        self.assertEqual(
            message_text(
                Markup(
                    '<p>Hello <b>Maria</b>, <em>see</em> <a href="https://shop.example/c">'
                    'our catalogue</a> or <a href="https://shop.example/">https://shop.example/'
                    '</a></p><p><a href="/odoo/crm/7">the lead</a> and <a href="#" '
                    'class="o_mail_redirect" data-oe-model="res.partner" data-oe-id="3">'
                    "@Olga</a></p><p><br></p><p>Bye</p>"
                )
            ),
            "Hello Maria, see our catalogue (https://shop.example/c) or https://shop.example/\n"
            "the lead and @Olga\n\nBye",
        )

    def test_lists_keep_their_lines(self):
        self.assertEqual(
            message_text(
                Markup(
                    "<p>Options:</p>\n<ul>\n<li>Oslo</li>\n<li>Bergen<ol><li>grey</li>"
                    "<li>blue</li></ol></li>\n</ul>"
                )
            ),
            "Options:\n• Oslo\n• Bergen\n  1. grey\n  2. blue",
        )


@tagged("post_install", "-at_install")
class TestPersonReply(BotCase):
    """A salesperson's reply reaches the customer whole: every character and line break."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seller = new_test_user(cls.env, "reply_seller", groups="sales_team.group_sale_salesman")

    def chat(self, chat_id):
        self.receive(tg_update(chat_id, "Hello, tell me about the sofas"))
        conversation = self.conversation(chat_id)
        conversation.lead_id.user_id = self.seller  # they join the thread
        return conversation

    def reply(self, conversation, body):
        conversation.discuss_channel_id.with_user(self.seller).message_post(
            body=body, message_type="comment", subtype_xmlid="mail.mt_comment"
        )

    def test_a_long_multi_paragraph_reply_arrives_whole(self):
        conversation = self.chat(750)
        text = long_reply(3000)
        self.assertEqual(len(text), 3000)
        self.assertGreater(text.count("\n\n"), 10)
        self.reply(conversation, composer_body(text))
        self.deliver_all()
        _acknowledgement, reply = self.api.sent_to(750)
        self.assertEqual(reply["text"], text)

    def test_a_reply_longer_than_telegram_takes_goes_in_parts_in_order(self):
        conversation = self.chat(751)
        text = long_reply(9000)
        self.reply(conversation, composer_body(text))
        self.deliver_all()
        parts = [message["text"] for message in self.api.sent_to(751)[1:]]
        self.assertEqual(len(parts), 3)
        self.assertTrue(all(len(part) <= 4096 for part in parts))
        rest = text
        for part in parts:
            # each part is cut at a line break (else a space): that break is the part's end
            rest = rest.lstrip()
            self.assertTrue(rest.startswith(part), "in order, nothing lost or changed")
            rest = rest[len(part) :]
        self.assertEqual(rest, "")

    def test_formatting_and_links_go_as_plain_text(self):
        self.account.track_links = False
        conversation = self.chat(752)
        self.reply(
            conversation,
            Markup('<b>Sofa Oslo</b><br><a href="https://shop.example/oslo">photos</a>'),
        )
        self.deliver_all()
        self.assertEqual(
            self.api.sent_to(752)[-1]["text"], "Sofa Oslo\nphotos (https://shop.example/oslo)"
        )
