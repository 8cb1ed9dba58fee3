"""Assignment: a backlog of 10,000 leads over 20 salespeople, ours against Odoo's native.

Both engines get identical data: a team of 20 members (their own users, working 24/7, room
for 600 leads each) and 10,000 unassigned open leads. Ours runs as the team's backlog button
does; Odoo's as its "Assign leads" button does (`_action_assign_leads`, daily quota forced to
600), without its intermediate commits so that the benchmark can roll everything back.
Then 1,000 leads arrive one by one in our team: the latency of assigning each.
"""

import statistics
import threading

from benchlib import Timer, count, odoo_env, report

BACKLOG = 10_000
MEMBERS = 20
CAPACITY = 600
ARRIVALS = 1_000


def always_open_calendar(env):
    return env["resource.calendar"].create(
        {
            "name": "Bench: around the clock",
            "tz": "UTC",
            "attendance_ids": [
                (0, 0, {"name": f"day {day}", "dayofweek": str(day), "hour_from": 0, "hour_to": 24})
                for day in range(7)
            ],
        }
    )


def make_team(env, label, calendar, strategy):
    users = env["res.users"].create(
        [
            {"name": f"{label} salesperson {n}", "login": f"bench-{label}-{n}", "tz": "UTC"}
            for n in range(MEMBERS)
        ]
    )
    users.resource_calendar_id = calendar
    return env["crm.team"].create(
        {
            "name": f"Bench team {label}",
            "resource_calendar_id": calendar.id,
            "messenger_assignment": strategy,
            "messenger_nobody_available": "queue",
            "crm_team_member_ids": [
                (
                    0,
                    0,
                    {
                        "user_id": user.id,
                        "messenger_capacity": CAPACITY,
                        "assignment_max": CAPACITY * 30,  # Odoo's daily quota is a 30th of it
                    },
                )
                for user in users
            ],
        }
    )


def insert_leads(env, team, count, label):
    """Unassigned open leads of `team`, in bulk (the ORM would take minutes)."""
    env.cr.execute(
        """
        INSERT INTO crm_lead (name, type, active, team_id, company_id, email_from, probability,
                              stage_id, create_date, write_date, create_uid, write_uid)
        SELECT %(label)s || ' lead ' || n, 'opportunity', true, %(team)s, %(company)s,
               'customer' || n || '@' || %(label)s || '.example', 10, %(stage)s,
               now() at time zone 'UTC' - interval '1 hour', now() at time zone 'UTC', 1, 1
          FROM generate_series(1, %(count)s) AS n
        RETURNING id
        """,
        {
            "label": label,
            "team": team.id,
            "company": env.company.id,
            "stage": env["crm.stage"].search([], limit=1).id,
            "count": count,
        },
    )
    ids = sorted(row[0] for row in env.cr.fetchall())
    env.invalidate_all()
    return env["crm.lead"].browse(ids)


def assigned_count(env, team):
    env.cr.execute(
        "SELECT count(*) FROM crm_lead WHERE team_id = %s AND user_id IS NOT NULL", (team.id,)
    )
    return env.cr.fetchone()[0]


def timed(env, run):
    queries_before = env.cr.sql_log_count
    with Timer() as timer:
        run()
        env.flush_all()
    return timer.seconds, env.cr.sql_log_count - queries_before


def main():
    threading.current_thread().testing = True  # Odoo's assignment commits every 100 leads else
    with odoo_env() as env:
        calendar = always_open_calendar(env)
        ours = make_team(env, "ours", calendar, "least_loaded")
        native = make_team(env, "native", calendar, "none")
        insert_leads(env, ours, BACKLOG, "ours")
        insert_leads(env, native, BACKLOG, "native")
        env.cr.execute("ANALYZE crm_lead")
        backlog = count(env.cr, "SELECT count(*) FROM crm_lead WHERE user_id IS NULL")
        assert backlog == 2 * BACKLOG, f"{backlog} unassigned leads in the database"

        ours_seconds, ours_queries = timed(env, ours.action_messenger_assign_backlog)
        native_seconds, native_queries = timed(
            env, lambda: native._action_assign_leads(force_quota=True, creation_delta_days=0)
        )
        for team in (ours, native):
            done = assigned_count(env, team)
            assert done == BACKLOG, f"{team.name}: {done} of {BACKLOG} leads assigned"

        arrivals = insert_leads(env, ours, ARRIVALS, "arrival")
        latencies = []
        for lead in arrivals:
            with Timer() as timer:
                lead._messenger_assign()
                env.flush_all()
            latencies.append(timer.seconds * 1000)
        assert all(arrivals.mapped("user_id")), "an arrival was left unassigned"

    ours_rate, native_rate = BACKLOG / ours_seconds, BACKLOG / native_seconds
    report("assign", ours_seconds, f"s for {BACKLOG} leads over {MEMBERS} members", "<= 10 s")
    report("assign", ours_rate, "leads/s, our engine", "-")
    report("assign", ours_queries, "queries, our engine", "-")
    report("assign", native_rate, "leads/s, Odoo's native assignment", "-")
    report("assign", native_queries, "queries, Odoo's native assignment", "-")
    report("assign", ours_rate / native_rate, "x native throughput", ">= 5x")
    cuts = statistics.quantiles(latencies, n=100)
    report("assign", statistics.median(latencies), f"ms p50 over {ARRIVALS} arrivals", "-")
    report("assign", cuts[98], f"ms p99 over {ARRIVALS} arrivals", "<= 50 ms")


if __name__ == "__main__":
    main()
