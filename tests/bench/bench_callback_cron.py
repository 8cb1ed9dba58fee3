"""Call-back reminders and escalation over 100,000 leads with plans; slot planning speed."""

import datetime

from benchlib import Timer, count, odoo_env, report

PLANS = 100_000
DUE = 1_000  # just due: a reminder each
OVERDUE = 1_000  # long overdue: escalated to the team leader
PLANNED_SQL = "state = 'planned' AND reminded_at IS NULL"


def main():
    with odoo_env() as env:
        cr = env.cr
        leader = env["res.users"].create({"name": "Bench leader", "login": "bench-cb-leader"})
        team = env["crm.team"].create({"name": "Call-back bench team", "user_id": leader.id})
        # Leads and their planned attempts inserted in bulk: the first DUE are due now, the
        # next OVERDUE two hours overdue, the rest planned in the coming days.
        cr.execute(
            """
            INSERT INTO crm_lead (name, type, active, team_id, user_id, company_id, phone,
                                  messenger_phone_valid, messenger_phone_kind,
                                  messenger_customer_tz, messenger_callback_state,
                                  create_date, write_date, create_uid, write_uid)
            SELECT 'call-back lead ' || n, 'opportunity', true, %(team)s, 1, %(company)s,
                   '+7916' || lpad(n::text, 7, '0'), true, 'mobile', 'Europe/Moscow',
                   'planned', now() at time zone 'UTC', now() at time zone 'UTC', 1, 1
              FROM generate_series(1, %(total)s) AS n
            RETURNING id
            """,
            {"team": team.id, "company": env.company.id, "total": PLANS},
        )
        lead_ids = [row[0] for row in cr.fetchall()]
        cr.execute(
            """
            INSERT INTO messenger_callback_attempt (lead_id, sequence, planned_at, user_id,
                                                    state, create_date, write_date,
                                                    create_uid, write_uid)
            SELECT lead_id, 1,
                   now() at time zone 'UTC' + CASE
                       WHEN n <= %(due)s THEN interval '-1 minute'
                       WHEN n <= %(due)s + %(overdue)s THEN interval '-2 hours'
                       ELSE (n %% 4320 + 10) * interval '1 minute' END,
                   1, 'planned', now() at time zone 'UTC', now() at time zone 'UTC', 1, 1
              FROM unnest(%(leads)s) WITH ORDINALITY AS t(lead_id, n)
            """,
            {"due": DUE, "overdue": OVERDUE, "leads": lead_ids},
        )
        cr.execute("ANALYZE crm_lead; ANALYZE messenger_callback_attempt")
        env.invalidate_all()
        # what the cron will see is what this benchmark made, and nothing else
        planned = count(cr, f"SELECT count(*) FROM messenger_callback_attempt WHERE {PLANNED_SQL}")
        due = count(
            cr,
            "SELECT count(*) FROM messenger_callback_attempt"
            f" WHERE {PLANNED_SQL} AND planned_at <= now() at time zone 'UTC'",
        )
        assert (planned, due) == (PLANS, DUE + OVERDUE), f"{planned} planned, {due} due"
        queries_before = cr.sql_log_count
        with Timer() as timer:
            env["crm.lead"]._cron_messenger_callbacks()
            env.flush_all()
        queries = cr.sql_log_count - queries_before
        cr.execute(
            "SELECT count(*) FILTER (WHERE reminded_at IS NOT NULL),"
            " count(*) FILTER (WHERE escalated_at IS NOT NULL) FROM messenger_callback_attempt"
        )
        reminded, escalated = cr.fetchone()
        assert (reminded, escalated) == (DUE + OVERDUE, OVERDUE), (reminded, escalated)
        cr.execute(
            "EXPLAIN SELECT id FROM messenger_callback_attempt WHERE state = 'planned'"
            " AND reminded_at IS NULL AND planned_at <= now() at time zone 'UTC'"
        )
        plan = [row[0] for row in cr.fetchall()]
        with Timer() as idle:
            env["crm.lead"]._cron_messenger_callbacks()  # nothing new: the usual five minutes

        # importable once odoo_env() has set the addons path
        from odoo.addons.messenger_leads.tools.callback import (  # noqa: PLC0415
            CallRules,
            next_slot,
        )

        rules, now = CallRules(), datetime.datetime(2026, 11, 24, 5)
        with Timer() as planning:
            for n in range(PLANS):
                next_slot(
                    now, [now - datetime.timedelta(hours=n % 5)], "mobile", "Asia/Omsk", rules
                )
    print("plan of the reminder query:\n  " + "\n  ".join(plan))
    report(
        "callback_cron",
        timer.seconds,
        f"s for {PLANS} planned leads, {DUE + OVERDUE} due, {OVERDUE} overdue",
        "<= 5 s",
    )
    report("callback_cron", queries, "queries", "-")
    report("callback_cron", idle.seconds, "s for a run with nothing due", "<= 5 s")
    report("callback_cron", planning.seconds, f"s to plan the next slot of {PLANS} leads", "<= 5 s")


if __name__ == "__main__":
    main()
