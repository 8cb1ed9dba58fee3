import datetime

import pytz

from odoo import models


class ResUsers(models.Model):
    _inherit = "res.users"

    def _messenger_at_work(self, now, team):
        """The users inside their working hours now and not on leave.

        Each user's own calendar, else the team's; one calendar query for all who share one.
        """
        start = pytz.utc.localize(now)
        end = start + datetime.timedelta(minutes=1)
        at_work = self.browse()
        by_calendar = self.grouped(
            lambda user: user.resource_calendar_id or team.resource_calendar_id
        )
        for calendar, users in by_calendar.items():
            if not calendar:
                at_work |= users
                continue
            intervals = calendar._work_intervals_batch(start, end, resources=users.resource_ids)
            at_work |= users.filtered(
                lambda user, intervals=intervals: intervals[user.resource_ids[:1].id]
            )
        return at_work
