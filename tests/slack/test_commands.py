"""Slash commands end to end: signed requests to the served app, calls seen by the fake Slack."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from storage.models import Bet, Event, Evidence
from tests.conftest import Hypobot, eventually

ONE_LINER = (
    "We believe a one-click export for admins will cut support tickets. "
    "We'll know when export tickets drop 30% within 10 days"
)


async def test_new_posts_card_and_confirms_with_key(hypobot: Hypobot) -> None:
    status, body = await hypobot.command(f"new {ONE_LINER}")
    assert status == 200
    assert "H-1" in body["text"]
    await hypobot.deliver()
    [post] = hypobot.fake.calls_to("chat.postMessage")
    assert post.channel == "C1"
    assert "H-1" in post.params["text"]
    bet = await Bet.get(team_id="T1", number=1)
    assert bet.card_ts is not None
    assert bet.signal == "export tickets drop 30%"
    # T1: "within 10 days" counts from shipping, so it is kept as a duration until then
    assert bet.expected_at is None and bet.expect_within_s == 10 * 86400
    assert not hypobot.fake.block_errors


async def test_new_without_signal_creates_bet_and_says_how_to_add_one(hypobot: Hypobot) -> None:
    status, body = await hypobot.command("new We believe dark mode for night owls will help")
    assert status == 200
    assert "no signal" in body["text"]
    assert "/hypothesis signal H-1" in body["text"]
    assert await Bet.filter(team_id="T1").count() == 1


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("We believe", "needs at least a change and the outcome"),
        ("We believe dark mode for night owls", "needs an outcome"),
        ("We'll know when retention rises", "needs at least a change and the outcome"),
    ],
)
async def test_new_without_a_change_or_an_outcome_is_refused_with_the_right_form(
    hypobot: Hypobot, line: str, says: str
) -> None:
    status, body = await hypobot.command(f"new {line}")
    assert status == 200
    assert says in body["text"], body
    assert "Nothing was created." in body["text"]
    assert "/hypothesis new We believe &lt;change&gt; for &lt;whom&gt; will" in body["text"]
    assert await Bet.all().count() == 0 and await Event.all().count() == 0


async def test_full_lifecycle_updates_card_each_time(hypobot: Hypobot) -> None:
    await hypobot.command(f"new {ONE_LINER}")
    await hypobot.deliver()
    for text in ("start H-1", "ship h-1 https://git.test/pr/7", "evidence 1 + 12 admins used it"):
        status, body = await hypobot.command(text)
        assert status == 200, body
        await hypobot.deliver()
    status, body = await hypobot.command("validate H1 tickets fell 35%")
    assert "validated" in body["text"]
    await hypobot.deliver()
    bet = await Bet.get(team_id="T1", number=1)
    assert bet.state == "validated"
    assert bet.link == "https://git.test/pr/7"
    assert len(hypobot.fake.calls_to("chat.update")) == 4
    kinds = [e.kind for e in await Event.filter(bet_id=bet.id).order_by("id")]
    assert kinds == ["created", "start", "ship", "evidence", "validate"]
    last_card = hypobot.fake.calls_to("chat.update")[-1]
    assert "validated" in str(last_card.blocks)
    assert not hypobot.fake.block_errors


async def test_illegal_move_is_refused_with_allowed_moves(hypobot: Hypobot) -> None:
    await hypobot.command(f"new {ONE_LINER}")
    status, body = await hypobot.command("validate H-1 looks great")
    assert status == 200
    assert "Can't validate a proposed bet" in body["text"]
    assert "`start`" in body["text"] and "`ship`" in body["text"]
    assert (await Bet.get(team_id="T1", number=1)).state == "proposed"


async def test_kill_needs_a_reason_and_keeps_what_we_learned(hypobot: Hypobot) -> None:
    await hypobot.command(f"new {ONE_LINER}")
    _, body = await hypobot.command("kill H-1")
    assert "reason" in body["text"].lower()
    await hypobot.command("kill H-1 nobody asked for it learned: admins export via the API")
    bet = await Bet.get(team_id="T1", number=1)
    assert bet.state == "killed"
    assert bet.close_reason == "nobody asked for it"
    assert bet.learned == "admins export via the API"
    await hypobot.deliver()
    assert "admins export via the API" in str(hypobot.fake.calls_to("chat.update")[-1].blocks)


async def test_bad_input_gets_helpful_message_and_changes_nothing(hypobot: Hypobot) -> None:
    await hypobot.command(f"new {ONE_LINER}")
    before = await Event.all().count()
    for text in ("frobnicate", "show H-x", "snooze H-1 soon", "show H-99", "new ", "x" * 5000):
        status, body = await hypobot.command(text)
        assert status == 200
        assert "Traceback" not in str(body)
        assert "/hypothesis" in body["text"], (text, body)
    assert await Event.all().count() == before


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("report 5000d", "`5000d` is too long: a report looks back at most 3 years (1095d)."),
        ("snooze H-1 99999d", "`99999d` is too long: a snooze lasts at most 3 years (1095d)."),
        ("expect H-1 5000d", "`5000d` is too long: `expect` takes at most 3 years (1095d)."),
    ],
)
async def test_a_duration_past_its_limit_is_refused_saying_the_limit(
    hypobot: Hypobot, text: str, says: str
) -> None:
    await hypobot.command(f"new {ONE_LINER}")
    await hypobot.command("ship H-1")
    before = await Event.all().count()
    _, body = await hypobot.command(text)
    assert says in body["text"], body
    assert "isn't a duration" not in body["text"]
    assert await Event.all().count() == before
    assert (await Bet.get(team_id="T1", number=1)).snoozed_until is None


async def test_evidence_with_an_unknown_verdict_mark_is_refused_and_records_nothing(
    hypobot: Hypobot,
) -> None:
    await hypobot.command(f"new {ONE_LINER}")
    await hypobot.command("ship H-1")
    _, body = await hypobot.command("evidence H-1 * weird verdict")
    assert "`*` isn't a verdict mark: use `+` supports, `-` refutes or `?`" in body["text"]
    assert "/hypothesis evidence H-12 [+|-|?]" in body["text"]
    assert await Evidence.all().count() == 0


async def test_closing_is_limited_to_owner_creator_and_admins(hypobot: Hypobot) -> None:
    await hypobot.command(f"new {ONE_LINER}", user_id="U1")
    await hypobot.command("ship H-1", user_id="U1")
    _status, body = await hypobot.command("kill H-1 meh", user_id="U2")
    assert "Only H-1's owner" in body["text"]
    assert (await Bet.get(team_id="T1", number=1)).state == "shipped"
    hypobot.fake.admins.add("USLACKADMIN")
    _, body = await hypobot.command("kill H-1 superseded", user_id="USLACKADMIN")
    assert "killed" in body["text"]


async def test_injection_in_title_reaches_slack_inert(hypobot: Hypobot) -> None:
    await hypobot.command(
        "new We believe &lt;!channel&gt; &lt;https://evil.test|click&gt; for everyone will win"
    )
    await hypobot.deliver()
    [post] = hypobot.fake.calls_to("chat.postMessage")
    rendered = str(post.blocks) + post.params["text"]
    assert "<!channel>" not in rendered
    assert "<https://evil.test|click>" not in rendered
    assert "&lt;!channel&gt;" in rendered


async def test_other_workspace_cannot_show_move_or_list_bets(hypobot: Hypobot) -> None:
    await hypobot.command(f"new {ONE_LINER}", team_id="TA")
    for text in ("show H-1", "start H-1", "kill H-1 mine now"):
        _status, body = await hypobot.command(text, team_id="TB", user_id="UB")
        assert "no H-1 in this workspace" in body["text"]
    _, body = await hypobot.command("list all", team_id="TB", user_id="UB")
    assert "No bets" in body["text"]
    assert (await Bet.get(team_id="TA", number=1)).state == "proposed"


async def test_ack_is_fast_when_the_web_api_is_slow(hypobot: Hypobot) -> None:
    hypobot.fake.delay["*"] = 2.0
    started = time.monotonic()
    status, body = await hypobot.command(f"new {ONE_LINER}")
    elapsed = time.monotonic() - started
    assert status == 200 and "H-1" in body["text"]
    assert elapsed < 1.5, f"ack took {elapsed:.2f}s while Slack took 2s per call"
    await hypobot.deliver()
    assert (await Bet.get(team_id="T1", number=1)).card_ts is not None


async def test_fifty_concurrent_news_get_keys_one_to_fifty(hypobot: Hypobot) -> None:
    results = await asyncio.gather(
        *(hypobot.command(f"new {ONE_LINER}", user_id=f"U{i}") for i in range(50))
    )
    assert all(status == 200 for status, _ in results)

    async def all_written() -> bool:  # under load some answer later, via the response_url
        return await Bet.filter(team_id="T1").count() == 50

    await eventually(all_written, timeout=30)
    numbers = sorted(bet.number for bet in await Bet.filter(team_id="T1"))
    assert numbers == list(range(1, 51))


async def test_a_burst_is_answered_in_its_acks_each_command_once(hypobot: Hypobot) -> None:
    """As a hand-written bot answers: the answer is the ack when it is ready in time, and
    nothing follows through the response_url (the slow case is the next tests')."""
    await hypobot.command(f"new {ONE_LINER}")
    texts = ["show H-1" if n % 2 else f"new {ONE_LINER}" for n in range(20)]
    results = await asyncio.gather(
        *(
            hypobot.command(text, response_url=hypobot.fake.response_url(f"burst-{n}"))
            for n, text in enumerate(texts)
        )
    )
    assert all(status == 200 for status, _ in results)
    for n, (_, body) in enumerate(results):
        assert ("H-1 · " if n % 2 else "Created *H-") in body["text"]
    await hypobot.deliver()
    await asyncio.sleep(0.2)  # no second answer comes
    assert hypobot.fake.calls_to("response_url") == []
    assert await Bet.filter(team_id="T1").count() == 11
    cards = [m for m in hypobot.fake.messages["C1"] if "Created" not in m.get("text", "")]
    assert len(cards) >= 11  # every new bet's card went up after the answers


async def test_evidence_command_records_verdict_and_link(hypobot: Hypobot) -> None:
    await hypobot.command(f"new {ONE_LINER}")
    await hypobot.command("ship H-1")
    await hypobot.command("evidence H-1 - churn went up <https://metrics.test/d/1>")
    [evidence] = await Evidence.filter(team_id="T1")
    assert (evidence.verdict, evidence.link) == ("refutes", "https://metrics.test/d/1")
    assert evidence.text == "churn went up"


@contextlib.asynccontextmanager
async def workspace_row_locked(hypobot: Hypobot) -> AsyncIterator[None]:
    """Another writer holds the lock `new` needs (the workspace's key counter)."""
    if hypobot.database.startswith("postgres"):
        url = hypobot.database.replace("postgres://", "postgresql://", 1)
        other = await asyncpg.connect(url)
        transaction = other.transaction()
        await transaction.start()
        await other.execute("UPDATE workspaces SET last_bet_number = last_bet_number")
        try:
            yield
        finally:
            await transaction.rollback()
            await other.close()
    else:
        path = hypobot.database.removeprefix("sqlite://")
        other = sqlite3.connect(path, isolation_level=None, timeout=30)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()


async def test_slow_command_acks_in_time_and_answers_through_response_url(
    hypobot: Hypobot,
) -> None:
    await hypobot.command(f"new {ONE_LINER}")
    await hypobot.deliver()  # nothing else writes while the lock is held
    async with workspace_row_locked(hypobot):
        started = time.monotonic()
        status, body = await hypobot.command(f"new {ONE_LINER}")
        elapsed = time.monotonic() - started
        assert status == 200 and "Working on it" in body["text"]
        assert elapsed < 2.5
        await asyncio.sleep(0.5)
    [answer] = await hypobot.fake.wait_for("response_url")
    assert "H-2" in answer.params["text"]
    assert await Bet.filter(team_id="T1").count() == 2
