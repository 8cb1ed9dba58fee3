"""Customers on WhatsApp and Viber and a salesperson in Odoo, end to end, over loopback.

The same guarantees as Telegram's: a wrong signature is refused and nothing is stored, a repeated
delivery is ignored, a lead is made and acknowledged at once, a failed send is retried.
"""

import hashlib
import hmac
import itertools
import json
import time

import pytest
from messenger_fixtures import (
    WHATSAPP_PHONE_NUMBER_ID,
    BotAccount,
    FakeViberApi,
    FakeWhatsAppApi,
)

APP_SECRET = "e2e-app-secret"
_ids = itertools.count(int(time.time()) % 1_000_000 * 1000)
# numbers of this run: a number known from an earlier run on the same database would join that
# customer's open lead, as it should, and get no new acknowledgement
_RUN = int(time.time()) % 1_000_000


def wa_number(n):
    return f"7917{_RUN:06d}{n}"


def signed(secret, data):
    body = json.dumps(data).encode()
    return body, hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def whatsapp_text(wa_id, text):
    message = {
        "from": wa_id,
        "id": f"wamid.E2E{next(_ids)}",
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": WHATSAPP_PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Ivan"}, "wa_id": wa_id}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }


def viber_text(user_id, text):
    return {
        "event": "message",
        "timestamp": int(time.time() * 1000),
        "message_token": next(_ids),
        "sender": {"id": user_id, "name": "Anna", "language": "ru"},
        "message": {"type": "text", "text": text},
    }


@pytest.fixture(scope="module")
def whatsapp_api():
    with FakeWhatsAppApi() as api:
        yield api


@pytest.fixture(scope="module")
def whatsapp(odoo, whatsapp_api):
    return BotAccount(
        odoo,
        odoo.rpc("admin", "admin"),
        whatsapp_api,
        "e2e_whatsapp",
        provider="whatsapp",
        whatsapp_phone_number_id=WHATSAPP_PHONE_NUMBER_ID,
        app_secret=APP_SECRET,
    )


@pytest.fixture(scope="module")
def viber_api():
    with FakeViberApi() as api:
        yield api


@pytest.fixture(scope="module")
def viber(odoo, viber_api):
    return BotAccount(odoo, odoo.rpc("admin", "admin"), viber_api, "e2e_viber", provider="viber")


def post_whatsapp(account, data, secret=APP_SECRET):
    body, digest = signed(secret, data)
    return account.post_signed(body, "X-Hub-Signature-256", f"sha256={digest}")


def post_viber(account, api, data, token=None):
    body, digest = signed(token or api.token, data)
    return account.post_signed(body, "X-Viber-Content-Signature", digest)


def lead_of(account, chat_id):
    conversation = account.conversation(chat_id)
    return account.admin.call(
        "crm.lead", "read", [conversation["lead_id"][0]], fields=["channel_id", "user_id"]
    )[0]


def test_whatsapp_customer_gets_a_lead_and_an_acknowledgement(whatsapp, whatsapp_api):
    answer = post_whatsapp(whatsapp, whatsapp_text(wa_number(1), "Do you sell sofas?"))
    assert (answer.status_code, answer.text) == (200, "ok")
    lead = lead_of(whatsapp, wa_number(1))
    assert lead["channel_id"][1] == "WhatsApp"
    assert lead["user_id"], "assigned at once"
    (ack,) = whatsapp_api.wait_sent(wa_number(1), 1)
    assert "within 5 minutes" in ack["interactive"]["body"]["text"]


def test_whatsapp_wrong_signature_and_duplicates(whatsapp):
    data = whatsapp_text(wa_number(2), "Once")
    assert post_whatsapp(whatsapp, data, secret="forged").status_code == 403
    assert whatsapp.conversation(wa_number(2)) is None, "nothing stored"
    assert post_whatsapp(whatsapp, data).text == "ok"
    assert post_whatsapp(whatsapp, data).text == "duplicate"
    assert len(whatsapp.customer_messages(wa_number(2))) == 1


def test_whatsapp_rate_limited_send_is_retried(whatsapp, whatsapp_api):
    whatsapp_api.fail_next("messages", 429)
    post_whatsapp(whatsapp, whatsapp_text(wa_number(3), "Hello"))
    assert not whatsapp_api.sent_to(wa_number(3)), "refused once"
    deadline = time.monotonic() + 30
    while not whatsapp_api.sent_to(wa_number(3)) and time.monotonic() < deadline:
        whatsapp.run_outbox_cron()  # the retry is due after its backoff
        time.sleep(1)
    assert len(whatsapp_api.sent_to(wa_number(3))) == 1


def test_viber_customer_gets_a_lead_and_a_keyboard(viber, viber_api):
    answer = post_viber(viber, viber_api, viber_text("V1=", "Hi, is it in stock?"))
    assert (answer.status_code, answer.text) == (200, "ok")
    assert lead_of(viber, "V1=")["channel_id"][1] == "Viber"
    (ack,) = viber_api.wait_sent("V1=", 1)
    assert [b["ActionType"] for b in ack["keyboard"]["Buttons"]] == ["share-phone", "reply"]


def test_viber_wrong_signature_and_duplicates(viber, viber_api):
    data = viber_text("V2=", "Once")
    assert post_viber(viber, viber_api, data, token="forged").status_code == 403
    assert viber.conversation("V2=") is None, "nothing stored"
    assert post_viber(viber, viber_api, data).text == "ok"
    assert post_viber(viber, viber_api, data).text == "duplicate"
    assert len(viber.customer_messages("V2=")) == 1


def test_viber_too_many_requests_is_retried(viber, viber_api):
    viber_api.fail_next("send_message", 12)
    post_viber(viber, viber_api, viber_text("V3=", "Hello"))
    deadline = time.monotonic() + 30
    while not viber_api.sent_to("V3=") and time.monotonic() < deadline:
        viber.run_outbox_cron()
        time.sleep(1)
    assert len(viber_api.sent_to("V3=")) == 1
