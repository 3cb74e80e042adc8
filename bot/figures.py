"""The words for a channel's flow figures, once: the report, the digest, App Home, the card,
`list` and the board say the same numbers in the same sentences (docs/rules.md, F1–F8).

Plain text, no markup and no user text: each surface adds its own formatting (mrkdwn in
Block Kit, Markdown on the canvas) around these sentences.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from bets.flow import Awaiting, FlowReport, MedianKind, Trend
from bets.forecasts import (
    MIN_HEARD,
    MIN_SETTLED,
    BetForecast,
    ConfiguredBecause,
    NoForecast,
    NoForecastReason,
    SetForecast,
    SleChoice,
    SleScore,
    SleSource,
    TrackRecord,
)
from bets.keys import format_key
from bets.metrics import SLE_LOOKBACK, SLE_PERCENTILE, Ageing
from bets.reading import counted, for_count, format_date, format_duration

TARGET = round(SLE_PERCENTILE * 100)  # 85
MAX_NAMED = 10  # bets named in one sentence; the rest are counted

STATUS_WORDS: dict[Ageing, str] = {
    Ageing.ON_TRACK: "on track",
    Ageing.AT_RISK: "at risk",
    Ageing.PAST_SLE: "past SLE",
}
STATUS_EMOJI: dict[Ageing, str] = {
    Ageing.ON_TRACK: "🟢",
    Ageing.AT_RISK: "🟡",
    Ageing.PAST_SLE: "🔴",
}
TREND_WORDS: dict[Trend, str] = {
    Trend.FASTER: "↘️ faster than",
    Trend.SLOWER: "↗️ slower than",
    Trend.SAME: "➡️ about the same as",
}


def percent(fraction: float | Fraction, *, floor: bool = False) -> str:
    """`88 %`. With `floor`, 84.9 % shows as 84 %, so a figure just under a target never
    reads as the target itself."""
    value = float(fraction) * 100
    return f"{math.floor(value + 1e-9) if floor else round(value)} %"


def window_words(window: timedelta) -> str:
    """`30 days` for whole days (`1 day`), else a short duration such as `12h`."""
    if window % timedelta(days=1) == timedelta(0):
        return counted(window.days, "day")
    return format_duration(window)


LOOKBACK = window_words(SLE_LOOKBACK)  # "90 days"


def or_not_reached(value: timedelta | None) -> str:
    return "not reached" if value is None else format_duration(value)


# --------------------------------------------------------------------------- time to feedback


def sample_words(report: FlowReport) -> str:
    """ "20 bets shipped in the last 30 days, 14 heard, 6 not yet" (F1)."""
    every = report.every_bet
    waiting = every.shipped - every.heard
    return (
        f"{counted(every.shipped, 'bet')} shipped in the last {window_words(report.window)}, "
        f"{every.heard} heard, {waiting} not yet"
    )


def every_bet_words(report: FlowReport) -> str:
    """Time to feedback counting every bet (F2): "median 7d · p85 16d · p95 not reached",
    or why there is no estimate (T8)."""
    every = report.every_bet
    if not every.estimated:
        return (
            f"no estimate yet: {counted(every.heard, 'bet')} heard of those shipped in the "
            f"last {window_words(report.window)}, {MIN_HEARD} needed"
        )
    return (
        f"median {or_not_reached(every.p50)} · p85 {or_not_reached(every.p85)} · "
        f"p95 {or_not_reached(every.p95)}"
    )


def unheard_words(report: FlowReport) -> str | None:
    """ "30 % of the bets shipped in the last 90 days have no evidence after 40d" when the
    curve stops short of a percentile (F2); None when every percentile is reached."""
    every = report.every_bet
    if not every.estimated or every.p95 is not None or every.longest_wait is None:
        return None
    return (
        f"{percent(every.unheard_share)} of the bets shipped in the last "
        f"{window_words(report.window)} have no evidence after "
        f"{format_duration(every.longest_wait)}"
    )


def heard_words(report: FlowReport) -> str:
    """The nearest-rank percentiles of the heard bets alone, labelled as such (F2)."""
    heard = report.heard
    if heard.count == 0:
        return "no bet heard yet"
    return (
        f"of the {counted(heard.count, 'bet')} heard: median {format_duration(heard.p50)} · "
        f"p85 {format_duration(heard.p85)} · p95 {format_duration(heard.p95)}"  # type: ignore[arg-type]
    )


def median_words(report: FlowReport) -> str:
    """The headline median: counting every bet, or of the heard bets where there is no
    estimate, said which."""
    if report.median is None:
        return f"no bet heard in the last {window_words(report.window)}"
    median = format_duration(report.median)
    if report.median_kind is MedianKind.EVERY_BET:
        return f"median {median} counting every bet"
    return f"median {median} of the {counted(report.heard.count, 'bet')} heard"


def trend_words(report: FlowReport) -> str | None:
    """ "↘️ faster than the 30 days before (9d)"; None without both medians."""
    if report.trend is None or report.previous_median is None:
        return None
    before = window_words(report.window)
    return (
        f"{TREND_WORDS[report.trend]} the {before} before "
        f"({format_duration(report.previous_median)})"
    )


# --------------------------------------------------------------------------- the SLE (F3)


def sle_words(level: SleChoice) -> str:
    """What the SLE is, where it comes from, and why."""
    value = format_duration(level.value)
    if level.source is SleSource.HISTORY:
        return (
            f"SLE {value}: {TARGET} % of our bets are heard within {value}, counting every bet "
            f"shipped in the last {LOOKBACK} ({counted(level.heard, 'bet')} heard)"
        )
    if level.because is ConfiguredBecause.NOT_REACHED:
        why = (
            f"fewer than {TARGET} % of the bets shipped in the last {LOOKBACK} have been "
            "heard, so history gives no 85th percentile yet"
        )
    elif level.heard == 0:
        why = f"no bet heard in the last {LOOKBACK}, {MIN_HEARD} needed to take it from history"
    else:
        why = (
            f"only {counted(level.heard, 'bet')} heard in the last {LOOKBACK}, "
            f"{MIN_HEARD} needed to take it from history"
        )
    return f"SLE {value}, the channel's setting: {why}"


def sle_met_words(score: SleScore, level: SleChoice) -> str | None:
    """ "✅ SLE met: 11 of 13 bets heard within 12d (84 %)"; None when no bet's outcome at
    the SLE is known yet. Bets still waiting, or closed unheard, past it are misses (F3)."""
    share = score.share
    if share is None:
        return None
    counted_bets = score.met + score.missed
    within = (
        f"{score.met} of {counted(counted_bets, 'bet')} heard within "
        f"{format_duration(level.value)} ({percent(share, floor=True)})"
    )
    if score.meets():
        return f"✅ SLE met: {within}"
    return f"⚠️ SLE not met: {within}, aim {TARGET} %"


# --------------------------------------------------------------------------- forecasts


def forecast_words(forecast: BetForecast | NoForecast, *, now: datetime, tz: ZoneInfo) -> str:
    """One bet's forecast (F4): "85 % likely heard by Fri 19 Dec", the expected date when
    that is later (T1), or why there is none."""
    if isinstance(forecast, NoForecast):
        return "no forecast: " + no_forecast_words(forecast)
    by = format_date(forecast.by, tz, now=now)
    if forecast.expected_at is not None and forecast.expected_at >= forecast.by:
        expected = format_date(forecast.expected_at, tz, now=now)
        return f"signal expected {expected} ({TARGET} % likely heard by then)"
    return f"{TARGET} % likely heard by {by}"


def no_forecast_words(forecast: NoForecast) -> str:
    if forecast.reason is NoForecastReason.NOT_ENOUGH_HISTORY:
        if forecast.heard == 0:
            return f"no bet heard in the last {LOOKBACK}, {MIN_HEARD} needed"
        return (
            f"only {counted(forecast.heard, 'bet')} heard in the last {LOOKBACK}, "
            f"{MIN_HEARD} needed"
        )
    if forecast.reason is NoForecastReason.WAITED_LONGER:
        if forecast.others_as_long == 0:
            return f"it has waited longer than every bet shipped in the last {LOOKBACK}"
        return (
            f"it has waited longer than all but {counted(forecast.others_as_long, 'bet')} "
            f"shipped in the last {LOOKBACK}"
        )
    return f"fewer than {TARGET} % of the bets that waited this long were ever heard"


def outlook_words(outlook: SetForecast, *, now: datetime, tz: ZoneInfo) -> str | None:
    """The awaiting set (F5): "85 %: all 7 heard by Fri 19 Dec · at least 3 of 7 by Fri 12
    Dec · no forecast for H-2, H-9"; None with nothing awaiting."""
    members = len(outlook.members)
    parts: list[str] = []
    if members:
        shown = outlook.all_heard_shown
        if shown is None:
            parts.append(f"{TARGET} %: not all {members} heard within the waits seen so far")
        else:
            everyone = "the one awaiting" if members == 1 else f"all {members}"
            parts.append(f"{TARGET} %: {everyone} heard by {format_date(shown, tz, now=now)}")
        parts.append(
            f"at least {outlook.heard_by_horizon} of {members} by "
            f"{format_date(outlook.horizon, tz, now=now)}"
        )
    if outlook.without:
        named = ", ".join(format_key(item.number) for item in outlook.without[:MAX_NAMED])
        if len(outlook.without) > MAX_NAMED:
            named = f"{counted(len(outlook.without), 'bet')} ({named}, …)"
        parts.append(f"no forecast for {named}")
    return " · ".join(parts) or None


def track_record_words(
    record: TrackRecord, *, since: datetime | None, start: datetime, now: datetime, tz: ZoneInfo
) -> str:
    """ "Our 85 % forecasts came true 9 of 11 times" over the forecasts settled in the window
    (F6), or "not enough settled yet"; when recording began in the window, since when."""
    if record.enough:
        text = (
            f"Our {TARGET} % forecasts came true {record.hits} of "
            f"{counted(record.settled, 'time')} ({percent(Fraction(record.hits, record.settled))})"
        )
    else:
        text = (
            f"Our {TARGET} % forecasts: not enough settled yet "
            f"({record.settled} of the {MIN_SETTLED} needed)"
        )
    if since is not None and since > start:
        text += f"; forecasts are recorded since {format_date(since, tz, now=now)}"
    return text


def throughput_words(report: FlowReport) -> str:
    """ "1.4 per week" and, when the channel is younger than the window, over how many
    weeks (F8)."""
    text = f"{report.throughput_per_week:.1f} per week"
    if report.weeks_observed < report.window / timedelta(weeks=1) - 1e-9:
        text += f" (over the {report.weeks_observed:.1f} weeks since the first bet)"
    return text


def age_words(item: Awaiting, level: SleChoice) -> str:
    """ "shipped 16d ago · 🔴 past SLE 12d"."""
    status = f"{STATUS_EMOJI[item.status]} {STATUS_WORDS[item.status]}"
    if item.status is Ageing.PAST_SLE:
        status += f" {format_duration(level.value)}"
    return f"shipped {format_duration(item.age)} ago · {status}"


def awaiting_words(count: int) -> str:
    return f"{counted(count, 'bet')} {for_count(count, 'awaits', 'await')} feedback"


METHOD = (
    f"Time to feedback counts every bet shipped, heard or not (Kaplan–Meier); forecasts "
    f"use the last {LOOKBACK} and how long each bet has waited, computed exactly."
)
