import datetime

import pytz

from odoo import models


class ResUsers(models.Model):
    _inherit = "res.users"

    def _messenger_is_at_work(self, now, team):
        """Inside their working hours now, not on leave (their own calendar, else the team's)."""
        self.ensure_one()
        calendar = self.resource_calendar_id or team.resource_calendar_id
        if not calendar:
            return True
        start = pytz.utc.localize(now)
        resource = self.resource_ids[:1]
        intervals = calendar._work_intervals_batch(
            start, start + datetime.timedelta(minutes=1), resources=resource
        )
        return bool(intervals[resource.id])
