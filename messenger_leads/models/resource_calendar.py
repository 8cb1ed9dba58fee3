import pytz

from odoo import models


class ResourceCalendar(models.Model):
    _inherit = "resource.calendar"

    def _messenger_utc_intervals(self, start, end):
        """The working intervals from `start` to `end`, holidays excluded, as (start, end) pairs
        of naive UTC datetimes, as Odoo stores them and the rules in tools/ take them."""
        self.ensure_one()
        intervals = self._work_intervals_batch(pytz.utc.localize(start), pytz.utc.localize(end))
        return [
            (
                a.astimezone(pytz.utc).replace(tzinfo=None),
                b.astimezone(pytz.utc).replace(tzinfo=None),
            )
            for a, b, _record in intervals[False]
        ]
