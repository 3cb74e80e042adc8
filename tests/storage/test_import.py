"""`hypobot import bets.csv --team T`: checked row by row, a dry run unless --apply, all rows
or none in one transaction, numbered after the workspace's bets, silent towards Slack."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bets.flow import flow_report
from bets.metrics import BetFacts
from console.csv_import import check_file, import_file
from storage import bets as bet_store
from storage.bets import bet_value
from storage.models import Bet, Channel, Event, Evidence, Outbox
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
    errors = errors_of(csv_text(header="channel_id,hypothesis,person,created_at"))
    assert "line 1: unknown column 'person'" in errors
    assert "line 1: missing column(s) owner_id" in errors


def test_the_exports_owner_and_creator_columns_read_as_owner_id_and_creator_id() -> None:
    header = "channel_id,hypothesis,owner,creator,created_at"
    checked = check_file(
        io.StringIO(csv_text("C1,We believe x,UALICE,UBOB,2026-09-01", header=header)), NOW
    )
    assert checked.errors == []
    [row] = checked.rows
    assert (row.owner_id, row.creator_id) == ("UALICE", "UBOB")


def test_owner_and_owner_id_together_are_one_column_twice() -> None:
    header = "channel_id,hypothesis,owner,owner_id,created_at"
    errors = errors_of(csv_text("C1,We believe x,UALICE,UALICE,2026-09-01", header=header))
    assert "line 1: column 'owner_id' appears twice" in errors


def test_bad_evidence_in_an_exported_row_is_reported_by_line() -> None:
    header = "channel_id,hypothesis,owner,created_at,evidence"
    evidence = '"[{""verdict"": ""maybe"", ""text"": ""x"", ""at"": ""2026-09-02""}]"'
    errors = errors_of(csv_text(f"C1,We believe x,UALICE,2026-09-01,{evidence}", header=header))
    assert any(
        error.startswith("line 2: evidence 1: verdict 'maybe' is not one of supports")
        for error in errors
    ), errors
    errors = errors_of(csv_text("C1,We believe x,UALICE,2026-09-01,not json", header=header))
    assert errors == ["line 2: evidence is not the JSON list `hypobot export --format csv` writes"]


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
        hypothesis="We believe older bets will matter",
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
    assert flow_report(c2, now=NOW, window=timedelta(days=120)).heard.p50 == timedelta(days=14)


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


# --- idempotency and the export's own format -----------------------------------------------

EXPORT_HEADER = (
    "team_id,key,channel_id,title,state,hypothesis,signal,owner,creator,link,learned,"
    "close_reason,created_at,started_at,shipped_at,closed_at,first_feedback_at,expected_at,"
    "evidence,events"
)
SHIPPED_EVIDENCE = (
    '"[{""text"": ""12 admins used it"", ""link"": null, ""verdict"": ""supports"", '
    '""source"": ""command"", ""author"": ""UBOB"", ""at"": ""2026-09-25T08:00:00+00:00"", '
    '""permalink"": null}]"'
)
EXPORTED = [
    "TA,H-7,C1,Export,shipped,We believe export for admins will cut tickets,tickets drop 30%,"
    "UALICE,UBOB,,,,2026-09-01T09:00:00+00:00,,2026-09-20T12:00:00+00:00,,"
    f"2026-09-25T08:00:00+00:00,2026-12-01T00:00:00+00:00,{SHIPPED_EVIDENCE},"
    '"[{""kind"": ""created"", ""actor"": ""UBOB"", ""at"": ""2026-09-01T09:00:00+00:00"", '
    '""from"": null, ""to"": ""proposed"", ""data"": {""title"": ""Export""}}]"',
    "TA,H-8,C2,Tour,proposed,We believe a tour helps new admins,,UCAROL,UCAROL,,,,"
    "2026-10-01T00:00:00+00:00,,,,,,[],[]",
]


async def test_applying_the_same_file_twice_creates_nothing_the_second_time(
    database: str, tmp_path: Path
) -> None:
    path = write(tmp_path, csv_text(*GOOD))
    await run_import(path, apply=True)

    status, out, _ = await run_import(path, apply=True)

    assert status == 0
    assert await Bet.filter(team_id="T1").count() == 3
    assert "line 2: skipped, already in T1 · Export" in out
    assert out.strip().endswith(
        "Nothing to import: all 3 row(s) are already in T1 (skipped). Nothing was written."
    )
    assert await Event.filter(team_id="T1", kind="imported").count() == 3


async def test_a_dry_run_counts_the_rows_an_apply_would_skip(database: str, tmp_path: Path) -> None:
    await run_import(write(tmp_path, csv_text(GOOD[0])), apply=True)

    status, out, _ = await run_import(write(tmp_path, csv_text(*GOOD)), apply=False)

    assert status == 0
    assert (
        "Dry run: 2 bet(s) would be created in T1 as H-2 to H-3; 1 row(s) skipped, already in T1."
        in out
    )
    assert "line 2: skipped, already in T1 · Export" in out


async def test_a_file_with_new_and_known_rows_imports_only_the_new_ones(
    database: str, tmp_path: Path
) -> None:
    await run_import(write(tmp_path, csv_text(GOOD[0], GOOD[2])), apply=True)

    status, out, _ = await run_import(write(tmp_path, csv_text(*GOOD)), apply=True)

    assert status == 0
    assert "Imported 1 bet(s) into T1 as H-3; 2 row(s) skipped, already in T1." in out
    bets = await Bet.filter(team_id="T1").order_by("number")
    assert [b.title for b in bets] == ["Export", "Tour", bets[2].title]
    assert bets[2].state == "validated"


async def test_the_same_row_twice_in_one_file_is_imported_once(
    database: str, tmp_path: Path
) -> None:
    status, out, _ = await run_import(write(tmp_path, csv_text(GOOD[0], GOOD[0])), apply=True)
    assert status == 0
    assert "Imported 1 bet(s) into T1 as H-1; 1 row(s) skipped, already in T1." in out
    assert await Bet.filter(team_id="T1").count() == 1


async def test_an_exported_file_imports_with_its_evidence_and_time_to_feedback(
    database: str, tmp_path: Path
) -> None:
    path = write(tmp_path, csv_text(*EXPORTED, header=EXPORT_HEADER), name="export.csv")

    status, out, err = await run_import(path, apply=True, team="TB")

    assert status == 0, err
    assert "Imported 2 bet(s) into TB as H-1 to H-2" in out
    shipped = await Bet.get(team_id="TB", number=1)
    assert (shipped.owner_id, shipped.creator_id) == ("UALICE", "UBOB")
    assert shipped.expected_at == datetime(2026, 12, 1, tzinfo=UTC)
    assert shipped.first_feedback_at == datetime(2026, 9, 25, 8, tzinfo=UTC)
    assert shipped.evidence_count == 1
    [evidence] = await Evidence.filter(team_id="TB", bet_id=shipped.id)
    assert (evidence.verdict, evidence.text, evidence.author_id, evidence.source) == (
        "supports",
        "12 admins used it",
        "UBOB",
        "command",
    )
    created, imported = await Event.filter(team_id="TB", bet_id=shipped.id).order_by("id")
    assert (created.kind, created.actor_id, created.to_state) == ("created", "UBOB", "proposed")
    assert created.at == datetime(2026, 9, 1, 9, tzinfo=UTC)  # its history, as it happened
    assert (imported.kind, imported.data["origin"]) == ("imported", "TA:H-7")


async def test_an_exported_bet_imported_before_is_skipped_by_its_origin(
    database: str, tmp_path: Path
) -> None:
    """The same exported bet (team and key) comes back with its hypothesis reworded: it is
    still that bet, so it is not imported twice."""
    first = write(tmp_path, csv_text(EXPORTED[1], header=EXPORT_HEADER), name="a.csv")
    await run_import(first, apply=True, team="TB")
    reworded = EXPORTED[1].replace("helps new admins", "helps every new admin")
    second = write(tmp_path, csv_text(reworded, header=EXPORT_HEADER), name="b.csv")

    status, out, _ = await run_import(second, apply=True, team="TB")

    assert status == 0
    assert "Nothing to import: all 1 row(s) are already in TB" in out
    assert await Bet.filter(team_id="TB").count() == 1


async def test_an_export_imported_into_its_own_workspace_creates_nothing(
    database: str, tmp_path: Path
) -> None:
    """Every row is a bet the workspace has (same channel, hypothesis and creation time)."""
    bet = await stored_bet("TA", now=NOW - timedelta(days=3), owner="UALICE")
    row = await Bet.get(id=bet.id)
    text = csv_text(
        f"TA,H-1,{row.channel_id},{row.title},{row.state},{row.hypothesis},,{row.owner_id},"
        f"{row.creator_id},,,,{row.created_at.isoformat()},,,,,,[],[]",
        header=EXPORT_HEADER,
    )

    status, out, err = await run_import(write(tmp_path, text), apply=True, team="TA")

    assert status == 0, err
    assert "Nothing to import" in out
    assert await Bet.filter(team_id="TA").count() == 1


async def test_importing_the_same_file_twice_at_once_creates_each_bet_once(
    database: str, tmp_path: Path
) -> None:
    path = write(tmp_path, csv_text(*GOOD))

    results = await asyncio.gather(
        run_import(path, apply=True), run_import(path, apply=True), return_exceptions=True
    )

    assert await Bet.filter(team_id="T1").count() == 3
    assert sum(1 for r in results if not isinstance(r, BaseException) and "Imported 3" in r[1]) == 1
