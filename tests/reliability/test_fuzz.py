"""Hostile bodies mixed with valid updates: never a 500 or a traceback, nothing half-stored.

Telegram's, MAX's and VK's come with their secret, Avito's with the token in the URL (its valid
messages are in its fake API, its forged ones are not: they are kept as failed); WhatsApp's,
Instagram's, Facebook Messenger's and Viber's are signed as Meta and Viber sign them, so each one
passes the signature check and reaches the parser.
"""

import collections
import hashlib
import hmac
import itertools
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from messenger_fixtures import (
    META_PAGE_ID,
    WHATSAPP_PHONE_NUMBER_ID,
    messenger_account,
    tg_message,
)

from harness import figure, size

BODIES = size(600, 10_000)
APP_SECRET = "fuzz-app-secret"
_ids = itertools.count(int(time.time()) % 100_000 * 100_000 + 500_000_000)
_RUN = int(time.time()) % 1_000_000  # WhatsApp numbers, Viber, MAX and VK ids of this run

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
odd_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=60
) | st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<b>bold</b> & co",
        "\u202eevil",
        "𝔘𝔫𝔦",
        "a\x00b",
        "lone \ud800 surrogate",
        "\udfff",
        "\u2066isolated\u2069 \u200f",
    ]
)
# URLs a callback may give for a file: none but the fake's own may be fetched
media_urls = st.text(max_size=40) | st.sampled_from(
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:1/",
        "file:///etc/passwd",
        "https://dl-media.viber.com.evil.example/x.jpg",
        "https://user@dl-media.viber.com/x.jpg",
        "https://dl-media.viber.com\\@evil.example/x.jpg",
    ]
)


def fuzz(suite, post, bodies):
    """POST hypothesis' (kind, body) pairs with `post(kind, body)`: never a 5xx or a
    traceback."""
    sent = collections.Counter()
    bad_answers = []

    @settings(
        max_examples=BODIES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(bodies)
    def post_one(kind_and_body):
        kind, body = kind_and_body
        sent[kind] += 1
        answer = post(kind, body)
        if answer.status_code >= 500 or "Traceback" in answer.text:
            bad_answers.append((kind, answer.status_code, answer.text[:200]))

    post_one()
    for kind, count in sorted(sent.items()):
        figure(suite, f"sent {kind}", count)
    figure(suite, "answers 5xx or with a traceback", len(bad_answers))
    assert bad_answers == []


def check_stored(suite, account, chats, refs=None):
    """Every update stored was processed or kept as failed with its error; the chats of the
    valid bodies each have a contact, a thread and a lead; their messages (`refs`, as
    mail.message's messenger_ref) are all in the threads."""
    updates = account.admin.call(
        "messenger.update",
        "search_read",
        [["account_id", "=", account.id]],
        fields=["state", "error"],
    )
    figure(suite, "malformed updates kept as failed", sum(u["state"] == "failed" for u in updates))
    stuck = [
        u
        for u in updates
        if u["state"] == "received" or (u["state"] == "failed" and not u["error"])
    ]
    assert stuck == []
    conversations = account.admin.call(
        "messenger.conversation",
        "search_read",
        [["account_id", "=", account.id], ["external_chat_id", "in", sorted(chats)]],
        fields=["partner_id", "discuss_channel_id", "lead_id"],
    )
    half = [
        c
        for c in conversations
        if not (c["partner_id"] and c["discuss_channel_id"] and c["lead_id"])
    ]
    figure(suite, "chats of valid bodies bridged", len(conversations))
    assert len(conversations) == len(chats) and half == []
    if refs is not None:
        posted = account.admin.call(
            "mail.message", "search_count", [["messenger_ref", "in", sorted(refs)]]
        )
        figure(suite, "messages of valid bodies in their threads", posted)
        assert posted == len(refs)


# ---------------------------------------------------------------------------------------------
# Telegram
# ---------------------------------------------------------------------------------------------


def valid_update(text, name):
    update = tg_message(next(_ids) % 10_000 + 600_000, text)
    update["update_id"] = next(_ids)
    update["message"]["from"]["first_name"] = name
    return "valid", json.dumps(update)


def wrong_types(value):
    return "wrong types", json.dumps({"update_id": next(_ids), "message": value})


def missing_fields(keys):
    message = {k: v for k, v in tg_message(1, "x")["message"].items() if k in keys}
    return "missing fields", json.dumps({"update_id": next(_ids), "message": message})


bodies = st.one_of(
    st.builds(valid_update, odd_text, odd_text),
    st.binary(max_size=200).map(lambda raw: ("invalid JSON", raw)),
    json_values.map(lambda value: ("not an update", json.dumps(value))),
    json_values.map(wrong_types),
    st.sets(st.sampled_from(["message_id", "date", "chat", "from", "text"])).map(missing_fields),
    st.integers(2_000, 50_000).map(lambda depth: ("deep nesting", "[" * depth + "]" * depth)),
    st.just(("over 1 MB", json.dumps({"update_id": 1, "pad": "x" * (1024 * 1024)}))),
)


def test_hostile_bodies(bot):
    valid = []

    def post(kind, body):
        if kind == "valid":
            valid.append(json.loads(body))
        return bot.post_raw(body)

    fuzz("fuzz", post, bodies)
    check_stored("fuzz", bot, {str(u["message"]["chat"]["id"]) for u in valid})
    updates = bot.admin.call(
        "messenger.update",
        "search_read",
        [["account_id", "=", bot.id], ["state", "=", "done"]],
        fields=["external_id"],
    )
    done = {int(u["external_id"]) for u in updates}
    unprocessed = [u["update_id"] for u in valid if u["update_id"] not in done]
    figure("fuzz", "valid updates processed", len(valid) - len(unprocessed))
    assert unprocessed == []
    scripts = bot.admin.call(
        "mail.message",
        "search_count",
        [["model", "=", "discuss.channel"], ["body", "ilike", "<script"]],
    )
    assert scripts == 0, "customer markup is escaped"


# ---------------------------------------------------------------------------------------------
# WhatsApp and Viber: signed as the messenger signs
# ---------------------------------------------------------------------------------------------


def signed(key, body):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw, hmac.new(key.encode(), raw, hashlib.sha256).hexdigest()


def wa_notification(value):
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [change]}]}


def wa_chat():
    return f"7918{_RUN:06d}{next(_ids) % 20:02d}"


def wa_message(wa_id, **message):
    return {
        "from": wa_id,
        "id": f"wamid.FUZZ{next(_ids)}",
        "timestamp": str(int(time.time())),
        **message,
    }


def wa_valid(text, name, caption, filename):
    wa_id = wa_chat()
    # an unknown media id: the chat shows it was not fetched
    document = {"id": "0", "caption": caption, "filename": filename}
    messages = [
        wa_message(wa_id, type="text", text={"body": text}),
        wa_message(wa_id, type="document", document=document),
    ]
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": WHATSAPP_PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": messages,
    }
    return "valid", wa_notification(value)


whatsapp_bodies = st.one_of(
    st.builds(wa_valid, odd_text, odd_text, odd_text, odd_text),
    st.binary(max_size=200).map(lambda raw: ("invalid JSON", raw)),
    json_values.map(lambda value: ("not a notification", value)),
    json_values.map(
        lambda entry: ("odd entry", {"object": "whatsapp_business_account", "entry": entry})
    ),
    json_values.map(lambda value: ("odd change value", wa_notification(value))),
    st.dictionaries(st.sampled_from(["contacts", "messages", "statuses"]), json_values).map(
        lambda value: ("odd lists", wa_notification(value))
    ),
    st.lists(
        st.dictionaries(
            st.sampled_from(
                ["from", "id", "timestamp", "type", "text", "image", "location", "contacts"]
            ),
            json_values,
        ),
        max_size=3,
    ).map(lambda messages: ("odd messages", wa_notification({"messages": messages}))),
    st.lists(
        st.dictionaries(
            st.sampled_from(["id", "status", "timestamp", "recipient_id", "errors"]), json_values
        ),
        max_size=3,
    ).map(lambda statuses: ("odd statuses", wa_notification({"statuses": statuses}))),
    json_values.map(lambda value: ("other field", wa_notification({"event": value}))),
)


@pytest.fixture
def whatsapp(workers_server):
    with messenger_account(
        workers_server, "whatsapp", "fuzz_whatsapp", app_secret=APP_SECRET
    ) as account:
        yield account


def test_hostile_whatsapp_notifications(whatsapp):
    chats, refs = set(), set()

    def post(kind, data):
        if kind == "valid":
            for message in data["entry"][0]["changes"][0]["value"]["messages"]:
                chats.add(message["from"])
                refs.add(f"{whatsapp.id}:{message['from']}:{message['id']}")
        body, digest = signed(APP_SECRET, data)
        return whatsapp.post_signed(body, "X-Hub-Signature-256", f"sha256={digest}")

    fuzz("fuzz whatsapp", post, whatsapp_bodies)
    check_stored("fuzz whatsapp", whatsapp, chats, refs)


def viber_valid(text, name, url):
    user_id = f"FUZZ{_RUN}-{next(_ids) % 20}="
    data = {
        "event": "message",
        "timestamp": int(time.time() * 1000),
        "message_token": next(_ids),
        "sender": {"id": user_id, "name": name, "language": "ru"},
        "message": {"type": "picture", "text": text, "media": url, "file_name": name},
    }
    return "valid", data


def viber_odd(event, fields):
    return "odd fields", {"event": event, "timestamp": 1, "message_token": next(_ids), **fields}


viber_bodies = st.one_of(
    st.builds(viber_valid, odd_text, odd_text, media_urls),
    st.binary(max_size=200).map(lambda raw: ("invalid JSON", raw)),
    json_values.map(lambda value: ("not a callback", value)),
    st.builds(
        viber_odd,
        st.sampled_from(
            ["message", "delivered", "seen", "failed", "subscribed", "unsubscribed", "webhook"]
        ),
        st.dictionaries(
            st.sampled_from(
                ["timestamp", "message_token", "user_id", "sender", "user", "message", "desc"]
            ),
            json_values,
        ),
    ),
    (json_values | st.fixed_dictionaries({"id": odd_text, "language": odd_text | json_values})).map(
        lambda user: (
            "odd newcomer",
            {
                "event": "conversation_started",
                "timestamp": 1,
                "message_token": next(_ids),
                "user": user,
                "subscribed": False,
            },
        )
    ),
)


@pytest.fixture
def viber(workers_server):
    with messenger_account(workers_server, "viber", "fuzz_viber") as account:
        yield account


def test_hostile_viber_callbacks(viber):
    chats, refs = set(), set()

    def post(kind, data):
        if kind == "valid":
            chats.add(data["sender"]["id"])
            refs.add(f"{viber.id}:{data['sender']['id']}:{data['message_token']}")
        body, digest = signed(viber.api.token, data)
        return viber.post_signed(body, "X-Viber-Content-Signature", digest)

    fuzz("fuzz viber", post, viber_bodies)
    check_stored("fuzz viber", viber, chats, refs)


# ---------------------------------------------------------------------------------------------
# MAX: with its secret header
# ---------------------------------------------------------------------------------------------

MAX_TYPES = ["message_created", "message_edited", "message_callback", "bot_started", "bot_stopped"]


def max_valid(text, name, url):
    user_id = _RUN * 100 + next(_ids) % 20
    picture = {"type": "image", "payload": {"photo_id": 1, "token": "t", "url": url}}
    message = {
        "sender": {"user_id": user_id, "first_name": name, "is_bot": False},
        "recipient": {"chat_id": user_id + 1, "chat_type": "dialog"},
        "timestamp": int(time.time() * 1000),
        "body": {"mid": f"mid.fuzz{next(_ids)}", "seq": 1, "text": text, "attachments": [picture]},
    }
    data = {
        "update_type": "message_created",
        "timestamp": int(time.time() * 1000),
        "message": message,
        "user_locale": name,
    }
    return "valid", data


def max_odd(update_type, fields):
    return "odd fields", {"update_type": update_type, "timestamp": next(_ids), **fields}


def max_odd_message(body, sender, recipient):
    message = {"body": body, "sender": sender, "recipient": recipient}
    return "odd message", {"update_type": "message_created", "timestamp": 1, "message": message}


max_bodies = st.one_of(
    st.builds(max_valid, odd_text, odd_text, media_urls),
    st.binary(max_size=200).map(lambda raw: ("invalid JSON", raw)),
    json_values.map(lambda value: ("not an update", value)),
    st.builds(
        max_odd,
        st.sampled_from([*MAX_TYPES, "dialog_muted"]),
        st.dictionaries(
            st.sampled_from(
                ["message", "callback", "user", "chat_id", "payload", "user_locale", "timestamp"]
            ),
            json_values,
        ),
    ),
    st.builds(
        max_odd_message,
        st.fixed_dictionaries(
            {"mid": odd_text},
            optional={"text": json_values, "attachments": json_values},
        ),
        json_values
        | st.fixed_dictionaries(
            {"user_id": json_values}, optional={"first_name": json_values, "is_bot": json_values}
        ),
        json_values | st.fixed_dictionaries({"chat_type": st.just("dialog")}),
    ),
)


@pytest.fixture
def max_bot(workers_server):
    with messenger_account(workers_server, "max", "fuzz_max") as account:
        yield account


def test_hostile_max_updates(max_bot):
    chats, refs = set(), set()

    def post(kind, data):
        if kind == "valid":
            user_id = str(data["message"]["sender"]["user_id"])
            chats.add(user_id)
            refs.add(f"{max_bot.id}:{user_id}:{data['message']['body']['mid']}")
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        return max_bot.post_max(raw)

    fuzz("fuzz max", post, max_bodies)
    check_stored("fuzz max", max_bot, chats, refs)


# ---------------------------------------------------------------------------------------------
# Instagram and Facebook Messenger: signed with the Meta app's secret
# ---------------------------------------------------------------------------------------------

META_EVENTS = ["sender", "recipient", "timestamp", "message", "postback", "delivery", "read"]


def meta_notification(webhook_object, events):
    now = int(time.time() * 1000)
    return {
        "object": webhook_object,
        "entry": [{"id": META_PAGE_ID, "time": now, "messaging": events}],
    }


def meta_valid(webhook_object, text, story, url):
    psid = f"9{_RUN:06d}{next(_ids) % 20:02d}"
    message = {
        "mid": f"m_fuzz{next(_ids)}",
        "text": text,
        "reply_to": {"story": {"url": story, "id": "1"}},
        "attachments": [{"type": "image", "payload": {"url": url}}],
    }
    event = {
        "sender": {"id": psid},
        "recipient": {"id": META_PAGE_ID},
        "timestamp": int(time.time() * 1000),
        "message": message,
    }
    return "valid", meta_notification(webhook_object, [event])


def meta_bodies(webhook_object):
    return st.one_of(
        st.builds(lambda *args: meta_valid(webhook_object, *args), odd_text, odd_text, media_urls),
        st.binary(max_size=200).map(lambda raw: ("invalid JSON", raw)),
        json_values.map(lambda value: ("not a notification", value)),
        json_values.map(lambda entry: ("odd entry", {"object": webhook_object, "entry": entry})),
        st.lists(st.dictionaries(st.sampled_from(META_EVENTS), json_values), max_size=3).map(
            lambda events: ("odd events", meta_notification(webhook_object, events))
        ),
        st.fixed_dictionaries(
            {"mid": odd_text},
            optional=dict.fromkeys(
                ("text", "attachments", "quick_reply", "reply_to", "is_echo"), json_values
            ),
        ).map(
            lambda message: (
                "odd message",
                meta_notification(
                    webhook_object,
                    [{"sender": {"id": "9"}, "timestamp": 1, "message": message}],
                ),
            )
        ),
    )


@pytest.fixture(params=["instagram", "facebook"])
def meta_bot(request, workers_server):
    code = request.param
    with messenger_account(workers_server, code, f"fuzz_{code}", app_secret=APP_SECRET) as account:
        yield account, code, account.messenger.webhook_object


def test_hostile_meta_notifications(meta_bot):
    account, code, webhook_object = meta_bot
    chats, refs = set(), set()

    def post(kind, data):
        if kind == "valid":
            event = data["entry"][0]["messaging"][0]
            chats.add(event["sender"]["id"])
            refs.add(f"{account.id}:{event['sender']['id']}:{event['message']['mid']}")
        body, digest = signed(APP_SECRET, data)
        return account.post_signed(body, "X-Hub-Signature-256", f"sha256={digest}")

    fuzz(f"fuzz {code}", post, meta_bodies(webhook_object))
    check_stored(f"fuzz {code}", account, chats, refs)


# ---------------------------------------------------------------------------------------------
# VK: with the secret key in the body
# ---------------------------------------------------------------------------------------------

VK_TYPES = ["confirmation", "message_new", "message_edit", "message_allow", "message_deny"]


def vk_valid(text, url):
    user_id = _RUN * 100 + next(_ids) % 20
    picture = {"type": "photo", "photo": {"id": 1, "owner_id": 1, "sizes": [{"url": url}]}}
    message = {
        "date": int(time.time()),
        "from_id": user_id,
        "peer_id": user_id,
        "id": next(_ids),
        "out": 0,
        "text": text,
        "attachments": [picture],
    }
    data = {
        "type": "message_new",
        "event_id": f"fuzz{next(_ids)}",
        "group_id": 1,
        "object": {"message": message, "client_info": {"lang_id": 0}},
    }
    return "valid", data


def vk_odd(event_type, fields):
    return "odd fields", {"type": event_type, "event_id": f"fuzz{next(_ids)}", **fields}


def vk_odd_message(event_type, message):
    body = {"message": message} if event_type == "message_new" else message
    return "odd message", {"type": event_type, "event_id": f"fuzz{next(_ids)}", "object": body}


vk_bodies = st.one_of(
    st.builds(vk_valid, odd_text, media_urls),
    st.binary(max_size=200).map(lambda raw: ("invalid JSON", raw)),
    json_values.map(lambda value: ("not an update", value)),
    st.builds(
        vk_odd,
        st.sampled_from([*VK_TYPES, "group_join"]),
        st.dictionaries(st.sampled_from(["object", "group_id", "v", "event_id"]), json_values),
    ),
    st.builds(
        vk_odd_message,
        st.sampled_from(["message_new", "message_edit"]),
        json_values
        | st.fixed_dictionaries(
            {
                "from_id": st.integers(-5, 3_000_000_000),
                "peer_id": st.integers(),
                "id": st.integers(),
            },
            optional={
                "text": json_values,
                "attachments": json_values,
                "payload": json_values,
                "geo": json_values,
                "fwd_messages": json_values,
                "date": json_values,
            },
        ),
    ),
)


@pytest.fixture
def vk_bot(workers_server):
    with messenger_account(workers_server, "vk", "fuzz_vk") as account:
        yield account


def test_hostile_vk_events(vk_bot):
    chats, refs = set(), set()

    def post(kind, data):
        if kind == "valid":
            user_id = str(data["object"]["message"]["from_id"])
            chats.add(user_id)
            refs.add(f"{vk_bot.id}:{user_id}:{data['object']['message']['id']}")
        if isinstance(data, dict):  # VK's secret key is in the body: it reaches the parser
            return vk_bot.post_vk(data)
        return vk_bot.post_vk(data if isinstance(data, bytes) else json.dumps(data).encode())

    fuzz("fuzz vk", post, vk_bodies)
    check_stored("fuzz vk", vk_bot, chats, refs)


# ---------------------------------------------------------------------------------------------
# Avito: the token in the URL; a message counts once read back through its API
# ---------------------------------------------------------------------------------------------


def avito_valid(text, name, url, image):
    """A buyer's message that the fake API has (made when posted): text, or a picture."""
    return "valid", (text, name, url, image)


def avito_forged(value):
    """A notification of the right shape that Avito's API does not know."""
    value = {"id": f"forged{next(_ids)}", "chat_id": f"u2i-forged-{next(_ids)}", **value}
    return "forged", {
        "id": "n",
        "version": "v3.0.0",
        "payload": {"type": "message", "value": value},
    }


def avito_forged_message(text, author_id):
    """A forger's buyer message, well formed but unknown to Avito's API."""
    content = {"text": text}
    return avito_forged({"author_id": author_id, "type": "text", "content": content})


avito_bodies = st.one_of(
    st.builds(avito_valid, odd_text, odd_text, media_urls, st.booleans()),
    st.builds(avito_forged_message, odd_text, st.integers(1, 10**12)),
    st.binary(max_size=200).map(lambda raw: ("invalid JSON", raw)),
    json_values.map(lambda value: ("not a notification", value)),
    st.builds(
        avito_forged,
        st.dictionaries(
            st.sampled_from(["author_id", "user_id", "type", "content", "created", "item_id"]),
            json_values,
        ),
    ),
    st.builds(
        lambda payload: ("odd payload", {"payload": payload}),
        json_values
        | st.fixed_dictionaries({"type": st.just("message")}, optional={"value": json_values}),
    ),
)


@pytest.fixture
def avito_bot(workers_server):
    with messenger_account(workers_server, "avito", "fuzz_avito") as account:
        yield account


def test_hostile_avito_notifications(avito_bot):
    chats, refs, forged = set(), set(), set()
    api = avito_bot.api

    def post(kind, data):
        if kind == "forged":
            forged.add(data["payload"]["value"]["chat_id"])
        if kind == "valid":
            text, name, url, image = data
            n = next(_ids) % 20
            chat_id = f"u2i-fuzz-{_RUN}-{n}"
            content = {"image": {"sizes": {"1280x960": url}}} if image else {"text": text}
            kind = "image" if image else "text"
            data = api.buyer_writes(chat_id, _RUN * 100 + n, text, kind, content, name=name)
            chats.add(chat_id)
            refs.add(f"{avito_bot.id}:{chat_id}:{data['payload']['value']['id']}")
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        return avito_bot.post_avito(raw)

    fuzz("fuzz avito", post, avito_bodies)
    check_stored("fuzz avito", avito_bot, chats, refs)
    made = avito_bot.admin.call(
        "messenger.conversation",
        "search_count",
        [["account_id", "=", avito_bot.id], ["external_chat_id", "in", sorted(forged)]],
    )
    figure("fuzz avito", "chats made by forged notifications", made)
    assert made == 0
