"""Leads created in one batch with their channel derived from UTM: throughput and queries."""

from benchlib import Timer, odoo_env, report

LEADS = 2000


def main():
    with odoo_env() as env:
        source = env.ref("messenger_leads.utm_source_telegram")
        values = [{"name": f"bench lead {i}", "source_id": source.id} for i in range(LEADS)]
        queries_before = env.cr.sql_log_count
        with Timer() as timer:
            leads = env["crm.lead"].create(values)
            env.flush_all()
        queries = env.cr.sql_log_count - queries_before
        assert set(leads.mapped("messenger_channel_id.code")) == {"telegram"}
    report("lead_create", LEADS / timer.seconds, "leads/s", ">= 50 leads/s")
    report("lead_create", queries / LEADS, "queries/lead", "<= 10 queries/lead")


if __name__ == "__main__":
    main()
