"""`hypobot import bets.csv --team T`: checked row by row, a dry run unless --apply, all rows
or none in one transaction, numbered after the workspace's bets, silent towards Slack."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bets.metrics import BetFacts, flow_report
from console.csv_import import check_file, import_file
from storage import bets as bet_store
from storage.bets import bet_value
from storage.models import Bet, Channel, Event, Outbox
from tests.stored import stored_bet

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
HEADER = (
    "channel_id,title,hypothesis,signal,owner_id,state,link,created_at,shipped_at,closed_at,learned"
)
GOOD = [
    "C1,Export,We believe export for admins will cut tickets,tickets drop 30%,UALICE,shipped,"
    "https://git.test/pr/7,2026-09-01,2026-09-20T12:00:00Z,,",
    'C2,,"We believe dark mode for night owls will raise retention, a lot",,UBOB,validated,,'
    "2026-08-01,2026-08-10,2026-08-24,night owls stay longer",
    "C1,Tour,We believe a tour helps new admins,,<@UCAROL|carol>,proposed,,2026-10-01,,,",
]
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def errors_of(text: str) -> list[str]:
    return check_file(io.StringIO(text), NOW).errors


def write(tmp_path: Path, text: str, name: str = "bets.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- checking rows (no database) ----------------------------------------------------------


def test_good_rows_become_bets_with_utc_stamps_and_derived_titles() -> None:
    checked = check_file(io.StringIO(csv_text(*GOOD)), NOW)
    assert checked.errors == []
    export, dark, tour = checked.rows
    assert export.shipped_at == datetime(2026, 9, 20, 12, tzinfo=UTC)
    assert export.created_at == datetime(2026, 9, 1, tzinfo=UTC)
    assert dark.title.lower().startswith("dark mode")
    assert dark.learned == "night owls stay longer"
    assert tour.owner_id == "UCAROL" and tour.creator_id == "UCAROL"
    assert [row.line for row in checked.rows] == [2, 3, 4]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("C1,,We believe x,,UALICE,done,,2026-09-01,,,", "unknown state 'done'"),
        ("C1,T,,,UALICE,proposed,,2026-09-01,,,", "missing hypothesis"),
        ("C1,T,We believe x,,UALICE,shipped,,2026-09-01,yesterday,,", "shipped_at 'yesterday'"),
        (
            "C1,T,We believe x,,UALICE,shipped,,2026-09-10,2026-09-01,,",
            "shipped_at (2026-09-01) is before created_at (2026-09-10)",
        ),
        ("C1,T,We believe x,,UALICE,validated,,2026-09-01,2026-09-02,,", "needs closed_at"),
        ("C1,T,We believe x,,UALICE,shipped,,2026-09-01,,,", "a shipped bet needs shipped_at"),
        ("C1,T,We believe x,,UALICE,proposed,,2026-09-01,2026-09-02,,", "can't have shipped_at"),
        (
            "C1,T,We believe x,,UALICE,proposed,,2027-01-01,,,",
            "created_at 2027-01-01 is in the future",
        ),
        ("C1,T,We believe x,,UALICE,proposed,,,,,", "missing created_at"),
        ("C1,T,We believe x,,someone,proposed,,2026-09-01,,,", "owner_id 'someone'"),
        ("#general,T,We believe x,,UALICE,proposed,,2026-09-01,,,", "channel_id '#general'"),
        ("C1,T,We believe x,,UALICE,proposed,ftp://x,2026-09-01,,,", "not an http(s) link"),
        ("C1,T,We believe x,,UALICE,proposed,,2026-09-01,,", "10 cells for 11 columns"),
    ],
)
def test_a_bad_row_is_reported_by_line_with_its_reason(row: str, reason: str) -> None:
    errors = errors_of(csv_text(GOOD[0], row))
    assert any(error.startswith("line 3: ") and reason in error for error in errors), errors


def test_killed_needs_closed_at_and_a_reason() -> None:
    header = HEADER + ",close_reason"
    errors = errors_of(csv_text("C1,T,We believe x,,UALICE,killed,,2026-09-01,,,,", header=header))
    assert "line 2: a killed bet needs closed_at" in errors
    assert "line 2: a killed bet needs close_reason (why it was stopped)" in errors


def test_unknown_or_missing_columns_are_refused_on_line_1() -> None:
    errors = errors_of(csv_text(header="channel_id,hypothesis,owner,created_at"))
    assert "line 1: unknown column 'owner'" in errors
    assert "line 1: missing column(s) owner_id" in errors


def test_a_quoted_cell_over_two_lines_keeps_the_next_rows_line_number() -> None:
    text = csv_text(
        'C1,T,"We believe x\nfor y",,UALICE,proposed,,2026-09-01,,,', "C1,T,,,UALICE,x,,,,,"
    )
    errors = errors_of(text)
    assert "line 4: missing hypothesis" in errors


# --- importing (SQLite and PostgreSQL) ----------------------------------------------------


async def existing_bet(team_id: str = "T1") -> BetFacts:
    return await stored_bet(
        team_id,
        now=NOW - timedelta(days=100),
        title="Older",
        hypothesis="We believe older",
        signal="",
    )


async def run_import(path: Path, *, apply: bool, team: str = "T1") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = await import_file(path, team, apply=apply, now=NOW, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


async def test_dry_run_prints_the_plan_and_writes_nothing(database: str, tmp_path: Path) -> None:
    await existing_bet()
    status, out, _ = await run_import(write(tmp_path, csv_text(*GOOD)), apply=False)
    assert status == 0
    assert "line 2: H-2 · shipped · C1 · Export" in out
    assert "line 4: H-4 · proposed · C1 · Tour" in out
    assert "Dry run: 3 bet(s) would be created in T1 as H-2 to H-4" in out
    assert await Bet.filter(team_id="T1").count() == 1


async def test_apply_numbers_after_existing_bets_with_an_imported_event_and_no_slack(
    database: str, tmp_path: Path
) -> None:
    await existing_bet()
    outbox_before = await Outbox.all().count()
    status, out, _ = await run_import(write(tmp_path, csv_text(*GOOD)), apply=True)
    assert status == 0
    assert "Imported 3 bet(s) into T1 as H-2 to H-4" in out
    bets = await Bet.filter(team_id="T1").order_by("number")
    assert [(b.number, b.state) for b in bets] == [
        (1, "proposed"),
        (2, "shipped"),
        (3, "validated"),
        (4, "proposed"),
    ]
    assert bets[2].closed_at == datetime(2026, 8, 24, tzinfo=UTC)
    assert bets[1].card_ts is None and bets[1].link == "https://git.test/pr/7"
    events = await Event.filter(team_id="T1", kind="imported").order_by("id")
    assert [e.bet_id for e in events] == [b.id for b in bets[1:]]
    assert events[0].data["source"] == "bets.csv" and events[0].data["line"] == 2
    assert events[1].to_state == "validated"
    assert await Outbox.all().count() == outbox_before  # no cards, no messages
    assert await Channel.filter(team_id="T1", channel_id="C2").exists()
    assert (await bet_store.take_bet_numbers("T1")) == 5  # the counter moved past them


async def test_one_bad_row_writes_nothing_at_all(database: str, tmp_path: Path) -> None:
    text = csv_text(*GOOD, "C9,T,We believe x,,UALICE,done,,2026-09-01,,,")
    status, out, err = await run_import(write(tmp_path, text), apply=True)
    assert status == 1 and out == ""
    assert "bets.csv: line 5: unknown state 'done'" in err
    assert "nothing was written" in err
    assert await Bet.all().count() == 0
    assert await Channel.all().count() == 0
    assert await Event.all().count() == 0


async def test_imported_bets_count_in_the_flow_metrics(database: str, tmp_path: Path) -> None:
    await run_import(write(tmp_path, csv_text(*GOOD)), apply=True)
    c1 = [bet_value(b) for b in await Bet.filter(team_id="T1", channel_id="C1")]
    report = flow_report(c1, now=NOW, window=timedelta(days=90))
    assert [item.number for item in report.awaiting] == [1]
    c2 = [bet_value(b) for b in await Bet.filter(team_id="T1", channel_id="C2")]
    assert flow_report(c2, now=NOW, window=timedelta(days=120)).ttf_median == timedelta(days=14)


async def test_other_workspaces_keep_their_own_numbers(database: str, tmp_path: Path) -> None:
    await existing_bet("TOTHER")
    await run_import(write(tmp_path, csv_text(GOOD[0])), apply=True, team="T1")
    assert await Bet.filter(team_id="T1").values_list("number", flat=True) == [1]


async def test_a_bad_team_or_missing_file_exits_2(database: str, tmp_path: Path) -> None:
    assert (await run_import(tmp_path / "nope.csv", apply=False))[0] == 2
    assert (await run_import(write(tmp_path, csv_text(*GOOD)), apply=True, team="t 1"))[0] == 2
    assert await Bet.all().count() == 0


async def test_the_cli_imports_into_the_configured_database(database: str, tmp_path: Path) -> None:
    path = write(tmp_path, csv_text(*GOOD))
    env = {**CLEAN_ENV, "DATABASE_URL": database}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "console.cli", "import", str(path), "--team", "T1", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    dry = cli()
    assert dry.returncode == 0, dry.stderr
    assert "Dry run: 3 bet(s)" in dry.stdout
    assert await Bet.all().count() == 0
    applied = cli("--apply")
    assert applied.returncode == 0, applied.stderr
    assert "Imported 3 bet(s) into T1 as H-1 to H-3" in applied.stdout
    assert await Bet.filter(team_id="T1").count() == 3
