"""Each messenger is a plug-in: one provider per messenger behind one interface, capabilities as
data, nothing changed by importing an adapter, and no messenger named outside the adapters."""

import os
import re
import subprocess
import sys

import pytest
from messenger_fixtures import ROOT, adapters_package

ADDON = os.path.join(ROOT, "messenger_leads_bot")
# which client calls each capability promises (the others may stay NotImplementedError)
CALLS = {
    "manages_webhook": ("set_webhook", "delete_webhook"),
    "polling": ("get_updates", "offset_after"),
    "welcome_on_open": ("welcome_reply",),
    "webhook_status": ("webhook_info",),
    "sender_profile": ("sender_profile",),
    "confirms_by_api": ("confirm",),
    "syncs_by_api": ("recent_updates",),
}


@pytest.mark.pure
def test_importing_the_adapters_changes_no_global_state_until_a_telegram_client_is_built():
    script = """
import importlib.util, logging, os, sys
path = sys.argv[1]
spec = importlib.util.spec_from_file_location(
    "messenger_adapters", os.path.join(path, "__init__.py"), submodule_search_locations=[path]
)
adapters = importlib.util.module_from_spec(spec)
sys.modules["messenger_adapters"] = adapters
environ = dict(os.environ)
spec.loader.exec_module(adapters)
httpx = logging.getLogger("httpx")
assert (httpx.level, httpx.filters) == (logging.NOTSET, []), "the import changed httpx's logger"
assert dict(os.environ) == environ, "the import changed the environment"

records = []
handler = logging.Handler()
handler.emit = records.append
httpx.addHandler(handler)
httpx.setLevel(logging.INFO)
for _twice in range(2):
    adapters.telegram.TelegramClient("1:SECRET", "http://127.0.0.1:9")
assert len(httpx.filters) == 1, "one filter, however many clients"
assert os.environ["PTB_TIMEDELTA"] == "true"
httpx.info('HTTP Request: %s %s', "POST", "http://127.0.0.1:9/bot1:SECRET/getMe")
httpx.info('HTTP Request: %s %s', "GET", "https://example.com/other")
assert [r.getMessage() for r in records] == ["HTTP Request: GET https://example.com/other"]
"""
    done = subprocess.run(
        [sys.executable, "-c", script, os.path.join(ADDON, "adapters")],
        capture_output=True,
        text=True,
        env={key: value for key, value in os.environ.items() if key != "PTB_TIMEDELTA"},
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.pure
def test_every_provider_offers_what_its_capabilities_say_through_the_one_interface():
    adapters = adapters_package()
    assert set(adapters.PROVIDERS) == {
        "telegram",
        "whatsapp",
        "viber",
        "max",
        "vk",
        "instagram",
        "facebook",
        "avito",
    }
    base = adapters.Client
    for calls in CALLS.values():
        for call in calls:
            assert callable(getattr(base, call, None)), f"Client does not declare {call}"
    credentials = adapters.Credentials(token="1:T", api_url="http://127.0.0.1:9", name="Bot")
    for code, provider in adapters.PROVIDERS.items():
        assert provider.code == code and provider.api_url and provider.channel_xmlid
        client = provider.client(credentials)
        assert isinstance(client, base)
        for capability, calls in CALLS.items():
            for call in calls:
                offered = getattr(type(client), call) is not getattr(base, call)
                assert offered == getattr(provider.capabilities, capability), (code, call)


@pytest.mark.pure
def test_no_messenger_is_named_outside_the_adapters():
    """Models, views, controllers and the CLI ask capabilities, never a provider's code."""
    codes = "|".join(adapters_package().PROVIDERS)
    named = re.compile(rf"""(["'])({codes})\1""")
    found = []
    for folder in ("models", "views", "controllers", "cli", "wizards"):
        for directory, _dirs, files in os.walk(os.path.join(ADDON, folder)):
            for name in files:
                if not name.endswith((".py", ".xml")):
                    continue  # compiled files Odoo's runs leave
                with open(os.path.join(directory, name), encoding="utf-8") as source:
                    for number, line in enumerate(source, 1):
                        if named.search(line) and 'default="telegram"' not in line:
                            found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "\n".join(found)
