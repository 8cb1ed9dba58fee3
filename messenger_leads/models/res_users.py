import datetime

import pytz

from odoo import models


class ResUsers(models.Model):
    _inherit = "res.users"

    def _messenger_at_work(self, now, team):
        """The users inside their working hours now and not on leave."""
        return self.browse(self._messenger_work_ends(now, team))

    def _messenger_work_ends(self, now, team, until=None):
        """{user id: end of their working stretch} for the users at work now and not on leave:
        when the hours they are in now end (naive UTC), looked at up to `until` (at most that);
        None for users without working hours.

        Each user's own calendar, else the team's; one calendar query for all who share one.
        """
        start = pytz.utc.localize(now)
        end = pytz.utc.localize(max(until or now, now) + datetime.timedelta(minutes=1))
        ends = {}
        by_calendar = self.grouped(
            lambda user: user.resource_calendar_id or team.messenger_resource_calendar_id
        )
        for calendar, users in by_calendar.items():
            if not calendar:
                ends.update(dict.fromkeys(users.ids, None))
                continue
            intervals = calendar._work_intervals_batch(start, end, resources=users.resource_ids)
            for user in users:
                stretch = next(
                    (
                        stop
                        for begin, stop, _record in intervals[user.resource_ids[:1].id]
                        if begin <= start < stop
                    ),
                    None,
                )
                if stretch:
                    ends[user.id] = stretch.astimezone(pytz.utc).replace(tzinfo=None)
        return ends
