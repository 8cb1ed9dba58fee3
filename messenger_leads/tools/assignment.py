"""Who gets the next lead: pure choice among the team members who can take it now."""

import dataclasses
import datetime

NEVER = datetime.datetime.min


@dataclasses.dataclass(frozen=True)
class Candidate:
    user_id: int
    load: int  # open leads in work
    capacity: int
    last_assigned: datetime.datetime | None = None

    @property
    def has_room(self):
        return self.load < self.capacity


def choose(candidates, strategy):
    """The candidate that gets the lead, or None when nobody has room.

    even: the one who waited longest since their last new lead;
    least_loaded: the fewest open leads, ties to the one who waited longest.
    """
    available = [c for c in candidates if c.has_room]
    if not available:
        return None
    waited = {c.user_id: (c.last_assigned or NEVER, c.user_id) for c in available}
    if strategy == "least_loaded":
        return min(available, key=lambda c: (c.load, waited[c.user_id]))
    return min(available, key=lambda c: waited[c.user_id])
