"""Deleting everything Hypobot keeps for one workspace (`hypobot purge`)."""

from __future__ import annotations

from tortoise.models import Model
from tortoise.transactions import in_transaction

from storage.models import (
    ApiRequest,
    ApiToken,
    Bet,
    Board,
    Channel,
    Claim,
    Event,
    Evidence,
    Installation,
    Outbox,
    Pace,
    Person,
    SenderLease,
    Workspace,
)

# Every model that carries team_id, children before the bets they point at.
TEAM_TABLES: tuple[tuple[str, type[Model]], ...] = (
    ("api_requests", ApiRequest),
    ("api_tokens", ApiToken),
    ("evidence", Evidence),
    ("events", Event),
    ("outbox", Outbox),
    ("claims", Claim),
    ("bets", Bet),
    ("boards", Board),
    ("sender_leases", SenderLease),
    ("paces", Pace),
    ("channels", Channel),
    ("people", Person),
    ("installations", Installation),
    ("workspaces", Workspace),
)


async def counts(team_id: str) -> dict[str, int]:
    """Rows per table that a purge of `team_id` would delete."""
    return {name: await model.filter(team_id=team_id).count() for name, model in TEAM_TABLES}


async def purge(team_id: str) -> dict[str, int]:
    """Delete the workspace's rows in every table, all or nothing; returns rows deleted."""
    deleted: dict[str, int] = {}
    async with in_transaction() as connection:
        for name, model in TEAM_TABLES:
            deleted[name] = await model.filter(team_id=team_id).using_db(connection).delete()
    return deleted


async def known_teams() -> list[str]:
    """Every team id with a row anywhere, for a purge that named a team nobody knows."""
    teams: set[str] = set()
    for _, model in TEAM_TABLES:
        found = await model.all().distinct().values_list("team_id", flat=True)
        teams.update(str(team) for team in found)
    return sorted(teams)
