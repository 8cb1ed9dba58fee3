"""A buyer on Avito and a salesperson in Odoo, end to end, over loopback.

The same guarantees as the other messengers' (a wrong or missing token is refused and nothing is
stored, a repeated delivery is ignored, a lead is made and acknowledged, a rate-limited send is
retried, a reply written in Discuss reaches the buyer), and Avito's own: a forged notification
creates nothing, and the API sync repairs the messages whose webhooks Avito dropped. The
webhook only promises the notification is stored: every effect is waited for.
"""

import concurrent.futures
import time

import pytest
from messenger_fixtures import messenger_account, run_cron, wait_for

_RUN = int(time.time()) % 1_000_000
SOFA = {
    "id": 4071239,
    "title": "Диван Осло, серый",
    "price_string": "45 000 ₽",
    "url": "https://www.avito.ru/moskva/mebel/divan_oslo_4071239",
}


def buyer(n):
    """An Avito user id of this run: an earlier run's buyer keeps their own open lead."""
    return _RUN * 100 + n


def chat(n):
    return f"u2i-e2e-{_RUN}-{n}"


@pytest.fixture(scope="module")
def avito_bot(odoo):
    with messenger_account(odoo, "avito", "e2e_avito") as account:
        yield account


@pytest.fixture(scope="module")
def avito_api(avito_bot):
    return avito_bot.api


def lead_of(account, chat_id):
    return account.lead_of(
        chat_id,
        ("messenger_channel_id", "user_id", "messenger_listing_title", "messenger_listing_url"),
    )


def updates_of(account):
    return account.admin.call(
        "messenger.update",
        "search_read",
        [["account_id", "=", account.id]],
        fields=["state", "error", "external_id"],
    )


def test_avito_buyer_gets_a_lead_with_the_listing_an_acknowledgement_and_a_reply(
    avito_bot, avito_api
):
    chat_id = chat(1)
    notification = avito_api.buyer_writes(chat_id, buyer(1), "Диван ещё продаётся?", item=SOFA)
    answer = avito_bot.post_avito(notification)
    assert (answer.status_code, answer.text) == (200, "ok")
    lead = lead_of(avito_bot, chat_id)
    assert lead["messenger_channel_id"][1] == "Avito"
    assert (lead["messenger_listing_title"], lead["messenger_listing_url"]) == (
        SOFA["title"],
        SOFA["url"],
    )
    (ack,) = avito_api.wait_sent(chat_id, 1, timeout=20)
    assert "5" in ack["text"]
    seller = wait_for(lambda: lead_of(avito_bot, chat_id)["user_id"], "an assigned salesperson")
    assert seller[0] == avito_bot.seller_id
    # a 2,400-character answer: three messages of at most 1,000, in order
    paragraphs = [f"{n}. Диван «Осло» стоит 45 000 ₽, доставка за 3 дня." for n in range(1, 200)]
    text = "\n".join(paragraphs)[:2400]
    avito_bot.reply_as_seller(chat_id, text)
    _ack, *parts = avito_api.wait_sent(chat_id, 4, timeout=30)
    assert len(parts) == 3
    assert all(len(part["text"]) <= 1000 for part in parts)
    assert " ".join(part["text"] for part in parts).split() == text.split(), "all, in order"


def test_avito_wrong_or_missing_token_and_duplicates(avito_bot, avito_api):
    chat_id = chat(2)
    notification = avito_api.buyer_writes(chat_id, buyer(2), "Once", item=SOFA)
    assert avito_bot.post_avito(notification, token="forged-token").status_code == 403
    assert avito_bot.post_avito(notification, token=False).status_code == 403
    assert avito_bot.conversation(chat_id) is None, "nothing stored"
    assert avito_bot.post_avito(notification).text == "ok"
    assert avito_bot.post_avito(dict(notification, id="retried")).text == "duplicate"
    messages = wait_for(lambda: avito_bot.customer_messages(chat_id), "the message")
    time.sleep(1)  # a duplicate processed late would show by now
    assert len(avito_bot.customer_messages(chat_id)) == len(messages) == 1


def test_avito_forged_notification_creates_nothing(avito_bot, avito_api):
    """Someone who learnt the URL's token sends a message Avito never had: it is stored and
    answered (Avito's own would be too), then read back through the API and ignored."""
    chat_id = chat(3)
    forged = avito_api.forged(chat_id, buyer(3), "Оплатите здесь: https://evil.example")
    assert avito_bot.post_avito(forged).text == "ok"
    assert avito_bot.conversation(chat_id) is None, "no conversation, no lead"
    (update,) = [u for u in updates_of(avito_bot) if u["state"] == "failed"]
    assert "does not know this message" in update["error"]
    assert avito_api.sent_to(chat_id) == []


def test_avito_sync_repairs_dropped_webhooks(avito_bot, avito_api):
    """Avito dropped five webhooks (Odoo was slow or down): the sync finds the messages through
    the API; a webhook that did arrive is not doubled."""
    delivered = avito_api.buyer_writes(chat(4), buyer(4), "Delivered", item=SOFA)
    assert avito_bot.post_avito(delivered).text == "ok"
    dropped = [
        (chat(5 + n % 2), avito_api.buyer_writes(chat(5 + n % 2), buyer(5 + n % 2), f"Lost {n}"))
        for n in range(5)
    ]
    started = time.monotonic()
    run_cron(avito_bot.admin, "messenger_leads_bot.ir_cron_messenger_api_sync")
    for chat_id in {chat_id for chat_id, _n in dropped}:
        expected = sum(1 for c, _n in dropped if c == chat_id)
        wait_for(
            lambda chat_id=chat_id, expected=expected: (
                avito_bot.conversation(chat_id)
                and len(avito_bot.customer_messages(chat_id)) >= expected
            ),
            f"the dropped messages of {chat_id}",
            timeout=60,
        )
    took = time.monotonic() - started
    print(f"\n5 messages whose webhooks were dropped repaired by the sync in {took:.1f} s")
    texts = sorted(
        m["body"] for c in {chat(4), chat(5), chat(6)} for m in avito_bot.customer_messages(c)
    )
    assert texts == sorted(["<p>Delivered</p>", *(f"<p>Lost {n}</p>" for n in range(5))])
    run_cron(avito_bot.admin, "messenger_leads_bot.ir_cron_messenger_api_sync")
    assert avito_bot.all_processed()
    again = sorted(
        m["body"] for c in {chat(4), chat(5), chat(6)} for m in avito_bot.customer_messages(c)
    )
    assert again == texts, "a second sync doubles nothing"


def test_avito_webhook_stored_while_the_sync_reads_is_no_conflict(avito_bot, avito_api):
    """A buyer writes twice while the sync is reading Avito's chats (1.5 s): the first
    message's webhook arrives meanwhile, the second's is dropped. One run of the sync stores
    the dropped one and finds the other stored: it is not refused for being stored after the
    sync's snapshot and run again (reading Avito again)."""
    arrived = avito_api.buyer_writes(chat(9), buyer(9), "Arrived during the sync", item=SOFA)
    avito_api.buyer_writes(chat(9), buyer(9), "Dropped during the sync")

    def chat_listings():
        return sum(1 for method, _query in avito_api.calls if method == "chats")

    listed = chat_listings()
    avito_api.chats_seconds = 1.5
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            sync = pool.submit(
                run_cron, avito_bot.admin, "messenger_leads_bot.ir_cron_messenger_api_sync"
            )
            wait_for(lambda: chat_listings() > listed, "the sync listing the chats")
            assert avito_bot.post_avito(arrived).text == "ok"
            sync.result()
    finally:
        avito_api.chats_seconds = 0.0
    assert chat_listings() == listed + 1, "the sync read Avito once"
    wait_for(lambda: len(avito_bot.customer_messages(chat(9))) >= 2, "both messages in the thread")
    assert avito_bot.all_processed()
    assert sorted(m["body"] for m in avito_bot.customer_messages(chat(9))) == [
        "<p>Arrived during the sync</p>",
        "<p>Dropped during the sync</p>",
    ]


def test_avito_rate_limited_send_is_retried(avito_bot, avito_api):
    chat_id = chat(7)
    avito_api.fail_next("send", 429, retry_after=1)
    avito_bot.post_avito(avito_api.buyer_writes(chat_id, buyer(7), "Hello", item=SOFA))
    wait_for(lambda: avito_api.failures_returned, "the 429")
    assert len(avito_bot.sent_after_retries(chat_id, 30)) == 1


def test_avito_token_renewed_by_the_sync_and_the_intake_at_once(avito_bot, avito_api):
    """The token expired; the API sync and the intake both ask Avito for a new one at the same
    moment (each takes 1.5 s). Whichever keeps its token second fails to serialise as it saves
    it, before any call that needed it, and is taken again with the other's: the buyer is
    acknowledged within seconds (not after a lease of 30 s), and once."""
    avito_bot.admin.call(
        "messenger.bot.account",
        "write",
        [avito_bot.id],
        {"access_token_expires_at": "2020-01-01 00:00:00"},
    )
    issued = avito_api.tokens_issued
    avito_api.token_seconds = 1.5
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            sync = pool.submit(
                run_cron, avito_bot.admin, "messenger_leads_bot.ir_cron_messenger_api_sync"
            )
            time.sleep(0.3)  # the sync is waiting for its token
            started = time.monotonic()
            notification = avito_api.buyer_writes(chat(8), buyer(8), "Ещё есть?", item=SOFA)
            assert avito_bot.post_avito(notification).text == "ok"
            assert avito_api.wait_sent(chat(8), 1, timeout=30), "acknowledged"
            took = time.monotonic() - started
            sync.result()  # Odoo retries its request while it fails to serialise
    finally:
        avito_api.token_seconds = 0.0
    print(f"\nacknowledged in {took:.1f} s, the sync renewing the token at the same moment")
    # a third when the sync, refused once (the webhook stored the buyer's message after its
    # snapshot), tries again before the intake's token is committed
    assert avito_api.tokens_issued - issued >= 2, "both asked for one at once"
    assert took < 10, "no batch waited for its lease to run out"
    assert len(avito_bot.customer_messages(chat(8))) == 1
