"""`GET /api/v1/flow`: every figure of a channel's report as JSON, the same numbers the
report prints (bets/flow.py), durations in seconds and instants in ISO 8601 UTC. A figure
that cannot be given is null with a `why` beside it, in the report's words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from bets.flow import Awaiting, FlowReport
from bets.forecasts import BetForecast, NoForecast, SleSource
from bets.keys import format_key
from bot import figures


def seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds()


def instant(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Heard(BaseModel):
    """Nearest-rank percentiles of the heard bets alone (F2: labelled as such)."""

    count: int
    p50_s: float | None
    p85_s: float | None
    p95_s: float | None


class EveryBetFigures(BaseModel):
    """Time to feedback counting every bet shipped in the window (Kaplan–Meier, F2)."""

    shipped: int
    heard: int
    censored: int
    p50_s: float | None
    p85_s: float | None
    p95_s: float | None
    unheard_share: float = Field(description="The curve at the longest time seen.")
    longest_wait_s: float | None
    why: str | None = Field(description="Why a percentile is null (no estimate, not reached).")


class SleFigures(BaseModel):
    seconds: float
    source: SleSource
    why: str = Field(description="Where the SLE comes from, in the report's words.")
    met: int
    missed: int
    met_share: float | None


class AwaitingBet(BaseModel):
    key: str
    shipped_at: str
    age_s: float
    expected_at: str | None
    escalated: bool
    forecast_85_at: str | None
    why: str | None = Field(description="Why there is no forecast.")


class InAWeek(BaseModel):
    until: str
    at_least: int
    of: int


class TrackRecordFigures(BaseModel):
    settled: int
    hits: int
    since: str | None = Field(description="When forecasts began to be recorded here.")
    why: str | None = Field(description="Set while fewer than 5 are settled.")


class Flow(BaseModel):
    """Every figure of `/hypothesis report` for a channel and window."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "channel": "C0123ABCD",
                    "window_days": 90,
                    "as_of": "2026-12-05T10:00:00Z",
                    "heard": {"count": 14, "p50_s": 432000, "p85_s": 950400, "p95_s": 1296000},
                    "every_bet": {
                        "shipped": 20,
                        "heard": 14,
                        "censored": 6,
                        "p50_s": 518400,
                        "p85_s": None,
                        "p95_s": None,
                        "unheard_share": 0.3,
                        "longest_wait_s": 3456000,
                        "why": "30 % of the bets shipped in the last 90 days have no "
                        "evidence after 40d",
                    },
                    "sle": {
                        "seconds": 1209600,
                        "source": "configured",
                        "why": "SLE 14d, the channel's setting: fewer than 85 % of the bets "
                        "shipped in the last 90 days have been heard, so history gives no "
                        "85th percentile yet",
                        "met": 10,
                        "missed": 3,
                        "met_share": 0.7692307692307693,
                    },
                    "validation_rate": 0.6,
                    "throughput_per_week": 0.8,
                    "weeks_observed": 12.9,
                    "wip": 3,
                    "awaiting": 1,
                    "awaiting_bets": [
                        {
                            "key": "H-31",
                            "shipped_at": "2026-11-28T09:00:00Z",
                            "age_s": 608400,
                            "expected_at": None,
                            "escalated": False,
                            "forecast_85_at": "2026-12-12T09:00:00Z",
                            "why": None,
                        }
                    ],
                    "all_heard_85_at": "2026-12-12T09:00:00Z",
                    "all_heard_why": None,
                    "in_a_week": {"until": "2026-12-12T10:00:00Z", "at_least": 0, "of": 1},
                    "track_record": {
                        "settled": 11,
                        "hits": 9,
                        "since": "2026-12-05T09:00:00Z",
                        "why": None,
                    },
                }
            ]
        }
    )

    channel: str
    window_days: float
    as_of: str
    heard: Heard
    every_bet: EveryBetFigures
    sle: SleFigures
    validation_rate: float | None
    throughput_per_week: float
    weeks_observed: float
    wip: int
    awaiting: int
    awaiting_bets: list[AwaitingBet]
    all_heard_85_at: str | None
    all_heard_why: str | None
    in_a_week: InAWeek
    track_record: TrackRecordFigures


def _every_bet_why(report: FlowReport) -> str | None:
    every = report.every_bet
    if not every.estimated:
        return figures.every_bet_words(report)
    return figures.unheard_words(report)


def _all_heard_why(report: FlowReport) -> str | None:
    """Why the awaiting set has no 85 % date (F5), when it has none."""
    outlook = report.outlook
    if outlook.all_heard_shown is not None:
        return None
    if not report.awaiting:
        return "nothing awaits feedback"
    if not outlook.members:
        return "no bet awaiting feedback has a forecast"
    return f"{figures.TARGET} % is not reached within the waits seen so far"


def _awaiting(item: Awaiting, *, now: datetime) -> AwaitingBet:
    forecast = item.forecast
    return AwaitingBet(
        key=format_key(item.number),
        shipped_at=instant(item.shipped_at) or "",
        age_s=item.age.total_seconds(),
        expected_at=instant(item.expected_at),
        escalated=item.overdue,
        forecast_85_at=instant(item.forecast_at),
        why=figures.no_forecast_words(forecast) if isinstance(forecast, NoForecast) else None,
    )


def forecast_fields(forecast: BetForecast | NoForecast | None) -> dict[str, str | None]:
    """`forecast_85_at` and `forecast_why` of a bet (F4), as GET /bets/{key} adds them."""
    if forecast is None:
        return {"forecast_85_at": None, "forecast_why": "not awaiting feedback"}
    if isinstance(forecast, NoForecast):
        return {"forecast_85_at": None, "forecast_why": figures.no_forecast_words(forecast)}
    return {"forecast_85_at": instant(forecast.shown), "forecast_why": None}


def flow_of(report: FlowReport, *, channel_id: str, forecasts_since: datetime | None) -> Flow:
    every, heard, now = report.every_bet, report.heard, report.now
    outlook = report.outlook
    record = report.track_record
    return Flow(
        channel=channel_id,
        window_days=report.window / timedelta(days=1),
        as_of=instant(now) or "",
        heard=Heard(
            count=heard.count,
            p50_s=seconds(heard.p50),
            p85_s=seconds(heard.p85),
            p95_s=seconds(heard.p95),
        ),
        every_bet=EveryBetFigures(
            shipped=every.shipped,
            heard=every.heard,
            censored=every.censored,
            p50_s=seconds(every.p50),
            p85_s=seconds(every.p85),
            p95_s=seconds(every.p95),
            unheard_share=float(every.unheard_share),
            longest_wait_s=seconds(every.longest_wait),
            why=_every_bet_why(report),
        ),
        sle=SleFigures(
            seconds=report.sle.value.total_seconds(),
            source=report.sle.source,
            why=figures.sle_words(report.sle),
            met=report.sle_score.met,
            missed=report.sle_score.missed,
            met_share=None if report.sle_score.share is None else float(report.sle_score.share),
        ),
        validation_rate=report.validation_rate,
        throughput_per_week=report.throughput_per_week,
        weeks_observed=report.weeks_observed,
        wip=report.wip,
        awaiting=len(report.awaiting),
        awaiting_bets=[_awaiting(item, now=now) for item in report.awaiting],
        all_heard_85_at=instant(outlook.all_heard_shown),
        all_heard_why=_all_heard_why(report),
        in_a_week=InAWeek(
            until=instant(outlook.horizon) or "",
            at_least=outlook.heard_by_horizon,
            of=len(outlook.members),
        ),
        track_record=TrackRecordFigures(
            settled=record.settled,
            hits=record.hits,
            since=instant(forecasts_since),
            why=None if record.enough else "not enough settled yet (5 needed)",
        ),
    )
