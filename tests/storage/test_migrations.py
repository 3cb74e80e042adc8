"""A database written by the last release (schema 0003) upgrades with `hypobot migrate`
without losing a bet, a piece of evidence or a setting, and its bets read as new ones do:
time to feedback from the first decisive evidence posted after shipping (T5), and the
first decisive evidence at any time (T9)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as tortoise_migrate

from storage import db
from testkit.scratch import create_database, drop_database

ROOT = Path(__file__).resolve().parents[2]
LAST_RELEASE = "models.0003_oauth_installations"
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
async def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database with the last release's schema."""
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'hypobot.sqlite3'}"
    else:
        url = await create_database("hypobot_upgrade")
    await tortoise_migrate(config=db.tortoise_config(url), target=LAST_RELEASE)
    await Tortoise.close_connections()
    try:
        yield url
    finally:
        await drop_database(url)


async def _write_last_release_rows(url: str) -> None:
    """Rows as release 0003 wrote them (raw SQL: today's models have more columns)."""
    await Tortoise.init(config=db.tortoise_config(url))
    connection = connections.get(db.connection_name(url))
    insert = db.placeholders(connection)

    def iso(moment: datetime) -> object:
        """A timestamp as the driver takes it: text for SQLite, a datetime for asyncpg."""
        return moment if db.is_postgres(url) else moment.isoformat()

    await connection.execute_query(
        insert("INSERT INTO workspaces (team_id, last_bet_number, created_at) VALUES (?, ?, ?)"),
        ["T1", 3, iso(T0)],
    )
    await connection.execute_query(
        insert(
            "INSERT INTO channels (team_id, channel_id, timezone, digest_enabled, digest_time, "
            "digest_days, nudge_after_s, nudge_repeat_s, hours_start, hours_end, work_days, "
            "wip_limit, sle_default_s, grace_s, lead_user_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        [
            "T1",
            "C1",
            "Europe/Berlin",
            True,
            "08:45",
            "0,2,4",
            5 * 86400,
            86400,
            "08:00",
            "17:00",
            "0,1,2,3",
            4,
            10 * 86400,
            7200,
            "ULEAD",
            iso(T0),
        ],
    )
    shipped = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    for number, state, ship in (
        (1, "shipped", shipped),
        (2, "killed", None),
        (3, "shipped", shipped),
    ):
        await connection.execute_query(
            insert(
                "INSERT INTO bets (team_id, number, channel_id, title, hypothesis, signal, "
                "owner_id, creator_id, state, coach_notes, learned, close_reason, created_at, "
                "shipped_at, first_feedback_at, nudge_count, unanswered_nudges, evidence_count, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            [
                "T1",
                number,
                "C1",
                f"Bet {number}",
                f"We believe {number}",
                "",
                "U1",
                "U1",
                state,
                "",
                "",
                "",
                iso(T0),
                iso(ship) if ship else None,
                # 0003 stamped the moment of the label, not of the evidence
                iso(datetime(2026, 6, 20, tzinfo=UTC)) if number == 1 else None,
                0,
                0,
                1,
                iso(T0),
            ],
        )
    ids = {
        number: row["id"]
        for number, row in [
            (r["number"], r)
            for r in (await connection.execute_query_dict("SELECT id, number FROM bets"))
        ]
    }
    evidence = (
        (1, "supports", datetime(2026, 6, 12, tzinfo=UTC)),  # after shipping: feedback
        (2, "refutes", datetime(2026, 6, 5, tzinfo=UTC)),  # before a kill: learning
        (3, "supports", datetime(2026, 6, 8, tzinfo=UTC)),  # before shipping: not feedback
    )
    for number, verdict, at in evidence:
        await connection.execute_query(
            insert(
                "INSERT INTO evidence (team_id, bet_id, text, verdict, source, author_id, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)"
            ),
            ["T1", ids[number], f"evidence {number}", verdict, "command", "U1", iso(at)],
        )
    # An escalation as the sweep claimed and recorded it before it was one kind everywhere.
    await connection.execute_query(
        insert(
            "INSERT INTO claims (team_id, job, scope, period, owner, lease_until, status, "
            "created_at, done_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        ["T1", "escalate", f"bet:{ids[1]}", "1", "r1", iso(T0), "done", iso(T0), iso(T0), ""],
    )
    await connection.execute_query(
        insert(
            "INSERT INTO events (team_id, bet_id, channel_id, actor_id, at, kind, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)"
        ),
        ["T1", ids[1], "C1", "hypobot", iso(T0), "escalate", '{"reason": "sle"}'],
    )
    await Tortoise.close_connections()


async def test_hypobot_migrate_upgrades_the_last_release_without_losing_anything(
    old_database: str, tmp_path: Path
) -> None:
    await _write_last_release_rows(old_database)
    began = datetime.now(UTC)
    result = subprocess.run(
        [sys.executable, "-m", "console.cli", "migrate"],
        # This checkout's code, though the working directory is elsewhere.
        env={"DATABASE_URL": old_database, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    await db.connect(old_database, upgrade=False)
    try:
        from storage.models import Bet, Channel, Evidence

        bets = {bet.number: bet for bet in await Bet.filter(team_id="T1")}
        assert sorted(bets) == [1, 2, 3]
        assert await Evidence.filter(team_id="T1").count() == 3
        channel = await Channel.get(team_id="T1", channel_id="C1")
        assert (channel.timezone, channel.digest_time, channel.wip_limit) == (
            "Europe/Berlin",
            "08:45",
            4,
        )
        assert (channel.lead_user_id, channel.nudge_after_s) == ("ULEAD", 5 * 86400)
        assert channel.nudges_per_day == 5  # the default budget for channels made before it
        assert {e.source_name for e in await Evidence.filter(team_id="T1")} == {""}
        # T5: recomputed from the evidence's own time, after shipping only
        assert bets[1].first_feedback_at == datetime(2026, 6, 12, tzinfo=UTC)
        assert bets[3].first_feedback_at is None
        # T9: decisive evidence at any time
        assert bets[2].first_decisive_at == datetime(2026, 6, 5, tzinfo=UTC)
        assert bets[3].first_decisive_at == datetime(2026, 6, 8, tzinfo=UTC)
        assert bets[1].expect_within_s is None
        # F6: forecasts are recorded from the upgrade on; bets shipped before have none
        assert all(bet.forecast_at_ship is None for bet in bets.values())
        assert channel.forecasts_since is not None
        assert channel.forecasts_since >= began.replace(microsecond=0)  # the upgrade
        # one kind of escalation everywhere: its claim still stands, so it is never redone
        from storage.models import Claim, Event

        assert await Claim.filter(job="escalation", scope=f"bet:{bets[1].id}").exists()
        assert not await Claim.filter(job="escalate").exists()
        assert [e.kind for e in await Event.filter(bet_id=bets[1].id)] == ["escalation"]
    finally:
        await db.disconnect()
