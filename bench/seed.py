"""Bets at scale for the sweep, growth and memory benchmarks, written with PostgreSQL's COPY.

Every channel gets a mix of states with realistic ages, and, at the chosen moment `at`, a
digest due (its time falls at or up to 90 minutes before `at`, inside the 3-hour grace) and a
few nudges due: first nudges, repeats (a third one escalates), an already escalated bet
nudged again, and an old bet past the SLE that escalates without a nudge.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from tortoise.fields.base import Field

from storage.models import Bet, Channel, Event, Workspace

TEAM = "T1"
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
# (zone, local digest times whose UTC moment lies 0-90 minutes before 09:30 UTC in November)
ZONES = (
    ("UTC", ("08:00", "08:30", "09:00", "09:30")),
    ("Europe/London", ("08:00", "08:30", "09:00", "09:30")),
    ("Europe/Berlin", ("09:00", "09:30", "10:00", "10:30")),
)
TITLES = (
    "One-click export for admins",
    "Inline onboarding checklist",
    "Weekly usage email",
    "Faster search results",
    "Bulk edit for invoices",
)
HYPOTHESIS = (
    "We believe {title} for team admins will cut support tickets about it by a third. "
    "We'll know when tickets tagged '{tag}' drop 30% within two weeks."
)


@dataclass
class Seeded:
    """What was written, for the benchmark's arithmetic."""

    channels: int = 0
    bets: int = 0
    events: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    nudges_planned: int = 0  # shipped bets whose nudge is due at `at`


def _card_ts(at: datetime, bet_id: int) -> str:
    return f"{int(at.timestamp()) - 90 * 86400 + bet_id}.{bet_id % 1_000_000:06d}"


def _closed(rng: random.Random, at: datetime, state: str) -> dict[str, Any]:
    created = at - rng.uniform(20, 170) * DAY
    started = created + rng.uniform(0.5, 5) * DAY
    if state == "killed" and rng.random() < 0.5:  # killed before it shipped
        return {
            "created_at": created,
            "started_at": started,
            "closed_at": min(at - HOUR, started + rng.uniform(1, 10) * DAY),
            "close_reason": "superseded by the new billing page",
            "learned": "nobody asked for it twice",
        }
    shipped = started + rng.uniform(2, 10) * DAY
    feedback = min(at - 2 * HOUR, shipped + rng.uniform(1, 20) * DAY)
    return {
        "created_at": created,
        "started_at": started,
        "shipped_at": shipped,
        "first_feedback_at": feedback if state != "killed" else None,
        "closed_at": min(at - HOUR, feedback + rng.uniform(0, 2) * DAY),
        "evidence_count": rng.randint(1, 4),
        "close_reason": "" if state != "killed" else "the signal never moved",
        "learned": "admins export monthly, not weekly",
    }


def _shipped(rng: random.Random, at: datetime, kind: str) -> dict[str, Any]:
    """A shipped bet; `kind` says what the nudge sweep should make of it at `at`."""
    ago = {
        "due_first": rng.uniform(3.5, 9),
        "due_repeat": rng.uniform(8, 13),
        "due_escalated": rng.uniform(14, 30),
        "past_sle": rng.uniform(31, 60),
        "recent": rng.uniform(0.2, 2.5),
        "nudged_lately": rng.uniform(4, 12),
        "answered": rng.uniform(3, 20),
        "snoozed": rng.uniform(4, 10),
    }[kind]
    shipped = at - ago * DAY
    created = shipped - rng.uniform(2, 20) * DAY
    row: dict[str, Any] = {
        "created_at": created,
        "started_at": created + rng.uniform(0.5, 2) * DAY,
        "shipped_at": shipped,
    }
    if kind == "due_repeat":
        count = rng.choice((1, 2))  # a third nudge escalates
        row |= {"nudge_count": count, "unanswered_nudges": count}
        row["last_nudged_at"] = at - rng.uniform(2.2, 4) * DAY
    elif kind == "due_escalated":
        row |= {"nudge_count": 3, "unanswered_nudges": 3, "escalated_at": at - 3 * DAY}
        row["last_nudged_at"] = at - rng.uniform(2.2, 4) * DAY
    elif kind in ("past_sle", "nudged_lately"):
        row |= {"nudge_count": 1, "unanswered_nudges": 1, "last_nudged_at": at - 0.5 * DAY}
    elif kind == "answered":
        row |= {"first_feedback_at": shipped + rng.uniform(0.5, 2) * DAY, "evidence_count": 1}
    elif kind == "snoozed":
        row["snoozed_until"] = at + rng.uniform(1, 5) * DAY
    return row


def _shipped_kinds(rng: random.Random, count: int) -> list[str]:
    """A few due nudges per channel (2-6 first or repeat, sometimes one more that was
    escalated already), one bet past the SLE half the time, the rest not due."""
    due = ["due_first"] * rng.randint(2, 4) + ["due_repeat"] * rng.randint(0, 2)
    due += ["due_escalated"] * (rng.random() < 0.3) + ["past_sle"] * (rng.random() < 0.5)
    rest = ("recent", "nudged_lately", "answered", "snoozed", "answered", "recent")
    kinds = due[:count]
    while len(kinds) < count:
        kinds.append(rest[len(kinds) % len(rest)])
    return kinds


def _states(rng: random.Random, bets: int) -> list[str]:
    """About 12% proposed, 13% building, 35% shipped, 20% validated, 10% invalidated,
    10% killed (at least 8 shipped, so every channel has nudges due)."""
    shares = (
        ("proposed", 0.12),
        ("building", 0.13),
        ("validated", 0.20),
        ("invalidated", 0.10),
        ("killed", 0.10),
    )
    states = [state for state, share in shares for _ in range(round(bets * share))]
    shipped = max(8, bets - len(states))
    states = states[: bets - shipped] + ["shipped"] * shipped
    rng.shuffle(states)
    return states


def plan(channels: int, bets_per_channel: int, at: datetime, seed: int = 7) -> dict[str, list]:
    """The rows to write: workspaces, channels, bets and their events."""
    rng = random.Random(seed)
    rows: dict[str, list[dict[str, Any]]] = {"workspaces": [], "channels": [], "bets": []}
    rows["events"] = []
    bet_id = 0
    for index in range(channels):
        channel_id = f"C{index + 1:05d}"
        zone, times = ZONES[index % len(ZONES)]
        rows["channels"].append(
            {
                "id": index + 1,
                "team_id": TEAM,
                "channel_id": channel_id,
                "timezone": zone,
                "digest_time": times[rng.randrange(len(times))],
                "wip_limit": rng.choice((None, 5, 8)),
                "lead_user_id": f"ULEAD{index % 50}",
                "created_at": at - 200 * DAY,
            }
        )
        states = _states(rng, bets_per_channel)
        kinds = iter(_shipped_kinds(rng, states.count("shipped")))
        for state in states:
            bet_id += 1
            title = f"{TITLES[bet_id % len(TITLES)]} #{bet_id}"
            if state in ("validated", "invalidated", "killed"):
                times_of = _closed(rng, at, state)
            elif state == "shipped":
                times_of = _shipped(rng, at, next(kinds))
            else:
                created = at - rng.uniform(1, 60) * DAY
                started = created + rng.uniform(0.5, 3) * DAY if state == "building" else None
                times_of = {"created_at": created, "started_at": started}
            bet = {
                "id": bet_id,
                "team_id": TEAM,
                "number": bet_id,
                "channel_id": channel_id,
                "card_ts": _card_ts(at, bet_id),
                "title": title,
                "hypothesis": HYPOTHESIS.format(title=title.lower(), tag=f"tag-{bet_id % 97}"),
                "signal": "" if bet_id % 23 == 0 else "tickets tagged export drop 30%",
                "owner_id": f"U{bet_id % 40 + 1:03d}",
                "creator_id": f"U{bet_id % 37 + 1:03d}",
                "state": state,
                "updated_at": at - HOUR,
                **times_of,
            }
            rows["bets"].append(bet)
            rows["events"] += _events(bet)
    rows["workspaces"].append({"id": 1, "team_id": TEAM, "last_bet_number": bet_id})
    rows["workspaces"][0]["created_at"] = at - 200 * DAY
    return rows


def _events(bet: dict[str, Any]) -> list[dict[str, Any]]:
    """The bet's history: created, and each move it made since."""
    steps = [("created", None, "proposed", bet["created_at"])]
    if bet.get("started_at"):
        steps.append(("moved", "proposed", "building", bet["started_at"]))
    if bet.get("shipped_at"):
        steps.append(("moved", "building", "shipped", bet["shipped_at"]))
    if bet.get("closed_at"):
        steps.append(("moved", steps[-1][2], bet["state"], bet["closed_at"]))
    return [
        {
            "team_id": bet["team_id"],
            "bet_id": bet["id"],
            "channel_id": bet["channel_id"],
            "actor_id": bet["owner_id"],
            "at": at,
            "kind": kind,
            "from_state": before,
            "to_state": after,
            "data": {"title": bet["title"]} if kind == "created" else {},
        }
        for kind, before, after, at in steps
    ]


def _default(field: Field) -> Any:
    default = field.default
    return default() if callable(default) else default


def _records(model: Any, rows: Iterable[dict[str, Any]], columns: list[str]) -> list[tuple]:
    """Rows as COPY records in `columns` order; a column the plan leaves out takes the
    model's default, as the ORM would have written it."""
    by_column: dict[str, Field] = {}
    for field_ in model._meta.fields_map.values():
        by_column[getattr(field_, "source_field", None) or field_.model_field_name] = field_
    defaults = {
        column: _default(by_column[column]) if column in by_column else None for column in columns
    }
    records = []
    for row in rows:
        values = []
        for column in columns:
            value = row[column] if column in row else defaults[column]
            if isinstance(value, dict | list):
                value = json.dumps(value)
            values.append(value)
        records.append(tuple(values))
    return records


async def write(url: str, rows: dict[str, list[dict[str, Any]]]) -> Seeded:
    """COPY the planned rows into a migrated database, then move its id sequences on."""
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        for model, key in ((Workspace, "workspaces"), (Channel, "channels"), (Bet, "bets")):
            await _copy(connection, model, rows[key], with_id=True)
        await _copy(connection, Event, rows["events"], with_id=False)
        for table in ("workspaces", "channels", "bets"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    by_state: dict[str, int] = {}
    for bet in rows["bets"]:
        by_state[bet["state"]] = by_state.get(bet["state"], 0) + 1
    return Seeded(
        channels=len(rows["channels"]),
        bets=len(rows["bets"]),
        events=len(rows["events"]),
        by_state=by_state,
    )


async def _copy(
    connection: asyncpg.Connection, model: Any, rows: list[dict[str, Any]], *, with_id: bool
) -> None:
    table = model._meta.db_table
    columns = [
        record["column_name"]
        for record in await connection.fetch(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = $1 ORDER BY ordinal_position",
            table,
        )
        if with_id or record["column_name"] != "id"
    ]
    await connection.copy_records_to_table(
        table, records=_records(model, rows, columns), columns=columns
    )
