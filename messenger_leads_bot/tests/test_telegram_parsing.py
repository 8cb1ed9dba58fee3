from odoo.tests import BaseCase, tagged

from ..adapters import parse_telegram_update, split_text
from .common import tg_blocked, tg_update


@tagged("post_install", "-at_install")
class TestTelegramParsing(BaseCase):
    def test_text_message(self):
        (event,) = parse_telegram_update(tg_update(501, "Hello"))
        self.assertEqual((event.chat_id, event.user_id, event.kind), ("501", "501", "text"))
        self.assertEqual(event.text, "Hello")
        self.assertEqual(event.display_name, "Maria Test")
        self.assertFalse(event.edited)

    def test_start_payload_is_the_campaign(self):
        (event,) = parse_telegram_update(tg_update(502, "/start spring_sale"))
        self.assertEqual(event.start_payload, "spring_sale")

    def test_media_location_and_contacts(self):
        photo = tg_update(
            503,
            photo=[
                {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
                {"file_id": "big", "file_unique_id": "b", "width": 900, "height": 900},
            ],
            caption="my room",
        )
        (event,) = parse_telegram_update(photo)
        self.assertEqual((event.kind, event.file_id, event.text), ("photo", "big", "my room"))
        (event,) = parse_telegram_update(
            tg_update(
                503,
                document={
                    "file_id": "doc1",
                    "file_unique_id": "d1",
                    "file_name": "plan.pdf",
                    "mime_type": "application/pdf",
                },
            )
        )
        self.assertEqual((event.kind, event.file_name), ("document", "plan.pdf"))
        (event,) = parse_telegram_update(
            tg_update(503, voice={"file_id": "v1", "file_unique_id": "v1", "duration": 3})
        )
        self.assertEqual(event.kind, "voice")
        (event,) = parse_telegram_update(
            tg_update(503, location={"latitude": 55.75, "longitude": 37.62})
        )
        self.assertEqual((event.kind, event.latitude), ("location", 55.75))
        own = tg_update(
            503, contact={"phone_number": "79161234567", "first_name": "Maria", "user_id": 503}
        )
        (event,) = parse_telegram_update(own)
        self.assertEqual((event.kind, event.phone), ("contact", "79161234567"))
        other = tg_update(
            503, contact={"phone_number": "79990000000", "first_name": "Ivan", "user_id": 999}
        )
        (event,) = parse_telegram_update(other)
        self.assertEqual(event.kind, "text", "someone else's card is a message, not our phone")

    def test_edit_and_block(self):
        (event,) = parse_telegram_update(
            tg_update(504, "fixed", edited=True, message_id=7, edit_date=1)
        )
        self.assertTrue(event.edited)
        self.assertEqual(event.message_id, "7")
        blocked = tg_blocked(504, 99)
        (event,) = parse_telegram_update(blocked)
        self.assertEqual(event.kind, "blocked")

    def test_what_is_not_bridged_or_not_an_update(self):
        group = tg_update(505, "hi all")
        group["message"]["chat"]["type"] = "group"
        self.assertEqual(parse_telegram_update(group), [])
        self.assertEqual(parse_telegram_update({"update_id": 5}), [])
        for bad in ([], "x", {"update_id": "1"}, {"message": {}}):
            with self.assertRaises(ValueError):
                parse_telegram_update(bad)
        with self.assertRaises(ValueError):
            parse_telegram_update({"update_id": 6, "message": {"chat": "nope"}})

    def test_split_long_text(self):
        text = ("word " * 2000).strip()
        chunks = split_text(text, 4096)
        self.assertEqual(len(chunks), 3)
        self.assertTrue(all(len(chunk) <= 4096 for chunk in chunks))
        self.assertEqual(" ".join(chunks), text)
        self.assertEqual(split_text("short", 4096), ["short"])
        self.assertEqual(split_text("x" * 5000, 4096), ["x" * 4096, "x" * 904])

    def test_control_characters_are_dropped(self):
        update = tg_update(506, "a\x00b\x07c\nnext line")
        update["message"]["from"]["first_name"] = "Ma\x00ria"
        (event,) = parse_telegram_update(update)
        self.assertEqual(event.text, "abc\nnext line")
        self.assertEqual(event.first_name, "Maria")

    def test_lone_surrogates_and_direction_controls_are_dropped(self):
        """A lone surrogate cannot be stored (PostgreSQL takes UTF-8 only); a direction
        override in a name or file name shows it in another order ("gpj.exe" as "exe.jpg")."""
        document = {"file_id": "d", "file_unique_id": "d", "file_name": "\u202egpj.exe"}
        update = tg_update(507, document=document, caption="/start promo\ud800 ok\u200f")
        update["message"]["from"].update(
            first_name="\u202eAnna\u2066", username="\u200eanna\udfff", language_code="en\ud800"
        )
        (event,) = parse_telegram_update(update)
        self.assertEqual(
            (event.first_name, event.username, event.language_code, event.file_name),
            ("Anna", "anna", "en", "gpj.exe"),
        )
        self.assertEqual(event.text, "/start promo ok\u200f", "text keeps its direction marks")
        for typed in ("/start promo\ud800\x00", "/start spring sale", "/start " + "x" * 65):
            (event,) = parse_telegram_update(tg_update(507, typed))
            self.assertEqual(event.start_payload, "", "no deep link carries it: typed, no campaign")
