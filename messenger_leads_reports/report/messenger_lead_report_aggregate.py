from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.messenger_leads.tools.qualification import GRADES
from odoo.addons.messenger_leads.tools.sla import RESPONSE_BANDS

# The measures of the leads analysis kept summed: a sum as itself, an average as its sum and the
# count of leads it applies to (<name>_sum, <name>_count), so that any grouping adds up exactly.
SUMS = (
    "lead_count",
    "qualified_count",
    "opportunity_count",
    "won_count",
    "lost_count",
    "breach_count",
    "won_revenue",
    "chat_count",
)
AVERAGES = (
    "qualified_rate",
    "opportunity_rate",
    "won_rate",
    "conversion_rate",
    "deal_cycle_days",
    "won_amount",
    "call_attempts",
    "customer_rating",
    "qualification_score",
    "within_target_rate",
    "response_minutes",
)
KEYS = (
    "company_id",
    "user_id",
    "team_id",
    "channel_id",
    "qualification_grade",
    "lost_reason_id",
    "response_band",
    "arrival_hour",
    "response_minutes",
)
# What each kind of row adds up, and by what: the month (periods are whole months) or the day
# (targets' periods are days). Every kind has the company and the salesperson, which the
# record rules read, and the team, which the dashboard filters by.
KINDS = {
    "figures": (
        "month",
        (
            "company_id",
            "user_id",
            "team_id",
            "channel_id",
            "qualification_grade",
            "lost_reason_id",
            "response_band",
        ),
    ),
    "hours": ("month", ("company_id", "user_id", "team_id", "arrival_hour")),
    "minutes": ("month", ("company_id", "user_id", "team_id", "response_minutes")),
    "days": ("day", ("company_id", "user_id", "team_id", "channel_id")),
}
KEY_TYPES = {  # the others are ids
    "qualification_grade": "varchar",
    "response_band": "varchar",
    "arrival_hour": "integer",
    "response_minutes": "double precision",
}
STALE_TABLE = "messenger_lead_report_aggregate_stale"
# what the leads analysis reads besides the leads: the changes that make the totals stale
DEPENDENCIES = {
    "crm_stage": "INSERT OR DELETE OR UPDATE OF is_won, sequence",
    "messenger_channel": "UPDATE OF code",
    "crm_team": "UPDATE OF messenger_resource_calendar_id",
    "resource_calendar": "UPDATE OF tz",
}
LEAD_EVENTS = {  # the triggers on crm_lead and the transition tables each one reads
    "INSERT": "NEW TABLE AS new_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
}
LOCK = 20_201_120  # pg_advisory_xact_lock key of the rebuild and the compaction


def measure_columns():
    """{column: SQL type} of the measures: counts are integers, sums of amounts numeric."""
    columns = {name: "numeric" if name == "won_revenue" else "integer" for name in SUMS}
    for name in AVERAGES:
        columns.update({f"{name}_sum": "numeric", f"{name}_count": "integer"})
    return columns


class MessengerLeadReportAggregate(models.Model):
    """The leads analysis added up by month (and by day for the conversion targets), kept
    current by the transactions that change the leads: what the dashboard reads.

    PostgreSQL triggers on crm_lead add, in the same statement, the change of each changed
    lead's analysis row (its new row minus its old one, computed from the analysis's own
    _select/_join/_where) as rows of their own: rows are only ever added, so that writers never
    wait for each other; a cron adds them up now and then (`_compact`). A change of what the
    analysis reads besides the leads (a stage made won, a team's working hours...) marks the
    totals stale: the next read builds them again from the analysis (`_refresh`). Its record
    rules are the analysis's, on the same fields: a salesperson reads the rows of their own
    leads, nobody those of another company.
    """

    _name = "messenger.lead.report.aggregate"
    _description = "Messenger leads analysis totals"
    _auto = False
    _order = "day"

    kind = fields.Selection(
        [("figures", "Figures"), ("hours", "Hours"), ("minutes", "Minutes"), ("days", "Days")],
        readonly=True,
    )
    day = fields.Date(readonly=True, help="The first day of the month, or the day.")
    company_id = fields.Many2one("res.company", readonly=True)
    user_id = fields.Many2one("res.users", readonly=True)
    team_id = fields.Many2one("crm.team", readonly=True)
    channel_id = fields.Many2one("messenger.channel", readonly=True)
    qualification_grade = fields.Selection(GRADES, readonly=True)
    lost_reason_id = fields.Many2one("crm.lost.reason", readonly=True)
    response_band = fields.Selection(RESPONSE_BANDS, readonly=True)
    arrival_hour = fields.Integer(readonly=True, aggregator=None)
    response_minutes = fields.Float(readonly=True, aggregator=None)

    lead_count = fields.Integer(readonly=True, aggregator="sum")
    qualified_count = fields.Integer(readonly=True, aggregator="sum")
    opportunity_count = fields.Integer(readonly=True, aggregator="sum")
    won_count = fields.Integer(readonly=True, aggregator="sum")
    lost_count = fields.Integer(readonly=True, aggregator="sum")
    breach_count = fields.Integer(readonly=True, aggregator="sum")
    chat_count = fields.Integer(readonly=True, aggregator="sum")
    won_revenue = fields.Float(readonly=True, aggregator="sum")
    qualified_rate_sum = fields.Float(readonly=True, aggregator="sum")
    qualified_rate_count = fields.Integer(readonly=True, aggregator="sum")
    opportunity_rate_sum = fields.Float(readonly=True, aggregator="sum")
    opportunity_rate_count = fields.Integer(readonly=True, aggregator="sum")
    won_rate_sum = fields.Float(readonly=True, aggregator="sum")
    won_rate_count = fields.Integer(readonly=True, aggregator="sum")
    conversion_rate_sum = fields.Float(readonly=True, aggregator="sum")
    conversion_rate_count = fields.Integer(readonly=True, aggregator="sum")
    deal_cycle_days_sum = fields.Float(readonly=True, aggregator="sum")
    deal_cycle_days_count = fields.Integer(readonly=True, aggregator="sum")
    won_amount_sum = fields.Float(readonly=True, aggregator="sum")
    won_amount_count = fields.Integer(readonly=True, aggregator="sum")
    call_attempts_sum = fields.Float(readonly=True, aggregator="sum")
    call_attempts_count = fields.Integer(readonly=True, aggregator="sum")
    customer_rating_sum = fields.Float(readonly=True, aggregator="sum")
    customer_rating_count = fields.Integer(readonly=True, aggregator="sum")
    qualification_score_sum = fields.Float(readonly=True, aggregator="sum")
    qualification_score_count = fields.Integer(readonly=True, aggregator="sum")
    within_target_rate_sum = fields.Float(readonly=True, aggregator="sum")
    within_target_rate_count = fields.Integer(readonly=True, aggregator="sum")
    response_minutes_sum = fields.Float(readonly=True, aggregator="sum")
    response_minutes_count = fields.Integer(readonly=True, aggregator="sum")

    @api.model
    def _read_totals(self, kind, domain, groupby, aggregates):
        """_read_group of the current rows of one kind, with the user's record rules. Groups
        that hold no lead (what leads that moved away leave until the rows are compacted) are
        left out: the analysis has no such group."""
        self._refresh()
        rows = self._read_group(
            [("kind", "=", kind), *domain], groupby, [*aggregates, "lead_count:sum"]
        )
        return [row[:-1] for row in rows if row[-1]]

    @api.model
    def _read_periods(self, periods):
        """[(leads, won)] of each (channel id, team id or False for every team, first day, last
        day) of `periods`, added up from the daily totals in one read with the user's record
        rules."""
        self._refresh()
        query = self._search(
            [
                ("kind", "=", "days"),
                ("channel_id", "in", list({channel for channel, *_rest in periods})),
                ("day", ">=", min(first for *_rest, first, _last in periods)),
                ("day", "<=", max(last for *_rest, last in periods)),
            ]
        )
        values = SQL(", ").join(
            SQL(
                "(%s::int, %s::int, %s::int, %s::date, %s::date)",
                position,
                channel,
                team or None,
                first,
                last,
            )
            for position, (channel, team, first, last) in enumerate(periods)
        )
        query.add_join(
            "JOIN",
            "period",
            SQL(
                "(SELECT * FROM (VALUES %s) AS period (position, channel_id, team_id,"
                " first_day, last_day))",
                values,
            ),
            SQL(
                "period.channel_id = %(channel)s"
                " AND (period.team_id IS NULL OR period.team_id = %(team)s)"
                " AND %(day)s BETWEEN period.first_day AND period.last_day",
                channel=SQL.identifier(query.table, "channel_id"),
                team=SQL.identifier(query.table, "team_id"),
                day=SQL.identifier(query.table, "day"),
            ),
        )
        query.groupby = SQL("period.position")
        figures = {
            position: (leads, won)
            for position, leads, won in self.env.execute_query(
                query.select(
                    SQL("period.position"),
                    SQL("SUM(%s)", SQL.identifier(query.table, "lead_count")),
                    SQL("SUM(%s)", SQL.identifier(query.table, "won_count")),
                )
            )
        }
        return [figures.get(position, (0, 0)) for position in range(len(periods))]

    def _refresh(self):
        """Write what the transaction changed (the triggers add it up), and build the totals
        again if something the analysis reads besides the leads changed."""
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(SQL("SELECT 1 FROM %s LIMIT 1", SQL.identifier(STALE_TABLE)))
        if cr.rowcount:
            self._rebuild()

    @api.model
    def _rebuild(self):
        """Replace every row by the analysis's totals, in one statement: a lead changed
        meanwhile keeps its change's rows (the statement does not see them) and is read as
        before its change. Also daily, by a cron: a lead changed by a transaction that began
        before a stage (or team, channel, calendar) change was committed is counted by its
        change's rows as the stage was; this puts it right."""
        self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s)", LOCK))
        self.env.cr.execute(
            SQL(
                """
                WITH stale AS (DELETE FROM %(stale)s), gone AS (DELETE FROM %(table)s),
                     delta AS MATERIALIZED (%(rows)s)
                %(insert)s
                """,
                stale=SQL.identifier(STALE_TABLE),
                table=SQL.identifier(self._table),
                rows=self._analysis_rows(self.env["messenger.lead.report"]._from(), 1),
                insert=self._insert_totals(),
            )
        )

    @api.model
    def _compact(self):
        """Add up the rows of each group into one (the triggers add a row per change)."""
        self._refresh()
        self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s)", LOCK))
        keys = SQL(", ").join(SQL.identifier(key) for key in ("kind", "day", *KEYS))
        self.env.cr.execute(
            SQL(
                """
                WITH gone AS (DELETE FROM %(table)s RETURNING *)
                INSERT INTO %(table)s (%(keys)s, %(measures)s)
                SELECT %(keys)s, %(sums)s FROM gone GROUP BY %(keys)s HAVING %(nonzero)s
                """,
                table=SQL.identifier(self._table),
                keys=keys,
                measures=SQL(", ").join(SQL.identifier(name) for name in measure_columns()),
                sums=_sums(),
                nonzero=_nonzero(),
            )
        )

    def _analysis_rows(self, source, sign):
        """The analysis's rows of the leads of `source` (a FROM clause naming them `lead`),
        each with its keys and its measures times `sign`."""
        report = self.env["messenger.lead.report"]
        measures = [
            SQL(
                "%s * COALESCE(report.%s, 0) AS %s",
                sign,
                SQL.identifier(name),
                SQL.identifier(name),
            )
            for name in SUMS
        ]
        for name in AVERAGES:
            column = SQL("report.%s", SQL.identifier(name))
            measures.append(
                SQL("%s * COALESCE(%s, 0) AS %s", sign, column, SQL.identifier(f"{name}_sum"))
            )
            measures.append(
                SQL(
                    "%s * (%s IS NOT NULL)::int AS %s",
                    sign,
                    column,
                    SQL.identifier(f"{name}_count"),
                )
            )
        return SQL(
            "SELECT report.create_date, %s, %s FROM (%s %s %s %s) report",
            SQL(", ").join(SQL("report.%s", SQL.identifier(key)) for key in KEYS),
            SQL(", ").join(measures),
            report._select(),
            source,
            report._join(),
            report._where(),
        )

    def _insert_totals(self):
        """INSERT of the totals of each kind of the rows of `delta` (_analysis_rows)."""
        selects = []
        for kind, (period, keys) in KINDS.items():
            day = SQL("date_trunc(%s, delta.create_date)::date", period)
            columns = [
                SQL.identifier("delta", key)
                if key in keys
                else SQL("NULL::%s", SQL(KEY_TYPES.get(key, "integer")))
                for key in KEYS
            ]
            selects.append(
                SQL(
                    "SELECT %s, %s, %s, %s FROM delta GROUP BY %s HAVING %s",
                    kind,
                    day,
                    SQL(", ").join(columns),
                    _sums(),
                    SQL(", ").join([day, *(SQL.identifier("delta", key) for key in keys)]),
                    _nonzero(),
                )
            )
        return SQL(
            "INSERT INTO %s (%s) %s",
            SQL.identifier(self._table),
            SQL(", ").join(
                SQL.identifier(name) for name in ("kind", "day", *KEYS, *measure_columns())
            ),
            SQL(" UNION ALL ").join(selects),
        )

    def _create(self):
        """(Re)create the table, the triggers and the totals from the view's parts. The view's
        init calls it: an addon that extends the view's parts extends its totals."""
        cr = self.env.cr
        table = SQL.identifier(self._table)
        keys = SQL(", ").join(
            SQL("%s %s", SQL.identifier(key), SQL(KEY_TYPES.get(key, "integer"))) for key in KEYS
        )
        measures = SQL(", ").join(
            SQL("%s %s NOT NULL DEFAULT 0", SQL.identifier(name), SQL(column_type))
            for name, column_type in measure_columns().items()
        )
        cr.execute(SQL("DROP TABLE IF EXISTS %s", table))
        cr.execute(
            SQL(
                "CREATE TABLE %s (id bigserial PRIMARY KEY, kind varchar NOT NULL,"
                " day date NOT NULL, %s, %s)",
                table,
                keys,
                measures,
            )
        )
        cr.execute(SQL("CREATE INDEX ON %s (kind, day)", table))
        cr.execute(
            SQL(
                "CREATE TABLE IF NOT EXISTS %s (id serial PRIMARY KEY)",
                SQL.identifier(STALE_TABLE),
            )
        )
        self._create_triggers()
        self._rebuild()

    def _create_triggers(self):
        """The leads' triggers (their changes, as they happen) and their dependencies'
        (the totals marked stale)."""
        cr = self.env.cr
        leads = SQL("crm_lead")
        added = self._analysis_rows(SQL("FROM new_rows lead"), 1)
        removed = self._analysis_rows(SQL("FROM old_rows lead"), -1)
        bodies = {
            "INSERT": added,
            "UPDATE": SQL("%s UNION ALL %s", added, removed),
            "DELETE": removed,
        }
        branches = SQL(" ").join(
            SQL(
                "%s TG_OP = %s THEN WITH delta AS MATERIALIZED (%s) %s;",
                SQL("IF") if index == 0 else SQL("ELSIF"),
                operation,
                rows,
                self._insert_totals(),
            )
            for index, (operation, rows) in enumerate(bodies.items())
        )
        function = f"{self._table}_leads"
        cr.execute(
            SQL(
                "CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS %s",
                SQL.identifier(function),
                _literal(cr, SQL("BEGIN %s END IF; RETURN NULL; END", branches)),
            )
        )
        for operation, transition in LEAD_EVENTS.items():
            name = SQL.identifier(f"{function}_{operation.lower()}")
            cr.execute(SQL("DROP TRIGGER IF EXISTS %s ON %s", name, leads))
            cr.execute(
                SQL(
                    "CREATE TRIGGER %s AFTER %s ON %s REFERENCING %s FOR EACH STATEMENT"
                    " EXECUTE FUNCTION %s()",
                    name,
                    SQL(operation),
                    leads,
                    SQL(transition),
                    SQL.identifier(function),
                )
            )
        stale = f"{self._table}_stale"
        cr.execute(
            SQL(
                "CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS %s",
                SQL.identifier(stale),
                _literal(
                    cr,
                    SQL(
                        "BEGIN INSERT INTO %s DEFAULT VALUES; RETURN NULL; END",
                        SQL.identifier(STALE_TABLE),
                    ),
                ),
            )
        )
        for table, events in DEPENDENCIES.items():
            name = SQL.identifier(f"{stale}_{table}")
            cr.execute(SQL("DROP TRIGGER IF EXISTS %s ON %s", name, SQL.identifier(table)))
            cr.execute(
                SQL(
                    "CREATE TRIGGER %s AFTER %s ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s()",
                    name,
                    SQL(events),
                    SQL.identifier(table),
                    SQL.identifier(stale),
                )
            )

    def _drop_triggers(self):
        """Remove the triggers and their functions (the addon is uninstalled: writes to the
        leads and stages must not call them)."""
        cr = self.env.cr
        functions = (f"{self._table}_leads", f"{self._table}_stale")
        for function in functions:
            cr.execute(SQL("DROP FUNCTION IF EXISTS %s() CASCADE", SQL.identifier(function)))
        cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL.identifier(STALE_TABLE)))


def _sums():
    return SQL(", ").join(SQL("SUM(%s)", SQL.identifier(name)) for name in measure_columns())


def _nonzero():
    return SQL(" OR ").join(SQL("SUM(%s) <> 0", SQL.identifier(name)) for name in measure_columns())


def _literal(cr, query):
    """`query` with its parameters in it, for a function's body."""
    return cr.mogrify(query.code, query.params).decode()
