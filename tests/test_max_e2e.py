"""A customer on MAX and a salesperson in Odoo, end to end, over loopback.

The same guarantees as the other messengers': a wrong or missing secret is refused and nothing is
stored, a repeated delivery is ignored, a lead is made and acknowledged, a rate-limited send is
retried, a reply written in Discuss reaches the customer, a customer who stops the bot shows as
blocked. The webhook only promises the update is stored: every effect is waited for.
"""

import time

import pytest
from messenger_fixtures import max_message, messenger_account, wait_for

_RUN = int(time.time()) % 1_000_000


def customer(n):
    """A MAX user id of this run: an earlier run's customer keeps their own open lead."""
    return _RUN * 100 + n


@pytest.fixture(scope="module")
def max_bot(odoo):
    with messenger_account(odoo, "max", "e2e_max") as account:
        yield account


@pytest.fixture(scope="module")
def max_api(max_bot):
    return max_bot.api


def test_max_customer_gets_a_lead_an_acknowledgement_and_a_reply(max_bot, max_api):
    user_id = customer(1)
    answer = max_bot.post_max(max_message(user_id, "Здравствуйте, есть диван Осло?"))
    assert (answer.status_code, answer.text) == (200, "ok")
    lead = max_bot.lead_of(user_id)
    assert lead["messenger_channel_id"][1] == "MAX"
    (ack,) = max_api.wait_sent(user_id, 1, timeout=20)
    assert "5" in ack["text"]
    buttons = [b["type"] for row in ack["attachments"][0]["payload"]["buttons"] for b in row]
    assert buttons == ["request_contact", "message"]
    # the salesperson the lead went to answers in Discuss
    seller = wait_for(lambda: max_bot.lead_of(user_id)["user_id"], "an assigned salesperson")
    assert seller[0] == max_bot.seller_id
    max_bot.reply_as_seller(user_id, "Да, есть в сером и синем.")
    _ack, reply = max_api.wait_sent(user_id, 2, timeout=20)
    assert reply["text"] == "Да, есть в сером и синем."


def test_max_wrong_or_missing_secret_and_duplicates(max_bot):
    user_id = customer(2)
    update = max_message(user_id, "Once")
    assert max_bot.post_max(update, secret="forged-secret").status_code == 403
    assert max_bot.post_max(update, secret="").status_code == 403
    assert max_bot.conversation(user_id) is None, "nothing stored"
    assert max_bot.post_max(update).text == "ok"
    assert max_bot.post_max(update).text == "duplicate"
    wait_for(lambda: max_bot.conversation(user_id), "the conversation")
    messages = wait_for(lambda: max_bot.customer_messages(user_id), "the message")
    time.sleep(1)  # a duplicate processed late would show by now
    assert len(max_bot.customer_messages(user_id)) == len(messages) == 1


def test_max_rate_limited_send_is_retried(max_bot, max_api):
    user_id = customer(3)
    max_api.fail_next("messages", 429, retry_after=1)
    max_bot.post_max(max_message(user_id, "Hello"))
    wait_for(lambda: max_api.failures_returned, "the 429")
    assert len(max_bot.sent_after_retries(user_id, 30)) == 1


def test_max_customer_who_stops_the_bot_shows_blocked(max_bot):
    user_id = customer(4)
    max_bot.post_max(max_message(user_id, "Hello"))
    wait_for(lambda: max_bot.conversation(user_id), "the conversation")
    stopped = {
        "update_type": "bot_stopped",
        "timestamp": int(time.time() * 1000),
        "chat_id": user_id + 1,
        "user": {"user_id": user_id, "first_name": "Customer", "is_bot": False},
    }
    assert max_bot.post_max(stopped).text == "ok"
    wait_for(lambda: max_bot.conversation(user_id)["blocked"], "blocked")
