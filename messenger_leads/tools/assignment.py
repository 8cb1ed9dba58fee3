"""Who gets the next lead: pure choice among the team members who can take it now.

Each strategy is one entry of STRATEGIES: its code and label (the team's setting), who may take
the lead, its sort key and the reason it gives. Reasons are written with the `_` the caller
passes: `keep` stores them untranslated with their values, and `reason_text` says them in the
reader's language (Odoo's env._), like any other text of the addon.
"""

import dataclasses
import datetime
from collections.abc import Callable

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
    works_until: datetime.datetime | None = None  # end of their working stretch; None: no hours
    at_risk: int = 0  # their leads whose running deadline is at risk or missed

    @property
    def has_room(self):
        chat_room = self.chat_capacity is None or self.chats < self.chat_capacity
        return self.load < self.capacity and chat_room

    @property
    def waited(self):
        """Sort key: who waited longest for a new lead first."""
        return (self.last_assigned or NEVER, self.user_id)


def choose(candidates, strategy, min_conversion=0.0, hot=False, *, deadline=None, max_at_risk=0):
    """The candidate that gets the lead, or None when nobody has room.

    Among the candidates with room that the strategy accepts (see STRATEGIES), those who can
    answer by the lead's `deadline` if any can (see answers_in_time), the lowest by the
    strategy's sort key; ties go to who waited longest.
    """
    rule = STRATEGIES[strategy]
    available = rule.eligible(
        [c for c in candidates if c.has_room], candidates, min_conversion=min_conversion, hot=hot
    )
    if deadline:
        available = [c for c in available if answers_in_time(c, deadline, max_at_risk)] or available
    if not available:
        return None
    return min(available, key=lambda c: (rule.key(c), c.waited))


def answers_in_time(candidate, deadline, max_at_risk=0):
    """Whether `candidate` can answer by `deadline`: at work until then (or without working
    hours), and not buried in leads at risk (fewer than `max_at_risk`; 0: not counted)."""
    at_work = candidate.works_until is None or candidate.works_until >= deadline
    return at_work and not (max_at_risk and candidate.at_risk >= max_at_risk)


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


def conversion_rates(received, won):
    """{user: won / received} for users who received leads in the window."""
    return {user: won.get(user, 0) / count for user, count in received.items() if count}


def rate_text(candidate):
    """The candidate's conversion as a percentage, "-" without history."""
    return "-" if candidate.conversion is None else f"{candidate.conversion:.0%}"


# Who may take the lead, among the candidates with room (`available`) and the whole team.
def anyone(available, candidates, min_conversion, hot):
    return available


def above_threshold(available, candidates, min_conversion, hot):
    """Those converting at least `min_conversion`; no history yet counts as passing
    (newcomers must get leads to have a rate)."""
    return [c for c in available if passes_threshold(c, min_conversion)]


def in_tier(available, candidates, min_conversion, hot):
    """Hot leads to the better-converting half, the others to the rest; a full tier
    overflows to the other."""
    tier = tier_for(candidates, hot)
    return [c for c in available if c in tier] or available


@dataclasses.dataclass(frozen=True)
class Strategy:
    code: str
    label: str
    key: Callable  # candidate -> sort key, the lowest gets the lead
    # (_, chosen, others' open leads sorted, hot) -> why `chosen` got the lead, translated by _
    reason: Callable
    eligible: Callable = anyone  # (available, candidates, min_conversion, hot) -> candidates
    by_conversion: bool = False  # reads the members' conversion rates


STRATEGIES = {
    strategy.code: strategy
    for strategy in (
        Strategy(
            "round_robin",
            "Even (round robin)",
            key=lambda c: 0,  # who waited longest (the tie-break)
            reason=lambda _, c, others, hot: _("Even: waited longest for a new lead"),
        ),
        Strategy(
            "least_loaded",
            "Least loaded",
            key=lambda c: c.load,
            reason=lambda _, c, others, hot: _(
                "Least loaded: %(load)s open vs %(others)s",
                load=c.load,
                others=others[0] if others else "-",
            ),
        ),
        Strategy(
            "conversion",
            "Weighted by conversion",
            # the fewest open leads per point of conversion: converting twice as well carries
            # twice the load, within capacity
            key=lambda c: (c.load + 1) / conversion_weight(c),
            reason=lambda _, c, others, hot: _(
                "Conversion-weighted: %(rate)s won, %(load)s open", rate=rate_text(c), load=c.load
            ),
            by_conversion=True,
        ),
        Strategy(
            "threshold",
            "Minimum conversion, then least loaded",
            key=lambda c: c.load,
            reason=lambda _, c, others, hot: _(
                "Conversion %(rate)s meets the threshold; least loaded: %(load)s open",
                rate=rate_text(c),
                load=c.load,
            ),
            eligible=above_threshold,
            by_conversion=True,
        ),
        Strategy(
            "rating",
            "By manager rating",
            key=lambda c: (-c.rating, c.load),
            reason=lambda _, c, others, hot: _(
                "Manager rating %(rating)s of 5, %(load)s open", rating=c.rating, load=c.load
            ),
        ),
        Strategy(
            "score_tiers",
            "Hot leads to the best converters",
            key=lambda c: c.load,
            reason=lambda _, c, others, hot: (
                _("Hot lead to a top converter (%(rate)s won)", rate=rate_text(c))
                if hot
                else _("Not hot: to the next tier, %(load)s open", load=c.load)
            ),
            eligible=in_tier,
            by_conversion=True,
        ),
    )
}
SELECTION = [(strategy.code, strategy.label) for strategy in STRATEGIES.values()]


def keep(source, **params):
    """A `_` that keeps a reason to say later in the reader's language: [source, params]."""
    return [source, params]


def reason_text(_, kept):
    """A kept reason in the words of `_`, reasons kept in its values too."""
    source, params = kept
    values = {
        key: reason_text(_, value) if isinstance(value, list) else value
        for key, value in params.items()
    }
    # the sources are the literals of the _() calls that kept them, exported from there
    return _(source, **values)


def untranslated(source, **params):
    """A `_` for reason_text that gives the English text."""
    return source % params if params else source


def reason(_, strategy, chosen, available, hot=False, *, deadline=None, max_at_risk=0):
    """Why `chosen` got the lead, in the words of the strategy (`_` translates); and, when
    others with room could not answer by the lead's `deadline` and `chosen` can, that too."""
    others = sorted(c.load for c in available if c is not chosen)
    why = STRATEGIES[strategy].reason(_, chosen, others, hot)
    in_time = deadline and answers_in_time(chosen, deadline, max_at_risk)
    if in_time and not all(answers_in_time(c, deadline, max_at_risk) for c in available):
        return _(
            "%(reason)s; can answer before the deadline (others leave work before it or have "
            "leads at risk)",
            reason=why,
        )
    return why
