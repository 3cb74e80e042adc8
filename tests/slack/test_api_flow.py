"""GET /api/v1/flow and the forecast on GET /api/v1/bets/{key} (docs/rules.md, F1–F8): the
report's figures as JSON, the same numbers the report prints, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.flow import Flow
from bot.figures import sle_words
from storage.models import Channel
from tests.conftest import Hypobot
from tests.jobs_support import shipped_bet
from tests.slack.test_api import call, token_for
from usecases.flow import channel_figures

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def a_team(hypobot: Hypobot) -> None:
    """Eight bets heard 1 to 8 days after shipping, two still waiting, one killed unheard."""
    for day in range(1, 9):
        bet = await shipped_bet(hypobot, MONDAY - timedelta(days=40 - day))
        hypobot.clock.now = bet.shipped_at + timedelta(days=day)
        await hypobot.command(f"validate H-{bet.number} the numbers moved")
    killed = await shipped_bet(hypobot, MONDAY - timedelta(days=25))
    hypobot.clock.now = MONDAY - timedelta(days=5)
    await hypobot.command(f"kill H-{killed.number} nobody measured it")
    await shipped_bet(hypobot, MONDAY - timedelta(days=3))
    await shipped_bet(hypobot, MONDAY - timedelta(days=20))
    hypobot.clock.now = MONDAY


async def test_the_flow_api_says_what_the_report_says(hypobot: Hypobot) -> None:
    await a_team(hypobot)
    token = await token_for(hypobot)
    answer = await call(hypobot, "GET", "/api/v1/flow?channel=C1&window=90d", token=token)
    assert answer.status == 200, answer.text
    flow = Flow.model_validate(answer.body)
    channel = await Channel.get(team_id="T1", channel_id="C1")
    report = (await channel_figures(channel, now=MONDAY, window=timedelta(days=90))).report
    assert (flow.channel, flow.window_days, flow.as_of) == ("C1", 90, iso(MONDAY))
    assert flow.heard.count == report.heard.count == 8
    assert flow.heard.p50_s == report.heard.p50.total_seconds()  # type: ignore[union-attr]
    every = report.every_bet
    assert (flow.every_bet.shipped, flow.every_bet.heard, flow.every_bet.censored) == (11, 8, 3)
    assert flow.every_bet.p50_s == (every.p50.total_seconds() if every.p50 else None)
    assert flow.every_bet.unheard_share == float(every.unheard_share)
    assert flow.sle.seconds == report.sle.value.total_seconds()
    assert flow.sle.why == sle_words(report.sle)
    assert (flow.sle.met, flow.sle.missed) == (report.sle_score.met, report.sle_score.missed)
    assert flow.awaiting == 2 == len(flow.awaiting_bets)
    assert [bet.key for bet in flow.awaiting_bets] == ["H-11", "H-10"]  # oldest first
    for shown, item in zip(flow.awaiting_bets, report.awaiting, strict=True):
        assert shown.age_s == item.age.total_seconds()
        assert shown.forecast_85_at == (iso(item.forecast_at) if item.forecast_at else None)
        assert (shown.forecast_85_at is None) == (shown.why is not None)
    assert flow.in_a_week.of == len(report.outlook.members)
    assert flow.throughput_per_week == report.throughput_per_week
    assert flow.track_record.settled == report.track_record.settled


async def test_the_flow_window_defaults_to_the_reports_and_counts_the_bets_shipped_in_it(
    hypobot: Hypobot,
) -> None:
    await a_team(hypobot)
    token = await token_for(hypobot)
    default = await call(hypobot, "GET", "/api/v1/flow?channel=C1", token=token)
    assert default.status == 200 and default.body["window_days"] == 30
    # shipped in the last 30 days: the killed bet and the two waiting (F1)
    assert default.body["every_bet"]["shipped"] == 3
    assert default.body["every_bet"]["p50_s"] is None
    assert "no estimate yet" in default.body["every_bet"]["why"]


async def test_a_bets_forecast_is_on_its_api_record(hypobot: Hypobot) -> None:
    await a_team(hypobot)
    token = await token_for(hypobot)
    waiting = await call(hypobot, "GET", "/api/v1/bets/H-11", token=token)
    flow = await call(hypobot, "GET", "/api/v1/flow?channel=C1&window=90d", token=token)
    [listed] = [bet for bet in flow.body["awaiting_bets"] if bet["key"] == "H-11"]
    assert waiting.body["forecast_85_at"] == listed["forecast_85_at"]
    assert waiting.body["forecast_why"] == listed["why"]
    closed = await call(hypobot, "GET", "/api/v1/bets/H-1", token=token)
    assert closed.body["forecast_85_at"] is None
    assert closed.body["forecast_why"] == "not awaiting feedback"


async def test_the_flow_api_refuses_what_it_cannot_answer(hypobot: Hypobot) -> None:
    await a_team(hypobot)
    token = await token_for(hypobot)
    other = await token_for(hypobot, team_id="T2", name="other")
    cases = {
        "/api/v1/flow": (422, "channel"),
        "/api/v1/flow?channel=C1&window=5000d": (422, "window"),
        "/api/v1/flow?channel=C1&window=soon": (422, "window"),
        "/api/v1/flow?channel=C1&colour=blue": (422, "colour"),
        "/api/v1/flow?channel=CNONE": (404, None),
    }
    for path, (status, field) in cases.items():
        answer = await call(hypobot, "GET", path, token=token)
        assert answer.status == status, (path, answer.text)
        assert answer.body.get("field") == field, path
    # another workspace's token never sees this channel
    assert (await call(hypobot, "GET", "/api/v1/flow?channel=C1", token=other)).status == 404
    assert (await call(hypobot, "GET", "/api/v1/flow?channel=C1")).status == 401
