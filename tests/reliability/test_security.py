"""Refused what must be refused: wrong secrets, replays, other teams' chats, the public."""

import pytest
import requests
from messenger_fixtures import tg_message

from harness import figure

REFUSED = r"[Aa]ccess|not allowed|permission"


def test_webhook_refuses_missing_and_wrong_secrets_and_ignores_replays(bot, bot_api):
    update = tg_message(401_001, "Hello")
    assert bot.post(update, secret="").status_code == 403
    assert bot.post(update, secret="x" * 43).status_code == 403
    wrong_account = f"{bot.odoo.url}/messenger_leads/telegram/999999"
    assert bot.post(update, url=wrong_account).status_code == 403
    assert bot.conversation(401_001) is None, "nothing stored for a refused request"
    assert bot.post(update).text == "ok"
    assert bot.post(update).text == "duplicate", "a replayed update is not processed twice"
    assert len(bot.customer_messages(401_001)) == 1
    figure("security", "refused webhook calls", 3)


def test_salespeople_cannot_read_other_teams_chats_or_leads(workers_server, bot):
    admin = bot.admin
    outsider = admin.call(
        "res.users",
        "create",
        {
            "name": "Other team seller",
            "login": f"outsider_{bot.id}",
            "password": "outsider-pw-1",
            "groups_id": [
                (
                    6,
                    0,
                    [
                        admin.call(
                            "ir.model.data",
                            "check_object_reference",
                            "sales_team",
                            "group_sale_salesman",
                        )[1]
                    ],
                )
            ],
        },
    )
    other_team = admin.call("crm.team", "create", {"name": f"Other {bot.id}"})
    admin.call("crm.team.member", "create", {"crm_team_id": other_team, "user_id": outsider})
    bot.post(tg_message(401_002, "Private request"))
    conversation = bot.conversation(401_002)
    lead_id = conversation["lead_id"][0]
    admin.call("crm.lead", "write", [lead_id], {"user_id": admin.uid})
    seller = workers_server.rpc(f"outsider_{bot.id}", "outsider-pw-1")
    assert seller.call("messenger.conversation", "search", [["id", "=", conversation["id"]]]) == []
    for model, record in (
        ("messenger.conversation", conversation["id"]),
        ("crm.lead", lead_id),
        ("discuss.channel", conversation["discuss_channel_id"][0]),
    ):
        with pytest.raises(RuntimeError, match=REFUSED):
            seller.call(model, "read", [record], fields=["display_name"])
    with pytest.raises(RuntimeError, match=REFUSED):
        seller.call("messenger.bot.account", "read", [bot.id], fields=["token"])
    figure("security", "refused reads by another team's salesperson", 4)


def test_the_public_cannot_call_internal_routes(workers_server):
    url = workers_server.url
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
    with pytest.raises(PermissionError):
        workers_server.rpc("admin", "wrong-password")
    assert requests.get(f"{url}/messenger_leads/telegram/1", timeout=30).status_code in (404, 405)
    figure("security", "refused public calls", 3)


def test_the_token_never_appears_in_logs(workers_server, bot):
    bot.post(tg_message(401_003, "Hello"))
    bot.admin.call("messenger.bot.account", "action_check_connection", [bot.id])
    workers_server.stop()  # flush the log
    with open(workers_server.log_path, errors="replace") as log:
        text = log.read()
    assert f"POST /messenger_leads/telegram/{bot.id}" in text, "the log covers the traffic"
    assert len(bot.api.sent_to(401_003)) == 1, "a message was sent with the token"
    assert bot.api.token not in text
