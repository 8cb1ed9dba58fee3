"""Phone numbers: E.164, kind (mobile, fixed line...) and the number's own time zone.

Pure functions over `phonenumbers`; the ORM layer passes the company's country as the region
national numbers are read in.
"""

import dataclasses

import phonenumbers
from phonenumbers import PhoneNumberType, timezone

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


def e164(number, region=None):
    """`number` in E.164 when it is a valid number, else as typed (a form warns about it)."""
    try:
        return phone_info(number, region).e164
    except InvalidPhone:
        return number
