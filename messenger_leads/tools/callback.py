"""Call-back rules: what a phone number is, and when the next call attempt may be made.

Pure functions. Times are naive UTC datetimes, as Odoo stores them; the customer's local time
comes from an IANA zone name, so daylight saving changes are handled by zoneinfo.
"""

import dataclasses
import datetime
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneNumberType, timezone

UTC = datetime.UTC
KINDS = [
    ("mobile", "Mobile"),
    ("fixed_line", "Fixed line"),
    ("toll_free", "Toll-free"),
    ("unknown", "Unknown"),
]
KIND_BY_TYPE = {
    PhoneNumberType.MOBILE: "mobile",
    # either one: treat as a mobile, whose rules are the stricter
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.TOLL_FREE: "toll_free",
}


class InvalidPhone(ValueError):
    """The text is not a valid phone number."""


@dataclasses.dataclass(frozen=True)
class PhoneInfo:
    e164: str
    kind: str
    tz: str | None  # the number's single zone, None when it spans several


def phone_info(number, region=None):
    """E.164, kind and time zone of `number` (national numbers read in `region`; without one,
    as a company without a country has, only international numbers are valid)."""
    try:
        parsed = phonenumbers.parse(number, region or None)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone(str(error)) from error
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(number)
    zones = [z for z in timezone.time_zones_for_number(parsed) if z != "Etc/Unknown"]
    return PhoneInfo(
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        KIND_BY_TYPE.get(phonenumbers.number_type(parsed), "unknown"),
        zones[0] if len(zones) == 1 else None,
    )


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
