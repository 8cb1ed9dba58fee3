"""Qualification rules: the score of a lead, its grade, and when a budget needs a person.

Pure functions; the ORM layer feeds them the criteria points, signal points and settings.
"""

import math
import re

GRADES = [("hot", "Hot"), ("warm", "Warm"), ("cold", "Cold")]
# a criterion is scored 1..5; 0 means nobody scored it yet
CRITERION_POINTS = [(str(n), str(n)) for n in range(6)]


def score(criteria_points, signal_points):
    """The lead's score: its criteria (1..5 each, unscored count 0) plus behaviour signals."""
    return sum(criteria_points) + sum(signal_points)


def grade(total, hot_from, warm_from):
    """hot from `hot_from` points, warm from `warm_from`, cold below."""
    if total >= hot_from:
        return "hot"
    if total >= warm_from:
        return "warm"
    return "cold"


def needs_person_for_budget(budget, threshold):
    """A declared budget above the threshold goes to a person at once; 0 disables the rule."""
    return threshold > 0 and budget > threshold


# "150 000", "1,5 млн", "200k", "2.5m": a number, then an optional thousand / million word, and
# no letter glued to it ("3d printer" is no amount). No part can match what another one does, so
# each match is found in one pass: linear in the answer's length, whatever a customer types.
AMOUNT = re.compile(
    r"(\d+(?:\s+\d+)*(?:[.,]\d+)?)(?:\s*(k|к|тыс|thousand|m|м|млн|million)\b)?(\w?)", re.I
)
MULTIPLIERS = {"k": 1e3, "к": 1e3, "тыс": 1e3, "thousand": 1e3}
MULTIPLIERS.update({"m": 1e6, "м": 1e6, "млн": 1e6, "million": 1e6})


def parse_amount(text):
    """The first amount written in a customer's answer, or None when there is none (or it is
    beyond any budget: digits without end)."""
    for match in AMOUNT.finditer(text or ""):
        number, unit, glued = match.groups()
        if glued:
            continue
        digits = re.sub(r"\s", "", number).replace(",", ".")
        amount = float(digits) * MULTIPLIERS.get((unit or "").lower(), 1)
        return amount if math.isfinite(amount) else None
    return None
