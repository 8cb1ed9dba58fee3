"""The first-response cron over 100,000 waiting leads of which 1,000 are due."""

from benchlib import Timer, count, odoo_env, report

WAITING = 100_000
DUE = 1_000
WAITING_SQL = "messenger_sla_state IN ('on_track', 'at_risk')"
DUE_SQL = "messenger_response_deadline <= now() at time zone 'UTC'"


def main():
    with odoo_env() as env:
        cr = env.cr
        leader = env["res.users"].create({"name": "SLA bench leader", "login": "bench-sla-leader"})
        team = env["crm.team"].create({"name": "SLA bench team", "user_id": leader.id})
        channel = env.ref("messenger_leads.messenger_channel_telegram")
        # Leads inserted in bulk (the ORM would take minutes for 100,000); waiting ones are due
        # in 1 to 48 hours, the last DUE ones passed their deadline a minute ago.
        cr.execute(
            """
            INSERT INTO crm_lead (name, type, active, team_id, messenger_channel_id, company_id,
                                  messenger_first_message_at, messenger_response_deadline,
                                  messenger_sla_at_risk_at, messenger_sla_state,
                                  create_date, write_date, create_uid, write_uid)
            SELECT 'bench lead ' || n, 'opportunity', true, %(team)s, %(channel)s, %(company)s,
                   now() at time zone 'UTC' - interval '5 minutes',
                   now() at time zone 'UTC' + CASE WHEN n <= %(due)s THEN interval '-1 minute'
                                                  ELSE (n %% 2880 + 60) * interval '1 minute' END,
                   now() at time zone 'UTC' + CASE WHEN n <= %(due)s THEN interval '-2 minute'
                                                  ELSE (n %% 2880 + 59) * interval '1 minute' END,
                   'on_track', now() at time zone 'UTC', now() at time zone 'UTC', 1, 1
              FROM generate_series(1, %(total)s) AS n
            """,
            {
                "team": team.id,
                "channel": channel.id,
                "company": env.company.id,
                "due": DUE,
                "total": WAITING,
            },
        )
        cr.execute("ANALYZE crm_lead")
        env.invalidate_all()
        # what the cron will see is what this benchmark made, and nothing else
        waiting = count(cr, f"SELECT count(*) FROM crm_lead WHERE {WAITING_SQL}")
        due = count(cr, f"SELECT count(*) FROM crm_lead WHERE {WAITING_SQL} AND {DUE_SQL}")
        assert (waiting, due) == (WAITING, DUE), (
            f"{waiting} waiting leads, {due} due in the database"
        )
        queries_before = cr.sql_log_count
        with Timer() as timer:
            env["crm.lead"]._cron_messenger_sla()
            env.flush_all()
        queries = cr.sql_log_count - queries_before
        escalated = count(
            cr, "SELECT count(*) FROM crm_lead WHERE messenger_sla_escalated_at IS NOT NULL"
        )
        assert escalated == DUE, f"the cron escalated {escalated} leads, {DUE} were due"
        cr.execute(f"EXPLAIN SELECT id FROM crm_lead WHERE {WAITING_SQL} AND {DUE_SQL}")
        plan = [row[0] for row in cr.fetchall()]
        with Timer() as idle:
            env["crm.lead"]._cron_messenger_sla()  # nothing due any more: the usual minute
    print("plan of the cron's main query:\n  " + "\n  ".join(plan))
    report("sla_cron", timer.seconds, f"s for {WAITING} waiting leads, {DUE} due", "<= 2 s")
    report("sla_cron", queries, "queries", "-")
    report("sla_cron", idle.seconds, "s for a run with nothing due", "<= 2 s")


if __name__ == "__main__":
    main()
