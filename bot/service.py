"""One function per use case, shared by slash commands, buttons, modals and thread replies.

Each returns a `Reply` for the person who acted (shown ephemerally) and leaves what the
channel should see in the outbox, written in the same transaction as the change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bets.durations import WHEN_HELP, format_duration, parse_when
from bets.hours import format_clock, format_days
from bets.hypothesis import MAX_TEXT, coach, parse_one_liner, title_for
from bets.keys import format_key
from bets.lifecycle import CLOSING_MOVES, FINAL_STATES, Move, MoveRequest, Refusal, State
from bot import grammar
from bot.blocks import card as card_blocks
from bot.blocks import lists, replies
from bot.blocks.text import escape
from bot.reports import ChartWorker, build_report
from storage import bets as store
from storage import channels as channel_store
from storage import outbox as outbox_store
from storage.models import Bet, Channel

log = logging.getLogger("hypobot.service")

SNOOZE_BUTTON = timedelta(days=3)


@dataclass(frozen=True)
class Actor:
    """Who acted, in which workspace, from which channel."""

    team_id: str
    user_id: str
    channel_id: str | None = None


@dataclass(frozen=True)
class Reply:
    """What the person who acted sees: mrkdwn text, optional blocks."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    ok: bool = True
    bet: Bet | None = field(default=None, compare=False)
    outbox_id: int | None = None  # a message queued for the listener to deliver now
    chart: bytes | None = field(default=None, repr=False)  # a PNG to post in its thread


def refused(message: str) -> Reply:
    return Reply(message, ok=False)


@dataclass(frozen=True)
class BetDraft:
    """A new bet as typed in the modal or the one-liner, before it has a key."""

    channel_id: str
    title: str
    hypothesis: str
    signal: str = ""
    owner_id: str | None = None
    link: str | None = None
    expect: str | None = None
    pivot_of: int | None = None


def _now() -> datetime:
    return datetime.now(UTC)


class Service:
    def __init__(
        self,
        *,
        admins: frozenset[str] = frozenset(),
        default_timezone: str = "UTC",
        is_workspace_admin: Callable[[str, str], Awaitable[bool]] | None = None,
        clock: Callable[[], datetime] = _now,
        charts: ChartWorker | None = None,
    ) -> None:
        self.admins = admins
        self.default_timezone = default_timezone
        self.is_workspace_admin = is_workspace_admin
        self.clock = clock
        self.charts = charts or ChartWorker()  # draws report charts in a child process

    # --- lookups -----------------------------------------------------------------------

    async def _bet(self, actor: Actor, number: int) -> Bet | Reply:
        bet = await store.bet_by_number(actor.team_id, number)
        if bet is None:
            return refused(
                f"There is no {format_key(number)} in this workspace. "
                "`/hypothesis list all` shows every bet."
            )
        return bet

    async def _zone(self, team_id: str, channel_id: str | None) -> ZoneInfo:
        channel = await store.get_channel(team_id, channel_id) if channel_id else None
        return ZoneInfo(channel.timezone if channel else self.default_timezone)

    async def may_close(self, actor: Actor, bet: Bet) -> bool:
        if actor.user_id in (bet.owner_id, bet.creator_id) or actor.user_id in self.admins:
            return True
        if self.is_workspace_admin is None:
            return False
        return await self.is_workspace_admin(actor.team_id, actor.user_id)

    # --- creating ----------------------------------------------------------------------

    async def create(self, actor: Actor, draft: BetDraft) -> Reply:
        now = self.clock()
        expected_at = None
        if draft.expect:
            zone = await self._zone(actor.team_id, draft.channel_id)
            expected_at = parse_when(draft.expect, now=now, tz=zone)
            if expected_at is None:
                return refused(f"`{escape(draft.expect)}` isn't {WHEN_HELP} in the future.")
        pivot_of_id = None
        if draft.pivot_of is not None:
            original = await self._bet(actor, draft.pivot_of)
            if isinstance(original, Reply):
                return original
            if State(original.state) not in FINAL_STATES:
                return refused(
                    f"{format_key(original.number)} is still {original.state}; only a closed "
                    "bet (validated, invalidated or killed) can be pivoted."
                )
            pivot_of_id = original.id
        notes = coach(draft.hypothesis, draft.signal)
        bet = await store.create_bet(
            actor.team_id,
            store.NewBet(
                channel_id=draft.channel_id,
                title=draft.title,
                hypothesis=draft.hypothesis,
                signal=draft.signal,
                owner_id=draft.owner_id or actor.user_id,
                creator_id=actor.user_id,
                link=draft.link,
                expected_at=expected_at,
                coach_notes="\n".join(notes),
                pivot_of_id=pivot_of_id,
            ),
            now=now,
            timezone=self.default_timezone,
        )
        key = format_key(bet.number)
        lines = [f"Created *{key}* · {escape(bet.title)}. Its card is in <#{bet.channel_id}>."]
        if not draft.signal:
            lines.append(
                f"It has no signal yet, so nobody can tell when it worked. Add one: "
                f"`/hypothesis signal {key} &lt;what we'll see&gt;`."
            )
        if notes:
            coached = "\n".join(f"• {escape(note)}" for note in notes)
            lines.append("A coach would ask:\n" + coached)
        return Reply("\n".join(lines), bet=bet)

    async def create_from_line(
        self, actor: Actor, text: str, *, pivot_of: int | None = None
    ) -> Reply:
        if actor.channel_id is None:
            return refused("Create bets from a channel, so the team sees them.")
        line = parse_one_liner(text)
        if not line.hypothesis:
            return refused(
                "Say what you believe: `/hypothesis new We believe &lt;change&gt; for &lt;whom&gt; "
                "will &lt;outcome&gt;. We'll know when &lt;signal&gt;`."
            )
        expect = (
            f"{int(line.expect_within.total_seconds() // 3600)}h" if line.expect_within else None
        )
        return await self.create(
            actor,
            BetDraft(
                channel_id=actor.channel_id,
                title=line.title,
                hypothesis=line.hypothesis,
                signal=line.signal,
                expect=expect,
                pivot_of=pivot_of,
            ),
        )

    # --- moves -------------------------------------------------------------------------

    async def move(
        self,
        actor: Actor,
        bet: Bet,
        request: MoveRequest,
        *,
        source: str,
        evidence_id: int | None = None,
    ) -> Reply:
        key = format_key(bet.number)
        if request.move in CLOSING_MOVES and not await self.may_close(actor, bet):
            return refused(
                f"Only {key}'s owner <@{bet.owner_id}>, its creator <@{bet.creator_id}> or a "
                f"workspace admin can {request.move} it."
            )
        result = await store.move_bet(
            actor.team_id,
            bet.id,
            request,
            actor_id=actor.user_id,
            source=source,
            now=self.clock(),
            evidence_id=evidence_id,
        )
        if isinstance(result, Refusal):
            return refused(f"{key}: {result.message}")
        done = {
            Move.START: "started",
            Move.SHIP: "shipped — now let's learn whether it worked",
            Move.VALIDATE: "validated",
            Move.INVALIDATE: "invalidated",
            Move.KILL: "killed",
        }[request.move]
        return Reply(f"*{key}* {done}.", bet=bet)

    async def move_by_number(
        self, actor: Actor, number: int, request: MoveRequest, *, source: str
    ) -> Reply:
        bet = await self._bet(actor, number)
        if isinstance(bet, Reply):
            return bet
        return await self.move(actor, bet, request, source=source)

    async def add_evidence(
        self,
        actor: Actor,
        bet: Bet,
        *,
        verdict: str,
        text: str,
        link: str | None,
        source: str,
        permalink: str | None = None,
        channel_id: str | None = None,
        message_ts: str | None = None,
    ) -> Reply:
        """Evidence on a bet; (channel_id, message_ts) names the Slack message it came from,
        which can be evidence only once."""
        key = format_key(bet.number)
        if not text.strip() and not link:
            return refused(
                "Evidence needs words or a link: "
                f"`/hypothesis evidence {key} + &lt;what you saw&gt;`."
            )
        result = await store.add_evidence(
            actor.team_id,
            bet.id,
            store.NewEvidence(
                verdict=verdict,
                text=text.strip(),
                author_id=actor.user_id,
                source=source,
                link=link,
                permalink=permalink,
                channel_id=channel_id,
                message_ts=message_ts,
            ),
            now=self.clock(),
        )
        if isinstance(result, Refusal):
            return refused(result.message)
        return Reply(f"Recorded {verdict} evidence on *{key}*.", bet=bet)

    async def update(
        self,
        actor: Actor,
        bet: Bet,
        *,
        kind: str,
        changes: dict[str, Any],
        done: str,
        allowed_states: tuple[State, ...] | None = None,
    ) -> Reply:
        result = await store.update_bet(
            actor.team_id,
            bet.id,
            actor_id=actor.user_id,
            now=self.clock(),
            kind=kind,
            changes=changes,
            **({"allowed_states": allowed_states} if allowed_states else {}),
        )
        if isinstance(result, Refusal):
            return refused(result.message)
        return Reply(f"*{format_key(bet.number)}*: {done}", bet=result)

    async def snooze(self, actor: Actor, bet: Bet, duration: timedelta) -> Reply:
        until = self.clock() + duration
        return await self.update(
            actor,
            bet,
            kind="snooze",
            changes={"snoozed_until": until},
            done=f"no nudges until {until:%a %d %b %H:%M} UTC.",
            allowed_states=(State.SHIPPED,),
        )

    # --- thread replies ----------------------------------------------------------------

    async def thread_reply(
        self,
        *,
        team_id: str,
        channel_id: str,
        thread_ts: str,
        message_ts: str,
        user_id: str,
        text: str,
        permalink: str | None,
    ) -> bool:
        """A human reply in a bet's thread: evidence with verdict unknown, recorded once."""
        recorded = await store.record_thread_reply(
            team_id,
            channel_id,
            thread_ts,
            store.NewEvidence(
                verdict="unknown",
                text=grammar.clean_text(text)[:MAX_TEXT],
                author_id=user_id,
                source="thread",
                channel_id=channel_id,
                message_ts=message_ts,
                permalink=permalink,
            ),
            now=self.clock(),
            prompt=lambda bet, evidence: {
                "text": f"Recorded as evidence on {format_key(bet.number)}",
                "blocks": replies.reply_prompt(bet, evidence),
            },
        )
        return recorded is not None

    async def settle_verdict(self, actor: Actor, evidence_id: int, verdict: str) -> Reply:
        result = await store.set_verdict(
            actor.team_id, evidence_id, verdict, actor_id=actor.user_id, now=self.clock()
        )
        if isinstance(result, Refusal):
            return refused(result.message)
        bet, evidence = result
        label = {"supports": "supports", "refutes": "refutes", "inconclusive": "just a note"}
        return Reply(
            f"Marked: {label.get(verdict, verdict)}.",
            blocks=replies.reply_answered(bet, evidence, label.get(verdict, verdict)),
            bet=bet,
        )

    # --- reading -----------------------------------------------------------------------

    async def show(self, actor: Actor, number: int) -> Reply:
        bet = await self._bet(actor, number)
        if isinstance(bet, Reply):
            return bet
        evidence = await store.evidence_of(actor.team_id, bet.id)
        events = await store.events_of(actor.team_id, bet.id)
        blocks = card_blocks.show_blocks(bet, evidence, events, now=self.clock())
        return Reply(card_blocks.card_text(bet), blocks=blocks, bet=bet)

    async def list_bets(self, actor: Actor, scope: str) -> Reply:
        now = self.clock()
        found = await store.list_bets(actor.team_id, scope=scope, user_id=actor.user_id)
        if scope == "overdue":
            after = await self._nudge_after(actor.team_id, {bet.channel_id for bet in found})
            found = [bet for bet in found if _overdue(bet, after[bet.channel_id], now)]
        if not found:
            empty = {
                "mine": "You have no open bets.",
                "shipped": "Nothing is shipped and awaiting feedback.",
                "overdue": "Nothing is overdue. 🎉",
            }
            return Reply(empty.get(scope, "No bets yet. `/hypothesis new We believe …`"))
        titles = {
            "mine": "Your open bets",
            "shipped": "Shipped, awaiting feedback",
            "overdue": "Overdue for evidence",
            "all": "All bets",
        }
        title = titles.get(scope, "Open bets")
        blocks = lists.bet_list(
            found, now=now, title=title, more_hint=f"`/hypothesis list {scope}`"
        )
        return Reply(f"{title}: {len(found)}", blocks=blocks)

    async def _nudge_after(self, team_id: str, channel_ids: set[str]) -> dict[str, timedelta]:
        """Each channel's nudge-after, read once per channel rather than once per bet."""
        after: dict[str, timedelta] = {}
        for channel_id in channel_ids:
            channel = await store.get_channel(team_id, channel_id)
            after[channel_id] = timedelta(seconds=channel.nudge_after_s if channel else 3 * 86400)
        return after

    # --- the slash command -------------------------------------------------------------

    async def run(self, actor: Actor, command: grammar.Command) -> Reply:
        """Carry out one parsed `/hypothesis` command."""
        match command:
            case grammar.Help():
                return Reply(grammar.HELP_TEXT, blocks=lists.help_blocks(grammar.HELP_TEXT))
            case grammar.New(text=text):
                return await self.create_from_line(actor, text)
            case grammar.Pivot(number=number, text=text):
                return await self.create_from_line(actor, text, pivot_of=number)
            case grammar.ListBets(scope=scope):
                return await self.list_bets(actor, scope)
            case grammar.Show(number=number):
                return await self.show(actor, number)
            case grammar.Away(until=until):
                return await self.away(actor, until)
            case grammar.Settings(changes=changes):
                return await self.settings(actor, dict(changes))
            case grammar.Report(window=window):
                return await self.report(actor, window)
        return await self._run_on_bet(actor, command)

    async def _run_on_bet(self, actor: Actor, command: grammar.Command) -> Reply:
        number = getattr(command, "number", None)
        if number is None:
            return refused("That command isn't available yet. `/hypothesis help` lists what is.")
        bet = await self._bet(actor, number)
        if isinstance(bet, Reply):
            return bet
        match command:
            case grammar.Start():
                return await self.move(actor, bet, MoveRequest(Move.START), source="command")
            case grammar.Ship(link=link):
                return await self.move(
                    actor, bet, MoveRequest(Move.SHIP, link=link), source="command"
                )
            case grammar.Validate(text=text, link=link):
                return await self.move(
                    actor, bet, MoveRequest(Move.VALIDATE, text, link), source="command"
                )
            case grammar.Invalidate(text=text, link=link, learned=learned):
                request = MoveRequest(Move.INVALIDATE, text, link, learned or text)
                return await self.move(actor, bet, request, source="command")
            case grammar.Kill(reason=reason, learned=learned):
                request = MoveRequest(Move.KILL, reason, None, learned or reason)
                return await self.move(actor, bet, request, source="command")
            case grammar.AddEvidence(verdict=verdict, text=text, link=link):
                return await self.add_evidence(
                    actor, bet, verdict=verdict, text=text, link=link, source="command"
                )
            case grammar.SetSignal(text=text):
                return await self.update(
                    actor, bet, kind="signal", changes={"signal": text}, done="signal set."
                )
            case grammar.Expect(when=when):
                zone = await self._zone(actor.team_id, bet.channel_id)
                moment = parse_when(when, now=self.clock(), tz=zone)
                if moment is None:
                    return refused(f"`{escape(when)}` isn't {WHEN_HELP} in the future.")
                return await self.update(
                    actor,
                    bet,
                    kind="expect",
                    changes={"expected_at": moment},
                    done=f"signal expected by {moment.astimezone(zone):%a %d %b %Y}.",
                )
            case grammar.Snooze(duration=duration):
                return await self.snooze(actor, bet, duration)
        return refused("That command isn't available yet. `/hypothesis help` lists what is.")

    async def away(self, actor: Actor, until: Any) -> Reply:
        if until is None:
            await store.set_away(actor.team_id, actor.user_id, None, now=self.clock())
            return Reply("Welcome back: your nudges are on again.")
        zone = await self._zone(actor.team_id, actor.channel_id)
        moment = datetime.combine(until, datetime.min.time(), tzinfo=zone)
        if moment <= self.clock():
            return refused("That date has passed. Try `/hypothesis away until 2026-12-24`.")
        await store.set_away(actor.team_id, actor.user_id, moment, now=self.clock())
        return Reply(f"Enjoy the break. No nudges for you until {until:%a %d %b %Y}.")

    # --- channels ----------------------------------------------------------------------

    async def settings(self, actor: Actor, changes: dict[str, Any]) -> Reply:
        """Show the channel's settings, or change them (an event like any other)."""
        if actor.channel_id is None:
            return refused("Settings belong to a channel: run this in the team's channel.")
        now = self.clock()
        if changes:
            channel = await channel_store.apply_settings(
                actor.team_id,
                actor.channel_id,
                settings_columns(changes),
                actor_id=actor.user_id,
                now=now,
                default_timezone=self.default_timezone,
            )
            head = "Updated. This channel's settings now:"
        else:
            channel = await store.ensure_channel(
                actor.team_id, actor.channel_id, now=now, timezone=self.default_timezone
            )
            head = "This channel's settings:"
        return Reply(head + "\n" + describe_settings(channel))

    async def report(self, actor: Actor, window: timedelta) -> Reply:
        """Queue the channel's flow report; the listener posts its chart in the thread."""
        if actor.channel_id is None:
            return refused("Reports belong to a channel: run this in the team's channel.")
        channel = await store.get_channel(actor.team_id, actor.channel_id)
        if channel is None:
            return refused("This channel has no bets yet, so there is nothing to report.")
        now = self.clock()
        report = await build_report(channel, window=window, now=now, charts=self.charts)
        row = await outbox_store.enqueue(
            actor.team_id, actor.channel_id, "report", report.payload, now=now
        )
        return Reply(
            f"Posting the flow report for the {report.label} in <#{actor.channel_id}>…",
            outbox_id=row.id,
            chart=report.chart,
        )


SETTING_COLUMNS = {
    "nudge_after": "nudge_after_s",
    "nudge_repeat": "nudge_repeat_s",
    "sle_default": "sle_default_s",
    "grace": "grace_s",
}


def settings_columns(changes: dict[str, Any]) -> dict[str, Any]:
    """The grammar's typed settings as the channel row stores them."""
    columns: dict[str, Any] = {}
    for name, value in changes.items():
        if name in SETTING_COLUMNS:
            columns[SETTING_COLUMNS[name]] = int(value.total_seconds())
        elif name == "hours":
            columns["hours_start"], columns["hours_end"] = (format_clock(t) for t in value)
        elif name == "digest_time":
            columns["digest_time"] = format_clock(value)
        elif name in ("digest_days", "work_days"):
            columns[name] = ",".join(str(day) for day in sorted(value))
        else:
            columns[name] = value
    return columns


def describe_settings(channel: Channel) -> str:
    def days(text: str) -> str:
        return format_days(frozenset(int(d) for d in text.split(",") if d))

    digest = (
        f"{channel.digest_time} {days(channel.digest_days)}" if channel.digest_enabled else "off"
    )
    lead = f"<@{channel.lead_user_id}>" if channel.lead_user_id else "none"
    lines = [
        f"• Digest: {digest} ({channel.timezone})",
        f"• Working hours: {channel.hours_start}-{channel.hours_end} {days(channel.work_days)}",
        f"• Nudge after {format_duration(timedelta(seconds=channel.nudge_after_s))}, "
        f"repeat every {format_duration(timedelta(seconds=channel.nudge_repeat_s))}",
        f"• WIP limit: {channel.wip_limit or 'none'}",
        f"• Default SLE: {format_duration(timedelta(seconds=channel.sle_default_s))}",
        f"• Missed digest grace: {format_duration(timedelta(seconds=channel.grace_s))}",
        f"• Lead: {lead}",
        "Change with e.g. `/hypothesis settings digest 09:30 Europe/Berlin mon-fri`, "
        "`nudge-after 3d`, `wip 5`, `sle 14d`, `hours 09:00-18:00`, `lead @someone`.",
    ]
    return "\n".join(lines)


def _overdue(bet: Bet, nudge_after: timedelta, now: datetime) -> bool:
    """Shipped, no decisive evidence, and past its expected date (or nudge-after)."""
    if bet.shipped_at is None or bet.first_feedback_at is not None:
        return False
    due = bet.expected_at if bet.expected_at is not None else bet.shipped_at + nudge_after
    return due <= now


def draft_title(title: str | None, hypothesis: str) -> str:
    """The modal's title when given, else one derived from the hypothesis."""
    return (title or "").strip() or title_for(hypothesis)
