"""Who gets the next lead: pure choice among the team members who can take it now."""

import dataclasses
import datetime

NEVER = datetime.datetime.min
MIN_WEIGHT = 0.01  # a member with no win yet still gets a lead when the others are full


@dataclasses.dataclass(frozen=True)
class Candidate:
    user_id: int
    load: int  # open leads in work
    capacity: int
    last_assigned: datetime.datetime | None = None
    conversion: float | None = None  # won / received over the team's window; None: no history
    rating: int = 0  # the sales head's rating, 0..5
    chats: int = 0  # live chats in progress
    chat_capacity: int | None = None  # None: the lead is not a live chat

    @property
    def has_room(self):
        chat_room = self.chat_capacity is None or self.chats < self.chat_capacity
        return self.load < self.capacity and chat_room

    @property
    def waited(self):
        """Sort key: who waited longest for a new lead first."""
        return (self.last_assigned or NEVER, self.user_id)


def choose(candidates, strategy, min_conversion=0.0, hot=False):
    """The candidate that gets the lead, or None when nobody has room.

    round_robin: the one who waited longest since their last new lead;
    least_loaded: the fewest open leads;
    conversion: the fewest open leads per point of conversion (a member converting twice as
        well carries twice the load), within capacity;
    threshold: least loaded among those converting at least `min_conversion` (no history yet
        counts as passing: newcomers must get leads to have a rate);
    rating: the best manager rating;
    score_tiers: hot leads to the better-converting half, the others to the rest; a full
        tier overflows to the other.
    Ties go to who waited longest.
    """
    available = [c for c in candidates if c.has_room]
    if strategy == "threshold":
        available = [c for c in available if passes_threshold(c, min_conversion)]
    if strategy == "score_tiers":
        tier = tier_for(candidates, hot)
        available = [c for c in available if c in tier] or available
    if not available:
        return None
    key = STRATEGY_KEYS.get(strategy, STRATEGY_KEYS["round_robin"])
    return min(available, key=lambda c: (key(c), c.waited))


def took_lead(candidates, user_id, live, at):
    """The candidates once `user_id` took a lead at `at` (a live chat if `live`)."""
    return [
        dataclasses.replace(c, load=c.load + 1, chats=c.chats + live, last_assigned=at)
        if c.user_id == user_id
        else c
        for c in candidates
    ]


def passes_threshold(candidate, min_conversion):
    return candidate.conversion is None or candidate.conversion >= min_conversion


def conversion_weight(candidate):
    return max(candidate.conversion or 0.0, MIN_WEIGHT)


def tier_for(candidates, hot):
    """The better-converting half (at least one member) for hot leads, the rest otherwise."""
    ranked = sorted(candidates, key=lambda c: (-(c.conversion or 0.0), c.user_id))
    split = max(1, len(ranked) // 2)
    return ranked[:split] if hot else ranked[split:]


BY_CONVERSION = ("conversion", "threshold", "score_tiers")  # strategies that read the rates

STRATEGY_KEYS = {
    "round_robin": lambda c: 0,
    "least_loaded": lambda c: c.load,
    "threshold": lambda c: c.load,
    "score_tiers": lambda c: c.load,
    "conversion": lambda c: (c.load + 1) / conversion_weight(c),
    "rating": lambda c: (-c.rating, c.load),
}


def conversion_rates(received, won):
    """{user: won / received} for users who received leads in the window."""
    return {user: won.get(user, 0) / count for user, count in received.items() if count}
