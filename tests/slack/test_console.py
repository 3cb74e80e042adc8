"""`hypobot console`: Hypobot without Slack. Typed lines go through the real listeners as signed
requests; what Hypobot sends to (a fake) Slack comes back as text. Real SQLite file per test."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console import render, saved
from console.shell import Console, ConsoleClock, ConsoleError, _summary_text
from ops.settings import Settings
from storage.models import Bet, Evidence, Workspace
from tests.conftest import DATABASES
from tests.databases import Templates, drop_database, fresh_database

START = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC
ONE_LINER = (
    "/hypothesis new We believe a one-click export for admins will cut support tickets. "
    "We'll know when export tickets drop 30% within 10 days"
)
# The buttons a new bet's card shows, in order.
START_BUTTON, SHIP_BUTTON, EVIDENCE_BUTTON, KILL_BUTTON = "1", "2", "3", "4"
# This checkout's code in the consoles it starts, whatever their working directory (an
# installed copy of Hypobot may be another checkout).
CLEAN_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
    "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
}


class Typist:
    """Types lines into a console and returns what it printed in answer."""

    def __init__(self, console: Console, out: io.StringIO) -> None:
        self.console = console
        self.out = out

    async def __call__(self, *lines: str) -> str:
        start = len(self.out.getvalue())
        for line in lines:
            assert await self.console.handle(line), f"{line!r} left the console"
        return self.out.getvalue()[start:]


def _console(tmp_path: Path, out: io.StringIO) -> Console:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'console.sqlite3'}")
    return Console(settings, out, clock=ConsoleClock(START), echo=True)


@pytest.fixture
async def typist(tmp_path: Path) -> AsyncIterator[Typist]:
    out = io.StringIO()
    console = _console(tmp_path, out)
    await console.start()
    try:
        yield Typist(console, out)
        assert not console.fake.block_errors
        assert "Traceback" not in out.getvalue()
    finally:
        await console.close()


async def test_one_liner_shows_the_card_with_its_key_and_buttons(typist: Typist) -> None:
    shown = await typist(ONE_LINER)
    assert "Hypobot (only you): Created H-1 · A one-click export. Its card is in #general." in shown
    assert "#general · Hypobot:\n  H-1 · A one-click export\n" in shown
    assert "📏 We'll know when export tickets drop 30%" in shown
    assert "owner @you" in shown
    assert "[1] 🛠️ Start  [2] 🚀 Ship  [3] 📎 Add evidence  [4] 🪦 Kill" in shown
    assert (await Bet.get(team_id="TCONSOLE", number=1)).channel_id == "CGENERAL"


async def test_pressing_a_numbered_button_moves_the_bet_and_redraws_its_card(
    typist: Typist,
) -> None:
    await typist(ONE_LINER)
    shown = await typist(SHIP_BUTTON)
    assert "(you pressed 🚀 Ship)" in shown
    assert "Hypobot (only you): H-1 shipped" in shown
    assert "#general · Hypobot (edited):" in shown
    assert "🚀 shipped · owner @you" in shown
    assert "[1] 📎 Add evidence  [2] ✅ Validate" in shown  # numbered afresh
    assert (await Bet.get(team_id="TCONSOLE", number=1)).state == "shipped"


async def test_kill_asks_the_forms_fields_then_the_card_shows_killed_and_learned(
    typist: Typist,
) -> None:
    await typist(ONE_LINER)
    shown = await typist(KILL_BUTTON)
    assert "┌ Kill H-1" in shown
    assert typist.console.prompt() == "│ Why stop it?: "
    await typist("superseded by the API")
    assert typist.console.prompt() == "│ What did we learn?: "
    shown = await typist("admins want an API, not a button")
    assert "└ Kill bet: sent." in shown
    assert "🪦 killed" in shown
    assert "Stopped because: superseded by the API" in shown
    assert "Learned: admins want an API, not a button" in shown
    bet = await Bet.get(team_id="TCONSOLE", number=1)
    assert (bet.state, bet.learned) == ("killed", "admins want an API, not a button")
    assert typist.console.prompt() == "you> "


async def test_a_required_field_left_empty_is_asked_again(typist: Typist) -> None:
    await typist(ONE_LINER, KILL_BUTTON)
    shown = await typist("")
    assert "⚠ Please fill in this field (it is required)." in shown
    assert typist.console.prompt() == "│ Why stop it?: "


async def test_new_bet_form_shows_the_apps_field_errors_and_asks_those_again(
    typist: Typist,
) -> None:
    shown = await typist("/hypothesis")
    assert "┌ New bet" in shown
    answers = ["Dark mode", "We believe dark mode for night owls will raise retention"]
    answers += ["night retention rises 5%", "@maria", "not a link", "", ""]
    shown = await typist(*answers)
    assert "⚠ Link: Use a web link starting with https://" in shown
    assert typist.console.prompt() == "│ Link (optional): "
    shown = await typist("https://example.com/dark")
    assert "Created H-1 · Dark mode" in shown
    assert "owner @maria" in shown
    bet = await Bet.get(team_id="TCONSOLE", number=1)
    assert (bet.owner_id, bet.link) == ("UMARIA", "https://example.com/dark")


async def test_cancel_closes_a_form_without_submitting(typist: Typist) -> None:
    await typist(ONE_LINER, KILL_BUTTON)
    shown = await typist("cancel")
    assert "Form closed without submitting" in shown
    assert (await Bet.get(team_id="TCONSOLE", number=1)).state == "proposed"
    assert typist.console.prompt() == "you> "


async def test_reply_records_evidence_and_shows_hypobots_answer_in_the_thread(
    typist: Typist,
) -> None:
    await typist(ONE_LINER, SHIP_BUTTON)
    shown = await typist("reply H-1 tickets fell 35% since Monday")
    assert "#general · in the thread of H-1 · A one-click export · shipped" in shown
    assert "  ↳ you: tickets fell 35% since Monday" in shown
    assert "  ↳ Hypobot:\n      Recorded as evidence on H-1 (verdict unknown)." in shown
    supports = next(b for b in typist.console.buttons if "Supports" in b.button.label)
    assert "👍 Supports  " in shown
    evidence = await Evidence.get(team_id="TCONSOLE")
    assert (evidence.text, evidence.verdict) == ("tickets fell 35% since Monday", "unknown")
    shown = await typist(str(typist.console.buttons.index(supports) + 1))
    assert "@you's reply is evidence on H-1: supports." in shown
    assert (await Evidence.get(team_id="TCONSOLE")).verdict == "supports"


async def test_jobs_run_digests_at_a_moment_moves_the_clock_and_shows_the_digest(
    typist: Typist,
) -> None:
    await typist(ONE_LINER, SHIP_BUTTON)
    shown = await typist("jobs run digests --at 2026-11-03T09:30Z")
    assert "Running digests at Tue 03 Nov 2026 09:30 UTC" in shown
    assert "#general · Hypobot:\n  📋 Hypobot digest · Tue 3 Nov" in shown
    assert "H-1 A one-click export · shipped" in shown
    assert "└ digests: 1 digest posted · 1 message sent" in shown
    assert "Tue 03 Nov 2026 09:30 UTC" in await typist("now")


async def test_jobs_run_nudges_posts_the_nudge_in_the_bets_thread(typist: Typist) -> None:
    await typist(ONE_LINER, SHIP_BUTTON)
    # The one-liner expects its signal within 10 days: the nudge comes after that, in hours.
    shown = await typist("jobs run nudges --at 2026-11-13T11:00Z")
    assert "in the thread of H-1" in shown
    assert "@you, H-1 · A one-click export shipped 11d ago. What have we learned?" in shown
    assert "[1] 👍 Supports" in shown


async def test_jobs_run_nudges_says_the_budget_held_the_rest(typist: Typist) -> None:
    await typist("/hypothesis settings nudges-per-day 1")
    for number in (1, 2, 3):
        await typist(ONE_LINER, f"/hypothesis ship H-{number}")
    shown = await typist("jobs run nudges --at 2026-11-13T11:00Z")
    assert "1 bet nudged · 2 held for a later day by the nudge budget" in shown
    assert "1 channel checked" in shown
    assert "outside working hours" not in shown and "snoozed" not in shown


async def test_the_clock_moves_forward_only(typist: Typist) -> None:
    shown = await typist("now +2d")
    assert "Wed 04 Nov 2026 10:00 UTC" in shown
    shown = await typist("jobs run digests --at 2026-11-03T09:30Z")
    assert "only moves forward" in shown


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("bogus", "isn't something the console knows"),
        ("3", "There are no buttons on screen yet"),
        ("reply H-9 hello", "There is no H-9 here"),
        ("reply H-1", "reply H-1 export tickets fell 35%"),
        ("thread nothing", "thread H-1"),
        ("jobs run sweeps", "There is no job “sweeps”; jobs are: nudges, digests, outbox."),
        ("jobs run digests --at tomorrow", "--at tomorrow is not ISO 8601"),
        ("jobs", "jobs run digests --at 2026-12-01T09:30Z"),
        ("now yesterday", "isn't a time: try now +3d"),
        ("/remind me", "/remind isn't installed here"),
        ("/hypothesis frobnicate", "I don't know `frobnicate`. Try `/hypothesis help`."),
    ],
)
async def test_bad_input_gets_a_helpful_message(typist: Typist, line: str, says: str) -> None:
    assert says in await typist(line)


async def test_a_button_number_past_those_on_screen_says_which_exist(typist: Typist) -> None:
    await typist(ONE_LINER)
    assert "There is no button 9; the buttons on screen are 1–4." in await typist("9")


async def test_help_lists_the_consoles_commands(typist: Typist) -> None:
    shown = await typist("help")
    for command in ("/hypothesis", "reply H-1", "jobs run", "now", "quit"):
        assert command in shown


async def test_quit_leaves(typist: Typist) -> None:
    assert await typist.console.handle("quit") is False


async def test_a_command_typed_into_a_form_closes_it_and_runs(typist: Typist) -> None:
    await typist(ONE_LINER, KILL_BUTTON)
    shown = await typist("/hypothesis list")
    assert "Form closed without submitting" in shown
    assert "H-1 A one-click export" in shown


async def test_the_console_posts_as_fast_as_its_fake_slack_answers(typist: Typist) -> None:
    # Slack's pace (about a post a second per channel after a burst of 3) would spread these
    # nine posts in #general over at least 6 s; the console's fake Slack has no limits.
    await typist(ONE_LINER, SHIP_BUTTON)
    for number in range(1, 5):
        await typist(f"reply H-1 sample {number}")  # a card update and an answer each
    posts = [
        c for c in typist.console.fake.calls if c.method in ("chat.postMessage", "chat.update")
    ]
    assert len(posts) >= 9
    assert posts[-1].at - posts[0].at < 2.0


async def test_cards_from_an_earlier_session_can_still_be_moved(tmp_path: Path) -> None:
    first = _console(tmp_path, io.StringIO())
    await first.start()
    await first.handle(ONE_LINER)
    await first.close()
    out = io.StringIO()
    second = _console(tmp_path, out)
    await second.start()
    try:
        assert "1 bet(s) from earlier sessions" in out.getvalue()
        await second.handle("thread H-1")
        await second.handle(SHIP_BUTTON)
        assert "Slack refused" not in out.getvalue()
        assert "#general · Hypobot (edited):" in out.getvalue()
        assert (await Bet.get(team_id="TCONSOLE", number=1)).state == "shipped"
    finally:
        await second.close()


# --- a session picks up where the last left off ---------------------------------------------

# The new-bet form, answered: H-1 owned by @sam, in #growth (names a person typed).
GROWTH_BET = [
    "/hypothesis",
    "Dark mode",
    "We believe dark mode for night owls will raise retention",
]
GROWTH_BET += ["night retention rises 5%", "@sam", "", "10d", "#growth"]


@pytest.fixture(params=DATABASES)
async def empty_database(
    request: pytest.FixtureRequest, templates: Templates, tmp_path: Path
) -> AsyncIterator[str]:
    """A migrated, empty database of each kind, left for the consoles to open and close."""
    url = await fresh_database(request.param, templates, tmp_path)
    try:
        yield url
    finally:
        await drop_database(url)


async def _session(database: str, state: Path, *lines: str) -> str:
    """One console session, from start to close, on `database` with its state in `state`;
    returns what it printed."""
    out = io.StringIO()
    settings = Settings(database_url=database)
    console = Console(settings, out, clock=ConsoleClock(START), state_dir=state, echo=True)
    await console.start()
    try:
        for line in lines:
            assert await console.handle(line), f"{line!r} left the console"
        assert not console.fake.block_errors
    finally:
        await console.close()
    assert "Traceback" not in out.getvalue()
    return out.getvalue()


@pytest.mark.parametrize("kept", [True, False], ids=["kept", "not-kept"])
async def test_a_new_session_posts_where_the_last_one_did_without_slack_refusing(
    empty_database: str, tmp_path: Path, kept: bool
) -> None:
    # Not kept: the database of a console that did not keep its Slack (or whose folder was
    # removed), whose cards come back from the database.
    first = tmp_path / ("state" if kept else "lost")
    await _session(empty_database, first, ONE_LINER, SHIP_BUTTON)
    shown = await _session(
        empty_database, tmp_path / "state", "thread H-1", "jobs run digests --at 2026-11-03T09:30Z"
    )
    assert "#general · Hypobot:\n  H-1 · A one-click export" in shown
    assert "#general · Hypobot:\n  📋 Hypobot digest · Tue 3 Nov" in shown
    assert "Slack refused" not in shown


async def test_people_and_channels_keep_the_names_typed_in_an_earlier_session(
    empty_database: str, tmp_path: Path
) -> None:
    await _session(empty_database, tmp_path / "state", *GROWTH_BET)
    shown = await _session(empty_database, tmp_path / "state", "thread H-1", "/hypothesis list")
    assert "#growth · Hypobot:\n  H-1 · Dark mode" in shown
    assert "owner @sam" in shown
    assert "H-1 Dark mode · 💡 proposed · @sam" in shown
    assert "#cgrowth" not in shown and "@USAM" not in shown


async def test_a_thread_shows_the_replies_and_nudges_of_earlier_sessions_with_their_buttons(
    empty_database: str, tmp_path: Path
) -> None:
    earlier = [ONE_LINER, SHIP_BUTTON, "reply H-1 tickets fell 35% since Monday"]
    await _session(
        empty_database, tmp_path / "state", *earlier, "jobs run nudges --at 2026-11-13T11:00Z"
    )
    shown = await _session(empty_database, tmp_path / "state", "thread H-1")
    assert "#general · Hypobot:\n  H-1 · A one-click export" in shown
    assert "  ↳ you: tickets fell 35% since Monday" in shown
    assert "Recorded as evidence on H-1 (verdict unknown)." in shown
    assert "@you, H-1 · A one-click export shipped 11d ago. What have we learned?" in shown
    nudge = shown[shown.index("What have we learned?") :]
    assert "👍 Supports" in nudge and "💤 Snooze 3d" in nudge


async def test_charts_of_a_later_session_never_overwrite_earlier_ones(
    empty_database: str, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    await _session(empty_database, state, ONE_LINER, SHIP_BUTTON, "/hypothesis report")
    [first] = (state / "files").iterdir()
    drawn = first.read_bytes()
    shown = await _session(empty_database, state, "/hypothesis report")
    assert f"saved to {first}" not in shown
    assert len(list((state / "files").iterdir())) == 2
    assert first.read_bytes() == drawn


async def test_an_unreadable_pretend_slack_stops_the_console_saying_where_it_is(
    tmp_path: Path,
) -> None:
    state = tmp_path / "console.sqlite3-console"
    state.mkdir()
    (state / "slack.json").write_text("{not json", encoding="utf-8")
    console = _console(tmp_path, io.StringIO())
    with pytest.raises(ConsoleError, match=f"cannot read the pretend Slack .* in {state}"):
        await console.start()
    await console.close()
    assert (state / "slack.json").read_text(encoding="utf-8") == "{not json"


def test_the_pretend_slack_is_kept_beside_a_sqlite_file_or_named_after_the_database() -> None:
    assert saved.state_dir("sqlite:///srv/hypobot.sqlite3") == Path("/srv/hypobot.sqlite3-console")
    assert saved.state_dir("sqlite://:memory:") is None  # nothing outlives it
    assert saved.state_dir("postgres://hypobot@db:5432/trial") == Path.cwd() / "trial-console"


async def test_slack_settings_in_the_environment_are_never_used(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'console.sqlite3'}",
        slack_bot_token="xoxb-a-real-token",
        slack_signing_secret="a-real-secret",
        slack_api_url="https://slack.invalid/api/",
        slack_client_id="1234.5678",  # OAuth mode, where the settings know it
        slack_client_secret="a-real-client-secret",
    )
    console = Console(settings, io.StringIO(), clock=ConsoleClock(START))
    await console.start()
    try:
        await console.handle(ONE_LINER)
        posted = console.fake.calls_to("chat.postMessage")
        assert [call.token for call in posted] == ["xoxb-console"]
    finally:
        await console.close()


async def test_a_database_holding_a_real_workspace_is_refused(tmp_path: Path) -> None:
    console = _console(tmp_path, io.StringIO())
    await console.start()
    await Workspace.create(team_id="T0REAL", created_at=START)
    await console.close()
    again = _console(tmp_path, io.StringIO())
    with pytest.raises(ConsoleError, match="also holds workspace T0REAL"):
        await again.start()
    await again.close()


# --- as a person runs it ---------------------------------------------------------------------


def _run(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **CLEAN_ENV,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'piped.sqlite3'}",
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(
        [sys.executable, "-m", "console.cli", "console", "--now", "2026-11-02T10:00Z", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_piped_lines_run_without_any_slack_variables(tmp_path: Path) -> None:
    kill = "3"  # once started: Ship, Add evidence, Kill
    lines = [ONE_LINER, START_BUTTON, kill, "", "moved to the API", "an API beats a button"]
    lines += ["1", "nonsense", "quit", "never read"]
    done = _run(tmp_path, stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    assert "you> /hypothesis new We believe a one-click export" in done.stdout
    assert "[1] 🛠️ Start  [2] 🚀 Ship" in done.stdout
    assert "🛠️ building" in done.stdout
    assert "│ Why stop it?: \n│ ⚠ Please fill in this field (it is required)." in done.stdout
    assert "Learned: an API beats a button" in done.stdout
    assert "Button 1 is gone: its message changed since." in done.stdout
    assert "\x1b[" not in done.stdout  # no colour codes into a pipe
    assert "never read" not in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_a_script_runs_before_stdin_and_end_of_input_exits(tmp_path: Path) -> None:
    script = tmp_path / "demo.txt"
    script.write_text(f"# a comment\n{ONE_LINER}\n2\n", encoding="utf-8")
    done = _run(tmp_path, "--script", str(script), stdin="/hypothesis list\n")
    assert done.returncode == 0, done.stderr
    assert "🚀 shipped" in done.stdout
    assert done.stdout.index("you> 2") < done.stdout.index("you> /hypothesis list")
    assert "Traceback" not in done.stdout + done.stderr


def test_a_second_run_picks_up_where_the_first_left_off(tmp_path: Path) -> None:
    first = _run(tmp_path, stdin="\n".join([*GROWTH_BET, "quit"]) + "\n")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "piped.sqlite3-console" / "slack.json").is_file()
    second = _run(tmp_path, stdin="thread H-1\n")
    assert second.returncode == 0, second.stderr
    assert "#growth · Hypobot:\n  H-1 · Dark mode" in second.stdout
    assert "owner @sam" in second.stdout
    assert "Traceback" not in second.stdout + second.stderr


def test_a_missing_script_or_a_bad_start_time_stops_with_one_line(tmp_path: Path) -> None:
    missing = _run(tmp_path, "--script", str(tmp_path / "nope.txt"))
    assert (missing.returncode, missing.stdout) == (2, "")
    assert "no such file" in missing.stderr
    someday = _run(tmp_path, "--now", "someday")  # the last --now wins
    assert (someday.returncode, someday.stdout) == (2, "")
    assert "--now 'someday' is not ISO 8601; for example --now 2026-11-02T10:00Z" in someday.stderr
    assert "Traceback" not in missing.stderr + someday.stderr


# --- mrkdwn on a terminal ----------------------------------------------------------------------

NAMES = render.Names(users={"UYOU": "you"}, channels={"CGENERAL": "general"})


def test_mrkdwn_without_colour_reads_as_plain_text() -> None:
    text = (
        "*H-1 · A &amp; B* by <@UYOU> in <#CGENERAL> for <@UX1|bob>: "
        "`/hypothesis signal H-1 &lt;text&gt;` _soon_ <https://x.test/a?b=1&amp;c|report>"
    )
    assert render.mrkdwn(text, NAMES, render.Paint(False)) == (
        "H-1 · A & B by @you in #general for @bob: "
        "`/hypothesis signal H-1 <text>` soon report (https://x.test/a?b=1&c)"
    )


def test_mrkdwn_on_a_terminal_is_bold_and_coloured() -> None:
    paint = render.Paint(True)
    assert render.mrkdwn("*H-1* `ship`", NAMES, paint) == "\x1b[1mH-1\x1b[22m \x1b[36mship\x1b[39m"


def test_quotes_dates_and_escaped_markup_render_as_slack_shows_them() -> None:
    text = ">We believe X\n&gt; typed\n<!date^1764547200^{date_short}|2026-12-01> <!channel>"
    assert render.mrkdwn(text, NAMES, render.Paint(False)) == (
        "│ We believe X\n> typed\n2026-12-01 @channel"
    )


def test_a_jobs_summary_counts_boards_in_words() -> None:
    assert _summary_text({"posted": 1, "boards": 1}) == (
        "1 digest posted · 1 board queued for the daily rewrite"
    )
    assert _summary_text({"boards": 2}) == "2 boards queued for the daily rewrite"
