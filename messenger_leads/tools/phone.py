"""Phone numbers: their kind (mobile, fixed line...) and their own time zone.

phone_validation reads and formats numbers (its `phone_parse`, as for `phone_sanitized`); this
adds what it does not tell. The ORM layer passes the company's country as the region national
numbers are read in.
"""

import dataclasses

import phonenumbers
from phonenumbers import PhoneNumberType, timezone

from odoo.exceptions import UserError

from odoo.addons.phone_validation.tools.phone_validation import phone_parse

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
    kind: str
    tz: str | None  # the number's single zone, None when it spans several


def phone_info(number, region=None):
    """Kind and time zone of `number` (national numbers read in `region`; without one,
    as a company without a country has, only international numbers are valid)."""
    try:
        parsed = phone_parse(number, region)
    except UserError as error:
        raise InvalidPhone(str(error)) from error
    zones = [z for z in timezone.time_zones_for_number(parsed) if z != "Etc/Unknown"]
    return PhoneInfo(
        KIND_BY_TYPE.get(phonenumbers.number_type(parsed), "unknown"),
        zones[0] if len(zones) == 1 else None,
    )
