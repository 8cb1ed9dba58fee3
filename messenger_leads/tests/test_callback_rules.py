import datetime
import itertools
from zoneinfo import ZoneInfo

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.tests import BaseCase, tagged

from ..tools.callback import CallRules, hours_to_time, next_slot
from ..tools.phone import phone_info

COUNTRIES = ["RU", "KZ", "BY", "DE", "US", "BR"]
RULES = CallRules()
TYPES = {
    "mobile": phonenumbers.PhoneNumberType.MOBILE,
    "fixed_line": phonenumbers.PhoneNumberType.FIXED_LINE,
}


@st.composite
def customers(draw):
    """(kind, tz) of an example number of one of the countries, in one of its zones."""
    region = draw(st.sampled_from(COUNTRIES))
    kind = draw(st.sampled_from(sorted(TYPES)))
    number = phonenumbers.example_number_for_type(region, TYPES[kind])
    zones = phonenumbers.timezone.time_zones_for_number(number)
    info = phone_info(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return info.kind, info.tz or draw(st.sampled_from(zones))


def plan(start, kind, tz, delays):
    """Slots of successive attempts, each logged `delay` minutes after its slot."""
    slots, now = [], start
    for delay in delays:
        slot = next_slot(now, slots, kind, tz, RULES)
        assert slot >= now
        slots.append(slot)
        now = slot + datetime.timedelta(minutes=delay)
    return slots


def local(moment, tz):
    return moment.replace(tzinfo=datetime.UTC).astimezone(ZoneInfo(tz))


@tagged("post_install", "-at_install")
class TestCallbackRules(BaseCase):
    @settings(max_examples=300, deadline=None)
    @given(
        customer=customers(),
        start=st.datetimes(datetime.datetime(2026, 1, 1), datetime.datetime(2027, 12, 31)),
        delays=st.lists(st.integers(0, 600), min_size=7, max_size=12),
    )
    def test_slots_respect_the_rules(self, customer, start, delays):
        kind, tz = customer
        slots = plan(start, kind, tz, delays)
        gap = RULES.mobile_gap if kind == "mobile" else RULES.fixed_gap
        for earlier, later in itertools.pairwise(slots):
            self.assertGreaterEqual(later - earlier, gap)
        for slot in slots:
            self.assertTrue(
                RULES.window_start <= local(slot, tz).time() < RULES.window_end,
                f"{slot} is outside the window in {tz}",
            )
        if kind == "mobile":
            days = [local(slot, tz).date() for slot in slots]
            self.assertLessEqual(max(days.count(day) for day in days), RULES.mobile_per_day)

    def test_first_call_as_soon_as_the_window_allows(self):
        moscow = "Europe/Moscow"  # UTC+3
        evening = datetime.datetime(2026, 11, 23, 17, 30)  # 20:30 in Moscow
        self.assertEqual(
            next_slot(evening, [], "mobile", moscow, RULES), datetime.datetime(2026, 11, 24, 7)
        )
        morning = datetime.datetime(2026, 11, 24, 8, 15)  # 11:15 in Moscow
        self.assertEqual(next_slot(morning, [], "mobile", moscow, RULES), morning)

    def test_dst_change_keeps_local_hours(self):
        berlin = "Europe/Berlin"  # summer time starts on 2026-03-29
        slots = plan(datetime.datetime(2026, 3, 28, 8), "mobile", berlin, [0] * 6)
        self.assertEqual(
            [local(s, berlin).strftime("%d %H:%M") for s in slots],
            ["28 10:00", "28 12:00", "28 14:00", "29 10:00", "29 12:00", "29 14:00"],
        )

    def test_fixed_line_has_no_daily_cap(self):
        slots = plan(datetime.datetime(2026, 11, 24, 7), "fixed_line", "Europe/Moscow", [0] * 7)
        self.assertEqual(len({local(s, "Europe/Moscow").date() for s in slots}), 1)

    def test_hours_to_time(self):
        self.assertEqual(hours_to_time(9.5), datetime.time(9, 30))
        self.assertEqual(hours_to_time(18.99), datetime.time(18, 59))
        self.assertEqual(hours_to_time(24), datetime.time(23, 0))
