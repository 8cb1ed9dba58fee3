"""When a bot account's health calls for the administrators: pure rules on naive UTC datetimes
and working intervals [(start, end), ...] (what resource.calendar gives), no ORM."""

from odoo.addons.messenger_leads.tools.sla import working_minutes_between


def silence_alert_due(silent_since, now, intervals, hours):
    """Whether an account that received nothing since `silent_since` is silent for too long:
    `hours` (0: never) of working time have passed, and it is working time now."""
    if hours <= 0:
        return False
    at_work = any(begin <= now < end for begin, end in intervals)
    return at_work and working_minutes_between(silent_since, now, intervals) >= hours * 60


def failure_alert_due(failures, threshold):
    """Whether `failures` in the last hour pile up past the account's `threshold` (0: never)."""
    return 0 < threshold <= failures
