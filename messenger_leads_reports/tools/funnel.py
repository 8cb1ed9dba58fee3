"""Funnel arithmetic and report periods: pure functions the dashboard and the PDF share."""

import datetime
import itertools
import math

STEPS = ("lead_count", "qualified_count", "opportunity_count", "won_count")
PERIODS = ("this_month", "last_month", "last_3_months", "this_year")


def rate(part, whole):
    """Percentage, None when there is nothing to divide (shown as a dash, never 0 %)."""
    return round(100.0 * part / whole, 1) if whole else None


def step_rates(counts):
    """Conversion from each step to the next: [lead→qualified, qualified→opp, opp→won]."""
    return [rate(counts[later], counts[earlier]) for earlier, later in itertools.pairwise(STEPS)]


def largest_drop(rates):
    """Index of the step that loses the most (lowest conversion), None if no step has data."""
    known = [(value, index) for index, value in enumerate(rates) if value is not None]
    return min(known)[1] if known else None


def percentile(counts, fraction):
    """PostgreSQL's percentile_cont(fraction) of the values counted in `counts` ([(value,
    how many times)], any order): the value at that fraction of the sorted values, interpolated
    between the two nearest. None when there is no value."""
    total = sum(count for _value, count in counts)
    if not total:
        return None
    position = fraction * (total - 1)
    first, second = math.floor(position), math.ceil(position)
    found = {}
    seen = 0
    for value, count in sorted(counts):
        for row in (first, second):
            if row not in found and row < seen + count:
                found[row] = value
        seen += count
    low, high = found[first], found[second]
    return low if first == second else low + (high - low) * (position - first)


def period_bounds(period, today):
    """[start, end) dates of a named period around `today`."""
    month_start = today.replace(day=1)
    next_month = (month_start + datetime.timedelta(days=32)).replace(day=1)
    if period == "this_month":
        return month_start, next_month
    if period == "last_month":
        return (month_start - datetime.timedelta(days=1)).replace(day=1), month_start
    if period == "last_3_months":
        start = month_start
        for _month in range(2):
            start = (start - datetime.timedelta(days=1)).replace(day=1)
        return start, next_month
    if period == "this_year":
        return today.replace(month=1, day=1), today.replace(year=today.year + 1, month=1, day=1)
    raise ValueError(f"unknown report period {period!r}; expected one of {', '.join(PERIODS)}")
