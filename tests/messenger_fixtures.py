"""Bot accounts (Telegram, WhatsApp, Viber, MAX, VK, Instagram, Facebook Messenger, Avito) on
the test database, wired to local fake APIs."""

import contextlib
import hashlib
import hmac
import importlib
import importlib.util
import itertools
import json
import os
import sys
import time
import types
from datetime import UTC, datetime

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _fake_api(name):
    """A fake messenger API of the addon's tests, without importing the addon's Odoo tests."""
    package = sys.modules.get("messenger_fakes")
    if package is None:
        package = types.ModuleType("messenger_fakes")
        package.__path__ = [os.path.join(ROOT, "messenger_leads_bot", "tests")]
        sys.modules["messenger_fakes"] = package
    return importlib.import_module(f"messenger_fakes.{name}")


def adapters_package():
    """The addon's adapters package (messenger_leads_bot/adapters), imported without Odoo."""
    if "messenger_adapters" not in sys.modules:
        path = os.path.join(ROOT, "messenger_leads_bot", "adapters")
        spec = importlib.util.spec_from_file_location(
            "messenger_adapters",
            os.path.join(path, "__init__.py"),
            submodule_search_locations=[path],
        )
        package = importlib.util.module_from_spec(spec)
        sys.modules["messenger_adapters"] = package
        spec.loader.exec_module(package)
    return sys.modules["messenger_adapters"]


FakeBotApi = _fake_api("fake_bot_api").FakeBotApi
FakeWhatsAppApi = _fake_api("fake_whatsapp_api").FakeWhatsAppApi
WHATSAPP_PHONE_NUMBER_ID = _fake_api("fake_whatsapp_api").PHONE_NUMBER_ID
FakeViberApi = _fake_api("fake_viber_api").FakeViberApi
FakeMaxApi = _fake_api("fake_max_api").FakeMaxApi
MAX_SECRET_HEADER = "X-Max-Bot-Api-Secret"
FakeMetaApi = _fake_api("fake_meta_api").FakeMetaApi
META_PAGE_ID = _fake_api("fake_meta_api").PAGE_ID
META_SIGNATURE_HEADER = "X-Hub-Signature-256"
FakeVkApi = _fake_api("fake_vk_api").FakeVkApi
VK_GROUP_ID = _fake_api("fake_vk_api").GROUP_ID
FakeAvitoApi = _fake_api("fake_avito_api").FakeAvitoApi

_ids = itertools.count(int(time.time()) % 1_000_000 * 1000)


def new_update_id():
    """An update_id no other test used."""
    return next(_ids)


def tg_message(chat_id, text, message_id=None):
    update_id = new_update_id()
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id or update_id,
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": f"Customer {chat_id}"},
            "text": text,
        },
    }


def max_message(user_id, text, locale="ru"):
    """A MAX message_created update of a dialog, with a mid no other test used."""
    now = int(time.time() * 1000)
    return {
        "update_type": "message_created",
        "timestamp": now,
        "user_locale": locale,
        "message": {
            "sender": {"user_id": user_id, "first_name": f"Customer {user_id}", "is_bot": False},
            "recipient": {"chat_id": user_id + 1, "chat_type": "dialog"},
            "timestamp": now,
            "body": {"mid": f"mid.e2e{new_update_id()}", "seq": 1, "text": text},
        },
    }


def meta_message(webhook_object, sender, text="", **message):
    """An Instagram (`instagram`) or Facebook Messenger (`page`) notification of one customer
    message, with a mid no other test used."""
    now = int(time.time() * 1000)
    event = {
        "sender": {"id": str(sender)},
        "recipient": {"id": META_PAGE_ID},
        "timestamp": now,
        "message": {"mid": f"m_e2e{new_update_id()}", "text": text, **message},
    }
    return {
        "object": webhook_object,
        "entry": [{"id": META_PAGE_ID, "time": now, "messaging": [event]}],
    }


def meta_signature(app_secret, body):
    """X-Hub-Signature-256 of a raw body, as Meta signs it with the app's secret."""
    return "sha256=" + hmac_sha256(app_secret, body)


def vk_message(user_id, text, lang_id=0):
    """A VK message_new event of a community dialog, with an event_id and a message id no other
    test used (without the secret: post_vk adds it)."""
    message_id = new_update_id()
    message = {
        "date": int(time.time()),
        "from_id": user_id,
        "peer_id": user_id,
        "id": message_id,
        "out": 0,
        "text": text,
        "attachments": [],
        "fwd_messages": [],
    }
    return {
        "group_id": VK_GROUP_ID,
        "type": "message_new",
        "event_id": f"e2e{message_id:037x}",
        "v": "5.199",
        "object": {"message": message, "client_info": {"lang_id": lang_id}},
    }


def whatsapp_message(wa_id, text, name="Ivan"):
    """A WhatsApp Cloud API notification of one customer's text, with an id no other test used."""
    message = {
        "from": wa_id,
        "id": f"wamid.E2E{new_update_id()}",
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": WHATSAPP_PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }


def viber_message(user_id, message, name="Anna", language="ru"):
    """A Viber callback of one customer's message (a text, or a message dict), with a
    message_token no other test used."""
    return {
        "event": "message",
        "timestamp": int(time.time() * 1000),
        "message_token": new_update_id(),
        "sender": {"id": user_id, "name": name, "language": language},
        "message": {"type": "text", "text": message} if isinstance(message, str) else message,
    }


def hmac_sha256(key, body):
    """The hex HMAC-SHA256 of a raw body, as WhatsApp, Viber and Meta sign theirs."""
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def wait_for(fetch, what, timeout=20.0):
    """What `fetch` gives once it gives something, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = fetch()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def post_in_thread(user, conversation, text):
    """A user (a JSON-RPC session) writes into a conversation's Discuss thread."""
    user.call(
        "discuss.channel",
        "message_post",
        [conversation["discuss_channel_id"][0]],
        body=text,
        message_type="comment",
        subtype_xmlid="mail.mt_comment",
    )


def all_processed(admin, account_id, seconds=30, interval=0.05):
    """Whether the intake crons processed every update the account's webhook stored, within
    `seconds` (asking every `interval` seconds): the webhook only stores, the updates are
    processed in the background."""
    deadline = time.monotonic() + seconds
    while admin.call(
        "messenger.update",
        "search_count",
        [["account_id", "=", account_id], ["state", "=", "received"]],
    ):
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def run_cron(admin, xmlid):
    """Run a cron now, as its *Run manually* button does; when a cron worker is running it
    already, that run does what this one would."""
    module, name = xmlid.split(".")
    cron = admin.call(
        "ir.model.data",
        "search_read",
        [["module", "=", module], ["name", "=", name]],
        fields=["res_id"],
    )[0]["res_id"]
    try:
        admin.call("ir.cron", "method_direct_trigger", [cron])
    except RuntimeError as exc:
        if "currently being executed" not in str(exc):
            raise


class BotAccount:
    """The account's id and secret, and helpers to talk to Odoo as Telegram and as a user."""

    def __init__(self, odoo, admin, api, team_name, provider="telegram", **account_values):
        self.odoo = odoo
        self.admin = admin
        self.api = api
        always = admin.call(
            "resource.calendar",
            "create",
            {
                "name": f"{team_name} 24/7",
                "tz": "UTC",
                "attendance_ids": [(5, 0, 0)]
                + [
                    (
                        0,
                        0,
                        {
                            "name": str(d),
                            "dayofweek": str(d),
                            "hour_from": 0,
                            "hour_to": 24,
                            "day_period": "morning",
                        },
                    )
                    for d in range(7)
                ],
            },
        )
        # the demo team's head when there is demo data, else the administrator
        leader = (admin.call("res.users", "search", [["login", "=", "lead"]]) or [admin.uid])[0]
        # a salesperson of its own: at work when the team is, with no leads yet; password = login
        self.seller_login = f"{team_name}_seller_{time.time_ns()}"
        self.seller_id = admin.call(
            "res.users",
            "create",
            {
                "name": f"{team_name} seller",
                "login": self.seller_login,
                "password": self.seller_login,
            },
        )
        self.team_id = admin.call(
            "crm.team",
            "create",
            {
                "name": team_name,
                "user_id": leader,
                "messenger_resource_calendar_id": always,
                "messenger_assignment": "least_loaded",
                "messenger_require_presence": False,  # the seller never logs in
                "crm_team_member_ids": [(0, 0, {"user_id": self.seller_id})],
            },
        )
        self.id = admin.call(
            "messenger.bot.account",
            "create",
            {
                "name": f"@{team_name}_bot",
                "provider": provider,
                "token": api.token,
                "api_url": api.url,
                "team_id": self.team_id,
                **account_values,
            },
        )
        self.secret = admin.call(
            "messenger.bot.account", "read", [self.id], fields=["webhook_secret"]
        )[0]["webhook_secret"]
        self.url = f"{odoo.url}/messenger_leads/{provider}/{self.id}"
        self.messenger = MESSENGERS[provider]
        self.values = account_values

    def post(self, update, secret=None, url=None):
        """POST an update (a dict), or a raw body (bytes), as Telegram would."""
        return self.post_raw(
            update if isinstance(update, bytes) else json.dumps(update), secret=secret, url=url
        )

    def post_raw(self, body, secret=None, url=None):
        return self.processed(
            requests.post(
                url or self.url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": self.secret if secret is None else secret,
                },
                timeout=30,
            )
        )

    def post_signed(self, body, header, signature):
        """POST raw bytes with a messenger's signature header (WhatsApp, Viber)."""
        return self.processed(
            requests.post(
                self.url,
                data=body,
                headers={"Content-Type": "application/json", header: signature},
                timeout=30,
            )
        )

    def processed(self, response):
        """The webhook's answer, once the intake crons processed what it stored: the webhook
        only stores, the account's waiting updates are then processed in the background."""
        if response.status_code == 200:
            self.all_processed()
        return response

    def all_processed(self, seconds=30, interval=0.05):
        """Whether the intake processed every update of the account within `seconds`."""
        return all_processed(self.admin, self.id, seconds, interval)

    def post_max(self, update, secret=None):
        """POST an update (a dict) or a raw body (bytes) as MAX would, with its secret header."""
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        return self.post_signed(body, MAX_SECRET_HEADER, self.secret if secret is None else secret)

    def post_meta(self, update, app_secret):
        """POST a notification (a dict) or a raw body (bytes) as Meta would, signed with the
        Meta app's secret (Instagram, Facebook Messenger)."""
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        return self.post_signed(body, META_SIGNATURE_HEADER, meta_signature(app_secret, body))

    def post_vk(self, event, secret=None):
        """POST an event (a dict) as VK would, with the secret key in its body (None: the
        account's; False: none); a raw body (bytes) as it is."""
        if isinstance(event, bytes):
            body = event
        else:
            event = {key: value for key, value in event.items() if key != "secret"}
            if secret is not False:
                event["secret"] = self.secret if secret is None else secret
            body = json.dumps(event).encode()
        return self.processed(
            requests.post(
                self.url, data=body, headers={"Content-Type": "application/json"}, timeout=30
            )
        )

    def post_avito(self, notification, token=None):
        """POST a notification (a dict) or a raw body (bytes) as Avito would: the account's
        token in the URL, nothing else to check."""
        body = notification if isinstance(notification, bytes) else json.dumps(notification)
        token = self.secret if token is None else token
        return self.processed(
            requests.post(
                f"{self.url}?token={token}" if token is not False else self.url,
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=30,
            )
        )

    def request(self, update, server_url=None):
        """(URL, raw body, headers) of a request delivering an update (a dict) as its messenger
        does, to this account's webhook on the Odoo at `server_url` (its own by default)."""
        url = self.messenger.url(self)
        if server_url:
            url = url.replace(self.odoo.url, server_url, 1)
        body = json.dumps(update).encode()
        return url, body, {"Content-Type": "application/json", **self.messenger.headers(self, body)}

    def message(self, chat_id, text):
        """A customer's text message in the chat, as its messenger notifies it."""
        return self.messenger.message(self, chat_id, text)

    def reply_as_seller(self, chat_id, text):
        """The account's salesperson answers the chat in Discuss."""
        seller = self.odoo.rpc(self.seller_login, self.seller_login)
        post_in_thread(seller, self.conversation(chat_id), text)

    def sent_after_retries(self, chat_id, seconds=30):
        """What the fake API got for the chat once it got something, the delivery cron run
        each second meanwhile (a retry is due after the delay the messenger asked or backoff)."""
        deadline = time.monotonic() + seconds
        while not self.api.sent_to(chat_id) and time.monotonic() < deadline:
            self.run_outbox_cron()
            time.sleep(1)
        return self.api.sent_to(chat_id)

    def lead_of(self, chat_id, fields=("messenger_channel_id", "user_id")):
        """The chat's lead (these fields), once the intake made it."""
        conversation = wait_for(
            lambda: (
                (self.conversation(chat_id) or {}).get("lead_id") and self.conversation(chat_id)
            ),
            f"the lead of {chat_id}",
        )
        return self.admin.call(
            "crm.lead", "read", [conversation["lead_id"][0]], fields=list(fields)
        )[0]

    def conversation(self, chat_id):
        found = self.admin.call(
            "messenger.conversation",
            "search_read",
            [["account_id", "=", self.id], ["external_chat_id", "=", str(chat_id)]],
            fields=["lead_id", "discuss_channel_id", "blocked", "partner_id"],
        )
        return found[0] if found else None

    def customer_messages(self, chat_id):
        conversation = self.conversation(chat_id)
        return self.admin.call(
            "mail.message",
            "search_read",
            [
                ["model", "=", "discuss.channel"],
                ["res_id", "=", conversation["discuss_channel_id"][0]],
                ["author_id", "=", conversation["partner_id"][0]],
            ],
            fields=["body"],
            order="id",
        )

    def run_outbox_cron(self):
        run_cron(self.admin, "messenger_leads_bot.ir_cron_messenger_outbox_deliver")


class Messenger:
    """One messenger as its customers reach a bot account, for the suites that run for every
    provider: its fake API, the account's values, a customer's message, how a webhook request
    is authenticated, the fake's name of its send call and the failures it can answer it."""

    code = "telegram"
    send = "sendMessage"
    # (status, retry_after, times) the fake answers sends with, all retried: an error, a rate
    # limit, a dropped connection
    failures = ((500, 0, 1), (429, 1, 1), (0, 0, 1))

    def api(self):
        return FakeBotApi()

    def account_values(self, api):
        return {}

    def chat(self, n):
        """The chat of customer number n."""
        return n

    def message(self, account, chat, text):
        return tg_message(chat, text)

    def headers(self, account, body):
        return {"X-Telegram-Bot-Api-Secret-Token": account.secret}

    def url(self, account):
        return account.url

    def text(self, sent):
        """The text of a message the fake API recorded as sent."""
        return sent["text"]

    def delivery_key(self, update):
        """What the account stores the update under (its external id)."""
        body = json.dumps(update).encode()
        return adapters_package().PROVIDERS[self.code].delivery_key(update, body)


class WhatsApp(Messenger):
    code = "whatsapp"
    send = "messages"
    failures = ((500, 0, 1), (429, 0, 1))
    app_secret = "e2e-app-secret"

    def api(self):
        return FakeWhatsAppApi()

    def account_values(self, api):
        return {"whatsapp_phone_number_id": WHATSAPP_PHONE_NUMBER_ID, "app_secret": self.app_secret}

    def chat(self, n):
        return f"7{n:010d}"[-11:]  # a phone number: the customer's wa_id

    def message(self, account, chat, text):
        return whatsapp_message(chat, text)

    def headers(self, account, body):
        secret = account.values.get("app_secret", self.app_secret)
        return {"X-Hub-Signature-256": "sha256=" + hmac_sha256(secret, body)}

    def text(self, sent):
        if sent["type"] == "interactive":  # with buttons
            return sent["interactive"]["body"]["text"]
        return sent["text"]["body"]


class Viber(Messenger):
    code = "viber"
    send = "send_message"
    failures = ((12, 0, 2),)  # Viber answers 200 and says "too many requests" in its body

    def api(self):
        return FakeViberApi()

    def chat(self, n):
        return f"V{n}="

    def message(self, account, chat, text):
        return viber_message(chat, text)

    def headers(self, account, body):
        return {"X-Viber-Content-Signature": hmac_sha256(account.api.token, body)}


class Max(Messenger):
    code = "max"
    send = "messages"

    def api(self):
        return FakeMaxApi()

    def message(self, account, chat, text):
        return max_message(chat, text)

    def headers(self, account, body):
        return {MAX_SECRET_HEADER: account.secret}


class Vk(Messenger):
    code = "vk"
    send = "messages.send"
    failures = ((6, 0, 2), (0, 0, 1))  # too many requests per second; a dropped connection

    def api(self):
        return FakeVkApi()

    def message(self, account, chat, text):
        return dict(vk_message(chat, text), secret=account.secret)  # VK's secret in its body

    def headers(self, account, body):
        return {}


class Avito(Messenger):
    code = "avito"
    send = "send"  # the fake fails sends only: reading a message back must go on

    def api(self):
        return FakeAvitoApi()

    def account_values(self, api):
        return {"client_id": api.client_id, "client_secret": api.client_secret}

    def chat(self, n):
        return f"u2i-e2e-{n}"

    def message(self, account, chat, text):
        """The buyer's message, kept by the fake Avito (the intake reads it back), notified."""
        return account.api.buyer_writes(chat, int(chat.rsplit("-", 1)[1]), text)

    def headers(self, account, body):
        return {}

    def url(self, account):
        return f"{account.url}?token={account.secret}"


class Meta(Messenger):
    """Instagram Direct or Facebook Messenger: one Meta app, its secret signs both."""

    send = "messages"
    failures = ((500, 0, 1), (429, 0, 1))
    app_secret = "e2e-meta-app-secret"

    def __init__(self, code, webhook_object, **limits):
        self.code = code
        self.webhook_object = webhook_object  # the notifications' "object"
        self.limits = limits  # the fake's text limits

    def api(self):
        return FakeMetaApi(**self.limits)

    def account_values(self, api):
        return {"app_secret": self.app_secret}

    def chat(self, n):
        return str(n)  # a page-scoped id

    def message(self, account, chat, text):
        return meta_message(self.webhook_object, chat, text)

    def headers(self, account, body):
        secret = account.values.get("app_secret", self.app_secret)
        return {META_SIGNATURE_HEADER: meta_signature(secret, body)}

    def text(self, sent):
        return sent["message"]["text"]


MESSENGERS = {
    messenger.code: messenger
    for messenger in (
        Messenger(),
        WhatsApp(),
        Viber(),
        Max(),
        Vk(),
        Avito(),
        Meta("instagram", "instagram", max_text_length=1000, max_text_bytes=1000),
        Meta("facebook", "page", max_text_length=2000),
    )
}


@contextlib.contextmanager
def messenger_account(odoo, code, team_name, **values):
    """`with messenger_account(odoo, "max", "e2e_max") as account:` a bot account of that
    messenger with a team of its own on `odoo`, wired to a fake API (`account.api`) that lives
    as long as the block; `values` add to (or replace) the account's values."""
    messenger = MESSENGERS[code]
    with messenger.api() as api:
        yield BotAccount(
            odoo,
            odoo.rpc("admin", "admin"),
            api,
            team_name,
            provider=code,
            **{**messenger.account_values(api), **values},
        )
