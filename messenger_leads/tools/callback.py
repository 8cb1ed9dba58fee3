"""Call-back rules: when the next call attempt may be made.

Pure functions. Times are naive UTC datetimes, as Odoo stores them; the customer's local time
comes from an IANA zone name, so daylight saving changes are handled by zoneinfo.
"""

import dataclasses
import datetime
from zoneinfo import ZoneInfo

UTC = datetime.UTC


def hours_to_time(hours):
    """A time of day from hours as a float setting (9.5 is 09:30), 24 and over as 23:00."""
    minutes = round(hours * 60)
    return datetime.time(min(minutes // 60, 23), minutes % 60)


@dataclasses.dataclass(frozen=True)
class CallRules:
    window_start: datetime.time = datetime.time(10)
    window_end: datetime.time = datetime.time(19)
    mobile_per_day: int = 3
    mobile_gap: datetime.timedelta = datetime.timedelta(hours=2)
    fixed_gap: datetime.timedelta = datetime.timedelta(hours=1)


def next_slot(now, previous, kind, tz, rules):
    """The earliest moment from `now` for the next call attempt.

    previous: moments of the attempts made so far. A mobile gets at most `mobile_per_day`
    attempts per local day, `mobile_gap` apart; other numbers `fixed_gap` apart; all inside
    the call window of the customer's local day.
    """
    zone = ZoneInfo(tz or "UTC")
    mobile = kind == "mobile"
    gap = rules.mobile_gap if mobile else rules.fixed_gap
    done = [moment.replace(tzinfo=UTC) for moment in previous]
    slot = now.replace(tzinfo=UTC)
    if done:
        slot = max(slot, max(done) + gap)
    for _day in range(400):  # a window exists on every day; the bound only guards bad rules
        local = slot.astimezone(zone)
        opens = datetime.datetime.combine(local.date(), rules.window_start, zone)
        closes = datetime.datetime.combine(local.date(), rules.window_end, zone)
        same_day = sum(1 for moment in done if moment.astimezone(zone).date() == local.date())
        if local < opens:
            slot = opens.astimezone(UTC)
        elif local >= closes or (mobile and same_day >= rules.mobile_per_day):
            tomorrow = local.date() + datetime.timedelta(days=1)
            slot = datetime.datetime.combine(tomorrow, rules.window_start, zone).astimezone(UTC)
        else:
            return slot.replace(tzinfo=None)
    raise ValueError("no call window in the rules")
