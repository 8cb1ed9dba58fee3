"""Reports over 1,000,000 leads with their call attempts: each report and the dashboard, as a
sales manager and as a salesperson.

The data is what the reports read: the leads (channel, stage, salesperson, grade, first
response, rating...), their call-back plans and attempts (`messenger.callback.attempt`; the
salespeople report's calls per lead reads the attempts done stored on each lead) and the chats
handled (leads from a live chat channel that got a first response: what the salespeople report
counts), plus a conversion target per channel and month of this year (the dashboard computes
each target's actual rate). Each report is timed as its pivot opens it: one grouped read of its
rows and measures, here over a whole year (every lead); the dashboard for this month and this
year (it reads the analysis's totals, which the triggers on the leads keep as the data set is
inserted and updated).
Every figure is the median of several runs with an empty cache, as real users: a sales manager
(sees every lead) and a salesperson (record rules: their own leads only).
"""

import datetime
import statistics

from benchlib import SCALE, Timer, odoo_env, report

LEADS = round(1_000_000 * SCALE)
TEAMS = 5
SALESPEOPLE = 20
RUNS = 5

REPORTS = {
    "funnel by channel": (
        ["channel_id"],
        [
            "lead_count:sum",
            "qualified_count:sum",
            "opportunity_count:sum",
            "won_count:sum",
            "lost_count:sum",
            "qualified_rate:avg",
            "opportunity_rate:avg",
            "won_rate:avg",
            "conversion_rate:avg",
        ],
    ),
    "response times": (
        ["response_band"],
        [
            "lead_count:sum",
            "response_minutes:avg",
            "within_target_rate:avg",
            "breach_count:sum",
            "conversion_rate:avg",
        ],
    ),
    "salespeople": (
        ["user_id"],
        [
            "lead_count:sum",
            "qualified_rate:avg",
            "opportunity_rate:avg",
            "won_rate:avg",
            "conversion_rate:avg",
            "deal_cycle_days:avg",
            "won_amount:avg",
            "won_revenue:sum",
            "lost_count:sum",
            "call_attempts:avg",
            "chat_count:sum",
            "customer_rating:avg",
        ],
    ),
    "lead quality": (
        ["channel_id", "qualification_grade"],
        ["lead_count:sum", "qualification_score:avg", "conversion_rate:avg"],
    ),
    "lost reasons": (["lost_reason_id", "channel_id"], ["lost_count:sum"]),
}


def make_users(env):
    """(salespeople who see their own leads, a sales manager who sees all)."""
    internal = env.ref("base.group_user")
    salesman = env.ref("sales_team.group_sale_salesman")
    manager = env.ref("sales_team.group_sale_manager")
    salespeople = env["res.users"].create(
        [
            {
                "name": f"Reports bench salesperson {n}",
                "login": f"bench-reports-{n}",
                "groups_id": [(6, 0, (internal | salesman).ids)],
            }
            for n in range(SALESPEOPLE)
        ]
    )
    head = env["res.users"].create(
        {
            "name": "Reports bench sales manager",
            "login": "bench-reports-manager",
            "groups_id": [(6, 0, (internal | manager).ids)],
        }
    )
    return salespeople, head


def generate(env, users):
    teams = env["crm.team"].create([{"name": f"Reports bench team {n}"} for n in range(TEAMS)])
    channels = env["messenger.channel"].search([])
    stages = env["crm.stage"].search([], order="sequence")
    won_stage = stages.filtered("is_won")[:1]
    open_stages = (stages - won_stage)[:3]
    reasons = env["crm.lost.reason"].search([])
    # A year of leads; every 10th won, every 7th other one lost. Every 20th never answered (and
    # so no chat handled); the others answered in 0..299 minutes, every 50th after 12 to 28 h.
    # Three in five have a call-back plan: 0 to all the company's attempts done, and its state.
    env.cr.execute(
        """
        INSERT INTO crm_lead (
            name, type, active, probability, company_id, team_id, user_id, messenger_channel_id,
            stage_id, lost_reason_id, expected_revenue, messenger_qualification_grade,
            messenger_qualification_score, messenger_first_message_at,
            messenger_first_response_at, messenger_response_minutes, messenger_response_band,
            messenger_sla_state, messenger_callback_state, messenger_rating, create_date,
            date_closed, write_date, create_uid, write_uid)
        SELECT 'bench lead ' || n, 'opportunity', NOT lost, CASE WHEN won THEN 100
               WHEN lost THEN 0 ELSE 10 END, %(company)s,
               (%(teams)s)[1 + n %% %(team_count)s], (%(users)s)[1 + n %% %(user_count)s],
               (%(channels)s)[1 + n %% %(channel_count)s],
               CASE WHEN won THEN %(won_stage)s
                    ELSE (%(open_stages)s)[1 + (n / 7) %% 3] END,
               CASE WHEN lost THEN (%(reasons)s)[1 + n %% %(reason_count)s] END,
               (n %% 50) * 1000, (ARRAY['hot', 'warm', 'cold'])[1 + n %% 3], n %% 20,
               created, created + minutes * interval '1 minute', minutes,
               CASE WHEN minutes IS NULL THEN NULL WHEN minutes <= 20 THEN 'ideal'
                    WHEN minutes <= 180 THEN 'normal' WHEN minutes <= 720 THEN 'acceptable'
                    ELSE 'harmful' END,
               CASE WHEN minutes IS NULL THEN 'breached' WHEN minutes <= 5 THEN 'met'
                    ELSE 'met_late' END,
               CASE WHEN n %% 5 >= 3 THEN NULL
                    WHEN calls >= 1 AND n %% 3 = 0 THEN 'reached'
                    WHEN calls >= 1 AND n %% 31 = 0 THEN 'wrong_number'
                    WHEN calls >= %(attempts)s THEN 'exhausted'
                    WHEN won OR lost THEN 'stopped'
                    ELSE 'planned' END,
               n %% 6,
               created, CASE WHEN won THEN created + (n %% 30) * interval '1 day' END,
               created, 1, 1
          FROM (
            SELECT n, n %% 10 = 0 AS won, n %% 10 <> 0 AND n %% 7 = 0 AS lost,
                   CASE WHEN n %% 20 = 0 THEN NULL WHEN n %% 50 = 1 THEN 720 + n %% 960
                        ELSE n %% 300 END AS minutes,
                   n %% (%(attempts)s + 1) AS calls,
                   now() at time zone 'UTC' - (n %% 365) * interval '1 day'
                       - (n %% 1440) * interval '1 minute' AS created
              FROM generate_series(1, %(leads)s) AS n
          ) AS spec
        """,
        {
            "company": env.company.id,
            "teams": teams.ids,
            "team_count": len(teams),
            "users": users.ids,
            "user_count": len(users),
            "channels": channels.ids,
            "channel_count": len(channels),
            "won_stage": won_stage.id,
            "open_stages": open_stages.ids,
            "reasons": reasons.ids,
            "reason_count": len(reasons),
            "leads": LEADS,
            "attempts": env.company.messenger_callback_attempts,
        },
    )
    # Each plan's attempts: its calls done (the last one reached or a wrong number if the plan
    # says so, else no answer), then the next call planned, or cancelled when the lead closed.
    env.cr.execute(
        """
        INSERT INTO messenger_callback_attempt (
            lead_id, sequence, planned_at, user_id, state, done_at, outcome,
            create_date, write_date, create_uid, write_uid)
        SELECT lead.id, k, lead.create_date + k * interval '2 hours', lead.user_id,
               CASE WHEN k <= calls THEN 'done'
                    WHEN lead.messenger_callback_state = 'planned' THEN 'planned'
                    ELSE 'cancelled' END,
               CASE WHEN k <= calls THEN lead.create_date + k * interval '2 hours' END,
               CASE WHEN k > calls THEN NULL
                    WHEN k = calls AND lead.messenger_callback_state IN ('reached', 'wrong_number')
                        THEN lead.messenger_callback_state
                    ELSE 'no_answer' END,
               lead.create_date, lead.create_date, 1, 1
          FROM crm_lead lead
         CROSS JOIN LATERAL (
            SELECT substr(lead.name, 12)::int %% (%(attempts)s + 1) AS calls
         ) plan
         CROSS JOIN LATERAL generate_series(
            1, calls + (lead.messenger_callback_state IN ('planned', 'stopped'))::int) AS k
         WHERE lead.name LIKE 'bench lead %%' AND lead.messenger_callback_state IS NOT NULL
        """,
        {"attempts": env.company.messenger_callback_attempts},
    )
    # what the ORM stores on each lead when its attempts are done
    env.cr.execute(
        """
        UPDATE crm_lead lead
           SET messenger_callback_attempts_done = attempts.done
          FROM (
            SELECT lead_id, count(*) AS done
              FROM messenger_callback_attempt
             WHERE state = 'done'
          GROUP BY lead_id
          ) attempts
         WHERE attempts.lead_id = lead.id
        """
    )
    # a conversion target per channel and month of this year, as a sales head sets them
    year = datetime.date.today().year
    env["messenger.conversion.target"].create(
        [
            {
                "channel_id": channel.id,
                "date_from": datetime.date(year, month, 1),
                "date_to": (
                    datetime.date(year + month // 12, month % 12 + 1, 1)
                    - datetime.timedelta(days=1)
                ),
                "target_rate": 10.0,
            }
            for channel in channels
            for month in range(1, 13)
        ]
    )
    env.flush_all()
    env.cr.execute("ANALYZE crm_lead")
    env.cr.execute("ANALYZE messenger_callback_attempt")
    env.cr.execute("ANALYZE messenger_lead_report_aggregate")  # filled by the leads' triggers
    env.invalidate_all()


def count(env, query):
    env.cr.execute(query)
    return env.cr.fetchone()[0]


def visible_leads(user_env, domain):
    [(leads,)] = user_env["messenger.lead.report"]._read_group(domain, [], ["lead_count:sum"])
    return leads


def median_seconds(env, work):
    """Median of RUNS timings of work(), each with an empty cache."""
    timings = []
    for _run in range(RUNS):
        env.invalidate_all()
        with Timer() as timer:
            work()
        timings.append(timer.seconds)
    return statistics.median(timings)


def main():
    with odoo_env() as env:
        salespeople, head = make_users(env)
        with Timer() as generation:
            generate(env, salespeople)
        attempts = count(
            env,
            "SELECT count(*) FROM messenger_callback_attempt attempt"
            " JOIN crm_lead lead ON lead.id = attempt.lead_id WHERE lead.name LIKE 'bench lead %'",
        )
        chats = count(
            env,
            "SELECT sum(chat_count) FROM messenger_lead_report report"
            " JOIN crm_lead lead ON lead.id = report.lead_id WHERE lead.name LIKE 'bench lead %'",
        )
        print(
            f"generated {LEADS} leads, {attempts} call attempts, {chats} chats handled "
            f"in {generation.seconds:.0f} s",
            flush=True,
        )
        leads = count(env, "SELECT count(*) FROM crm_lead")
        assert leads == LEADS, f"{leads} leads in the database, {LEADS} generated"
        year_ago = datetime.datetime.now() - datetime.timedelta(days=366)
        domain = [("create_date", ">=", year_ago)]
        seller = salespeople[0]
        own = count(env, f"SELECT count(*) FROM crm_lead WHERE user_id = {seller.id}")
        viewers = {
            "as a sales manager": env(user=head.id),
            f"as a salesperson (own {own} leads)": env(user=seller.id),
        }
        seen = [visible_leads(user_env, domain) for user_env in viewers.values()]
        expected = [visible_leads(env, domain), own]  # all of them (the superuser), own ones
        assert seen == expected, f"record rules: leads seen {seen}, expected {expected}"
        for viewer, user_env in viewers.items():
            lead_report = user_env["messenger.lead.report"]
            for name, (groupby, measures) in REPORTS.items():
                rows = lead_report._read_group(domain, groupby, measures)
                assert rows, f"{name}: no rows"
                seconds = median_seconds(
                    env,
                    lambda lead_report=lead_report, groupby=groupby, measures=measures: (
                        lead_report._read_group(domain, groupby, measures)
                    ),
                )
                label = f"s {name}, {LEADS} leads, {viewer}, median of {RUNS}"
                report("reports", seconds, label, "<= 1 s")
        for viewer, user_env in viewers.items():
            dashboard = user_env["messenger.report.dashboard"]
            for period in ("this_month", "this_year"):
                data = dashboard.get_dashboard_data(period=period)
                assert data["funnel"]["total"]["counts"][0] > 0
                assert data["targets"], "no conversion target read"
                seconds = median_seconds(
                    env,
                    lambda dashboard=dashboard, period=period: dashboard.get_dashboard_data(
                        period=period
                    ),
                )
                label = f"s dashboard, {period}, {viewer}, median of {RUNS}"
                report("reports", seconds, label, "<= 1.5 s")


if __name__ == "__main__":
    main()
