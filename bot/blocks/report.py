"""`/hypothesis report`: a channel's flow figures over a window, in Block Kit, with the few
blocks the digest shares (fields, a bet's label, the learning figures). The sentences are
bot/figures.py's, so every surface says the same numbers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bets.flow import Awaiting, FlowReport
from bets.keys import format_key
from bets.reading import counted, format_duration
from bot import figures
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
MORE_AWAITING = "`/hypothesis list shipped`"


def title_of(number: int, titles: Mapping[int, str]) -> str:
    """A bet's title as a line may carry it (escaped, cut); empty when unknown."""
    return shown(titles.get(number, ""), MAX_TITLE_IN_FIGURES)


def bet_label(number: int, titles: Mapping[int, str]) -> str:
    """`*H-3* Faster search`."""
    title = title_of(number, titles)
    return f"*{format_key(number)}* {title}" if title else f"*{format_key(number)}*"


def fields(*pairs: tuple[str, str]) -> Block:
    """A section of label/value fields (`*Median TTF*\n6d`), at most ten."""
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
            f"{figures.percent(report.validation_rate)} "
            f"({report.validated} ✅ / {report.invalidated} ❌)"
        )
    kills = f"{report.killed}"
    if report.killed:
        kills += f" ({report.killed_before_learning} without evidence)"
    return fields(
        ("Validation rate", rate),
        ("Killed", kills),
        ("Learning throughput", figures.throughput_words(report)),
        ("Median cycle time", _or_dash(report.cycle_time_median)),
        ("Median lead time to learning", _or_dash(report.lead_time_median)),
        (
            "Work in progress",
            f"{report.wip} building · {len(report.awaiting)} awaiting feedback",
        ),
    )


def time_to_feedback_fields(report: FlowReport) -> Block:
    """The window's sample (F1) and its time to feedback, counting every bet (F2) and of
    the heard bets alone, as fields."""
    every, heard = report.every_bet, report.heard
    if every.estimated:
        median = figures.or_not_reached(every.p50)
        tail = f"{figures.or_not_reached(every.p85)} / {figures.or_not_reached(every.p95)}"
    else:
        median = tail = f"no estimate ({every.heard} of {figures.MIN_HEARD} heard)"
    heard_text = "—"
    if heard.count:
        heard_text = (
            f"{heard.count}: median {_or_dash(heard.p50)} · p85 {_or_dash(heard.p85)} · "
            f"p95 {_or_dash(heard.p95)}"
        )
    return fields(
        ("Bets shipped", f"{every.shipped} · {every.heard} heard · {every.censored} not yet"),
        ("Median, counting every bet", median),
        ("p85 / p95, counting every bet", tail),
        ("Heard bets", heard_text),
    )


def time_to_feedback_lines(report: FlowReport) -> list[str]:
    """What the fields don't say: the share never heard, the trend, the SLE (F3) and
    whether it is met, as mrkdwn lines."""
    lines = []
    unheard = figures.unheard_words(report)
    if unheard:
        lines.append(f"• {unheard}")
    trend = figures.trend_words(report)
    if trend:
        lines.append(f"• median {trend}")
    lines.append(f"🎯 {figures.sle_words(report.sle)}")
    met = figures.sle_met_words(report.sle_score, report.sle)
    if met:
        lines.append(met)
    return lines


def time_to_feedback_summary(report: FlowReport) -> list[str]:
    """The digest's time to feedback in lines: the sample, both medians, then the rest."""
    return [
        f"⏱️ *Time to feedback*: {figures.sample_words(report)}",
        f"• counting every bet: {figures.every_bet_words(report)}",
        f"• {figures.heard_words(report)}",
        *time_to_feedback_lines(report),
    ]


def awaiting_line(
    item: Awaiting, report: FlowReport, titles: Mapping[int, str], *, now: datetime, tz: ZoneInfo
) -> str:
    """`*H-3* Title · shipped 16d ago · 🔴 past SLE 12d` and its forecast (F4)."""
    return (
        f"{bet_label(item.number, titles)} · {figures.age_words(item, report.sle)}\n"
        f"↳ {figures.forecast_words(item.forecast, now=now, tz=tz)}"
    )


def report_blocks(
    report: FlowReport,
    *,
    window_label: str,
    titles: Mapping[int, str],
    now: datetime,
    tz: ZoneInfo,
    forecasts_since: datetime | None = None,
) -> list[Block]:
    """The flow report over `window_label` (e.g. "last 30 days"): time to feedback counting
    every bet, its SLE, learning, WIP, the bets awaiting feedback with their forecasts,
    and how often our forecasts came true."""
    blocks: list[Block] = [header(f"📊 Flow report · {escape(window_label)}")]
    blocks += [time_to_feedback_fields(report), section("\n".join(time_to_feedback_lines(report)))]
    blocks += [divider(), learning_fields(report)]
    if report.awaiting:
        oldest = sorted(report.awaiting, key=lambda item: (-item.age, item.number))
        heading = f"*Awaiting feedback* ({len(oldest)})"
        outlook = figures.outlook_words(report.outlook, now=now, tz=tz)
        if outlook:
            heading += f"\n{outlook}"
        blocks += [divider(), section(heading)]
        blocks += [
            section(awaiting_line(item, report, titles, now=now, tz=tz))
            for item in oldest[:OLDEST_SHOWN]
        ]
        rest = len(oldest) - OLDEST_SHOWN
        if rest > 0:
            blocks.append(context(f"and {rest} more — {MORE_AWAITING}"))
    record = figures.track_record_words(
        report.track_record, since=forecasts_since, start=report.window_start, now=now, tz=tz
    )
    blocks.append(context(f"🎯 {record}", figures.METHOD))
    return cap_blocks(blocks, more=f"and {{n}} more — {MORE_AWAITING}")


def report_text(report: FlowReport, *, window_label: str) -> str:
    """The notification text: the headline figures in one line."""
    parts = [
        f"Flow report, {escape(window_label)}: "
        f"{counted(report.every_bet.shipped, 'bet')} shipped, {report.every_bet.heard} heard",
        figures.median_words(report),
    ]
    met = figures.sle_met_words(report.sle_score, report.sle)
    parts.append(met.split(" ", 1)[1] if met else f"SLE {format_duration(report.sle.value)}")
    parts.append(f"{len(report.awaiting)} awaiting feedback")
    return truncate(", ".join(parts), MAX_FALLBACK_TEXT)
