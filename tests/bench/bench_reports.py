"""Reports over 1,000,000 leads and 5,000,000 chatter messages: each report and the dashboard.

Each report is timed as its pivot opens it: one grouped read of its rows and measures, here
over a whole year (every lead). The dashboard is timed for this month and for the year.
"""

import datetime

from benchlib import Timer, count, odoo_env, report

LEADS = 1_000_000
MESSAGES_PER_LEAD = 5
TEAMS = 5
SALESPEOPLE = 20

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


def generate(env):
    users = env["res.users"].create(
        [
            {"name": f"Reports bench salesperson {n}", "login": f"bench-reports-{n}"}
            for n in range(SALESPEOPLE)
        ]
    )
    teams = env["crm.team"].create([{"name": f"Reports bench team {n}"} for n in range(TEAMS)])
    channels = env["messenger.channel"].search([])
    stages = env["crm.stage"].search([], order="sequence")
    won_stage = stages.filtered("is_won")[:1]
    open_stages = (stages - won_stage)[:3]
    reasons = env["crm.lost.reason"].search([])
    # a year of leads; every 10th won, every 7th other one lost; response in 0..299 minutes
    env.cr.execute(
        """
        INSERT INTO crm_lead (
            name, type, active, probability, company_id, team_id, user_id, channel_id,
            stage_id, lost_reason_id, expected_revenue, qualification_grade,
            qualification_score, first_message_at, first_response_at, response_minutes,
            response_band, sla_state, messenger_rating, create_date, date_closed,
            write_date, create_uid, write_uid)
        SELECT 'bench lead ' || n, 'opportunity', NOT lost, CASE WHEN won THEN 100
               WHEN lost THEN 0 ELSE 10 END, %(company)s,
               (%(teams)s)[1 + n %% %(team_count)s], (%(users)s)[1 + n %% %(user_count)s],
               (%(channels)s)[1 + n %% %(channel_count)s],
               CASE WHEN won THEN %(won_stage)s
                    ELSE (%(open_stages)s)[1 + (n / 7) %% 3] END,
               CASE WHEN lost THEN (%(reasons)s)[1 + n %% %(reason_count)s] END,
               (n %% 50) * 1000, (ARRAY['hot', 'warm', 'cold'])[1 + n %% 3], n %% 20,
               created, created + minutes * interval '1 minute', minutes,
               CASE WHEN minutes <= 20 THEN 'ideal' WHEN minutes <= 180 THEN 'normal'
                    ELSE 'acceptable' END,
               CASE WHEN minutes <= 5 THEN 'met' ELSE 'met_late' END, n %% 6,
               created, CASE WHEN won THEN created + (n %% 30) * interval '1 day' END,
               created, 1, 1
          FROM (
            SELECT n, n %% 10 = 0 AS won, n %% 10 <> 0 AND n %% 7 = 0 AS lost,
                   n %% 300 AS minutes,
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
        },
    )
    env.cr.execute(
        """
        INSERT INTO mail_message (model, res_id, message_type, body, date, author_id,
                                  create_date, write_date, create_uid, write_uid)
        SELECT 'crm.lead', lead.id, 'comment', '<p>message ' || k || '</p>',
               lead.create_date + k * interval '1 minute', %(author)s,
               lead.create_date, lead.create_date, 1, 1
          FROM crm_lead lead CROSS JOIN generate_series(1, %(per_lead)s) AS k
         WHERE lead.name LIKE 'bench lead %%'
        """,
        {"author": env.user.partner_id.id, "per_lead": MESSAGES_PER_LEAD},
    )
    env.cr.execute("ANALYZE crm_lead")
    env.cr.execute("ANALYZE mail_message")
    env.invalidate_all()


def main():
    with odoo_env() as env:
        with Timer() as generation:
            generate(env)
        messages = count(env.cr, "SELECT count(*) FROM mail_message WHERE model = 'crm.lead'")
        leads = count(env.cr, "SELECT count(*) FROM crm_lead")
        print(f"generated {leads} leads and {messages} messages in {generation.seconds:.0f} s")
        assert (leads, messages) == (LEADS, LEADS * MESSAGES_PER_LEAD), "the database holds more"
        year_ago = datetime.datetime.now() - datetime.timedelta(days=366)
        domain = [("create_date", ">=", year_ago)]
        lead_report = env["messenger.lead.report"]
        for name, (groupby, measures) in REPORTS.items():
            with Timer() as timer:
                rows = lead_report._read_group(domain, groupby, measures)
            assert rows, f"{name}: no rows"
            if measures[0] == "lead_count:sum":
                counted = sum(row[len(groupby)] for row in rows)
                assert counted == LEADS, f"{name}: {counted} leads"
            report("reports", timer.seconds, f"s {name}, {LEADS} leads", "<= 2 s")
        dashboard = env["messenger.report.dashboard"]
        for period in ("this_month", "this_year"):
            with Timer() as timer:
                data = dashboard.get_dashboard_data(period=period)
            assert data["funnel"]["total"]["counts"][0] > 0
            report("reports", timer.seconds, f"s dashboard, {period}", "<= 3 s")


if __name__ == "__main__":
    main()
