"""Customers on WhatsApp and Viber and a salesperson in Odoo, end to end, over loopback.

The same guarantees as Telegram's: a wrong signature is refused and nothing is stored, a repeated
delivery is ignored, a lead is made and acknowledged at once, a failed send is retried.
"""

import json
import time

import pytest
from messenger_fixtures import (
    MESSENGERS,
    hmac_sha256,
    messenger_account,
    viber_message,
    whatsapp_message,
)

APP_SECRET = MESSENGERS["whatsapp"].app_secret
# numbers of this run: a number known from an earlier run on the same database would join that
# customer's open lead, as it should, and get no new acknowledgement
_RUN = int(time.time()) % 1_000_000


def wa_number(n):
    return f"7917{_RUN:06d}{n}"


@pytest.fixture(scope="module")
def whatsapp(odoo):
    with messenger_account(odoo, "whatsapp", "e2e_whatsapp") as account:
        yield account


@pytest.fixture(scope="module")
def whatsapp_api(whatsapp):
    return whatsapp.api


@pytest.fixture(scope="module")
def viber(odoo):
    with messenger_account(odoo, "viber", "e2e_viber") as account:
        yield account


@pytest.fixture(scope="module")
def viber_api(viber):
    return viber.api


def post_whatsapp(account, data, secret=APP_SECRET):
    body = json.dumps(data).encode()
    return account.post_signed(body, "X-Hub-Signature-256", f"sha256={hmac_sha256(secret, body)}")


def post_viber(account, api, data, token=None):
    body = json.dumps(data).encode()
    return account.post_signed(
        body, "X-Viber-Content-Signature", hmac_sha256(token or api.token, body)
    )


def test_whatsapp_customer_gets_a_lead_and_an_acknowledgement(whatsapp, whatsapp_api):
    answer = post_whatsapp(whatsapp, whatsapp_message(wa_number(1), "Do you sell sofas?"))
    assert (answer.status_code, answer.text) == (200, "ok")
    lead = whatsapp.lead_of(wa_number(1))
    assert lead["messenger_channel_id"][1] == "WhatsApp"
    assert lead["user_id"], "assigned at once"
    (ack,) = whatsapp_api.wait_sent(wa_number(1), 1)
    assert "within 5 minutes" in ack["interactive"]["body"]["text"]


def test_whatsapp_wrong_signature_and_duplicates(whatsapp):
    data = whatsapp_message(wa_number(2), "Once")
    assert post_whatsapp(whatsapp, data, secret="forged").status_code == 403
    assert whatsapp.conversation(wa_number(2)) is None, "nothing stored"
    assert post_whatsapp(whatsapp, data).text == "ok"
    assert post_whatsapp(whatsapp, data).text == "duplicate"
    assert len(whatsapp.customer_messages(wa_number(2))) == 1


def test_whatsapp_rate_limited_send_is_retried(whatsapp, whatsapp_api):
    whatsapp_api.fail_next("messages", 429)
    post_whatsapp(whatsapp, whatsapp_message(wa_number(3), "Hello"))
    assert not whatsapp_api.sent_to(wa_number(3)), "refused once"
    assert len(whatsapp.sent_after_retries(wa_number(3), 30)) == 1


def test_viber_customer_gets_a_lead_and_a_keyboard(viber, viber_api):
    answer = post_viber(viber, viber_api, viber_message("V1=", "Hi, is it in stock?"))
    assert (answer.status_code, answer.text) == (200, "ok")
    assert viber.lead_of("V1=")["messenger_channel_id"][1] == "Viber"
    (ack,) = viber_api.wait_sent("V1=", 1)
    assert [b["ActionType"] for b in ack["keyboard"]["Buttons"]] == ["share-phone", "reply"]


def test_viber_wrong_signature_and_duplicates(viber, viber_api):
    data = viber_message("V2=", "Once")
    assert post_viber(viber, viber_api, data, token="forged").status_code == 403
    assert viber.conversation("V2=") is None, "nothing stored"
    assert post_viber(viber, viber_api, data).text == "ok"
    assert post_viber(viber, viber_api, data).text == "duplicate"
    assert len(viber.customer_messages("V2=")) == 1


def test_viber_too_many_requests_is_retried(viber, viber_api):
    viber_api.fail_next("send_message", 12)
    post_viber(viber, viber_api, viber_message("V3=", "Hello"))
    assert len(viber.sent_after_retries("V3=", 30)) == 1
