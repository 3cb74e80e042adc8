"""`hypobot export --format csv` carries everything a bet is: imported into an empty
database, the export of that database is the same file, byte for byte (issue 19)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bets.evidence import Verdict
from bets.lifecycle import Move, MoveRequest
from console.csv_export import COLUMNS, JSON_COLUMNS, write_csv
from console.csv_import import check_file, import_file
from storage import db
from storage.models import Bet, Event
from tests.databases import Templates, drop_database, fresh_database
from tests.stored import at, moved
from usecases import bets as usecase
from usecases.bets import BetDraft, Created, EvidenceAdded, NewEvidence
from usecases.context import Actor
from usecases.export import team_export

TEAM = "T1"
START = datetime(2026, 9, 1, 9, 30, tzinfo=UTC)
IMPORTED_AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
HYPERLINK = '=HYPERLINK("http://evil.example","x")'


def day(n: float) -> datetime:
    return START + timedelta(days=n)


async def create(when: datetime, title: str, *, by: str = "UCAROL", **draft: object) -> int:
    made = await usecase.create(
        at(when),
        Actor(TEAM, by, "C1"),
        BetDraft(
            channel_id=draft.pop("channel_id", "C1"),  # type: ignore[arg-type]
            title=title,
            hypothesis=f"We believe {title.lower()} for admins will cut tickets",
            signal=draft.pop("signal", "tickets drop 20%"),  # type: ignore[arg-type]
            **draft,  # type: ignore[arg-type]
        ),
    )
    assert isinstance(made, Created), made
    return made.bet.id


async def move(bet_id: int, when: datetime, move: Move, actor: str = "UCAROL", **kw: str) -> None:
    await moved(TEAM, bet_id, MoveRequest(move, **kw), now=when, actor=actor)


async def add(bet_id: int, when: datetime, new: NewEvidence, actor: str = "UBOB") -> int:
    added = await usecase.add_evidence(at(when), Actor(TEAM, actor), new, bet_id=bet_id)
    assert isinstance(added, EvidenceAdded), added
    return added.evidence.id


async def a_rich_channel() -> None:
    """Every kind of thing a bet can carry, in two channels, with owners who did not
    create their bets and text a spreadsheet would read as a formula."""
    # H-1: "within 4 days" of shipping (as the one-liner reads it), owned by someone else.
    h1 = await create(
        day(0), "-1 step checkout", owner_id="UOWNER", expect_within=timedelta(days=4)
    )
    await move(h1, day(1), Move.SHIP, link="https://git.test/pr/1")
    # H-2: an absolute expected date, typed with `expect` (an event with before/after).
    h2 = await create(day(0.5), "Onboarding tour", channel_id="C2")
    expected = await usecase.expect(at(day(1)), Actor(TEAM, "UCAROL"), "2026-12-15", bet_id=h2)
    assert not isinstance(expected, usecase.Refused), expected
    await move(h2, day(2), Move.START)
    # H-3: killed, with what was learned (text that starts with a quote and a formula).
    h3 = await create(day(1), HYPERLINK)
    await move(h3, day(2), Move.START)
    await move(
        h3, day(6), Move.KILL, text="superseded by the pricing page", learned="'=nobody asked"
    )
    # H-4: a pivot of H-3.
    await create(day(7), "'Quoted pricing page", pivot_of=3, by="UDAVE", owner_id="UERIN")
    # H-5: shipped, with evidence from several sources, before and after shipping.
    h5 = await create(day(2), "Search filters", owner_id="UOWNER")
    await add(
        h5, day(3), NewEvidence(Verdict.SUPPORTS, "prototype test: 4 of 5 liked it", "command")
    )
    await move(h5, day(4), Move.START)
    await move(h5, day(5), Move.SHIP)
    reply = await add(
        h5,
        day(6),
        NewEvidence(
            Verdict.UNKNOWN,
            "+1 from a customer call",
            "thread",
            channel_id="C1",
            message_ts="1788000000.000100",
            permalink="https://acme.slack.com/archives/C1/p1788000000000100",
        ),
    )
    settled = await usecase.settle_verdict(
        at(day(6.5)), Actor(TEAM, "UOWNER"), reply, Verdict.INCONCLUSIVE
    )
    assert not isinstance(settled, usecase.Refused), settled
    await add(
        h5,
        day(9),  # recorded a day after it was observed
        NewEvidence(
            Verdict.SUPPORTS,
            "filter use up 34% week on week",
            "api",
            link="https://dash.example/q/7",
            posted_at=day(8),
            source_name="amplitude",
        ),
        actor="api:ci",
    )
    await add(h5, day(10), NewEvidence(Verdict.INCONCLUSIVE, "@here -2% bounce?", "command"))
    # H-6: shipped and snoozed; its signal came after the coach asked for one.
    h6 = await create(day(3), "Dark mode", signal="")
    signal = await usecase.set_signal(
        at(day(3.5)), Actor(TEAM, "UCAROL"), "night sessions up 10%", bet_id=h6
    )
    assert not isinstance(signal, usecase.Refused), signal
    await move(h6, day(4), Move.SHIP)
    snoozed = await usecase.snooze(at(day(60)), Actor(TEAM, "UCAROL"), timedelta(days=5), bet_id=h6)
    assert not isinstance(snoozed, usecase.Refused), snoozed
    # H-7: invalidated with refuting evidence and what was learned.
    h7 = await create(day(4), "Weekly digest email", owner_id="UOWNER")
    await move(h7, day(5), Move.SHIP)
    await move(
        h7,
        day(12),
        Move.INVALIDATE,
        actor="UOWNER",
        text="open rate 3%",
        link="https://dash.example/q/9",
        learned="+ nobody reads email digests",
    )


async def exported(team_id: str) -> str:
    out = io.StringIO()
    write_csv(await team_export(team_id), out)
    return out.getvalue()


@asynccontextmanager
async def another_database(first: str, templates: Templates, tmp_path: Path) -> AsyncIterator[str]:
    """A second fresh database of the same kind, connected for the block; then the first
    is connected again (the fixture closes and drops it)."""
    kind = "postgres" if db.is_postgres(first) else "sqlite"
    folder = tmp_path / "second"
    folder.mkdir()
    second = await fresh_database(kind, templates, folder)
    await db.disconnect()
    await db.connect(second, upgrade=False)
    try:
        yield second
    finally:
        await db.disconnect()
        await drop_database(second)
        await db.connect(first, upgrade=False)


async def test_an_export_imported_into_an_empty_database_exports_the_same_file(
    database: str, templates: Templates, tmp_path: Path
) -> None:
    await a_rich_channel()
    records = await team_export(TEAM)
    before = await exported(TEAM)
    path = tmp_path / "bets.csv"
    path.write_text(before, encoding="utf-8")

    async with another_database(database, templates, tmp_path):
        out, err = io.StringIO(), io.StringIO()
        status = await import_file(path, TEAM, apply=True, now=IMPORTED_AT, out=out, err=err)
        assert status == 0, err.getvalue()
        assert "Imported 7 bet(s) into T1 as H-1 to H-7." in out.getvalue()
        after = await exported(TEAM)
        pivot = await Bet.get(team_id=TEAM, number=4)
        original = await Bet.get(team_id=TEAM, number=3)
        imported = await Event.filter(team_id=TEAM, kind="imported").count()

    assert after == before
    # What the file carries, so the equality above is not about an empty file.
    assert set(records[0]) == {*COLUMNS, *JSON_COLUMNS}  # JSON carries what CSV does
    rows = {row["key"]: row for row in csv.DictReader(io.StringIO(before))}
    assert rows["H-1"]["expect_within_s"] == str(4 * 86400)
    assert rows["H-1"]["expected_at"] == ""
    assert (rows["H-1"]["owner"], rows["H-1"]["creator"]) == ("UOWNER", "UCAROL")
    assert rows["H-2"]["expected_at"] == "2026-12-15T00:00:00+00:00"
    assert rows["H-3"]["learned"] == "''=nobody asked"  # guarded, and read back unguarded
    assert rows["H-3"]["close_reason"] == "superseded by the pricing page"
    assert rows["H-4"]["pivot_of"] == "H-3"
    assert rows["H-5"]["first_feedback_at"] == day(8).isoformat()
    assert rows["H-5"]["first_decisive_at"] == day(3).isoformat()
    assert rows["H-6"]["snoozed_until"] == (day(60) + timedelta(days=5)).isoformat()
    assert rows["H-6"]["coach_notes"].startswith("How will we know?")  # as said on creation
    sources = [(e["source"], e["source_name"], e["verdict"]) for e in records[4]["evidence"]]
    assert sources == [
        ("command", "", "supports"),
        ("thread", "", "inconclusive"),
        ("api", "amplitude", "supports"),
        ("command", "", "inconclusive"),
    ]
    assert [e["kind"] for e in records[4]["events"]] == [
        "created",
        "evidence",
        "start",
        "ship",
        "evidence",
        "verdict",
        "evidence",
        "evidence",
    ]
    assert pivot.pivot_of_id == original.id  # type: ignore[attr-defined]
    assert imported == 7  # each bet notes where it came from; the export leaves that out


async def test_a_pivot_before_its_original_in_the_file_links_to_it(
    database: str, templates: Templates, tmp_path: Path
) -> None:
    h1 = await create(day(0), "Pricing page")
    await move(h1, day(2), Move.KILL, text="no traffic", learned="nobody looks")
    await create(day(3), "Pricing in the app", pivot_of=1)
    header, original, pivot = (await exported(TEAM)).splitlines(keepends=True)
    path = tmp_path / "reordered.csv"
    path.write_text(header + pivot + original, encoding="utf-8")

    async with another_database(database, templates, tmp_path):
        out, err = io.StringIO(), io.StringIO()
        status = await import_file(path, TEAM, apply=True, now=IMPORTED_AT, out=out, err=err)
        assert status == 0, err.getvalue()
        first, second = await Bet.filter(team_id=TEAM).order_by("number")
        records = await team_export(TEAM)

    # Numbered in the file's order: the pivot is H-1 here, and it points at the killed bet.
    assert (first.title, second.title) == ("Pricing in the app", "Pricing page")
    assert first.pivot_of_id == second.id  # type: ignore[attr-defined]
    assert records[0]["pivot_of"] == "H-2"


async def test_a_pivot_of_a_bet_nowhere_or_still_open_is_refused(
    database: str, tmp_path: Path
) -> None:
    h1 = await create(day(0), "Pricing page")
    await move(h1, day(2), Move.KILL, text="no traffic")
    await create(day(3), "Pricing in the app", pivot_of=1)
    header, _, pivot = (await exported(TEAM)).splitlines(keepends=True)
    await create(day(4), "Still open")  # H-3 of T1, proposed
    hand_made = (
        "channel_id,hypothesis,owner,created_at,team_id,key,pivot_of\n"
        "C1,We believe a,UALICE,2026-09-01,,,H-3\n"
        "C1,We believe b,UALICE,2026-09-01,TX,H-5,h5\n"
    )
    cases = {
        "alone.csv": (
            header + pivot,
            "line 2: pivot_of H-1: no bet H-1 of T1 in this file or in T2",
        ),
        "open.csv": (hand_made, "line 2: pivot_of H-3 is proposed: a pivot comes from a closed"),
        "self.csv": (hand_made, "line 3: pivot_of H-5: a bet can't pivot from itself"),
    }
    for name, (text, error) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        team = "T2" if name == "alone.csv" else TEAM
        status = await import_file(path, team, apply=True, now=IMPORTED_AT, out=out, err=err)
        assert status == 1 and f"{name}: {error}" in err.getvalue(), err.getvalue()
    assert await Bet.filter(team_id="T2").count() == 0
    assert await Bet.filter(team_id=TEAM).count() == 3


async def test_a_pivot_whose_original_was_imported_before_links_to_that_bet(
    database: str, tmp_path: Path
) -> None:
    h1 = await create(day(0), "Pricing page")
    await move(h1, day(2), Move.KILL, text="no traffic")
    await create(day(3), "Pricing in the app", pivot_of=1)
    await create(day(4), "Pricing in the emails", pivot_of=1)
    header, original, pivot, other = (await exported(TEAM)).splitlines(keepends=True)
    files = {
        "original.csv": header + original,
        "pivot.csv": header + pivot,  # its original by the key it was imported from
        "all.csv": header + original + pivot + other,  # its original skipped: already in T2
    }
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        status = await import_file(path, "T2", apply=True, now=IMPORTED_AT, out=out, err=err)
        assert status == 0, err.getvalue()

    bets = await Bet.filter(team_id="T2").order_by("number")
    assert [bet.title for bet in bets] == [
        "Pricing page",
        "Pricing in the app",
        "Pricing in the emails",
    ]
    assert [bet.pivot_of_id for bet in bets] == [None, bets[0].id, bets[0].id]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ("4d,,", "expect_within_s '4d' is not a number of seconds from 1 to"),
        ("0,,", "expect_within_s '0' is not a number of seconds"),
        (",later,", "pivot_of 'later' is not a bet key such as H-12"),
        (',,"[{""kind"": ""ship"", ""actor"": ""U1"", ""at"": ""2027-01-01""}]"', "event 1: at"),
        (',,"[{""kind"": ""ship"", ""actor"": ""<b>"", ""at"": ""2026-09-02""}]"', "actor '<b>'"),
        (
            ',,"[{""kind"": ""ship"", ""actor"": ""U1"", ""at"": ""2026-09-02"", '
            '""to"": ""done""}]"',
            "to 'done'",
        ),
        (",,not json", "events is not the JSON list"),
    ],
)
def test_a_bad_expectation_pivot_or_history_is_reported_by_line(cells: str, reason: str) -> None:
    header = "channel_id,hypothesis,owner,created_at,expect_within_s,pivot_of,events"
    text = f"{header}\nC1,We believe x,UALICE,2026-09-01,{cells}\n"
    errors = check_file(io.StringIO(text), IMPORTED_AT).errors
    assert any(error.startswith("line 2: ") and reason in error for error in errors), errors


def test_an_imported_event_in_a_file_is_left_out_of_the_history() -> None:
    """It noted an import into the database the file came from; this import writes its own."""
    events = (
        '"[{""kind"": ""imported"", ""actor"": ""import"", ""at"": ""2026-09-02"", '
        '""data"": {""origin"": ""TX:H-9""}}, '
        '{""kind"": ""ship"", ""actor"": ""U1"", ""at"": ""2026-09-03"", ""to"": ""shipped""}]"'
    )
    header = "channel_id,hypothesis,owner,created_at,events"
    text = f"{header}\nC1,We believe x,UALICE,2026-09-01,{events}\n"
    checked = check_file(io.StringIO(text), IMPORTED_AT)
    assert checked.errors == []
    [row] = checked.rows
    assert [(event.kind, event.to_state) for event in row.events] == [("ship", "shipped")]
