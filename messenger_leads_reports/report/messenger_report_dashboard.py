from odoo import api, fields, models
from odoo.tools import SQL

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
        # one scan per grouping: each of them serves several parts of the dashboard
        by_channel = self._read(domain, ["channel_id"], CHANNEL_MEASURES)
        by_user = self._read(domain, ["user_id"], [*SALESPERSON_MEASURES, "breach_count:sum"])
        return {
            "period": {
                "key": period,
                "start": fields.Date.to_string(start),
                "end": fields.Date.to_string(end),
            },
            "funnel": self._funnel(by_channel),
            "lost_reasons": self._counts(
                self._read(domain, ["lost_reason_id"], ["lost_count:sum"]), "lost_count"
            ),
            "response": self._response(domain),
            "breaches_by_hour": self._breaches_by_hour(domain),
            "breaches": {
                "team_id": self._counts(
                    self._read(domain, ["team_id"], ["breach_count:sum"]), "breach_count"
                ),
                "user_id": self._counts(by_user, "breach_count"),
                "channel_id": self._counts(by_channel, "breach_count"),
            },
            "salespeople": self._salespeople(by_user),
            "quality": self._quality(domain, by_channel),
            "targets": self.env["messenger.conversion.target"]._dashboard_rows(start, end),
        }

    def _read(self, domain, groupby, measures):
        """[(group values, {measure: value})] of the leads analysis.

        read_group gives 0 for an average over no value; here it is None, shown as a dash.
        """
        specs = []
        for measure in measures:
            specs.append(measure)
            if measure.endswith(":avg"):
                specs.append(measure.replace(":avg", ":count"))
        rows = []
        for values in self.env["messenger.lead.report"]._read_group(domain, groupby, specs):
            aggregates = iter(values[len(groupby) :])
            row = {}
            for measure in measures:
                value = next(aggregates)
                if measure.endswith(":avg") and not next(aggregates):
                    value = None
                row[measure.split(":")[0]] = _rounded(value)
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
        report = self.env["messenger.lead.report"]
        query = report._search(domain)

        def column(name):
            return SQL.identifier(query.table, name)

        # percentiles are no read_group aggregate: one query for them and the totals
        [(median, p90, within, breaches)] = self.env.execute_query(
            query.select(
                SQL("percentile_cont(0.5) WITHIN GROUP (ORDER BY %s)", column("response_minutes")),
                SQL("percentile_cont(0.9) WITHIN GROUP (ORDER BY %s)", column("response_minutes")),
                SQL("AVG(%s)", column("within_target_rate")),
                SQL("COALESCE(SUM(%s), 0)", column("breach_count")),
            )
        )
        bands = report._fields["response_band"]._description_selection(self.env)
        by_band = {
            band: row
            for (band,), row in self._read(
                [*domain, ("response_band", "!=", False)],
                ["response_band"],
                ["lead_count:sum", "conversion_rate:avg"],
            )
        }
        return {
            "median": _rounded(median),
            "p90": _rounded(p90),
            "within_target": _rounded(within),
            "breaches": breaches,
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

    def _breaches_by_hour(self, domain):
        hours = [0] * 24
        for (hour,), row in self._read(
            [*domain, ("breach_count", ">", 0)], ["arrival_hour"], ["breach_count:sum"]
        ):
            if hour is not None:
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

    def _quality(self, domain, by_channel):
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
        for (channel, grade), row in self._read(
            domain, ["channel_id", "qualification_grade"], ["lead_count:sum", "conversion_rate:avg"]
        ):
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
