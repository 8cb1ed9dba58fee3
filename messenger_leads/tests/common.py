"""What the messenger_leads tests share."""

from odoo import Command


def office_hours(env, tz, days=range(5), hours=(9, 18)):
    """A working-hours calendar in time zone `tz`: `hours` on `days` (0 = Monday)."""
    return env["resource.calendar"].create(
        {
            "name": f"Office {tz}",
            "tz": tz,
            "attendance_ids": [Command.clear()]
            + [
                Command.create(
                    {
                        "name": str(d),
                        "dayofweek": str(d),
                        "hour_from": hours[0],
                        "hour_to": hours[1],
                        "day_period": "morning",
                    }
                )
                for d in days
            ],
        }
    )
