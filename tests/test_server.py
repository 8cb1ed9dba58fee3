"""A real Odoo serves the installed addons over HTTP on loopback."""

import requests


def test_login_page_answers(odoo):
    answer = requests.get(f"{odoo.url}/web/login", timeout=10)
    assert answer.status_code == 200
    assert "login" in answer.text


def test_our_addons_are_installed(odoo):
    admin = odoo.rpc("admin", "admin")
    modules = admin.call(
        "ir.module.module",
        "search_read",
        [["name", "in", ["messenger_leads", "messenger_leads_bot", "messenger_leads_reports"]]],
        fields=["name", "state"],
    )
    assert {m["name"]: m["state"] for m in modules} == {
        "messenger_leads": "installed",
        "messenger_leads_bot": "installed",
        "messenger_leads_reports": "installed",
    }


def test_demo_shows_telegram_leads_with_conversations(odoo):
    sales_head = odoo.rpc("lead", "lead")
    leads = sales_head.call(
        "crm.lead",
        "search_read",
        [
            ["messenger_channel_id.code", "=", "telegram"],
            ["messenger_conversation_ids", "!=", False],
            ["team_id.name", "=", "Messenger Sales"],
        ],
        fields=["name", "user_id", "team_id"],
    )
    assert len(leads) >= 3
    thread = sales_head.call(
        "messenger.conversation",
        "search_read",
        [["lead_id", "=", leads[0]["id"]]],
        fields=["discuss_channel_id"],
    )[0]["discuss_channel_id"]
    messages = sales_head.call(
        "mail.message",
        "search_count",
        [["model", "=", "discuss.channel"], ["res_id", "=", thread[0]]],
    )
    assert messages >= 1
