"""`/hypothesis report`: the flow figures over a window, in words, and the few phrases the
digest shares with it (the SLE, dates, percentages)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bets.keys import format_key
from bets.metrics import (
    SLE_LOOKBACK,
    SLE_MIN_SAMPLES,
    SLE_PERCENTILE,
    Ageing,
    Awaiting,
    FlowReport,
    Sle,
    Trend,
)
from bets.reading import counted, format_date, format_duration
from bot.blocks.card import shown
from bot.blocks.text import (
    MAX_FALLBACK_TEXT,
    MAX_FIELD_TEXT,
    Block,
    cap_blocks,
    context,
    divider,
    escape,
    header,
    mrkdwn,
    section,
    truncate,
)

MAX_TITLE_IN_FIGURES = 80
OLDEST_SHOWN = 5
MAX_FIELDS = 10  # Slack's cap on a section's fields

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


# --------------------------------------------------------------------------- shared words


def percent(fraction: float, *, floor: bool = False) -> str:
    """`88%`. With `floor`, 84.9 % shows as 84 %, so a figure just under a target never
    reads as the target itself."""
    value = fraction * 100
    return f"{math.floor(value + 1e-9) if floor else round(value)}%"


def _with_article(number: int) -> str:
    """`an 85%`, `a 90%`: English reads the number aloud."""
    spoken_vowel = str(number).startswith("8") or number in (11, 18)
    return f"{'an' if spoken_vowel else 'a'} {number}%"


def window_words(window: timedelta) -> str:
    """`30 days` for whole days (`1 day`), else a short duration such as `12h`."""
    if window % timedelta(days=1) == timedelta(0):
        return counted(window.days, "day")
    return format_duration(window)


def title_of(number: int, titles: Mapping[int, str]) -> str:
    """A bet's title as a line may carry it (escaped, cut); empty when unknown."""
    return shown(titles.get(number, ""), MAX_TITLE_IN_FIGURES)


def bet_label(number: int, titles: Mapping[int, str]) -> str:
    """`*H-3* Faster search`."""
    title = title_of(number, titles)
    return f"*{format_key(number)}* {title}" if title else f"*{format_key(number)}*"


def sle_text(level: Sle) -> str:
    """ "85% of bets get feedback within 9d (14 samples over 90 days)", or the default."""
    lookback = window_words(SLE_LOOKBACK)
    if level.from_sample:
        return (
            f"{percent(SLE_PERCENTILE)} of bets get feedback within "
            f"{format_duration(level.value)} ({counted(level.n, 'sample')} over {lookback})"
        )
    return (
        f"Default SLE {format_duration(level.value)} "
        f"(fewer than {SLE_MIN_SAMPLES} samples in the last {lookback})"
    )


def sle_met_text(report: FlowReport) -> str | None:
    """ "✅ SLE met: 88% of bets within 14d", "⚠️ SLE not met: …"; None without samples."""
    if report.sle_attainment is None:
        return None
    share = (
        f"{percent(report.sle_attainment, floor=True)} of bets within "
        f"{format_duration(report.sle.value)}"
    )
    if report.sle_misses_awaiting:
        share += f", counting {report.sle_misses_awaiting} still awaiting past it"
    if report.sle_met:
        return f"✅ SLE met: {share}"
    return f"⚠️ SLE not met: {share} (aim: {percent(SLE_PERCENTILE)})"


def trend_text(report: FlowReport) -> str:
    """ "↘️ faster than the 30 days before (9d)"; empty without both medians."""
    if report.trend is None or report.previous_ttf_median is None:
        return ""
    before = window_words(report.window)
    median = format_duration(report.previous_ttf_median)
    return f"{TREND_WORDS[report.trend]} the {before} before ({median})"


def forecast_text(item: Awaiting, sle: Sle, *, now: datetime, tz: ZoneInfo) -> str:
    """ "With the last 90 days' TTF (12 samples), H-12 has an 85% chance of feedback by
    Tue 8 Dec"; no date at all under 5 samples, since one or two say nothing (T8)."""
    key = format_key(item.number)
    lookback = window_words(SLE_LOOKBACK)
    if sle.n < SLE_MIN_SAMPLES:
        return (
            f"Not enough history for a forecast for {key}: "
            f"{counted(sle.n, 'feedback sample')} in the last {lookback}, "
            f"{SLE_MIN_SAMPLES} needed"
        )
    if item.expected_by is None:
        return f"No bet in the last {lookback} waited this long: no forecast for {key} yet"
    chance = _with_article(round(SLE_PERCENTILE * 100))
    day = format_date(item.expected_by, tz, now=now)
    return (
        f"With the last {lookback}' TTF ({counted(item.forecast_sample, 'sample')}), "
        f"{key} has {chance} "
        f"chance of feedback by {day}"
    )


def forecast_method_text() -> str:
    lookback = window_words(SLE_LOOKBACK)
    return (
        f"The forecast is the empirical {percent(SLE_PERCENTILE)} quantile of the last "
        f"{lookback}' time to feedback among the bets that took longer than this one has "
        "waited so far: the quantile conditional on the time already waited. No model."
    )


def fields(*pairs: tuple[str, str]) -> Block:
    """A section of label/value fields (`*Median TTF*\\n6d`), at most ten."""
    if not pairs or len(pairs) > MAX_FIELDS:
        raise ValueError(f"a section takes 1 to {MAX_FIELDS} fields")
    return {
        "type": "section",
        "fields": [
            mrkdwn(truncate(f"*{label}*\n{value}", MAX_FIELD_TEXT)) for label, value in pairs
        ],
    }


def _or_dash(value: timedelta | None) -> str:
    return "—" if value is None else format_duration(value)


def learning_fields(report: FlowReport) -> Block:
    """Validation rate, kills, throughput, cycle and lead time, WIP: one fields section."""
    rate = "—"
    if report.validation_rate is not None:
        rate = (
            f"{percent(report.validation_rate)} ({report.validated} ✅ / {report.invalidated} ❌)"
        )
    kills = f"{report.killed}"
    if report.killed:
        kills += f" ({report.killed_before_learning} without evidence)"
    return fields(
        ("Validation rate", rate),
        ("Killed", kills),
        ("Learning throughput", f"{report.throughput_per_week:.1f} per week"),
        ("Median cycle time", _or_dash(report.cycle_time_median)),
        ("Median lead time to learning", _or_dash(report.lead_time_median)),
        ("Work in progress", f"{report.wip} building · {len(report.awaiting)} awaiting feedback"),
    )


# --------------------------------------------------------------------------- the report


def _oldest(awaiting: Sequence[Awaiting]) -> list[Awaiting]:
    return sorted(awaiting, key=lambda item: (-item.age, item.number))


def _awaiting_line(
    item: Awaiting, titles: Mapping[int, str], sle: Sle, *, now: datetime, tz: ZoneInfo
) -> str:
    status = f"{STATUS_EMOJI[item.status]} {STATUS_WORDS[item.status]}"
    return (
        f"{bet_label(item.number, titles)} · shipped {format_duration(item.age)} ago · "
        f"{status}\n↳ {forecast_text(item, sle, now=now, tz=tz)}"
    )


def _too_little_data(report: FlowReport) -> str:
    if report.ttf_count == 0:
        return (
            "ℹ️ No feedback in this window yet: ship a bet and record evidence "
            "(`/hypothesis evidence H-1 + …`) to start the figures."
        )
    if report.ttf_count < SLE_MIN_SAMPLES:
        return (
            f"ℹ️ Only {counted(report.ttf_count, 'feedback sample')} in this window: treat the "
            "percentiles as rough."
        )
    return ""


def report_blocks(
    report: FlowReport,
    *,
    window_label: str,
    titles: Mapping[int, str],
    now: datetime,
    tz: ZoneInfo,
) -> list[Block]:
    """The flow report over `window_label` (e.g. "last 30 days"): time to feedback and its
    SLE, learning, WIP, and the oldest bets awaiting feedback with their forecast."""
    blocks: list[Block] = [header(f"📊 Flow report · {escape(window_label)}")]
    blocks.append(
        fields(
            ("Feedback samples", str(report.ttf_count)),
            ("Median time to feedback", _or_dash(report.ttf_median)),
            ("85th percentile (p85)", _or_dash(report.ttf_p85)),
            ("95th percentile (p95)", _or_dash(report.ttf_p95)),
        )
    )
    sle_lines = [f"🎯 {sle_text(report.sle)}"]
    met = sle_met_text(report)
    if met:
        sle_lines.append(met)
    trend = trend_text(report)
    if trend:
        sle_lines.append(f"Median {trend}")
    blocks.append(section("\n".join(sle_lines)))
    note = _too_little_data(report)
    if note:
        blocks.append(context(note))
    blocks += [divider(), learning_fields(report)]

    if report.awaiting:
        oldest = _oldest(report.awaiting)
        lines = [
            _awaiting_line(item, titles, report.sle, now=now, tz=tz)
            for item in oldest[:OLDEST_SHOWN]
        ]
        blocks += [divider(), section("*Oldest awaiting feedback*")]
        blocks += [section(line) for line in lines]
        rest = len(oldest) - len(lines)
        tail = [f"and {rest} more — `/hypothesis list shipped`"] if rest > 0 else []
        blocks.append(context(*tail, forecast_method_text()))
    return cap_blocks(blocks, more="and {n} more — `/hypothesis list shipped`")


def report_text(report: FlowReport, *, window_label: str) -> str:
    """The notification text: the headline figures in one line."""
    samples = counted(report.ttf_count, "feedback sample")
    parts = [f"Flow report, {escape(window_label)}: {samples}"]
    if report.ttf_median is not None:
        parts.append(f"median time to feedback {format_duration(report.ttf_median)}")
    if report.ttf_p85 is not None:
        parts.append(f"p85 {format_duration(report.ttf_p85)}")
    met = sle_met_text(report)
    parts.append(met.split(" ", 1)[1] if met else f"SLE {format_duration(report.sle.value)}")
    parts.append(f"{len(report.awaiting)} awaiting feedback")
    return truncate(", ".join(parts), MAX_FALLBACK_TEXT)
