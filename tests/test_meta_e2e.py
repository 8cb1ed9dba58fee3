"""A customer on Instagram Direct or Facebook Messenger and a salesperson in Odoo, end to end,
over loopback: one Meta app (signed notifications), a local Graph API (fake_meta_api.py).

The same guarantees as the other messengers': a wrong or missing signature is refused and
nothing is stored, a repeated delivery is ignored, a lead is made and acknowledged, a
rate-limited send is retried, a reply written in Discuss reaches the customer (past 24 hours with
the human agent tag), a customer who cannot be reached shows as blocked. The webhook only
promises the notification is stored: every effect is waited for.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
from messenger_fixtures import MESSENGERS, messenger_account, meta_message, wait_for
from odoo_process import run_in_odoo

CODES = ("facebook", "instagram")
APP_SECRET = MESSENGERS["facebook"].app_secret  # one Meta app signs both
_RUN = int(time.time()) % 1_000_000


@pytest.fixture(scope="module", params=CODES)
def meta(request, odoo):
    """(account, fake Graph API, notification object) of one of Meta's messengers."""
    code = request.param
    with messenger_account(odoo, code, f"e2e_{code}") as account:
        account.api.fetch_files = True
        account.prefix = str(CODES.index(code) + 1)
        yield account, account.api, account.messenger.webhook_object


def customer(account, n):
    """A PSID/IGSID of this run: an earlier run's customer keeps their own open lead."""
    return f"{account.prefix}{_RUN:06d}{n:04d}"


def lead_of(account, psid):
    return account.lead_of(psid, ("messenger_channel_id", "user_id", "partner_id"))


def test_customer_gets_a_lead_an_acknowledgement_and_a_reply(meta):
    account, api, webhook_object = meta
    psid = customer(account, 1)
    api.profiles[psid] = {"name": "Olga Smirnova", "username": "olga.smirnova"}
    answer = account.post_meta(
        meta_message(webhook_object, psid, "Is the Oslo sofa in stock?"), APP_SECRET
    )
    assert (answer.status_code, answer.text) == (200, "ok")
    lead = lead_of(account, psid)
    assert lead["messenger_channel_id"][1] in ("Instagram", "Facebook Messenger")
    assert lead["partner_id"][1] == "Olga Smirnova", "the name asked of the Graph API"
    (ack,) = api.wait_sent(psid, 1, timeout=20)
    assert ack["messaging_type"] == "RESPONSE"
    assert "5 minutes" in ack["message"]["text"]
    assert [q["payload"] for q in ack["message"]["quick_replies"]] == ["Connect me to a person"]
    seller = wait_for(lambda: lead_of(account, psid)["user_id"], "an assigned salesperson")
    assert seller[0] == account.seller_id
    account.reply_as_seller(psid, "Yes, in grey and in blue.")
    _ack, reply = api.wait_sent(psid, 2, timeout=20)
    assert reply["message"]["text"] == "Yes, in grey and in blue."


def test_wrong_or_missing_signature_and_duplicates(meta):
    account, _api, webhook_object = meta
    psid = customer(account, 2)
    update = meta_message(webhook_object, psid, "Once")
    assert account.post_meta(update, "forged-secret").status_code == 403
    assert account.post(update, secret="").status_code == 403, "no signature at all"
    assert account.conversation(psid) is None, "nothing stored"
    assert account.post_meta(update, APP_SECRET).text == "ok"
    assert account.post_meta(update, APP_SECRET).text == "duplicate"
    messages = wait_for(lambda: account.customer_messages(psid), "the message")
    time.sleep(1)  # a duplicate processed late would show by now
    assert len(account.customer_messages(psid)) == len(messages) == 1


def test_rate_limited_send_is_retried(meta):
    account, api, webhook_object = meta
    psid = customer(account, 3)
    api.fail_code("messages", 613)  # calls within one hour exceeded
    account.post_meta(meta_message(webhook_object, psid, "Hello"), APP_SECRET)
    wait_for(lambda: [f for f in api.failures_returned if f[0] == "messages"], "the refusal")
    assert len(account.sent_after_retries(psid, 60)) == 1


def test_past_24_hours_a_reply_goes_as_a_human_agent(meta):
    account, api, webhook_object = meta
    psid = customer(account, 4)
    run_in_odoo("odoo_side.py", "backdate_account", account_id=account.id, days=30)
    # the customer's last message, as Meta stamps it: three days ago
    update = meta_message(webhook_object, psid, "Send me the price")
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    update["entry"][0]["messaging"][0]["timestamp"] = int(three_days_ago.timestamp() * 1000)
    account.post_meta(update, APP_SECRET)
    wait_for(lambda: lead_of(account, psid)["user_id"], "an assigned salesperson")
    api.wait_sent(psid, 1, timeout=20)
    api.closed_windows.add(psid)  # Meta takes nothing but a human agent's reply now
    account.reply_as_seller(psid, "Here is the price: 45 000 ₽.")
    _ack, reply = api.wait_sent(psid, 2, timeout=20)
    assert (reply["messaging_type"], reply["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert reply["message"]["text"] == "Here is the price: 45 000 ₽."


def test_customer_who_cannot_be_reached_shows_blocked(meta):
    account, api, webhook_object = meta
    psid = customer(account, 5)
    api.blocked_chats.add(psid)
    account.post_meta(meta_message(webhook_object, psid, "Hello"), APP_SECRET)
    wait_for(lambda: (account.conversation(psid) or {}).get("blocked"), "blocked", timeout=30)
