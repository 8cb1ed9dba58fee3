from odoo import api, fields, models

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
    """The figures of the dashboard and of the monthly PDF, read from the leads analysis's
    totals (messenger.lead.report.aggregate), kept current by the transactions that change the
    leads: a few small grouped reads whatever the period, however many leads.

    Every read is the user's, so record rules apply: a salesperson sees their own figures, a
    sales manager everyone's.
    """

    _name = "messenger.report.dashboard"
    _description = "Messenger leads dashboard"

    @api.model
    def get_dashboard_data(self, period="this_month", team_id=False):
        start, end = funnel.period_bounds(period, fields.Date.context_today(self))
        # the totals are by month: every period is whole months
        domain = [("day", ">=", start), ("day", "<", end)]
        if team_id:
            domain.append(("team_id", "=", team_id))
        by_grade = self._read(
            domain,
            ["channel_id", "qualification_grade"],
            [*CHANNEL_MEASURES, "conversion_rate:avg", "within_target_rate:avg"],
        )
        by_channel = _rollup(by_grade, [0])
        by_person = self._read(
            domain,
            ["user_id", "team_id", "lost_reason_id"],
            [*SALESPERSON_MEASURES, "breach_count:sum"],
        )
        by_user = _rollup(by_person, [0])
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
            "response": self._response(domain, _rollup(by_grade, [])),
            "breaches_by_hour": self._breaches_by_hour(domain),
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

    def _read(self, domain, groupby, measures, kind="figures"):
        """[(group values, {measure: figures})] of the totals of one kind, in read_group's
        order.

        The figures of a sum are [total]; of an average [sum, count], so that _rollup can
        add groups up exactly.
        """
        specs = []
        for measure in measures:
            name, aggregate = measure.split(":")
            specs.extend(
                [f"{name}_sum:sum", f"{name}_count:sum"] if aggregate == "avg" else [measure]
            )
        totals = self.env["messenger.lead.report.aggregate"]._read_totals(
            kind, domain, groupby, specs
        )
        return _figures(totals, len(groupby), measures)

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

    def _response(self, domain, totals):
        """The first response: the median and 90th percentile of the working minutes (as
        PostgreSQL's percentile_cont over the period's leads), the share within target, the
        breaches, and each band's leads and conversion."""
        minutes = [
            (value, figures["response_minutes_count"][0])
            for (value,), figures in self._read(
                domain, ["response_minutes"], ["response_minutes_count:sum"], kind="minutes"
            )
            if value is not None
        ]
        by_band = dict(
            _rollup(
                self._read(domain, ["response_band"], ["lead_count:sum", "conversion_rate:avg"]),
                [0],
            )
        )
        total = totals[0][1] if totals else {}
        bands = self.env["messenger.lead.report"]._fields["response_band"]
        return {
            "median": _rounded(funnel.percentile(minutes, 0.5)),
            "p90": _rounded(funnel.percentile(minutes, 0.9)),
            "within_target": total.get("within_target_rate"),
            "breaches": total.get("breach_count", 0),
            "bands": [
                {
                    "name": label,
                    "count": by_band[(band,)]["lead_count"],
                    "conversion": by_band[(band,)]["conversion_rate"],
                }
                for band, label in bands._description_selection(self.env)
                if (band,) in by_band
            ],
        }

    def _breaches_by_hour(self, domain):
        """Breaches by the hour the customer first wrote, in the team's time zone: 24 counts."""
        hours = [0] * 24
        for (hour,), figures in self._read(
            domain, ["arrival_hour"], ["breach_count:sum"], kind="hours"
        ):
            if hour is not None:
                hours[hour] = figures["breach_count"][0]
        return hours

    def _next_response(self, domain):
        """The later messages of the period's customers that waited for an answer: how many,
        the average working minutes to answer, the share within target and the breaches, in
        all and by salesperson (from the next-responses analysis, read as the user)."""
        specs = []
        for measure in NEXT_RESPONSE_MEASURES:
            name, aggregate = measure.split(":")
            specs.extend([f"{name}:sum", f"{name}:count"] if aggregate == "avg" else [measure])
        by_user = _figures(
            self.env["messenger.response.report"]._read_group(domain, ["user_id"], specs),
            1,
            NEXT_RESPONSE_MEASURES,
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


def _figures(rows, width, measures):
    """read_group rows (`width` group values, then the specs of `measures`: a sum's, or an
    average's sum and count) as [(group values, {measure: figures})]."""
    result = []
    for values in rows:
        aggregates = iter(values[width:])
        row = {}
        for measure in measures:
            name, aggregate = measure.split(":")
            figures = [next(aggregates) or 0]
            if aggregate == "avg":
                figures.append(next(aggregates))
            row[name] = figures
        result.append((values[:width], row))
    return result


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
