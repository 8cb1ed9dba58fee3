"""Every trust rule attacked over HTTP, against a real Odoo with 2 workers on loopback.

The attackers: a stranger on the internet, a salesperson of the chat's own team, a salesperson of
another team who sees all leads (*All documents*), and a user of another company. Each refusal is
counted as it happens and the counts are printed as measured.
"""

import base64
import collections
import hashlib
import hmac
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from messenger_fixtures import (
    WHATSAPP_PHONE_NUMBER_ID,
    BotAccount,
    FakeAvitoApi,
    FakeBotApi,
    FakeMaxApi,
    FakeMetaApi,
    FakeViberApi,
    FakeVkApi,
    FakeWhatsAppApi,
    all_processed,
    max_message,
    meta_message,
    post_in_thread,
    tg_message,
    vk_message,
)

from harness import figure

REFUSED = r"[Aa]ccess|not allowed|permission|administrator"
APP_SECRET = "security-app-secret"
_RUN = int(time.time()) % 1_000_000
refusals = collections.Counter()


def number(n):
    """A Russian mobile number unique to this run: earlier runs' customers stay theirs."""
    return f"7915{_RUN:06d}{n}"


def refused(kind, call, *args, match=REFUSED, **kwargs):
    """Assert that an RPC call is refused, and count it."""
    with pytest.raises(RuntimeError, match=match):
        call(*args, **kwargs)
    refusals[kind] += 1


def signed_post(account, secret, data, header, prefix=""):
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return account.post_signed(body, header, prefix + digest)


def post_whatsapp(account, data):
    return signed_post(account, APP_SECRET, data, "X-Hub-Signature-256", "sha256=")


def post_viber(account, data):
    return signed_post(account, account.api.token, data, "X-Viber-Content-Signature")


def whatsapp_text(wa_id, text, name="Ivan"):
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": WHATSAPP_PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": f"wamid.SEC{time.time_ns()}",
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }


def viber_message(user_id, message, name="Anna"):
    return {
        "event": "message",
        "timestamp": int(time.time() * 1000),
        "message_token": time.time_ns() // 1000,
        "sender": {"id": user_id, "name": name, "language": "en"},
        "message": message,
    }


def xmlid(admin, module, name):
    return admin.call("ir.model.data", "check_object_reference", module, name)[1]


def make_user(server, admin, login, groups, company=None):
    values = {
        "name": login.replace("_", " ").title(),
        "login": login,
        "password": f"{login}-password",
        "groups_id": [(6, 0, [xmlid(admin, *group.split(".")) for group in groups])],
    }
    if company:
        values.update(company_id=company, company_ids=[(6, 0, [company])])
    uid = admin.call("res.users", "create", values)
    return uid, server.rpc(login, f"{login}-password")


class World:
    """Two companies, bots in both, and one user of each kind of attacker."""

    def __init__(
        self, server, telegram_api, whatsapp_api, viber_api, max_api, *, meta_api, vk_api, avito_api
    ):
        self.server = server
        self.admin = admin = server.rpc("admin", "admin")
        self.company_a = admin.call("res.users", "read", [admin.uid], fields=["company_id"])[0][
            "company_id"
        ][0]
        # no country: phones in international form must work all the same
        self.company_b = admin.call("res.company", "create", {"name": f"Security B {_RUN}"})
        admin.call("res.users", "write", [admin.uid], {"company_ids": [(4, self.company_b)]})
        self.telegram = BotAccount(server, admin, telegram_api, f"sec_tg_{_RUN}")
        self.viber = BotAccount(server, admin, viber_api, f"sec_vb_{_RUN}", provider="viber")
        self.max = BotAccount(server, admin, max_api, f"sec_max_{_RUN}", provider="max")
        # Instagram and Facebook Messenger: one Meta app, its secret signs both
        self.meta = {
            webhook_object: BotAccount(
                server, admin, meta_api, f"sec_{code}_{_RUN}", provider=code, app_secret=APP_SECRET
            )
            for code, webhook_object in (("instagram", "instagram"), ("facebook", "page"))
        }
        self.vk = BotAccount(server, admin, vk_api, f"sec_vk_{_RUN}", provider="vk")
        self.avito = BotAccount(
            server,
            admin,
            avito_api,
            f"sec_avito_{_RUN}",
            provider="avito",
            client_id=avito_api.client_id,
            client_secret=avito_api.client_secret,
        )
        # company B's WhatsApp number, with no team: its leads wait unassigned
        self.whatsapp_b = admin.call(
            "messenger.bot.account",
            "create",
            {
                "name": f"B WhatsApp {_RUN}",
                "provider": "whatsapp",
                "token": whatsapp_api.token,
                "api_url": whatsapp_api.url,
                "whatsapp_phone_number_id": WHATSAPP_PHONE_NUMBER_ID,
                "app_secret": APP_SECRET,
                "company_id": self.company_b,
            },
        )
        self.both_companies = {"allowed_company_ids": [self.company_a, self.company_b]}
        self.whatsapp_b_url = f"{server.url}/messenger_leads/whatsapp/{self.whatsapp_b}"
        salesman = "sales_team.group_sale_salesman"
        self.seller_uid, self.seller = make_user(server, admin, f"sec_seller_{_RUN}", [salesman])
        admin.call(
            "crm.team.member",
            "create",
            {"crm_team_id": self.telegram.team_id, "user_id": self.seller_uid},
        )
        other_team = admin.call("crm.team", "create", {"name": f"Other team {_RUN}"})
        all_leads = "sales_team.group_sale_salesman_all_leads"
        self.all_docs_uid, self.all_docs = make_user(
            server, admin, f"sec_all_docs_{_RUN}", [all_leads]
        )
        self.own_docs_uid, self.own_docs = make_user(
            server, admin, f"sec_own_docs_{_RUN}", [salesman]
        )
        for uid in (self.all_docs_uid, self.own_docs_uid):
            admin.call("crm.team.member", "create", {"crm_team_id": other_team, "user_id": uid})
        self.foreign_uid, self.foreign = make_user(
            server, admin, f"sec_foreign_{_RUN}", [all_leads], company=self.company_b
        )

    def chat(self, chat_id, text="Hello, I need a kitchen"):
        """A Telegram customer's chat, assigned to the team's salesperson of this suite."""
        assert self.telegram.post(tg_message(chat_id, text)).text == "ok"
        conversation = self.telegram.conversation(chat_id)
        self.admin.call(
            "crm.lead", "write", [conversation["lead_id"][0]], {"user_id": self.seller_uid}
        )
        return conversation


@pytest.fixture(scope="module")
def world(serve_test_database):
    with (
        serve_test_database("reliability-security.log") as server,
        FakeBotApi() as telegram_api,
        FakeWhatsAppApi() as whatsapp_api,
        FakeViberApi() as viber_api,
        FakeMaxApi() as max_api,
        FakeMetaApi() as meta_api,
        FakeVkApi() as vk_api,
        FakeAvitoApi() as avito_api,
    ):
        yield World(
            server,
            telegram_api,
            whatsapp_api,
            viber_api,
            max_api,
            meta_api=meta_api,
            vk_api=vk_api,
            avito_api=avito_api,
        )
    for kind, count in sorted(refusals.items()):
        figure("security", f"refused {kind}", count)


# -- the stranger on the internet -------------------------------------------------------------


def test_webhooks_refuse_wrong_secrets_and_ignore_replays(world):
    telegram = world.telegram
    update = tg_message(402_001, "Hello")
    avito_chat = f"u2i-sec-{_RUN}"
    # a message Avito does not have: its API sync, which brings in what webhooks missed, runs
    # meanwhile and would rightly bridge a real one, refused here as a webhook
    avito_message = world.avito.api.forged(avito_chat, 402_021, "Hello")
    for answer in (
        telegram.post(update, secret=""),
        telegram.post(update, secret="x" * 43),
        telegram.post(update, url=f"{world.server.url}/messenger_leads/telegram/999999"),
        post_whatsapp_b(world, whatsapp_text(number(3), "Hello"), secret="forged"),
        signed_post(
            world.viber,
            "forged",
            viber_message("V-S1=", {"type": "text"}),
            "X-Viber-Content-Signature",
        ),
        world.max.post_max(max_message(402_011, "Hello"), secret=""),
        world.max.post_max(max_message(402_011, "Hello"), secret="x" * 43),
        *(
            post
            for webhook_object, account in world.meta.items()
            for post in (
                account.post_meta(meta_message(webhook_object, "402012", "Hi"), "forged"),
                account.post(meta_message(webhook_object, "402012", "Hi"), secret=""),
            )
        ),
        world.vk.post_vk(vk_message(402_021, "Hello"), secret=False),
        world.vk.post_vk(vk_message(402_021, "Hello"), secret=""),
        world.vk.post_vk(vk_message(402_021, "Hello"), secret="x" * 43),
        world.vk.post_vk({"type": "confirmation", "group_id": 1}, secret="x" * 43),
        world.avito.post_avito(avito_message, token=""),
        world.avito.post_avito(avito_message, token=False),
        world.avito.post_avito(avito_message, token="x" * 43),
    ):
        assert answer.status_code == 403
        refusals["webhook calls"] += 1
    assert telegram.conversation(402_001) is None, "nothing stored for a refused request"
    assert world.max.conversation(402_011) is None
    assert all(account.conversation("402012") is None for account in world.meta.values())
    assert world.vk.conversation(402_021) is None
    assert world.avito.conversation(avito_chat) is None
    # Avito signs nothing: with the URL's token, a message its API does not have makes nothing
    forged = world.avito.api.forged(avito_chat, 402_021, "Pay here")
    assert world.avito.post_avito(forged).text == "ok"
    assert world.avito.conversation(avito_chat) is None, "a forged notification creates nothing"
    refusals["forged notifications"] += 1
    assert telegram.post(update).text == "ok"
    assert telegram.post(update).text == "duplicate", "a replayed update is not processed twice"
    assert len(telegram.customer_messages(402_001)) == 1


def test_every_messenger_stores_a_replayed_request_once(world):
    """A stranger replaying a messenger's genuine request as it was (or the messenger sending
    it again): stored once, one message in the chat's thread."""
    accounts = [world.telegram, world.viber, world.max, *world.meta.values(), world.vk, world.avito]
    for n, account in enumerate(accounts):
        chat = account.messenger.chat(403_000 + n)
        url, body, headers = account.request(account.message(chat, "Hello"))
        before = stored_updates(world.admin, account.id)
        answers = [requests.post(url, data=body, headers=headers, timeout=30) for _replay in "12"]
        assert [answer.status_code for answer in answers] == [200, 200], account.messenger.code
        assert account.all_processed()
        assert stored_updates(world.admin, account.id) == before + 1, account.messenger.code
        assert len(account.customer_messages(chat)) == 1, account.messenger.code
        refusals["replays"] += 1
    before = stored_updates(world.admin, world.whatsapp_b)
    replayed = whatsapp_text(number(4), "Hello")
    assert [post_whatsapp_b(world, replayed).text for _replay in "12"] == ["ok", "duplicate"]
    assert stored_updates(world.admin, world.whatsapp_b) == before + 1
    refusals["replays"] += 1


def stored_updates(admin, account_id):
    return admin.call("messenger.update", "search_count", [["account_id", "=", account_id]])


def test_oversized_bodies_are_refused_before_they_are_read(world):
    huge = b'{"update_id": 1, "pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    took = []
    for post in (
        lambda: world.telegram.post(huge),
        lambda: post_whatsapp_b(world, huge),
        lambda: post_viber(world.viber, huge),
        lambda: world.max.post_max(huge),
        *(
            lambda account=account: account.post_meta(huge, APP_SECRET)
            for account in world.meta.values()
        ),
        lambda: world.vk.post_vk(huge),
        lambda: world.avito.post_avito(huge),
    ):
        began = time.perf_counter()
        answer = post()
        took.append(time.perf_counter() - began)
        assert answer.status_code == 413
        refusals["webhook calls"] += 1
    figure("security", "413 for a 5 MB body, slowest", f"{max(took) * 1000:.0f}", "ms")


def post_whatsapp_b(world, data, secret=APP_SECRET):
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    answer = requests.post(
        world.whatsapp_b_url,
        data=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"},
        timeout=60,
    )
    if answer.status_code == 200:
        assert all_processed(world.admin, world.whatsapp_b)
    return answer


def test_odd_signed_bodies_answer_400_and_odd_text_is_cleaned(world):
    for answer in (
        world.telegram.post({"update_id": True}),
        post_whatsapp_b(world, {"object": "whatsapp_business_account", "entry": "x"}),
        post_viber(world.viber, {"event": "subscribed", "timestamp": 1, "user": "x"}),
        world.max.post_max({"update_type": "message_created", "timestamp": 1, "message": "x"}),
        *(
            account.post_meta({"object": webhook_object, "entry": "x"}, APP_SECRET)
            for webhook_object, account in world.meta.items()
        ),
        world.vk.post_vk({"type": "message_new", "event_id": "e", "object": "x"}),
        world.avito.post_avito({"payload": {"type": "message", "value": "x"}}),
    ):
        assert answer.status_code == 400, answer.text
        assert "Traceback" not in answer.text
        refusals["webhook calls"] += 1
    empty = {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": []}]}
    assert post_whatsapp_b(world, empty).text == "ok"
    empty["entry"][0]["id"] = "W2"
    assert post_whatsapp_b(world, empty).text == "ok", "no shared replay key"
    update = tg_message(402_002, "/start promo\x00\ud800")
    update["message"]["from"].update(first_name="\u202eevil\x00", language_code="r\ud800u")
    body = json.dumps(update).encode()  # keeps the lone surrogate as \ud800
    assert world.telegram.post(body).text == "ok"
    conversation = world.telegram.conversation(402_002)
    partner = world.admin.call(
        "res.partner", "read", [conversation["partner_id"][0]], fields=["name"]
    )[0]
    assert partner["name"] == "evil"


# -- identity: what a customer claims is not who they are --------------------------------------


def test_a_contact_card_does_not_make_a_customer_the_administrator(world):
    admin = world.admin
    admin_partner = admin.call("res.users", "read", [admin.uid], fields=["partner_id"])[0][
        "partner_id"
    ][0]
    admin.call("res.partner", "write", [admin_partner], {"phone": f"+{number(1)}"})
    attacker = "V-ATTACK="
    post_viber(world.viber, viber_message(attacker, {"type": "text", "text": "Hi"}))
    card = {"type": "contact", "contact": {"name": "Admin", "phone_number": number(1)}}
    assert post_viber(world.viber, viber_message(attacker, card)).text == "ok"
    post_viber(world.viber, viber_message(attacker, {"type": "text", "text": "I am admin now"}))
    conversation = world.viber.conversation(attacker)
    assert conversation["partner_id"][0] != admin_partner
    authors = {m["author_id"][0] for m in message_authors(world, conversation)}
    assert admin_partner not in authors, "nothing in the thread is written as the administrator"
    phone = admin.call("res.partner", "read", [admin_partner], fields=["phone"])[0]["phone"]
    assert phone == f"+{number(1)}"


def message_authors(world, conversation):
    return world.admin.call(
        "mail.message",
        "search_read",
        [
            ["model", "=", "discuss.channel"],
            ["res_id", "=", conversation["discuss_channel_id"][0]],
            ["author_id", "!=", False],
        ],
        fields=["author_id"],
    )


def test_another_companys_bot_keeps_its_customers_apart(world):
    admin = world.admin
    known = admin.call(
        "res.partner",
        "create",
        {"name": "A's customer", "phone": f"+{number(2)}", "company_id": world.company_a},
    )
    lead_a = admin.call(
        "crm.lead",
        "create",
        {"name": "A's deal", "partner_id": known, "company_id": world.company_a},
    )
    assert post_whatsapp_b(world, whatsapp_text(number(2), "Hello company B")).text == "ok"
    conversation = admin.call(
        "messenger.conversation",
        "search_read",
        [["account_id", "=", world.whatsapp_b], ["external_chat_id", "=", number(2)]],
        fields=["partner_id", "lead_id"],
        context=world.both_companies,
    )[0]
    assert conversation["partner_id"][0] != known
    assert conversation["lead_id"][0] != lead_a
    lead = admin.call(
        "crm.lead",
        "read",
        [conversation["lead_id"][0]],
        fields=["company_id", "user_id", "phone"],
        context=world.both_companies,
    )[0]
    assert lead["company_id"][0] == world.company_b
    assert lead["user_id"] is False, "no team: unassigned, never the public user"
    assert lead["phone"] == f"+{number(2)}", "a company without a country reads +7 all the same"
    partner = admin.call(
        "res.partner",
        "read",
        [conversation["partner_id"][0]],
        fields=["company_id"],
        context=world.both_companies,
    )[0]
    assert partner["company_id"][0] == world.company_b


# -- salespeople: each sees and does only their own -------------------------------------------


def test_a_salesperson_cannot_rewire_a_chat(world):
    own = world.chat(402_010)
    other = world.chat(402_011)
    for field, value in (
        ("discuss_channel_id", other["discuss_channel_id"][0]),
        ("lead_id", other["lead_id"][0]),
        ("external_chat_id", "999"),
        ("partner_id", other["partner_id"][0]),
    ):
        refused(
            "writes",
            world.seller.call,
            "messenger.conversation",
            "write",
            [own["id"]],
            {field: value},
        )
    assert world.telegram.conversation(402_010)["discuss_channel_id"] == own["discuss_channel_id"]


def test_only_administrators_use_the_bots_credentials(world):
    calls_before = len(world.telegram.api.calls)
    for user in (world.seller, world.all_docs):
        for action in ("action_remove_webhook", "action_set_webhook", "action_check_connection"):
            refused(
                "credential uses", user.call, "messenger.bot.account", action, [world.telegram.id]
            )
        refused(
            "reads",
            user.call,
            "messenger.bot.account",
            "read",
            [world.telegram.id],
            fields=["token"],
        )
    assert len(world.telegram.api.calls) == calls_before, "the messenger was never called"


def test_each_role_reads_only_its_own(world):
    conversation = world.chat(402_020)
    lead = conversation["lead_id"][0]
    thread = conversation["discuss_channel_id"][0]
    seller = world.seller
    assert seller.call("messenger.conversation", "search", [["id", "=", conversation["id"]]])
    assert seller.call("messenger.outbox", "search", [["conversation_id", "=", conversation["id"]]])
    outbox = world.admin.call(
        "messenger.outbox", "search", [["conversation_id", "=", conversation["id"]]]
    )
    update = world.admin.call(
        "messenger.update", "search", [["conversation_id", "=", conversation["id"]]]
    )
    report = world.admin.call("messenger.lead.report", "search", [["lead_id", "=", lead]])
    [company] = world.admin.call("crm.lead", "read", [lead], fields=["company_id"])
    company_totals = [["company_id", "=", company["company_id"][0]]]
    totals = world.admin.call("messenger.lead.report.aggregate", "search", company_totals)
    assert outbox and update and report and totals
    strangers = {
        "another team's salesperson": (
            world.own_docs,
            [
                ("messenger.conversation", conversation["id"]),
                ("crm.lead", lead),
                ("discuss.channel", thread),
                ("messenger.outbox", outbox[0]),
            ],
        ),
        "another company's user": (
            world.foreign,
            [
                ("messenger.conversation", conversation["id"]),
                ("crm.lead", lead),
                ("discuss.channel", thread),
                ("messenger.outbox", outbox[0]),
                ("messenger.update", update[0]),
                ("messenger.lead.report", report[0]),
                ("messenger.lead.report.aggregate", totals[0]),
            ],
        ),
        "another team's all-documents salesperson": (
            world.all_docs,
            [
                ("discuss.channel", thread),
            ],
        ),
    }
    for _who, (user, records) in strangers.items():
        for model, record in records:
            refused("reads", user.call, model, "read", [record], fields=["display_name"])
    assert (
        world.foreign.call("messenger.lead.report", "search_count", [["lead_id", "=", lead]]) == 0
    )
    assert (
        world.foreign.call("messenger.lead.report.aggregate", "search_count", company_totals) == 0
    )


def test_a_long_reply_reaches_the_customer_whole(world):
    conversation = world.chat(402_030)
    paragraphs = [
        f"Paragraph {n}: " + "we can deliver the kitchen next week. " * 9 for n in range(9)
    ]
    reply = "\n\n".join(paragraphs)[:3000]
    assert len(reply) == 3000
    post_in_thread(world.seller, conversation, reply)
    sent = world.telegram.api.wait_sent(402_030, 2)
    texts = [m["text"] for m in sent[1:]]
    assert "\n".join(texts).replace("\n", "") == reply.replace("\n", "")
    assert texts[-1].count("\n\n") + sum(t.count("\n\n") for t in texts[:-1]) == 8, (
        "paragraphs kept"
    )


def upload(rpc, name, data):
    """A file uploaded to a thread's composer before its message is posted, as Discuss does."""
    return rpc.call(
        "ir.attachment",
        "create",
        {
            "name": name,
            "datas": base64.b64encode(data).decode(),
            "res_model": "mail.compose.message",
            "res_id": 0,
        },
    )


def attach(admin, name, model, res_id):
    return admin.call(
        "ir.attachment",
        "create",
        {
            "name": name,
            "datas": base64.b64encode(b"%PDF-1.4\n" + name.encode() * 100).decode(),
            "res_model": model,
            "res_id": res_id,
        },
    )


def post_with_files(rpc, thread_id, body, attachment_ids):
    return rpc.call(
        "discuss.channel",
        "message_post",
        [thread_id],
        body=body,
        attachment_ids=attachment_ids,
        message_type="comment",
        subtype_xmlid="mail.mt_comment",
    )


def test_a_reply_sends_only_the_files_posted_into_its_thread(world):
    """The salesperson names, with their own file, a file of the lead and one of another chat's
    thread (both readable to them, and linked to the message by Odoo): only their own reaches
    the customer. A file they cannot read makes Odoo refuse the message."""
    conversation = world.chat(402_070)
    other = world.chat(402_071)
    assert world.telegram.api.wait_sent(402_070, 1)
    contract = attach(world.admin, "contract.pdf", "crm.lead", conversation["lead_id"][0])
    passport = attach(
        world.admin, "passport.pdf", "discuss.channel", other["discuss_channel_id"][0]
    )
    hidden_lead = world.admin.call(
        "crm.lead", "create", {"name": f"Hidden deal {_RUN}", "user_id": world.own_docs_uid}
    )
    hidden = attach(world.admin, "hidden.pdf", "crm.lead", hidden_lead)
    offer = b"%PDF-1.4\n" + b"offer " * 20_000
    own = upload(world.seller, "offer.pdf", offer)
    thread = conversation["discuss_channel_id"][0]
    refused("file leaks", post_with_files, world.seller, thread, "Here", [own, hidden])
    post_with_files(world.seller, thread, "Here is the offer", [own, contract, passport])
    world.telegram.api.wait_sent(402_070, 2)  # the text goes right after the commit
    time.sleep(1.1)  # one message a chat a second: then the cron (none runs here) sends files
    world.telegram.run_outbox_cron()
    sent = world.telegram.api.wait_sent(402_070, 5, timeout=3)
    assert [m.get("file", {}).get("name") or m["text"] for m in sent[1:]] == [
        "Here is the offer",
        "offer.pdf",
    ]
    assert sent[2]["file"]["sha256"] == hashlib.sha256(offer).hexdigest()
    refusals["file leaks"] += 2  # the lead's contract and the other chat's passport


def test_viber_fetches_each_file_by_a_url_that_opens_that_file_only(world):
    """Viber's servers fetch the files of a reply from Odoo, without a session: each URL carries
    its attachment's own access token; the bare URL, or another file's token, opens nothing."""
    admin, server = world.admin, world.server
    base_url = admin.call("ir.config_parameter", "get_param", "web.base.url")
    admin.call("ir.config_parameter", "set_param", "web.base.url", server.url)
    world.viber.api.fetch_files = True
    try:
        assert post_viber(world.viber, viber_message("V-FILES=", {"type": "text", "text": "Hi"}))
        assert world.viber.api.wait_sent("V-FILES=", 1), "the acknowledgement"
        conversation = world.viber.conversation("V-FILES=")
        admin.call(
            "crm.lead", "write", [conversation["lead_id"][0]], {"user_id": world.viber.seller_id}
        )
        seller = server.rpc(world.viber.seller_login, world.viber.seller_login)
        photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 200_000
        offer = b"%PDF-1.4\n" + b"offer " * 20_000
        files = [upload(seller, "sofa.jpg", photo), upload(seller, "offer.pdf", offer)]
        post_with_files(seller, conversation["discuss_channel_id"][0], "Photo, offer", files)
        world.viber.api.wait_sent("V-FILES=", 2)  # the text goes right after the commit
        time.sleep(1.1)  # one message a chat a second: then the cron (none runs here) sends
        world.viber.run_outbox_cron()  # the files, from a worker; Viber fetches from the other
    finally:
        world.viber.api.fetch_files = False
        admin.call("ir.config_parameter", "set_param", "web.base.url", base_url)
    picture, document = [
        m for m in world.viber.api.sent_to("V-FILES=") if m["type"] in ("picture", "file")
    ]
    assert (picture["type"], document["type"]) == ("picture", "file")
    assert picture["file"].get("sha256") == hashlib.sha256(photo).hexdigest(), picture["file"]
    assert document["file"].get("sha256") == hashlib.sha256(offer).hexdigest(), document["file"]
    photo_token = re.search(r"access_token=(\w+)", picture["media"]).group(1)
    bare = document["media"].split("?")[0]
    for url in (bare, f"{bare}?access_token={photo_token}"):
        answer = requests.get(url, timeout=30, allow_redirects=False)
        assert answer.status_code != 200 and offer not in answer.content, url
        refusals["file URLs"] += 1


def test_tracked_links_never_expose_tokens_and_score_once(world):
    conversation = world.chat(402_040)
    portal = "https://shop.example.com/my/orders/7?access_token=5ecret-t0ken"
    catalog = "https://shop.example.com/catalog/kitchens"
    world.seller.call(
        "discuss.channel",
        "message_post",
        [conversation["discuss_channel_id"][0]],
        body=f"Your order: {portal}\nOur kitchens: {catalog}",
        message_type="comment",
        subtype_xmlid="mail.mt_comment",
    )
    text = world.telegram.api.wait_sent(402_040, 2)[-1]["text"]
    assert portal in text, "a link with a token is sent as it is, never shortened"
    (short,) = re.findall(r"https?://\S+/r/(\S+)", text)
    assert len(short) >= 16, "our codes cannot be enumerated"
    for _click in range(3):
        requests.get(f"{world.server.url}/r/{short}", allow_redirects=False, timeout=30)
    signals = world.admin.call(
        "crm.lead", "read", [conversation["lead_id"][0]], fields=["messenger_signal_ids"]
    )[0]["messenger_signal_ids"]
    codes = [
        s["signal_id"][1]
        for s in world.admin.call("messenger.lead.signal", "read", signals, fields=["signal_id"])
    ]
    assert codes.count("Clicked a link") == 1


def test_a_broken_account_does_not_stop_the_others(world):
    broken = BotAccount(world.server, world.admin, world.telegram.api, f"sec_broken_{_RUN}")
    world.admin.call("messenger.bot.account", "write", [broken.id], {"token": False})
    assert broken.post(tg_message(402_050, "Hello broken")).text == "ok"
    assert world.telegram.post(tg_message(402_051, "Hello working")).text == "ok"
    assert world.telegram.api.wait_sent(402_051, 1), "the working bot still answers"


def test_a_typo_in_a_bot_text_is_refused_with_the_allowed_placeholders(world):
    with pytest.raises(RuntimeError, match=r"\{minutes\}"):
        world.admin.call(
            "messenger.bot.account",
            "write",
            [world.telegram.id],
            {"acknowledgement_text": "We answer within {minute} minutes"},
        )


def test_media_only_from_the_messengers_hosts(world):
    requests_seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            requests_seen.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"secret metadata")

    foreign = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    threading.Thread(target=foreign.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.2:{foreign.server_port}/latest/meta-data"
        picture = {"type": "picture", "text": "look", "media": url}
        assert post_viber(world.viber, viber_message("V-MEDIA=", picture)).text == "ok"
    finally:
        foreign.shutdown()
        foreign.server_close()
    assert requests_seen == [], "Odoo never fetched from a host the callback named"
    conversation = world.viber.conversation("V-MEDIA=")
    attachments = world.admin.call(
        "ir.attachment",
        "search_count",
        [
            ["res_model", "=", "discuss.channel"],
            ["res_id", "=", conversation["discuss_channel_id"][0]],
        ],
    )
    assert attachments == 0


def test_the_public_cannot_call_internal_routes(world):
    url = world.server.url
    call_kw = requests.post(
        f"{url}/web/dataset/call_kw/crm.lead/search_read",
        json={
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"model": "crm.lead", "method": "search_read", "args": [], "kwargs": {}},
        },
        timeout=30,
    ).json()
    assert "error" in call_kw and "result" not in call_kw
    refusals["public calls"] += 1
    with pytest.raises(PermissionError):
        world.server.rpc("admin", "wrong-password")
    refusals["public calls"] += 1
    assert requests.get(f"{url}/messenger_leads/telegram/1", timeout=30).status_code in (404, 405)
    refusals["public calls"] += 1


def test_the_token_never_appears_in_logs(world):
    telegram = world.telegram
    telegram.post(tg_message(402_060, "Hello"))
    world.admin.call("messenger.bot.account", "action_check_connection", [telegram.id])
    assert telegram.api.wait_sent(402_060, 1), "a message was sent with the token"
    with open(world.server.log_path, errors="replace") as log:
        text = log.read()
    assert f"POST /messenger_leads/telegram/{telegram.id}" in text, "the log covers the traffic"
    assert telegram.api.token not in text
