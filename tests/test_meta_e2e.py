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
from messenger_fixtures import BotAccount, FakeMetaApi, meta_message
from odoo_process import run_in_odoo

APP_SECRET = "e2e-meta-app-secret"
_RUN = int(time.time()) % 1_000_000
# the provider code, its notifications' object, its fake's text limits
MESSENGERS = {
    "instagram": ("instagram", {"max_text_length": 1000, "max_text_bytes": 1000}),
    "facebook": ("page", {"max_text_length": 2000}),
}


def wait_for(fetch, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = fetch()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


@pytest.fixture(scope="module", params=sorted(MESSENGERS))
def meta(request, odoo):
    """(account, fake Graph API, notification object) of one of Meta's messengers."""
    code = request.param
    webhook_object, limits = MESSENGERS[code]
    with FakeMetaApi(**limits) as api:
        api.fetch_files = True
        account = BotAccount(
            odoo,
            odoo.rpc("admin", "admin"),
            api,
            f"e2e_{code}",
            provider=code,
            app_secret=APP_SECRET,
        )
        account.prefix = str(sorted(MESSENGERS).index(code) + 1)
        yield account, api, webhook_object


def customer(account, n):
    """A PSID/IGSID of this run: an earlier run's customer keeps their own open lead."""
    return f"{account.prefix}{_RUN:06d}{n:04d}"


def lead_of(account, psid):
    conversation = wait_for(
        lambda: (account.conversation(psid) or {}).get("lead_id") and account.conversation(psid),
        f"the lead of {psid}",
    )
    return account.admin.call(
        "crm.lead",
        "read",
        [conversation["lead_id"][0]],
        fields=["channel_id", "user_id", "partner_id"],
    )[0]


def reply_as_seller(odoo, account, psid, text):
    conversation = account.conversation(psid)
    odoo.rpc(account.seller_login, account.seller_login).call(
        "discuss.channel",
        "message_post",
        [conversation["discuss_channel_id"][0]],
        body=text,
        message_type="comment",
        subtype_xmlid="mail.mt_comment",
    )


def test_customer_gets_a_lead_an_acknowledgement_and_a_reply(odoo, meta):
    account, api, webhook_object = meta
    psid = customer(account, 1)
    api.profiles[psid] = {"name": "Olga Smirnova", "username": "olga.smirnova"}
    answer = account.post_meta(
        meta_message(webhook_object, psid, "Is the Oslo sofa in stock?"), APP_SECRET
    )
    assert (answer.status_code, answer.text) == (200, "ok")
    lead = lead_of(account, psid)
    assert lead["channel_id"][1] in ("Instagram", "Facebook Messenger")
    assert lead["partner_id"][1] == "Olga Smirnova", "the name asked of the Graph API"
    (ack,) = api.wait_sent(psid, 1, timeout=20)
    assert ack["messaging_type"] == "RESPONSE"
    assert "5 minutes" in ack["message"]["text"]
    assert [q["payload"] for q in ack["message"]["quick_replies"]] == ["Connect me to a person"]
    seller = wait_for(lambda: lead_of(account, psid)["user_id"], "an assigned salesperson")
    assert seller[0] == account.seller_id
    reply_as_seller(odoo, account, psid, "Yes, in grey and in blue.")
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
    deadline = time.monotonic() + 60
    while not api.sent_to(psid) and time.monotonic() < deadline:
        account.run_outbox_cron()  # the retry is due after its backoff
        time.sleep(1)
    assert len(api.sent_to(psid)) == 1


def test_past_24_hours_a_reply_goes_as_a_human_agent(odoo, meta):
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
    reply_as_seller(odoo, account, psid, "Here is the price: 45 000 ₽.")
    _ack, reply = api.wait_sent(psid, 2, timeout=20)
    assert (reply["messaging_type"], reply["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert reply["message"]["text"] == "Here is the price: 45 000 ₽."


def test_customer_who_cannot_be_reached_shows_blocked(meta):
    account, api, webhook_object = meta
    psid = customer(account, 5)
    api.blocked_chats.add(psid)
    account.post_meta(meta_message(webhook_object, psid, "Hello"), APP_SECRET)
    wait_for(lambda: (account.conversation(psid) or {}).get("blocked"), "blocked", timeout=30)
