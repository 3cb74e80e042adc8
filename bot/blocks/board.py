"""A channel's board, in canvas Markdown: the bets awaiting feedback (oldest first, with age,
expected date, forecast and ageing against the SLE), the overdue ones, what is being built
(against the WIP limit), what is proposed and what was learned in the last 30 days, then the
channel's figures and when it was updated. The figures' words are bot/figures.py's, as in
the digest and the report; every piece of user text passes `canvas_text` first."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bets.flow import Awaiting
from bets.keys import format_key
from bets.lifecycle import State
from bets.metrics import BetFacts
from bets.reading import counted, format_date, format_moment
from bot import figures
from bot.blocks.card import STATE_EMOJI, age_text
from usecases.boards import BoardView, in_state, learned_recently

MAX_ROWS = 200  # bets listed in all; the rest are counted
MAX_TITLE = 120
MAX_LEARNED = 200  # characters of what was learned
TITLE = "Bets board"
MORE = "`/hypothesis list`"
_LEARNED_EMOJI = {State.VALIDATED: "✅", State.INVALIDATED: "❌", State.KILLED: "🪦"}

# Canvas Markdown reads these as formatting, links, mentions, headings, lists, quotes,
# checklists and table cells: a backslash makes each a plain character.
_SPECIAL = re.compile(r"([\\`*_~\[\]()#<>|!@])")
_SCHEME = re.compile(r":(?=//)")  # "https://…" would become a link
_SPACE = re.compile(r"\s+")


def canvas_text(text: str, limit: int | None = None) -> str:
    """User text as canvas Markdown shows it literally: one line (a line break could start a
    heading, a list, a quote or a table row), cut to `limit`, every special character
    escaped (no mention, link, heading, checklist or table break gets through)."""
    line = _SPACE.sub(" ", text).strip()
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return _SCHEME.sub(r"\\:", _SPECIAL.sub(r"\\\1", line))


def _mention(user_id: str) -> str:
    """A user mention on a canvas; ids are Slack's own (U… / W…), never typed text."""
    return f"![](@{user_id})" if re.fullmatch(r"[UW][A-Z0-9]+", user_id) else ""


def _key(bet: BetFacts) -> str:
    """The bet's key, linked to its card's thread when it has one."""
    key = f"**{format_key(bet.number)}**"
    if not bet.card_ts or not re.fullmatch(r"[0-9]+\.[0-9]+", bet.card_ts):
        return key
    permalink = f"https://slack.com/archives/{bet.channel_id}/p{bet.card_ts.replace('.', '')}"
    return f"[{format_key(bet.number)}]({permalink})"


def _line(bet: BetFacts, *parts: str) -> str:
    head = f"- {_key(bet)} {canvas_text(bet.title, MAX_TITLE)}"
    owner = _mention(bet.owner_id)
    return " · ".join([head, *([owner] if owner else []), *(part for part in parts if part)])


def _awaiting_line(
    item: Awaiting, bet: BetFacts, view: BoardView, *, now: datetime, tz: ZoneInfo
) -> str:
    report = view.figures.report
    expected = (
        f"signal expected {format_date(item.expected_at, tz, now=now)}"
        if item.expected_at is not None
        else ""
    )
    forecast = figures.forecast_words(item.forecast, now=now, tz=tz)
    if forecast.startswith("signal expected"):
        expected = ""  # the forecast names the expected date itself
    return _line(bet, figures.age_words(item, report.sle), expected, f"🔮 {forecast}")


class _Rows:
    """Bets listed so far, against MAX_ROWS."""

    def __init__(self) -> None:
        self.shown = 0
        self.left = 0

    def take(self, lines: Sequence[str]) -> list[str]:
        room = max(0, MAX_ROWS - self.shown)
        kept = list(lines[:room])
        self.shown += len(kept)
        self.left += len(lines) - len(kept)
        return kept


def board_markdown(view: BoardView, *, now: datetime) -> str:
    """The whole canvas document."""
    tz = view.tz
    report = view.figures.report
    rules = view.figures.rules
    by_number = {bet.number: bet for bet in view.bets}
    rows = _Rows()
    parts: list[str] = [f"# 📋 {TITLE}"]

    overdue = [item for item in report.awaiting if item.overdue]
    waiting = sorted(
        (item for item in report.awaiting if not item.overdue),
        key=lambda item: (-item.age, item.number),
    )
    parts.append(f"## ⏳ Awaiting feedback ({len(waiting)})")
    outlook = figures.outlook_words(report.outlook, now=now, tz=tz)
    if outlook and report.awaiting:
        parts.append(f"🔮 {figures.awaiting_words(len(report.awaiting))}: {outlook}")

    def awaiting_lines(items: Iterable[Awaiting]) -> list[str]:
        return [
            _awaiting_line(item, by_number[item.number], view, now=now, tz=tz)
            for item in items
            if item.number in by_number
        ]

    parts += rows.take(awaiting_lines(waiting)) or ["Nothing awaits feedback."]

    parts.append(f"## ⏰ Overdue ({len(overdue)}): escalated, still no evidence")
    parts += rows.take(awaiting_lines(overdue)) or ["Nothing is overdue."]

    building = in_state(view, State.BUILDING)
    limit = rules.wip_limit
    against = f"{len(building)}/{limit}" if limit is not None else str(len(building))
    if limit is not None and len(building) > limit:
        against += ", over the WIP limit"
    parts.append(f"## {STATE_EMOJI[State.BUILDING]} Building ({against})")
    parts += rows.take([_line(bet, age_text(bet, now)) for bet in building]) or ["None."]

    proposed = in_state(view, State.PROPOSED)
    parts.append(f"## {STATE_EMOJI[State.PROPOSED]} Proposed ({len(proposed)})")
    parts += rows.take([_line(bet, age_text(bet, now)) for bet in proposed]) or ["None."]

    learned = learned_recently(view, now)
    parts.append(f"## 🎓 Learned in the last 30 days ({len(learned)})")
    parts += rows.take([_learned_line(bet, now=now, tz=tz) for bet in learned]) or ["None yet."]

    if rows.left:
        parts.append(f"and {rows.left} more — {MORE}")
    parts.append("---")
    parts += _footer(view, now=now)
    return "\n".join(parts) + "\n"


def _learned_line(bet: BetFacts, *, now: datetime, tz: ZoneInfo) -> str:
    outcome = str(bet.state)
    if bet.state is State.KILLED and bet.first_decisive_at is None and not bet.learned.strip():
        outcome = "killed without evidence"
    closed = format_date(bet.closed_at, tz, now=now) if bet.closed_at else ""
    learned = f"learned: {canvas_text(bet.learned, MAX_LEARNED)}" if bet.learned.strip() else ""
    head = f"{_LEARNED_EMOJI[bet.state]} {outcome} {closed}".strip()
    return _line(bet, head, learned)


def _footer(view: BoardView, *, now: datetime) -> list[str]:
    report = view.figures.report
    lines = [
        f"⏱️ {figures.sample_words(report)}",
        f"counting every bet: {figures.every_bet_words(report)}",
        figures.heard_words(report),
        f"🎯 {figures.sle_words(report.sle)}",
    ]
    met = figures.sle_met_words(report.sle_score, report.sle)
    if met:
        lines.append(met)
    lines.append(f"🎓 learning throughput {figures.throughput_words(report)}")
    zone = view.figures.rules.tz.key
    lines.append(f"_updated {format_moment(now, view.tz, now=now)} ({zone})_")
    return [f"- {line}" for line in lines[:-1]] + [lines[-1]]


def board_text_count(view: BoardView) -> str:
    """ "12 bets on the board" for the console's summary line."""
    return counted(len(view.bets), "bet")
