"""Response rules (the first response and the next ones): deadlines in working time, response
bands and SLA states.

Pure functions on naive UTC datetimes and working intervals [(start, end), ...] sorted and
disjoint (what resource.calendar gives); the ORM layer only feeds them.
"""

import datetime

PLANNING_HORIZON = datetime.timedelta(days=21)  # a deadline is always found within it

# Lead-response bands used in the field: (up to minutes, band, label); the last has no limit.
BANDS = (
    (20, "ideal", "Up to 20 min"),  # +30% conversion
    (180, "normal", "Up to 3 h"),  # +10%
    (720, "acceptable", "Up to 12 h"),  # no effect
    (None, "harmful", "Over 12 h"),  # -30%
)
RESPONSE_BANDS = [(band, label) for _limit, band, label in BANDS]

# First-response states: waiting for the answer, then decided (answered, or the deadline passed)
SLA_STATES = [
    ("on_track", "On track"),
    ("at_risk", "At risk"),
    ("breached", "Breached"),
    ("met", "Met"),
    ("met_late", "Met late"),
]
WAITING = ("on_track", "at_risk")  # no answer yet, the deadline still ahead
DECIDED = ("met", "met_late", "breached")  # counted in the share answered within target
MISSED = ("met_late", "breached")  # counted as breaches


def add_working_minutes(start, minutes, intervals):
    """The moment `minutes` of working time after `start`; None if the intervals run out."""
    left = datetime.timedelta(minutes=minutes)
    for begin, end in intervals:
        if end <= start:
            continue
        counted_from = max(begin, start)
        if end - counted_from >= left:
            return counted_from + left
        left -= end - counted_from
    return None


def working_minutes_between(start, end, intervals):
    """Working minutes between two moments (0 when end is not after start)."""
    total = datetime.timedelta()
    for begin, finish in intervals:
        low, high = max(begin, start), min(finish, end)
        if high > low:
            total += high - low
    return total.total_seconds() / 60


def response_band(minutes):
    return next(band for limit, band, _label in BANDS if limit is None or minutes <= limit)


def at_risk_from(deadline, target_minutes, at_risk_share):
    """The moment the last `at_risk_share` of the target starts."""
    return deadline - datetime.timedelta(minutes=target_minutes * at_risk_share)


def sla_state(now, deadline, first_response_at, target_minutes, at_risk_share):
    """on_track, at_risk (the last share of the target), breached, met or met_late."""
    if not deadline:
        return False
    if first_response_at:
        return "met" if first_response_at <= deadline else "met_late"
    if now > deadline:
        return "breached"
    return "at_risk" if now >= at_risk_from(deadline, target_minutes, at_risk_share) else "on_track"
