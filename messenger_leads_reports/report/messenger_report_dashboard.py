from odoo import api, fields, models
from odoo.tools import SQL, unique

from ..tools import funnel

CHANNEL_MEASURES = [
    *(f"{step}:sum" for step in funnel.STEPS),
    "lost_count:sum",
    "breach_count:sum",
    "qualification_score:avg",
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
# Every grouping of the dashboard: (group by, measures), all read in one scan of the leads.
GROUPINGS = {
    "channel": (("channel_id",), CHANNEL_MEASURES),
    "user": (("user_id",), [*SALESPERSON_MEASURES, "breach_count:sum"]),
    "team": (("team_id",), ["breach_count:sum"]),
    "lost_reason": (("lost_reason_id",), ["lost_count:sum"]),
    "quality": (
        ("channel_id", "qualification_grade"),
        ["lead_count:sum", "conversion_rate:avg"],
    ),
    "band": (("response_band",), ["lead_count:sum", "conversion_rate:avg"]),
    "hour": (("arrival_hour",), ["breach_count:sum"]),
    # how many leads were answered in each number of minutes: the percentiles' input
    "minutes": (("response_minutes",), ["lead_count:sum"]),
    "total": ((), ["within_target_rate:avg", "breach_count:sum"]),
}


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
        grouped = self._read_groupings(domain)
        by_channel, by_user = grouped["channel"], grouped["user"]
        return {
            "period": {
                "key": period,
                "start": fields.Date.to_string(start),
                "end": fields.Date.to_string(end),
            },
            "funnel": self._funnel(by_channel),
            "lost_reasons": self._counts(grouped["lost_reason"], "lost_count"),
            "response": self._response(grouped),
            "breaches_by_hour": self._breaches_by_hour(grouped["hour"]),
            "breaches": {
                "team_id": self._counts(grouped["team"], "breach_count"),
                "user_id": self._counts(by_user, "breach_count"),
                "channel_id": self._counts(by_channel, "breach_count"),
            },
            "salespeople": self._salespeople(by_user),
            "quality": self._quality(by_channel, grouped["quality"]),
            "targets": self.env["messenger.conversion.target"]._dashboard_rows(start, end),
        }

    def _read_groupings(self, domain):
        """{grouping: [(group values, {measure: value})]} of GROUPINGS, in one scan.

        The leads analysis is read as read_group reads it (its _search: record rules and
        companies apply), with every grouping a GROUPING SET of one query: a scan of the leads
        per grouping would cost as many scans. Groups come in read_group's order (many2one
        values in their model's order, empty last); read_group gives 0 for an average over no
        value, here it is None, shown as a dash.
        """
        report = self.env["messenger.lead.report"]
        query = report._search(domain)
        columns = list(
            unique(name for groupby, _measures in GROUPINGS.values() for name in groupby)
        )
        terms = {name: report._read_group_groupby(name, query) for name in columns}
        specs = list(
            unique(
                spec
                for _groupby, measures in GROUPINGS.values()
                for measure in measures
                for spec in (measure, measure.replace(":avg", ":count"))
            )
        )
        query.groupby = SQL(
            "GROUPING SETS (%s)",
            SQL(", ").join(
                SQL("(%s)", SQL(", ").join(terms[name] for name in groupby))
                for groupby, _measures in GROUPINGS.values()
            ),
        )
        rows = self.env.execute_query(
            query.select(
                SQL("GROUPING(%s)", SQL(", ").join(terms.values())),
                *terms.values(),
                *(report._read_group_select(spec, query) for spec in specs),
            )
        )
        # GROUPING() has a bit per column, the first one highest, set when it is not grouped
        by_mask = {
            sum(
                1 << (len(columns) - 1 - index)
                for index, name in enumerate(columns)
                if name not in groupby
            ): key
            for key, (groupby, _measures) in GROUPINGS.items()
        }
        raw = {key: [] for key in GROUPINGS}
        for mask, *values in rows:
            raw[by_mask[mask]].append(values)
        return {key: self._grouped(report, columns, specs, key, raw[key]) for key in GROUPINGS}

    def _grouped(self, report, columns, specs, key, rows):
        """The rows of one grouping as _read gave them: [(group values, {measure: value})]."""
        groupby, measures = GROUPINGS[key]
        if not rows:
            return []
        columns_values = dict(zip([*columns, *specs], zip(*rows, strict=True), strict=True))
        groups = list(
            zip(
                *(
                    report._read_group_postprocess_groupby(name, columns_values[name])
                    for name in groupby
                ),
                strict=True,
            )
        ) or [()] * len(rows)
        aggregates = {
            spec: list(report._read_group_postprocess_aggregate(spec, columns_values[spec]))
            for spec in specs
        }
        result = []
        for index, group in enumerate(groups):
            row = {}
            for measure in measures:
                value = aggregates[measure][index]
                if (
                    measure.endswith(":avg")
                    and not aggregates[measure.replace(":avg", ":count")][index]
                ):
                    value = None
                row[measure.split(":")[0]] = _rounded(value)
            result.append((group, row))
        keys = [
            self._group_order(report._fields[name], [group[index] for group, _row in result])
            for index, name in enumerate(groupby)
        ]
        return sorted(
            result, key=lambda item: [key(value) for key, value in zip(keys, item[0], strict=True)]
        )

    def _group_order(self, field, values):
        """A sort key for the values of a grouping, read_group's order: empty values last,
        records in their model's order."""
        if field.type == "many2one":
            records = self.env[field.comodel_name].union(*values)
            ranks = {
                record_id: rank
                for rank, record_id in enumerate(
                    records.sudo().with_context(active_test=False).sorted().ids
                )
            }
            return lambda record: (not record, ranks.get(record.id, 0))
        return lambda value: (value is False, value or 0)

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

    def _response(self, grouped):
        bands = (
            self.env["messenger.lead.report"]
            ._fields["response_band"]
            ._description_selection(self.env)
        )
        by_band = {band: row for (band,), row in grouped["band"]}
        # percentiles are no read_group aggregate: worked out from the leads per minute count
        answered = [
            (minutes, row["lead_count"])
            for (minutes,), row in grouped["minutes"]
            if minutes is not False
        ]
        [((), total)] = grouped["total"]
        return {
            "median": _rounded(funnel.percentile(answered, 0.5)),
            "p90": _rounded(funnel.percentile(answered, 0.9)),
            "within_target": total["within_target_rate"],
            "breaches": total["breach_count"] or 0,
            "bands": [
                {
                    "name": label,
                    "count": by_band[band]["lead_count"],
                    "conversion": by_band[band]["conversion_rate"],
                }
                for band, label in bands
                if band in by_band
            ],
        }

    def _breaches_by_hour(self, by_hour):
        hours = [0] * 24
        for (hour,), row in by_hour:
            if hour is not False:
                hours[hour] = row["breach_count"]
        return hours

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


def _name(record, empty_label):
    return record.display_name or empty_label


def _rounded(value):
    """Counts stay integers; averages and percentiles get one decimal."""
    if value is None or isinstance(value, int):
        return value
    return round(float(value), 1)
