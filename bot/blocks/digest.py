"""A channel's daily digest: what is overdue for evidence, what awaits feedback, what the
team learned since the last digest, time to feedback against the SLE, WIP, missing signals.

Long lists are compact mrkdwn lines in one section each, cut with "and N more — …", so a
digest stays a dozen blocks whether a channel has 3 bets or 1,000.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bets.flow import FlowReport
from bets.keys import format_key
from bets.lifecycle import State
from bets.metrics import LearnedSince, Learning
from bets.reading import counted, for_count, format_date
from bets.timing import DEFAULT_NUDGES_PER_DAY
from bot import figures
from bot.blocks.report import bet_label, learning_fields, time_to_feedback_summary
from bot.blocks.text import (
    MAX_FALLBACK_TEXT,
    MAX_SECTION_TEXT,
    Block,
    cap_blocks,
    context,
    divider,
    escape,
    header,
    section,
    truncate,
    user,
)
from usecases.flow import ChannelFigures

MAX_LINES = 15  # per list: a digest is read at a glance, the full list is one command away
MAX_NO_SIGNAL_LINES = 10
_TAIL_ROOM = 80  # kept free in a section for its "and N more — …" line

MORE_OVERDUE = "`/hypothesis list overdue`"
MORE_AWAITING = "`/hypothesis list shipped`"
MORE_ALL = "`/hypothesis list all`"

_LEARNED_EMOJI = {State.VALIDATED: "✅", State.INVALIDATED: "❌", State.KILLED: "🪦"}


def listing(heading: str, lines: Sequence[str], *, more: str, max_lines: int = MAX_LINES) -> str:
    """`heading`, then as many `lines` as fit both `max_lines` and one section's length;
    the rest are counted in "and N more — `more`"."""
    kept: list[str] = []
    size = len(heading)
    for line in lines[:max_lines]:
        if size + 1 + len(line) + _TAIL_ROOM > MAX_SECTION_TEXT:
            break
        kept.append(line)
        size += 1 + len(line)
    rest = len(lines) - len(kept)
    tail = [f"and {rest} more — {more}"] if rest else []
    return "\n".join([heading, *kept, *tail])


# --------------------------------------------------------------------------- sections


def _owner(number: int, owners: Mapping[int, str]) -> str:
    owner = owners.get(number)
    return f" · {user(owner)}" if owner else ""


def _overdue(
    report: FlowReport, titles: Mapping[int, str], owners: Mapping[int, str]
) -> Block | None:
    """The escalated bets (docs/rules.md, F7: the one meaning of "overdue")."""
    overdue = report.overdue
    if not overdue:
        return None
    lines = [
        f"• {bet_label(item.number, titles)}{_owner(item.number, owners)} · "
        f"{figures.age_words(item, report.sle)} · escalated"
        for item in overdue
    ]
    heading = f"⏰ *Overdue* ({len(overdue)}): escalated, still no evidence"
    return section(listing(heading, lines, more=MORE_OVERDUE))


def _awaiting(
    report: FlowReport, titles: Mapping[int, str], *, now: datetime, tz: ZoneInfo
) -> Block | None:
    # report.awaiting puts the overdue first, then the rest oldest first
    rest = [item for item in report.awaiting if not item.overdue]
    if not rest:
        return None
    lines = [
        f"{bet_label(item.number, titles)} · {figures.age_words(item, report.sle)} · "
        f"{figures.forecast_words(item.forecast, now=now, tz=tz)}"
        for item in rest
    ]
    heading = f"⏳ *Awaiting feedback* ({len(rest)})"
    return section(listing(heading, lines, more=MORE_AWAITING))


def held_text(held: int, per_day: int) -> str:
    """The bets whose nudge is due but held back by the channel's nudge budget, in words."""
    is_are = for_count(held, "is", "are")
    if per_day == 0:
        return (
            f"💤 {counted(held, 'bet')} awaiting feedback {is_are} due a nudge, but nudges are "
            "off in this channel (`/hypothesis settings nudges-per-day 5` turns them on)"
        )
    return (
        f"💤 {held} more awaiting feedback {is_are} due a nudge and "
        f"{for_count(held, 'waits', 'wait')} for a later day: this channel gets at most "
        f"{counted(per_day, 'nudge')} a day, most overdue first "
        "(`/hypothesis settings nudges-per-day`)"
    )


def _learned_line(item: Learning, titles: Mapping[int, str]) -> str:
    outcome = str(item.outcome)
    if item.killed_before_learning:
        outcome = "killed without evidence"
    return f"{_LEARNED_EMOJI[item.outcome]} {bet_label(item.number, titles)} — {outcome}"


def _learned(learned: LearnedSince, titles: Mapping[int, str]) -> Block | None:
    if learned.is_empty:
        return None
    counts = [
        f"{len(group)} {word}"
        for group, word in (
            (learned.validated, "validated"),
            (learned.invalidated, "invalidated"),
            (learned.killed, "killed"),
        )
        if group
    ]
    early = sum(1 for item in learned.killed if item.killed_before_learning)
    if early:
        counts[-1] += f" ({early} without evidence)"
    items = [*learned.validated, *learned.invalidated, *learned.killed]
    heading = f"🎓 *Learned since the last digest*: {' · '.join(counts)}"
    return section(listing(heading, [_learned_line(item, titles) for item in items], more=MORE_ALL))


def _time_to_feedback(report: FlowReport, *, now: datetime, tz: ZoneInfo) -> Block:
    lines = time_to_feedback_summary(report)
    outlook = figures.outlook_words(report.outlook, now=now, tz=tz)
    if outlook:
        lines.append(f"🔮 {figures.awaiting_words(len(report.awaiting))}: {outlook}")
    return section("\n".join(lines))


def wip_text(report: FlowReport, wip_limit: int | None) -> str:
    """ "🛠️ WIP 6/5 ⚠️ over the limit · 🚀 awaiting feedback 3/5"; plain counts without a limit."""

    def against(count: int) -> str:
        if wip_limit is None:
            return str(count)
        if count > wip_limit:
            return f"{count}/{wip_limit} ⚠️ over the limit"
        if count == wip_limit:
            return f"{count}/{wip_limit} at the limit"
        return f"{count}/{wip_limit}"

    text = f"🛠️ *WIP* {against(report.wip)} · 🚀 *awaiting feedback* {against(len(report.awaiting))}"
    if wip_limit is None:
        text += " · no WIP limit set (`/hypothesis settings wip 5`)"
    return text


def _no_signal(no_signal: Sequence[int], titles: Mapping[int, str]) -> Block | None:
    if not no_signal:
        return None
    lines = [f"• {bet_label(number, titles)}" for number in no_signal]
    example = f"`/hypothesis signal {format_key(no_signal[0])} {escape('<text>')}`"
    heading = f"📏 *Bets without a signal* ({len(no_signal)}): how will we know? {example}"
    return section(listing(heading, lines, more=MORE_ALL, max_lines=MAX_NO_SIGNAL_LINES))


def weekly_section(report: FlowReport) -> list[Block]:
    """The week's figures for the digest (the digest job decides on which day): time to
    feedback over the bets shipped this week, then learning, kills, cycle and lead time."""
    window = figures.window_words(report.window)
    return [
        section(f"📅 *The last {window}*\n" + "\n".join(time_to_feedback_summary(report)[:3])),
        learning_fields(report),
    ]


def _has_figures(report: FlowReport) -> bool:
    return bool(report.every_bet.shipped or report.learned or report.killed)


# --------------------------------------------------------------------------- the digest


def digest_blocks(
    report: FlowReport,
    *,
    channel_name: str | None,
    learned: LearnedSince,
    titles: Mapping[int, str],
    owners: Mapping[int, str],
    wip_limit: int | None,
    no_signal: Sequence[int],
    now: datetime,
    tz: ZoneInfo,
    weekly: FlowReport | None = None,
    held: int = 0,
    nudges_per_day: int = DEFAULT_NUDGES_PER_DAY,
) -> list[Block] | None:
    """The digest's blocks, or None when there is nothing to say: no bet awaiting feedback,
    nothing learned since the last digest, no WIP, no bet without a signal (and, when
    `weekly` is given, no figures for the week either).

    `weekly`, when given, adds `weekly_section(weekly)` before the footer; `held` counts
    the bets due a nudge that the channel's budget (`nudges_per_day`) holds back.
    """
    quiet = not report.awaiting and learned.is_empty and report.wip == 0 and not no_signal
    if quiet and (weekly is None or not _has_figures(weekly)):
        return None
    where = f" · #{escape(channel_name)}" if channel_name else ""
    blocks: list[Block] = [header(f"📋 Hypobot digest{where} · {format_date(now, tz, now=now)}")]
    lists = [
        _overdue(report, titles, owners),
        _awaiting(report, titles, now=now, tz=tz),
        _learned(learned, titles),
    ]
    blocks += [block for block in lists if block is not None]
    if held:
        blocks.append(context(held_text(held, nudges_per_day)))
    blocks += [
        divider(),
        _time_to_feedback(report, now=now, tz=tz),
        section(wip_text(report, wip_limit)),
    ]
    missing = _no_signal(no_signal, titles)
    if missing is not None:
        blocks.append(missing)
    if weekly is not None:
        blocks += [divider(), *weekly_section(weekly)]
    blocks.append(
        context("`/hypothesis report` for the full figures · `/hypothesis list overdue` to chase")
    )
    return cap_blocks(blocks, more=f"and {{n}} more — {MORE_OVERDUE}")


def digest_text(
    report: FlowReport,
    *,
    channel_name: str | None,
    learned: LearnedSince,
    wip_limit: int | None,
    no_signal: Sequence[int],
    held: int = 0,
) -> str:
    """The notification text: `Hypobot digest for #growth: 2 overdue for evidence, …`."""
    where = f" for #{escape(channel_name)}" if channel_name else ""
    overdue = len(report.overdue)
    parts = []
    if overdue:
        parts.append(f"{overdue} overdue")
    parts.append(f"{len(report.awaiting)} awaiting feedback")
    if held:
        parts.append(f"{held} due a nudge on a later day")
    if not learned.is_empty:
        parts.append(f"{learned.count} learned since the last digest")
    wip = f"WIP {report.wip}" if wip_limit is None else f"WIP {report.wip}/{wip_limit}"
    if wip_limit is not None and report.wip > wip_limit:
        wip += " (over the limit)"
    parts.append(wip)
    if no_signal:
        parts.append(f"{len(no_signal)} without a signal")
    return truncate(f"Hypobot digest{where}: {', '.join(parts)}", MAX_FALLBACK_TEXT)


def digest_payload(
    figures: ChannelFigures, *, now: datetime, held: int = 0
) -> dict[str, Any] | None:
    """The digest as chat.postMessage arguments, or None when it has nothing to say;
    `held` counts the bets due a nudge that the channel's budget holds back."""
    kwargs: dict[str, Any] = {
        "channel_name": None,
        "learned": figures.learned or LearnedSince((), (), ()),
        "wip_limit": figures.rules.wip_limit,
        "no_signal": figures.report.without_signal,
        "held": held,
    }
    blocks = digest_blocks(
        figures.report,
        titles=figures.titles,
        owners=figures.owners,
        now=now,
        tz=figures.rules.tz,
        weekly=figures.weekly,
        nudges_per_day=figures.rules.nudges_per_day,
        **kwargs,
    )
    if blocks is None:
        return None
    return {"text": digest_text(figures.report, **kwargs), "blocks": blocks}
