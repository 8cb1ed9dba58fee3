from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import funnel

CHANNEL_MEASURES = [
    *(f"{step}:sum" for step in funnel.STEPS),
    "lost_count:sum",
    "breach_count:sum",
    "qualification_score:avg",
]
NEXT_RESPONSE_MEASURES = [
    "response_count:sum",
    "response_minutes:avg",
    "within_target_rate:avg",
    "breach_count:sum",
]
SALESPERSON_MEASURES = [
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
]


class MessengerReportDashboard(models.AbstractModel):
    """The figures of the dashboard and of the monthly PDF, read from the leads analysis.

    Everything goes through the report model's read_group, so record rules apply: a
    salesperson sees their own figures, a sales manager everyone's.
    """

    _name = "messenger.report.dashboard"
    _description = "Messenger leads dashboard"

    @api.model
    def get_dashboard_data(self, period="this_month", team_id=False):
        start, end = funnel.period_bounds(period, fields.Date.context_today(self))
        domain = [("create_date", ">=", start), ("create_date", "<", end)]
        if team_id:
            domain.append(("team_id", "=", team_id))
        # PostgreSQL's JIT compiles these queries (estimated costly: many aggregates over every
        # lead) for about as long as it then saves, or longer: measured 1.0 s of compiling in a
        # 3.5 s read of a year of 1,000,000 leads. Off for the rest of this transaction only.
        self.env.cr.execute(SQL("SET LOCAL jit = off"))
        # Each scan of the leads costs about the same, whatever it groups by: two groupings at a
        # fine grain, each rolled up to the groupings the dashboard shows, and one pass for
        # the response figures.
        by_grade = self._read(
            domain,
            ["channel_id", "qualification_grade"],
            [*CHANNEL_MEASURES, "conversion_rate:avg"],
        )
        by_channel = _rollup(by_grade, [0])
        by_person = self._read(
            domain,
            ["user_id", "team_id", "lost_reason_id"],
            [*SALESPERSON_MEASURES, "breach_count:sum"],
        )
        by_user = _rollup(by_person, [0])
        response, breaches_by_hour = self._response(domain)
        next_domain = [("message_at", ">=", start), ("message_at", "<", end)]
        if team_id:
            next_domain.append(("team_id", "=", team_id))
        return {
            "period": {
                "key": period,
                "start": fields.Date.to_string(start),
                "end": fields.Date.to_string(end),
            },
            "funnel": self._funnel(by_channel),
            "lost_reasons": self._counts(_rollup(by_person, [2]), "lost_count"),
            "response": response,
            "breaches_by_hour": breaches_by_hour,
            "next_response": self._next_response(next_domain),
            "breaches": {
                "team_id": self._counts(_rollup(by_person, [1]), "breach_count"),
                "user_id": self._counts(by_user, "breach_count"),
                "channel_id": self._counts(by_channel, "breach_count"),
            },
            "salespeople": self._salespeople(by_user),
            "quality": self._quality(by_channel, _rollup(by_grade, [0, 1])),
            "targets": self.env["messenger.conversion.target"]._dashboard_rows(start, end),
        }

    def _read(self, domain, groupby, measures, report="messenger.lead.report"):
        """[(group values, {measure: figures})] of the leads analysis (or another `report`),
        in read_group's order.

        The figures of a sum are [total]; of an average [sum, count], so that _rollup can
        add groups up exactly. read_group applies record rules and companies.
        """
        specs = []
        for measure in measures:
            name, aggregate = measure.split(":")
            specs.extend([f"{name}:sum", f"{name}:count"] if aggregate == "avg" else [measure])
        rows = []
        for values in self.env[report]._read_group(domain, groupby, specs):
            aggregates = iter(values[len(groupby) :])
            row = {}
            for measure in measures:
                name, aggregate = measure.split(":")
                figures = [next(aggregates) or 0]
                if aggregate == "avg":
                    figures.append(next(aggregates))
                row[name] = figures
            rows.append((values[: len(groupby)], row))
        return rows

    def _funnel(self, by_channel):
        rows = []
        totals = dict.fromkeys([*funnel.STEPS, "lost_count"], 0)
        for (channel,), values in by_channel:
            counts = {key: values[key] for key in totals}
            for key, value in counts.items():
                totals[key] += value
            rows.append(self._funnel_row(_name(channel, self.env._("No channel")), counts))
        return {"rows": rows, "total": self._funnel_row(self.env._("All channels"), totals)}

    def _funnel_row(self, name, counts):
        rates = funnel.step_rates(counts)
        return {
            "name": name,
            "counts": [counts[step] for step in funnel.STEPS],
            "rates": rates,
            "conversion": funnel.rate(counts["won_count"], counts["lead_count"]),
            "lost": counts["lost_count"],
            "drop_index": funnel.largest_drop(rates),
        }

    def _counts(self, grouped, measure):
        """[{name, count}] of one summed measure of a grouping, largest first, zeros left out."""
        rows = []
        for (record,), values in grouped:
            count = values[measure]
            if count:
                rows.append({"name": _name(record, self.env._("None")), "count": count})
        return sorted(rows, key=lambda row: (-row["count"], row["name"]))

    def _response(self, domain):
        """The response figures and the breaches by hour of arrival, in one pass over the leads.

        Percentiles are no read_group aggregate. Each band's figures are aggregates of the
        pass, filtered; the hours are a grouping set of it (a hour computed once per lead,
        where a filter per hour would compute it 24 times).
        """
        report = self.env["messenger.lead.report"]
        query = report._search(domain)

        def column(name):
            return SQL.identifier(query.table, name)

        bands = report._fields["response_band"]._description_selection(self.env)
        by_band = []
        for band, _label in bands:
            in_band = SQL("%s = %s", column("response_band"), band)
            by_band.append(SQL("COUNT(*) FILTER (WHERE %s)", in_band))
            by_band.append(SQL("AVG(%s) FILTER (WHERE %s)", column("conversion_rate"), in_band))
        query.groupby = SQL("GROUPING SETS ((), (%s))", column("arrival_hour"))
        response, hours = {}, [0] * 24
        for by_hour, hour, median, p90, within, breaches, *band_figures in self.env.execute_query(
            query.select(
                SQL("GROUPING(%s)", column("arrival_hour")),
                column("arrival_hour"),
                SQL("percentile_cont(0.5) WITHIN GROUP (ORDER BY %s)", column("response_minutes")),
                SQL("percentile_cont(0.9) WITHIN GROUP (ORDER BY %s)", column("response_minutes")),
                SQL("AVG(%s)", column("within_target_rate")),
                SQL("COALESCE(SUM(%s), 0)", column("breach_count")),
                *by_band,
            )
        ):
            if by_hour == 0:  # GROUPING() is 0 where the hour is grouped
                if hour is not None:
                    hours[hour] = breaches
                continue
            response = {
                "median": _rounded(median),
                "p90": _rounded(p90),
                "within_target": _rounded(within),
                "breaches": breaches,
                "bands": [
                    {"name": label, "count": count, "conversion": _rounded(conversion)}
                    for (_band, label), count, conversion in zip(
                        bands, band_figures[::2], band_figures[1::2], strict=True
                    )
                    if count
                ],
            }
        return response, hours

    def _next_response(self, domain):
        """The later messages of the period's customers that waited for an answer: how many,
        the average working minutes to answer, the share within target and the breaches, in
        all and by salesperson."""
        by_user = self._read(
            domain, ["user_id"], NEXT_RESPONSE_MEASURES, report="messenger.response.report"
        )
        totals = _rollup(by_user, [])
        total = totals[0][1] if totals else {}
        return {
            "count": total.get("response_count", 0),
            "minutes": total.get("response_minutes"),
            "within_target": total.get("within_target_rate"),
            "breaches": total.get("breach_count", 0),
            "by_user": self._counts(_rollup(by_user, [0]), "breach_count"),
        }

    def _salespeople(self, by_user):
        rows = [
            dict(
                {key: value for key, value in values.items() if key != "breach_count"},
                name=_name(user, self.env._("Unassigned")),
            )
            for (user,), values in by_user
        ]
        return sorted(rows, key=lambda row: (-row["won_revenue"], row["name"]))

    def _quality(self, by_channel, by_grade):
        """Per channel: leads, average score, and each grade's leads and conversion."""
        grades = dict(
            self.env["messenger.lead.report"]
            ._fields["qualification_grade"]
            ._description_selection(self.env)
        )
        rows = {
            channel: {
                "name": _name(channel, self.env._("No channel")),
                "count": row["lead_count"],
                "score": row["qualification_score"],
                "grades": [],
            }
            for (channel,), row in by_channel
        }
        for (channel, grade), row in by_grade:
            rows[channel]["grades"].append(
                {
                    "name": grades.get(grade, self.env._("Not graded")),
                    "count": row["lead_count"],
                    "conversion": row["conversion_rate"],
                }
            )
        return list(rows.values())


def _rollup(rows, keys):
    """The rows of _read added up by the group values at the positions `keys`, in the order
    they come, each measure final: a sum, or an average (None over no value)."""
    groups = {}
    for values, row in rows:
        group = groups.setdefault(tuple(values[key] for key in keys), {})
        for name, figures in row.items():
            if name in group:
                group[name] = [
                    total + figure for total, figure in zip(group[name], figures, strict=True)
                ]
            else:
                group[name] = list(figures)
    return [
        (group_values, {name: _final(figures) for name, figures in row.items()})
        for group_values, row in groups.items()
    ]


def _final(figures):
    """A sum's total, or an average's sum divided by its count (None when it counts nothing)."""
    if len(figures) == 1:
        return _rounded(figures[0])
    total, count = figures
    return _rounded(total / count) if count else None


def _name(record, empty_label):
    return record.display_name or empty_label


def _rounded(value):
    """Counts stay integers; averages and percentiles get one decimal."""
    if value is None or isinstance(value, int):
        return value
    return round(float(value), 1)
