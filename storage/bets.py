"""Bets, their evidence and their events: query primitives, each scoped by team_id.

No rules and no words here: usecases/ decide, inside `db.unit_of_work()`, and call these
to read and write. Rows leave storage as plain values (`bet_value`, `evidence_value`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import DoesNotExist, IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Max

from bets.evidence import EvidenceFacts, Verdict
from bets.keys import parse_key
from bets.lifecycle import OPEN_STATES, State
from bets.metrics import BetFacts
from storage import db
from storage.models import Bet, Channel, Claim, Event, Evidence, Outbox, Person, Workspace
from storage.together import ReadTogether

# --- values -----------------------------------------------------------------------------

# The columns a BetFacts is read from, in its field order; computed fields are filled after.
_COMPUTED = {"has_signal", "escalated", "expect_within"}
BET_COLUMNS: tuple[str, ...] = (
    *(field.name for field in dataclass_fields(BetFacts) if field.name not in _COMPUTED),
    "expect_within_s",
)


def bet_from_columns(row: Sequence[Any]) -> BetFacts:
    """A BetFacts from a `values_list(*BET_COLUMNS)` row (no model instance: fast)."""
    values = dict(zip(BET_COLUMNS, row, strict=True))
    within = values.pop("expect_within_s")
    values["state"] = State(values["state"])
    return BetFacts(
        **values,
        has_signal=bool(values["signal"].strip()),
        escalated=values["escalated_at"] is not None,
        expect_within=timedelta(seconds=within) if within is not None else None,
    )


def bet_value(bet: Bet) -> BetFacts:
    """A bet row as a plain value."""
    return bet_from_columns([getattr(bet, column) for column in BET_COLUMNS])


def evidence_value(evidence: Evidence) -> EvidenceFacts:
    return EvidenceFacts(
        id=evidence.id,
        bet_id=evidence.bet_id,  # type: ignore[attr-defined]
        verdict=Verdict(evidence.verdict),
        text=evidence.text,
        link=evidence.link,
        source=evidence.source,
        author_id=evidence.author_id,
        at=evidence.at,
        channel_id=evidence.channel_id,
        message_ts=evidence.message_ts,
        permalink=evidence.permalink,
        source_name=evidence.source_name,
    )


# --- workspace and channels -------------------------------------------------------------


async def _create_once(model: Any, **values: Any) -> None:
    """Insert a row unless a concurrent writer already did (unique key decides)."""
    with contextlib.suppress(IntegrityError):
        await model.create(**values)


async def ensure_workspace(team_id: str, *, now: datetime) -> None:
    if not await Workspace.exists(team_id=team_id):
        await _create_once(Workspace, team_id=team_id, created_at=now)


async def ensure_channel(team_id: str, channel_id: str, *, now: datetime, timezone: str) -> Channel:
    """The channel's settings row, created with defaults when it sees its first bet."""
    channel = await Channel.get_or_none(team_id=team_id, channel_id=channel_id)
    if channel is None:
        await _create_once(
            Channel,
            team_id=team_id,
            channel_id=channel_id,
            timezone=timezone,
            created_at=now,
            forecasts_since=now,
        )
        channel = await Channel.get(team_id=team_id, channel_id=channel_id)
    return channel


async def get_channel(team_id: str, channel_id: str) -> Channel | None:
    return await Channel.get_or_none(team_id=team_id, channel_id=channel_id)


async def ensure_channel_row(
    team_id: str, channel_id: str, *, now: datetime, timezone: str
) -> None:
    """`ensure_channel` for a caller that needs the row to exist, not the row: one plain
    statement when it does (a new bet's channel almost always has its row already)."""
    sql = "SELECT 1 AS one FROM channels WHERE team_id = ? AND channel_id = ?"
    found = await db.fetch(Channel, sql, [team_id, channel_id])
    if not found:
        await ensure_channel(team_id, channel_id, now=now, timezone=timezone)


# --- reads ------------------------------------------------------------------------------


async def bet_by_number(team_id: str, number: int) -> Bet | None:
    return await Bet.get_or_none(team_id=team_id, number=number)


async def bets_by_numbers(team_id: str, numbers: Sequence[int]) -> list[BetFacts]:
    """The bets with these key numbers (those that exist), as plain values."""
    if not numbers:
        return []
    rows = await Bet.filter(team_id=team_id, number__in=list(numbers)).values_list(*BET_COLUMNS)
    return [bet_from_columns(row) for row in rows]


async def bet_by_id(team_id: str, bet_id: int) -> Bet | None:
    return await Bet.get_or_none(team_id=team_id, id=bet_id)


async def bet_by_thread(team_id: str, channel_id: str, thread_ts: str) -> Bet | None:
    return await Bet.get_or_none(team_id=team_id, channel_id=channel_id, card_ts=thread_ts)


async def number_of(team_id: str, bet_id: int | None) -> int | None:
    """A bet's key number by its id (a pivot's original), or None."""
    if bet_id is None:
        return None
    numbers = await Bet.filter(team_id=team_id, id=bet_id).values_list("number", flat=True)
    return int(numbers[0]) if numbers else None


async def locked_bet(
    team_id: str,
    *,
    bet_id: int | None = None,
    number: int | None = None,
    thread: tuple[str, str] | None = None,
) -> Bet | None:
    """A bet row locked for the rest of the unit of work, by id, number or (channel, thread
    ts): two clicks on the same bet queue here, so only one of them decides."""
    query = Bet.filter(team_id=team_id)
    if bet_id is not None:
        query = query.filter(id=bet_id)
    if number is not None:
        query = query.filter(number=number)
    if thread is not None:
        query = query.filter(channel_id=thread[0], card_ts=thread[1])
    return await query.select_for_update().first()


async def evidence_by_id(team_id: str, evidence_id: int) -> Evidence | None:
    return await Evidence.get_or_none(team_id=team_id, id=evidence_id)


async def evidence_verdicts(team_id: str, bet_id: int) -> list[tuple[Verdict, datetime]]:
    """Every piece of a bet's evidence as (verdict, posted at)."""
    rows = await Evidence.filter(team_id=team_id, bet_id=bet_id).values_list("verdict", "at")
    return [(Verdict(verdict), at) for verdict, at in rows]


async def evidence_of_message(team_id: str, channel_id: str | None, ts: str | None) -> int | None:
    """The number of the bet a Slack message is evidence on, if it is."""
    if channel_id is None or ts is None:
        return None
    found = await Evidence.get_or_none(
        team_id=team_id, channel_id=channel_id, message_ts=ts
    ).prefetch_related("bet")
    return found.bet.number if found is not None else None


def _listed(team_id: str, scope: str, user_id: str, channel_id: str | None) -> Any:
    """The bets of a `/hypothesis list <scope>`: open (default), mine, shipped (awaiting
    feedback: shipped, no decisive evidence since), overdue (awaiting and escalated), all."""
    query = Bet.filter(team_id=team_id)
    if channel_id is not None:
        query = query.filter(channel_id=channel_id)
    if scope == "mine":
        query = query.filter(Q(owner_id=user_id) | Q(creator_id=user_id)).filter(
            state__in=list(OPEN_STATES)
        )
    elif scope in ("shipped", "overdue"):
        query = query.filter(state=State.SHIPPED, first_feedback_at__isnull=True)
        if scope == "overdue":  # escalated (bets.metrics.is_overdue)
            query = query.filter(escalated_at__isnull=False)
    elif scope != "all":
        query = query.filter(state__in=list(OPEN_STATES))
    return query


async def list_bets(
    team_id: str,
    *,
    scope: str,
    user_id: str,
    channel_id: str | None = None,
    limit: int = 200,
) -> list[BetFacts]:
    """The first `limit` bets of a `/hypothesis list` scope (see `_listed`)."""
    order = "shipped_at" if scope in ("shipped", "overdue") else "-number"
    rows = (
        await _listed(team_id, scope, user_id, channel_id)
        .order_by(order, "number")
        .limit(limit)
        .values_list(*BET_COLUMNS)
    )
    return [bet_from_columns(row) for row in rows]


async def count_bets(
    team_id: str, *, scope: str, user_id: str, channel_id: str | None = None
) -> int:
    """How many bets a `/hypothesis list` scope has in all (the list shows the first ones)."""
    return int(await _listed(team_id, scope, user_id, channel_id).count())


async def search_open_bets(team_id: str, query: str, *, limit: int = 100) -> list[BetFacts]:
    """Open bets for a type-ahead: `H-12`/`12` by number, else every word in the title
    (case-insensitive); the newest first, the number match ahead of the rest."""
    words = query.split()
    found: list[Bet] = []
    number = parse_key(query) if query.strip() else None
    if number is not None:
        found = await Bet.filter(team_id=team_id, number=number, state__in=list(OPEN_STATES))
    titled = Bet.filter(team_id=team_id, state__in=list(OPEN_STATES))
    for word in words:
        titled = titled.filter(title__icontains=word)
    found += (
        await titled.exclude(id__in=[bet.id for bet in found])
        .order_by("-number")
        .limit(limit - len(found))
    )
    return [bet_value(bet) for bet in found]


async def channels_of(team_id: str, user_id: str, *, limit: int = 5) -> list[str]:
    """The channels where `user_id` owns or created a bet, most recent bet first."""
    rows = (
        await Bet.filter(team_id=team_id)
        .filter(Q(owner_id=user_id) | Q(creator_id=user_id))
        .annotate(latest=Max("created_at"))
        .group_by("channel_id")
        .order_by("-latest", "channel_id")
        .limit(limit)
        .values_list("channel_id", flat=True)
    )
    return [str(channel_id) for channel_id in rows]


@dataclass(frozen=True)
class BetPage:
    """What `show` reads of a bet: the row, its channel's zone (None for a
    channel Hypobot does not track), the key number of the bet it pivots from and its
    events, oldest first."""

    bet: BetFacts
    timezone: str | None
    pivot_of_number: int | None
    history: tuple[Event, ...]


@functools.cache
def _bets_by_numbers_sql(count: int) -> str:
    """`count` bets by key number with their channel's zone and their pivot's number. The
    zone and the pivot are scalar subqueries, each a lookup by a unique key for each bet,
    whatever the planner thinks of the tables' sizes (joins planned on a table never
    analysed scanned every bet and event of the workspace once per bet)."""
    return (
        "SELECT b.*, (SELECT c.timezone FROM channels c "
        "WHERE c.team_id = b.team_id AND c.channel_id = b.channel_id) AS page_timezone, "
        "(SELECT p.number FROM bets p WHERE p.id = b.pivot_of_id AND p.team_id = b.team_id) "
        f"AS page_pivot_of_number FROM bets b WHERE b.team_id = ? AND b.number IN ({_marks(count)})"
    )


@functools.cache
def _events_of_sql(count: int) -> str:
    """The events of `count` bets by id, each bet's oldest first."""
    return (
        f"SELECT * FROM events WHERE team_id = ? AND bet_id IN ({_marks(count)}) "
        "ORDER BY bet_id, at, id"
    )


def _marks(count: int) -> str:
    return ", ".join("?" for _ in range(count))


async def bet_pages(team_id: str, numbers: list[int]) -> dict[int, BetPage]:
    """The bets of `numbers` (those that exist) with their channel's zone, their pivot's
    number and their history: two statements, however many."""
    rows = await db.fetch(Bet, _bets_by_numbers_sql(len(numbers)), [team_id, *numbers])
    if not rows:
        return {}
    ids = [int(row["id"]) for row in rows]
    histories: dict[int, list[Event]] = {bet_id: [] for bet_id in ids}
    for event_row in await db.fetch(Event, _events_of_sql(len(ids)), [team_id, *ids]):
        histories[int(event_row["bet_id"])].append(Event._init_from_db(**event_row))
    pages = {}
    for row in rows:
        bet_row = dict(row)
        timezone, pivot = bet_row.pop("page_timezone"), bet_row.pop("page_pivot_of_number")
        bet = Bet._init_from_db(**bet_row)
        pages[bet.number] = BetPage(
            bet_value(bet),
            str(timezone) if timezone is not None else None,
            int(pivot) if pivot is not None else None,
            tuple(histories[bet.id]),
        )
    return pages


_PAGES: ReadTogether[int, BetPage] = ReadTogether(Bet, bet_pages)


async def bet_page(team_id: str, number: int) -> BetPage | None:
    """A bet by key number with its channel's zone, its pivot's number and its history:
    two statements (where `bet_by_number`, `get_channel`, `number_of` and `events_of` take
    four), shared with the other pages asked for meanwhile (`storage.together`)."""
    return await _PAGES.read(team_id, number)


async def evidence_of(team_id: str, bet_id: int) -> list[EvidenceFacts]:
    rows = await Evidence.filter(team_id=team_id, bet_id=bet_id).order_by("-at", "-id")
    return [evidence_value(row) for row in rows]


async def events_of(team_id: str, bet_id: int) -> list[Event]:
    return await Event.filter(team_id=team_id, bet_id=bet_id).order_by("at", "id")


async def team_ids() -> list[str]:
    return [row.team_id for row in await Workspace.all().order_by("team_id")]


async def all_bets(team_id: str) -> list[Bet]:
    return await Bet.filter(team_id=team_id).order_by("number")


async def all_evidence(team_id: str) -> list[Evidence]:
    return await Evidence.filter(team_id=team_id).order_by("at", "id")


async def all_events(team_id: str) -> list[Event]:
    return await Event.filter(team_id=team_id).order_by("at", "id")


# --- writes (call inside a unit of work) ------------------------------------------------


async def take_bet_numbers(team_id: str, count: int = 1) -> int:
    """Reserve the next `count` keys of the workspace; returns the first. Call it inside the
    transaction that writes the bets: the UPDATE takes the workspace row's lock, so concurrent
    creates queue here, and a rollback gives the numbers back (keys stay unique, gap-free)."""
    rows = await db.fetch(Workspace, _TAKE_NUMBERS, [int(count), team_id])
    if not rows:
        raise DoesNotExist(f"no workspace {team_id}")
    return int(rows[0]["last_bet_number"]) - count + 1


_TAKE_NUMBERS = (
    "UPDATE workspaces SET last_bet_number = last_bet_number + ? WHERE team_id = ? "
    "RETURNING last_bet_number"
)
_FIRST_NUMBER = (
    "INSERT INTO workspaces (team_id, last_bet_number, created_at) VALUES (?, 1, ?) "
    "ON CONFLICT (team_id) DO UPDATE SET last_bet_number = workspaces.last_bet_number + 1 "
    "RETURNING last_bet_number"
)

_NEW_WORKSPACE = (
    "INSERT INTO workspaces (team_id, last_bet_number, created_at) VALUES (?, 0, ?) "
    "ON CONFLICT (team_id) DO NOTHING"
)


def _row_values(instance: Any, skip: Sequence[str] = ()) -> tuple[list[str], list[Any]]:
    """(columns, values as the driver takes them) of a model instance not yet saved,
    Tortoise's defaults and conversions applied, without its generated id."""
    meta = instance._meta
    columns, values = [], []
    for name, column in meta.fields_db_projection.items():
        field = meta.fields_map[name]
        if field.generated or name in skip:
            continue
        columns.append(column)
        values.append(field.to_db_value(getattr(instance, name), instance))
    return columns, values


async def create_bet(
    team_id: str,
    *,
    now: datetime,
    event: dict[str, Any],
    views: Sequence[Outbox],
    **values: Any,
) -> Bet:
    """A new bet numbered with the workspace's next key, its `created` event (`event`: the
    event's fields) and the outbox rows of its views (`views`: drafts, given the bet's id
    here). Call it inside the unit of work: the key's lock is held from the number to commit,
    so it is taken last and the rest is written with it in one go. On PostgreSQL the number
    and the rows are one statement (the lock is held for two round trips, it and COMMIT,
    instead of five); on SQLite, which writes one transaction at a time, they are one step
    on the connection's thread (one hop there and back instead of four, each of which waits
    for a turn of the event loop while every other write waits for it)."""
    bet = Bet(team_id=team_id, number=0, **values)
    bet_columns, bet_values = _row_values(bet, skip=("number",))
    draft = Event(team_id=team_id, channel_id=bet.channel_id, at=now, **event)
    event_columns, event_values = _row_values(draft, skip=("bet_id",))
    view_rows = [_row_values(view, skip=("bet_id",)) for view in views]
    if db.is_postgres_connection(Bet):
        bet.id, bet.number = await _create_in_one_statement(
            team_id, now, (bet_columns, bet_values), (event_columns, event_values), view_rows
        )
    else:
        created = Workspace._meta.fields_map["created_at"].to_db_value(now, Workspace)

        def write(connection: Any) -> tuple[int, int]:
            rows = connection.execute(_TAKE_NUMBERS, [1, team_id]).fetchall()
            if not rows:
                rows = connection.execute(_FIRST_NUMBER, [team_id, created]).fetchall()
            number = int(rows[0][0])
            bet_id = int(
                connection.execute(
                    _insert("bets", [*bet_columns, "number"]), [*bet_values, number]
                ).lastrowid
            )
            connection.execute(
                _insert("events", [*event_columns, "bet_id"]), [*event_values, bet_id]
            )
            for view_columns, view_values in view_rows:
                connection.execute(
                    _insert("outbox", [*view_columns, "bet_id"]), [*view_values, bet_id]
                )
            return bet_id, number

        bet.id, bet.number = await db.in_one_step(Bet, write)
    bet._saved_in_db = True
    return bet


def _insert(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_marks(len(columns))})"


Columns = tuple[list[str], list[Any]]  # a row's columns and their values


async def _create_in_one_statement(
    team_id: str, now: datetime, bet: Columns, event: Columns, views: list[Columns]
) -> tuple[int, int]:
    """PostgreSQL: the next key and the bet, its event and its views' outbox rows in one
    statement (a writable CTE); (bet id, number)."""
    given: list[Any] = [team_id]

    def marks(row: list[Any]) -> str:
        given.extend(row)
        return _marks(len(row))

    bet_columns, bet_values = bet
    event_columns, event_values = event
    sql = (
        "WITH taken AS (UPDATE workspaces SET last_bet_number = last_bet_number + 1 "
        "WHERE team_id = ? RETURNING last_bet_number), "
        f"bet AS (INSERT INTO bets ({', '.join(bet_columns)}, number) "
        f"SELECT {marks(bet_values)}, last_bet_number FROM taken RETURNING id, number), "
        f"event AS (INSERT INTO events ({', '.join(event_columns)}, bet_id) "
        f"SELECT {marks(event_values)}, id FROM bet)"
    )
    for n, (view_columns, view_values) in enumerate(views):
        sql += (
            f", view{n} AS (INSERT INTO outbox ({', '.join(view_columns)}, bet_id) "
            f"SELECT {marks(view_values)}, id FROM bet)"
        )
    sql += " SELECT id, number FROM bet"
    rows = await db.fetch(Bet, sql, given)
    if not rows:  # the workspace's first bet: its row first, then the same statement
        await db.fetch(Workspace, _NEW_WORKSPACE, [team_id, now])
        rows = await db.fetch(Bet, sql, given)
    return int(rows[0]["id"]), int(rows[0]["number"])


async def insert_evidence(bet: Bet, **values: Any) -> Evidence:
    return await Evidence.create(team_id=bet.team_id, bet_id=bet.id, **values)


async def save_verdict(evidence: Evidence, verdict: Verdict) -> None:
    evidence.verdict = verdict
    await evidence.save(update_fields=["verdict"])


async def write_event(
    bet: Bet | None,
    *,
    team_id: str,
    actor_id: str,
    now: datetime,
    kind: str,
    from_state: str | None = None,
    to_state: str | None = None,
    data: dict[str, Any] | None = None,
    channel_id: str | None = None,
) -> Event:
    return await Event.create(
        team_id=team_id,
        bet_id=bet.id if bet else None,
        channel_id=bet.channel_id if bet else channel_id,
        actor_id=actor_id,
        at=now,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )


def jsonable(value: Any) -> Any:
    """A value as an event's JSON data keeps it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


async def set_away(team_id: str, user_id: str, until: datetime | None, *, now: datetime) -> None:
    await _create_once(Person, team_id=team_id, user_id=user_id)
    await Person.filter(team_id=team_id, user_id=user_id).update(away_until=until)
    await write_event(
        None,
        team_id=team_id,
        actor_id=user_id,
        now=now,
        kind="away",
        data={"until": until.isoformat() if until else None},
    )


async def away_until(team_id: str, user_id: str) -> datetime | None:
    person = await Person.get_or_none(team_id=team_id, user_id=user_id)
    return person.away_until if person else None


async def open_in_building(team_id: str, channel_id: str) -> int:
    """How many bets of the channel are in `building` (its WIP)."""
    return await Bet.filter(team_id=team_id, channel_id=channel_id, state=State.BUILDING).count()


async def note_created(team_id: str, once: str, bet: Bet) -> None:
    """Remember which bet the request `once` created (on its claim row)."""
    await Claim.filter(job="create", scope=f"team:{team_id}", period=once).update(note=str(bet.id))


async def created_once(team_id: str, once: str) -> Bet | None:
    """The bet the request `once` created, if it did (see `note_created`)."""
    claim = await Claim.get_or_none(job="create", scope=f"team:{team_id}", period=once)
    if claim is None or not claim.note.isdigit():
        return None
    return await Bet.get_or_none(team_id=team_id, id=int(claim.note))
