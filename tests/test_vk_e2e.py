"""A customer writing to a VK community and a salesperson in Odoo, end to end, over loopback.

The same guarantees as the other messengers': the confirmation answered with the community's
string and nothing stored, a wrong or missing secret key refused and nothing stored, a repeated
event ignored (and answered "ok", the only answer VK takes), a lead made and acknowledged, a
send refused for too many requests retried, a reply written in Discuss reaching the customer, a
customer who denies the community's messages shown as blocked. The webhook only promises the
event is stored: every effect is waited for.
"""

import time

import pytest
from messenger_fixtures import VK_GROUP_ID, messenger_account, vk_message, wait_for

_RUN = int(time.time()) % 1_000_000
CONFIRMATION = "e2e-confirm"


def customer(n):
    """A VK user id of this run: an earlier run's customer keeps their own open lead."""
    return _RUN * 100 + n


@pytest.fixture(scope="module")
def vk_bot(odoo):
    with messenger_account(odoo, "vk", "e2e_vk", confirmation_code=CONFIRMATION) as account:
        yield account


@pytest.fixture(scope="module")
def vk_api(vk_bot):
    return vk_bot.api


def stored(account):
    return account.admin.call("messenger.update", "search_count", [["account_id", "=", account.id]])


def test_vk_confirmation_is_answered_and_not_stored(vk_bot):
    before = stored(vk_bot)
    answer = vk_bot.post_vk({"type": "confirmation", "group_id": VK_GROUP_ID})
    assert (answer.status_code, answer.text) == (200, CONFIRMATION)
    assert stored(vk_bot) == before


def test_vk_customer_gets_a_lead_an_acknowledgement_and_a_reply(vk_bot, vk_api):
    user_id = customer(1)
    vk_api.users[str(user_id)] = ("Ольга", "Петрова", "olga_p")
    answer = vk_bot.post_vk(vk_message(user_id, "Здравствуйте, есть диван Осло?"))
    assert (answer.status_code, answer.text) == (200, "ok")
    lead = vk_bot.lead_of(user_id)
    assert lead["messenger_channel_id"][1] == "VK"
    partner = vk_bot.admin.call(
        "res.partner", "read", [vk_bot.conversation(user_id)["partner_id"][0]], ["name", "website"]
    )[0]
    assert (partner["name"], partner["website"]) == ("Ольга Петрова", f"https://vk.com/id{user_id}")
    (ack,) = vk_api.wait_sent(user_id, 1, timeout=20)
    assert "5" in ack["text"]
    labels = [button["action"]["label"] for row in ack["keyboard"]["buttons"] for button in row]
    assert labels in (["Connect me to a person"], ["Соедините меня с человеком"]), (
        "the hand-off button, and no share-phone one: VK shares no numbers"
    )
    # the salesperson the lead went to answers in Discuss
    seller = wait_for(lambda: vk_bot.lead_of(user_id)["user_id"], "an assigned salesperson")
    assert seller[0] == vk_bot.seller_id
    vk_bot.reply_as_seller(user_id, "Да, есть в сером и синем.")
    _ack, reply = vk_api.wait_sent(user_id, 2, timeout=20)
    assert reply["text"] == "Да, есть в сером и синем."


def test_vk_wrong_or_missing_secret_and_duplicates(vk_bot):
    user_id = customer(2)
    event = vk_message(user_id, "Once")
    before = stored(vk_bot)
    assert vk_bot.post_vk(event, secret="forged-secret").status_code == 403
    assert vk_bot.post_vk(event, secret=False).status_code == 403
    assert stored(vk_bot) == before, "nothing stored"
    assert vk_bot.conversation(user_id) is None
    assert vk_bot.post_vk(event).text == "ok"
    assert vk_bot.post_vk(event).text == "ok", "VK takes no other answer"
    wait_for(lambda: vk_bot.conversation(user_id), "the conversation")
    messages = wait_for(lambda: vk_bot.customer_messages(user_id), "the message")
    time.sleep(1)  # a duplicate processed late would show by now
    assert len(vk_bot.customer_messages(user_id)) == len(messages) == 1
    assert stored(vk_bot) == before + 1


def test_vk_too_many_requests_is_retried(vk_bot, vk_api):
    user_id = customer(3)
    vk_api.fail_next("messages.send", 6)
    vk_bot.post_vk(vk_message(user_id, "Hello"))
    wait_for(lambda: vk_api.failures_returned, "error 6")
    assert len(vk_bot.sent_after_retries(user_id, 30)) == 1


def test_vk_customer_who_denies_messages_shows_blocked(vk_bot):
    user_id = customer(4)
    vk_bot.post_vk(vk_message(user_id, "Hello"))
    wait_for(lambda: vk_bot.conversation(user_id), "the conversation")
    deny = {
        "type": "message_deny",
        "event_id": f"deny{user_id}",
        "group_id": VK_GROUP_ID,
        "object": {"user_id": user_id},
    }
    assert vk_bot.post_vk(deny).text == "ok"
    wait_for(lambda: vk_bot.conversation(user_id)["blocked"], "blocked")
    allow = dict(deny, type="message_allow", event_id=f"allow{user_id}")
    assert vk_bot.post_vk(allow).text == "ok"
    wait_for(lambda: not vk_bot.conversation(user_id)["blocked"], "unblocked")
