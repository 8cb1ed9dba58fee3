"""What runs in the background, against a real Odoo: the retry of failed updates, two workers
delivering the outbox at once, the assignment of the backlog."""

import collections
import time

from messenger_fixtures import BotAccount, FakeBotApi, new_update_id, run_cron, tg_message
from odoo_process import run_in_odoo

MAX_PROCESS_ATTEMPTS = 5  # messenger_update.MAX_PROCESS_ATTEMPTS: then the cron leaves it


def stored_update(bot, update):
    return bot.admin.call(
        "messenger.update",
        "search_read",
        [["account_id", "=", bot.id], ["external_id", "=", str(update["update_id"])]],
        fields=["state", "attempts", "conversation_id"],
    )[0]


def test_a_failed_update_is_processed_again_by_the_cron_and_makes_its_lead(bot, bot_api):
    update = tg_message(8801, "Do you deliver on Sundays?")
    failed = run_in_odoo(
        "odoo_side.py", "receive_while_the_bridge_fails", account_id=bot.id, update=update
    )
    assert failed["state"] == "failed", failed
    assert bot.conversation(8801) is None, "nothing of the failed update was kept but itself"

    retried = stored_update(bot, update)
    for _run in range(100):  # the cron takes failed updates in batches, least tried first
        if retried["state"] != "failed":
            break
        run_cron(bot.admin, "messenger_leads_bot.ir_cron_messenger_update_retry")
        retried = stored_update(bot, update)
    assert retried["state"] == "done"
    conversation = bot.conversation(8801)
    assert conversation["lead_id"], "the retried update made its lead"
    assert [m["body"] for m in bot.customer_messages(8801)] == ["<p>Do you deliver on Sundays?</p>"]
    assert len(bot_api.wait_sent(8801, 1)) == 1, "and the customer got the acknowledgement once"


def test_the_cron_gives_up_on_an_update_that_keeps_failing(bot):
    broken = {"update_id": new_update_id(), "message": {"chat": [], "from": 5}}
    assert bot.post(broken).status_code == 200, "kept for a look, not refused"
    attempts = [stored_update(bot, broken)["attempts"]]
    # the cron takes the least tried first: other suites' malformed updates wait too
    for _run in range(150):
        run_cron(bot.admin, "messenger_leads_bot.ir_cron_messenger_update_retry")
        attempts.append(stored_update(bot, broken)["attempts"])
        if attempts[-1] == MAX_PROCESS_ATTEMPTS and attempts[-3:] == [attempts[-1]] * 3:
            break
    assert stored_update(bot, broken)["state"] == "failed"
    assert attempts[-1] > attempts[0], f"the cron never retried it: {attempts}"
    assert attempts[-3:] == [MAX_PROCESS_ATTEMPTS] * 3, f"the attempts never stopped: {attempts}"


def test_two_workers_delivering_at_once_send_each_row_exactly_once(bot, bot_api):
    chats = [8900 + n for n in range(40)]
    for chat in chats:
        assert bot.post(tg_message(chat, "Hello")).status_code == 200
    assert all(bot_api.wait_sent(chat, 1) for chat in chats), "every chat acknowledged"

    race = run_in_odoo(
        "odoo_side.py", "deliver_at_once", account_id=bot.id, chats=chats, per_chat=2
    )
    assert race["errors"] == []
    # both ran at once; the account's pace is shared (see messenger_outbox: one round's
    # messages per account, whichever worker takes them), so one may have sent them all
    claimed = [row for rows in race["claimed"].values() for row in rows]
    assert claimed, "nothing was delivered"
    assert len(claimed) == len(set(claimed)), "a row was claimed by both workers"
    texts = collections.Counter(
        message["text"]
        for chat in chats
        for message in bot_api.sent_to(chat)
        if message["text"].startswith("race ")
    )
    expected = {f"race {chat} {n}" for chat in chats for n in range(2)}
    assert set(texts) == expected, f"missing: {sorted(expected - set(texts))[:5]}"
    assert [text for text, count in texts.items() if count > 1] == [], "a row was sent twice"
    assert set(race["states"].values()) == {"sent"}


def test_the_backlog_cron_assigns_unassigned_leads_up_to_capacity(odoo):
    admin = odoo.rpc("admin", "admin")
    with FakeBotApi() as api:  # the team comes with a bot account, unused here
        team = BotAccount(odoo, admin, api, f"backlog{int(time.time())}")
    admin.call("crm.team", "write", [team.team_id], {"messenger_nobody_available": "queue"})
    member = admin.call(
        "crm.team.member",
        "search",
        [["crm_team_id", "=", team.team_id], ["user_id", "=", team.seller_id]],
    )
    admin.call("crm.team.member", "write", member, {"messenger_opt_out": True})
    leads = admin.call(
        "crm.lead",
        "create",
        [{"name": f"Backlog {n}", "team_id": team.team_id, "user_id": False} for n in range(3)],
    )

    def salespeople():
        rows = admin.call("crm.lead", "read", leads, fields=["user_id"])
        return [row["user_id"] and row["user_id"][0] for row in rows]

    assert salespeople() == [False] * 3, "nobody available: the leads wait in the queue"
    admin.call(
        "crm.team.member", "write", member, {"messenger_opt_out": False, "messenger_capacity": 2}
    )
    run_cron(admin, "messenger_leads.ir_cron_messenger_assign")
    assert sorted(salespeople(), key=bool) == [False, team.seller_id, team.seller_id], (
        "the cron assigned the backlog up to the salesperson's capacity"
    )
    admin.call("crm.team.member", "write", member, {"messenger_capacity": 3})
    run_cron(admin, "messenger_leads.ir_cron_messenger_assign")
    assert salespeople() == [team.seller_id] * 3
