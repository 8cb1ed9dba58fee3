"""A customer on Telegram and a salesperson in Odoo, end to end, over loopback."""

import concurrent.futures
import hashlib
import html
import os
import re
import threading
import time

import requests
from messenger_fixtures import BotAccount, post_in_thread, tg_message


def reply_as(odoo, login, conversation, text):
    post_in_thread(odoo.rpc(login, login), conversation, text)


def seller_session(odoo, bot, conversation):
    """An HTTP session of the lead's salesperson, logged in as in the browser."""
    seller = bot.admin.call("crm.lead", "read", [conversation["lead_id"][0]], fields=["user_id"])[
        0
    ]["user_id"][0]
    bot.admin.call("res.users", "write", [seller], {"password": "seller-e2e"})
    login = bot.admin.call("res.users", "read", [seller], fields=["login"])[0]["login"]
    session = requests.Session()
    session.post(
        f"{odoo.url}/web/session/authenticate",
        json={"params": {"db": odoo.database, "login": login, "password": "seller-e2e"}},
        timeout=30,
    ).raise_for_status()
    return session


def test_customer_writes_and_gets_a_lead_and_an_acknowledgement(bot, bot_api):
    answer = bot.post(tg_message(9001, "Hello, do you sell sofas?"))
    assert (answer.status_code, answer.text) == (200, "ok")
    conversation = bot.conversation(9001)
    lead = bot.admin.call(
        "crm.lead",
        "read",
        [conversation["lead_id"][0]],
        fields=[
            "messenger_channel_id",
            "team_id",
            "partner_id",
            "user_id",
            "messenger_assignment_reason",
        ],
    )[0]
    assert lead["messenger_channel_id"][1] == "Telegram"
    assert lead["team_id"][0] == bot.team_id
    assert lead["user_id"], "assigned at once"
    assert lead["messenger_assignment_reason"].startswith("Least loaded")
    (ack,) = bot_api.wait_sent(9001, 1)
    assert "within 5 minutes" in ack["text"]


def test_salesperson_reply_reaches_the_customer(odoo, bot, bot_api):
    bot.post(tg_message(9002, "Hi"))
    bot_api.wait_sent(9002, 1)
    reply_as(odoo, "lead", bot.conversation(9002), "Good afternoon! Which size do you need?")
    sent = bot_api.wait_sent(9002, 2)
    assert sent[-1]["text"] == "Good afternoon! Which size do you need?"


def test_a_long_reply_written_in_discuss_reaches_the_customer_whole(odoo, bot, bot_api):
    """The lead's salesperson answers in the web client (/mail/message/post, the composer's
    HTML): the customer gets every character and line break, not Odoo's 190-character preview."""
    bot.post(tg_message(9008, "Tell me everything about your sofas"))
    bot_api.wait_sent(9008, 1)
    conversation = bot.conversation(9008)
    text = "\n\n".join(
        f"{n}. The sofa «Oslo» & its grey cover <washable>.\nDelivery in {n + 2} days, "
        "assembly included."
        for n in range(1, 41)
    )
    assert len(text) > 3000
    session = seller_session(odoo, bot, conversation)
    composer_body = "<br>".join(html.escape(line, quote=False) for line in text.split("\n"))
    answer = session.post(
        f"{odoo.url}/mail/message/post",
        json={
            "params": {
                "thread_model": "discuss.channel",
                "thread_id": conversation["discuss_channel_id"][0],
                "post_data": {
                    "body": composer_body,
                    "message_type": "comment",
                    "subtype_xmlid": "mail.mt_comment",
                },
            }
        },
        timeout=30,
    ).json()
    assert "result" in answer, answer
    assert bot_api.wait_sent(9008, 2)[-1]["text"] == text


def test_a_file_posted_in_discuss_reaches_the_customer_whole(odoo, bot, bot_api):
    """The lead's salesperson, logged in over HTTP, attaches a PDF in the chat's thread as the
    web client does (/mail/attachment/upload, then /mail/message/post with its id): the customer
    gets the paragraph, then (by the outbox cron) the file, byte for byte."""
    bot.post(tg_message(9010, "Could you send me the price list?"))
    bot_api.wait_sent(9010, 1)
    conversation = bot.conversation(9010)
    thread_id = conversation["discuss_channel_id"][0]
    session = seller_session(odoo, bot, conversation)
    web_client = session.get(f"{odoo.url}/odoo", timeout=30)
    csrf_token = re.search(r'csrf_token: "(\w+)"', web_client.text).group(1)
    pdf = b"%PDF-1.4\n" + os.urandom(400_000)
    upload = session.post(
        f"{odoo.url}/mail/attachment/upload",
        data={
            "thread_id": thread_id,
            "thread_model": "discuss.channel",
            "is_pending": "true",
            "csrf_token": csrf_token,
        },
        files={"ufile": ("price list.pdf", pdf, "application/pdf")},
        timeout=30,
    )
    (attachment,) = upload.json()["data"]["ir.attachment"]
    answer = session.post(
        f"{odoo.url}/mail/message/post",
        json={
            "params": {
                "thread_model": "discuss.channel",
                "thread_id": thread_id,
                "post_data": {
                    "body": "<p>Here is our price list, valid until the end of the month.</p>",
                    "attachment_ids": [attachment["id"]],
                    "message_type": "comment",
                    "subtype_xmlid": "mail.mt_comment",
                },
            }
        },
        timeout=30,
    ).json()
    assert "result" in answer, answer
    bot_api.wait_sent(9010, 2)  # the text goes right after the commit
    time.sleep(1.1)  # one message a chat a second: then the cron (none runs here) sends the file
    bot.run_outbox_cron()
    _ack, text, document = bot_api.wait_sent(9010, 3)
    assert text["text"] == "Here is our price list, valid until the end of the month."
    assert document["method"] == "sendDocument"
    assert document["file"] == {
        "name": "price list.pdf",
        "mimetype": "application/pdf",
        "size": len(pdf),
        "sha256": hashlib.sha256(pdf).hexdigest(),
    }


def test_rate_limited_reply_is_retried(odoo, bot, bot_api):
    bot.post(tg_message(9003, "Hi"))
    bot_api.wait_sent(9003, 1)
    bot_api.fail_next("sendMessage", 429, retry_after=1)
    reply_as(odoo, "lead", bot.conversation(9003), "Sorry for the wait")
    deadline = time.monotonic() + 30
    while not bot_api.failures_returned and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [(method, status) for method, status, _params in bot_api.failures_returned] == [
        ("sendMessage", 429)
    ], "the reply met the 429"
    time.sleep(1.1)  # the delay Telegram asked for
    bot.run_outbox_cron()  # or the cron worker, whichever comes first
    texts = [message["text"] for message in bot_api.wait_sent(9003, 2)]
    assert texts.count("Sorry for the wait") == 1, texts


def test_blocked_customer_is_marked(odoo, bot, bot_api):
    bot.post(tg_message(9004, "Hi"))
    bot_api.wait_sent(9004, 1)
    bot_api.blocked_chats.add("9004")
    reply_as(odoo, "lead", bot.conversation(9004), "Are you there?")
    deadline = time.monotonic() + 10
    while not bot.conversation(9004)["blocked"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert bot.conversation(9004)["blocked"]


def test_duplicate_update_makes_one_message(bot, bot_api):
    update = tg_message(9005, "Only once")
    assert bot.post(update).text == "ok"
    assert bot.post(update).text == "duplicate"
    assert len(bot.customer_messages(9005)) == 1
    assert len(bot_api.wait_sent(9005, 1)) == 1


def test_wrong_secret_is_refused(bot):
    answer = bot.post(tg_message(9006, "Hi"), secret="wrong")
    assert answer.status_code == 403
    assert bot.conversation(9006) is None


def test_racing_requests_for_a_new_chat_make_one_contact_thread_and_lead(bot):
    chat = 200_000 + int(time.time()) % 100_000  # a chat this database has never seen
    first, second = tg_message(chat, "Hello?"), tg_message(chat, "Anybody there?")
    barrier = threading.Barrier(4)

    def post(update):
        barrier.wait()
        return bot.post(update)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(post, [first, second, first, second]))
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    assert sorted(answer.text for answer in answers) == ["duplicate", "duplicate", "ok", "ok"]
    conversation = bot.conversation(chat)
    assert (
        bot.admin.call(
            "crm.lead", "search_count", [["partner_id", "=", conversation["partner_id"][0]]]
        )
        == 1
    )
    assert bot.admin.call("res.partner", "search_count", [["name", "=", f"Customer {chat}"]]) == 1
    assert (
        bot.admin.call(
            "discuss.channel",
            "search_count",
            [["messenger_conversation_ids.external_chat_id", "=", str(chat)]],
        )
        == 1
    )
    assert sorted(m["body"] for m in bot.customer_messages(chat)) == [
        "<p>Anybody there?</p>",
        "<p>Hello?</p>",
    ]


def test_concurrent_arrivals_never_push_a_salesperson_over_capacity(odoo, bot_api):
    admin = odoo.rpc("admin", "admin")
    race = BotAccount(odoo, admin, bot_api, f"race{int(time.time())}")
    seller = admin.call("res.users", "create", {"name": "Race seller", "login": f"race{race.id}"})
    admin.call(
        "crm.team.member",
        "unlink",
        admin.call("crm.team.member", "search", [["crm_team_id", "=", race.team_id]]),
    )
    admin.call(
        "crm.team.member",
        "create",
        {"crm_team_id": race.team_id, "user_id": seller, "messenger_capacity": 1},
    )
    admin.call("crm.team", "write", [race.team_id], {"messenger_nobody_available": "queue"})
    chats = [400_000 + int(time.time()) % 100_000 * 10 + i for i in range(6)]
    barrier = threading.Barrier(len(chats))

    def arrive(chat):
        barrier.wait()
        return race.post(tg_message(chat, "Hello"))

    with concurrent.futures.ThreadPoolExecutor(len(chats)) as pool:
        answers = list(pool.map(arrive, chats))
    assert [a.status_code for a in answers] == [200] * len(chats)
    leads = admin.call(
        "crm.lead", "search_read", [["team_id", "=", race.team_id]], fields=["user_id"]
    )
    assert len(leads) == len(chats)
    assert [lead["user_id"][0] for lead in leads if lead["user_id"]] == [seller], (
        "capacity 1 holds under a race: one lead for the seller, the rest queued"
    )
