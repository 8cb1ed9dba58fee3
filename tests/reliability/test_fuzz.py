"""Hostile bodies mixed with valid updates: never a 500 or a traceback, nothing half-stored."""

import collections
import itertools
import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from messenger_fixtures import tg_message

from harness import figure, size

BODIES = size(600, 10_000)
_ids = itertools.count(int(time.time()) % 100_000 * 100_000 + 500_000_000)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
odd_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=60
) | st.sampled_from(
    ["<script>alert(1)</script>", "<b>bold</b> & co", "\u202eevil", "𝔘𝔫𝔦", "a\x00b"]
)


def valid_update(text, name):
    update = tg_message(next(_ids) % 10_000 + 600_000, text)
    update["update_id"] = next(_ids)
    update["message"]["from"]["first_name"] = name
    return "valid", json.dumps(update)


def wrong_types(value):
    return "wrong types", json.dumps({"update_id": next(_ids), "message": value})


def missing_fields(keys):
    message = {k: v for k, v in tg_message(1, "x")["message"].items() if k in keys}
    return "missing fields", json.dumps({"update_id": next(_ids), "message": message})


bodies = st.one_of(
    st.builds(valid_update, odd_text, odd_text),
    st.binary(max_size=200).map(lambda raw: ("invalid JSON", raw)),
    json_values.map(lambda value: ("not an update", json.dumps(value))),
    json_values.map(wrong_types),
    st.sets(st.sampled_from(["message_id", "date", "chat", "from", "text"])).map(missing_fields),
    st.integers(2_000, 50_000).map(lambda depth: ("deep nesting", "[" * depth + "]" * depth)),
    st.just(("over 1 MB", json.dumps({"update_id": 1, "pad": "x" * (1024 * 1024)}))),
)


def test_hostile_bodies(bot):
    sent = collections.Counter()
    bad_answers = []
    valid_ids = []

    @settings(
        max_examples=BODIES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(bodies)
    def post(kind_and_body):
        kind, body = kind_and_body
        sent[kind] += 1
        answer = bot.post_raw(body)
        if answer.status_code >= 500 or "Traceback" in answer.text:
            bad_answers.append((kind, answer.status_code, answer.text[:200]))
        if kind == "valid":
            valid_ids.append(json.loads(body)["update_id"])

    post()
    for kind, count in sorted(sent.items()):
        figure("fuzz", f"sent {kind}", count)
    figure("fuzz", "answers 5xx or with a traceback", len(bad_answers))
    assert bad_answers == []

    updates = bot.admin.call(
        "messenger.update",
        "search_read",
        [["account_id", "=", bot.id]],
        fields=["external_id", "state", "error"],
    )
    by_id = {int(u["external_id"]): u for u in updates}
    unprocessed = [i for i in valid_ids if by_id.get(i, {}).get("state") != "done"]
    stuck = [
        u
        for u in updates
        if u["state"] == "received" or (u["state"] == "failed" and not u["error"])
    ]
    figure("fuzz", "valid updates processed", len(valid_ids) - len(unprocessed))
    figure(
        "fuzz",
        "malformed updates kept as failed",
        sum(1 for u in updates if u["state"] == "failed"),
    )
    assert unprocessed == [] and stuck == []
    conversations = bot.admin.call(
        "messenger.conversation",
        "search_read",
        [["account_id", "=", bot.id]],
        fields=["partner_id", "discuss_channel_id", "lead_id"],
    )
    half = [
        c
        for c in conversations
        if not (c["partner_id"] and c["discuss_channel_id"] and c["lead_id"])
    ]
    assert conversations and half == []
    scripts = bot.admin.call(
        "mail.message",
        "search_count",
        [["model", "=", "discuss.channel"], ["body", "ilike", "<script"]],
    )
    assert scripts == 0, "customer markup is escaped"
