"""The words for what use cases answer, and the `/hypothesis` commands carried out.

Listeners call one function here: it runs one use case (usecases/) and says its result,
done or refused, as a `Reply` the person who acted sees (mrkdwn, user text escaped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bets.durations import WHEN_HELP
from bets.evidence import Verdict
from bets.hours import format_clock, format_days, format_hours
from bets.hypothesis import MAX_TEXT, Part, parse_one_liner, title_for
from bets.keys import format_key
from bets.lifecycle import Move, MoveRequest, State
from bets.metrics import BetFacts
from bets.reading import counted, format_day, format_duration, format_moment
from bets.timing import ChannelRules
from bot import grammar
from bot.blocks import card as card_blocks
from bot.blocks import lists, replies
from bot.blocks.text import escape
from bot.canvases import Canvases, Made, Unavailable, canvas_link
from bot.reports import ChartWorker, build_report
from usecases import bets as usecase
from usecases import boards, flow
from usecases import channels as channel_usecase
from usecases.bets import BetDraft, NewEvidence
from usecases.context import Actor, Context
from usecases.results import Refused, Why

__all__ = ["Actor", "Answers", "BetDraft", "Reply", "draft_title", "refused"]

SNOOZE_BUTTON = timedelta(days=3)

_DONE = {
    Move.START: "started",
    Move.SHIP: "shipped — now let's learn whether it worked",
    Move.VALIDATE: "validated",
    Move.INVALIDATE: "invalidated",
    Move.KILL: "killed",
}
_VERDICT_LABEL = {
    Verdict.SUPPORTS: "supports",
    Verdict.REFUTES: "refutes",
    Verdict.INCONCLUSIVE: "just a note",
    Verdict.UNKNOWN: "unknown",
}
_NO_CHANNEL = "Run this in the team's channel: bets, settings and reports belong to a channel."


@dataclass(frozen=True)
class Reply:
    """What the person who acted sees: mrkdwn text, optional blocks."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    ok: bool = True
    bet: BetFacts | None = field(default=None, compare=False)
    outbox_id: int | None = None  # a message queued for the listener to deliver now
    chart: bytes | None = field(default=None, repr=False)  # a PNG to post in its thread


def refused(message: str) -> Reply:
    return Reply(message, ok=False)


def draft_title(title: str | None, hypothesis: str) -> str:
    """The form's title when given, else one derived from the hypothesis."""
    return (title or "").strip() or title_for(hypothesis)


# --- the board's words ----------------------------------------------------------------------

BOARD_OFF = (
    "The board is off: the canvas stays as it is and is no longer updated. "
    "`/hypothesis board` turns it on again."
)
BOARD_OFF_ALREADY = "The board is off already. `/hypothesis board` turns it on."
BOARD_WORDS = {
    Why.NO_CHANNEL: "Boards belong to a channel: run this in the team's channel.",
    Why.NO_BOARD: "This channel has no board. `/hypothesis board` makes one in its canvas.",
}
_UNAVAILABLE = {
    "canvas_disabled_user_team": "canvases are turned off in this workspace (an admin can "
    "turn them on in the workspace's settings)",
    "team_tier_cannot_create_channel_canvases": "this workspace's Slack plan has no channel "
    "canvases",
    "free_teams_cannot_edit_standalone_canvases": "this workspace's Slack plan cannot edit "
    "a canvas of its own",
    "private_channel": "Hypobot isn't a member of this private channel: type `/invite "
    "@Hypobot` here first",
    "missing_scope": "Hypobot's app lacks the `canvases:write` scope: reinstall it from the "
    "current manifest",
    "is_archived": "this channel is archived",
    "restricted_action": "the workspace doesn't let apps make canvases here",
}


def board_unavailable(code: str) -> str:
    """Why no board could be made; nothing was changed."""
    why = _UNAVAILABLE.get(code, f"Slack refused to make the canvas ({escape(code)})")
    return f"No board: {why}. Nothing was changed."


def board_notice(actor: Actor, canvas_id: str, channel_canvas: bool) -> dict[str, Any]:
    """Posted once in the channel when its board is made."""
    where = "this channel's canvas" if channel_canvas else "a canvas shared with this channel"
    text = (
        f"📋 <@{actor.user_id}> turned on the bets board, in {where}: "
        f"{canvas_link(actor.team_id, canvas_id)} — every bet awaiting feedback, overdue, "
        "being built or proposed, and what was learned, kept current by Hypobot."
    )
    return {"text": text}


def board_gone_notice(team_id: str, channel_id: str) -> dict[str, Any]:
    """Told once, in a direct message, to whoever turned the board on."""
    return {
        "text": f"📋 The bets board of <#{channel_id}> is off: its canvas was deleted, or "
        "canvases were turned off. `/hypothesis board` in that channel makes a new one."
    }


# --- the words for a refusal --------------------------------------------------------------


def a(word: str) -> str:
    """`an invalidated`, `a shipped`: the article English reads before `word` (T12)."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def allowed_text(state: State, allowed: tuple[Move, ...], key: str) -> str:
    if not allowed:
        return (
            f"{a(str(state)).capitalize()} bet is closed; nothing can move it. To try again, "
            f"start a pivot: `/hypothesis pivot {key} We believe …`."
        )
    return f"From {state} you can: " + ", ".join(f"`{move}`" for move in allowed) + "."


def refusal_text(refusal: Refused) -> str:
    """What a refusal says: what was wrong, and what is possible from here."""
    key = format_key(refusal.number) if refusal.number is not None else "the bet"
    state = refusal.state
    move = refusal.move
    match refusal.why:
        case Why.NO_SUCH_BET if refusal.number is not None:
            return f"There is no {key} in this workspace. `/hypothesis list all` shows every bet."
        case Why.NO_SUCH_BET:
            return "That bet doesn't exist in this workspace."
        case Why.NO_SUCH_EVIDENCE:
            return "That evidence doesn't exist in this workspace."
        case Why.ILLEGAL_MOVE if state is not None and state.is_final:
            # T12: an old button on a closed bet says what the bet is now, plainly.
            return f"{key} is already {state}. " + allowed_text(state, (), key)
        case Why.ILLEGAL_MOVE if state is not None:
            return f"{key}: Can't {move} {a(str(state))} bet. " + allowed_text(
                state, refusal.allowed, key
            )
        case Why.NEEDS_EVIDENCE:
            return (
                f"To {move} {key}, give the evidence: `/hypothesis {move} {key} "
                f"{escape('<what you saw and/or a link>')}`."
            )
        case Why.NEEDS_REASON:
            return f"To kill {key}, say why: `/hypothesis kill {key} {escape('<reason>')}`."
        case Why.NOT_YOURS_TO_CLOSE:
            return (
                f"Only {key}'s owner <@{refusal.owner_id}>, its creator <@{refusal.creator_id}> "
                f"or a workspace admin can {move} it."
            )
        case Why.CLOSED:
            return f"{key} is already {state}; a closed bet's evidence can no longer change."
        case Why.WRONG_STATE:
            needs = " or ".join(str(s) for s in refusal.needs)
            return f"{key} is {state}; only {a(needs)} bet can take that."
        case Why.NOT_PIVOTABLE:
            return (
                f"{key} is still {state}; only a closed bet (validated, invalidated or "
                "killed) can be pivoted."
            )
        case Why.ALREADY_EVIDENCE if refusal.other_number is not None:
            return f"That message is already evidence on {format_key(refusal.other_number)}."
        case Why.ALREADY_EVIDENCE:
            return "That message is already evidence."
        case Why.EMPTY_EVIDENCE:
            return (
                "Evidence needs words or a link: "
                f"`/hypothesis evidence {key} + {escape('<what you saw>')}`."
            )
        case Why.BAD_WHEN:
            return f"`{escape(refusal.quoted)}` isn't {WHEN_HELP} in the future."
        case Why.PAST_DATE:
            return "That date has passed. Try `/hypothesis away until 2026-12-24`."
        case Why.NO_CHANNEL:
            return _NO_CHANNEL
        case Why.NO_BETS_HERE:
            return "This channel has no bets yet, so there is nothing to report."
        case Why.NO_HYPOTHESIS:
            return f"{escape(missing_text(refusal.missing))} Nothing was created. {NEW_BET_FORM}"
    return "That can't be done."  # pragma: no cover - every reason is worded above


NEW_BET_FORM = (
    "Try `/hypothesis new We believe &lt;change&gt; for &lt;whom&gt; will &lt;outcome&gt;. "
    "We'll know when &lt;signal&gt;`, for example `/hypothesis new We believe a one-click "
    "export for admins will cut support tickets. We'll know when export tickets drop 30% "
    "within 10 days`."
)


def missing_text(missing: tuple[Part, ...]) -> str:
    """What a hypothesis lacks to be a bet (a change, an outcome), in plain text."""
    if Part.CHANGE in missing and Part.OUTCOME in missing:
        return (
            "A bet needs at least a change and the outcome you expect of it: "
            "what will we do, and what will it lead to?"
        )
    if Part.CHANGE in missing:
        return "A bet needs a change: say what we will do before “will …”."
    return "A bet needs an outcome: say what the change will lead to (“… will <outcome>”)."


def no(refusal: Refused) -> Reply:
    return refused(refusal_text(refusal))


# --- the words for settings -----------------------------------------------------------------


def _nudge_budget(per_day: int) -> str:
    if per_day == 0:
        return "Nudges: off in this channel (`nudges-per-day 0`)"
    return (
        f"At most {counted(per_day, 'nudge')} a day, most overdue first; "
        "the rest wait for a later day"
    )


def describe_settings(rules: ChannelRules) -> str:
    digest = (
        f"{format_clock(rules.digest_at)} {format_days(rules.digest_days)}"
        if rules.digest_enabled
        else "off"
    )
    lead = f"<@{rules.lead_id}>" if rules.lead_id else "none"
    hours = format_hours(rules.hours.start, rules.hours.end)
    lines = [
        f"• Digest: {digest} ({rules.tz.key})",
        # One zone serves both: say it on each line, so nobody reads the hours as UTC.
        f"• Working hours: {hours} {format_days(rules.hours.days)} ({rules.tz.key})",
        f"• Nudge after {format_duration(rules.nudge_after)}, "
        f"repeat every {format_duration(rules.nudge_repeat)}",
        f"• {_nudge_budget(rules.nudges_per_day)}",
        f"• WIP limit: {rules.wip_limit or 'none'}",
        f"• Default SLE: {format_duration(rules.sle_default)}",
        f"• Missed digest grace: {format_duration(rules.grace)}",
        f"• Lead: {lead}",
        "Change with e.g. `/hypothesis settings digest 09:30 Europe/Berlin mon-fri`, "
        "`nudge-after 3d`, `wip 5`, `sle 14d`, `hours 09:00-18:00`, `lead @someone`, "
        "`nudges-per-day 5`.",
    ]
    return "\n".join(lines)


# --- the answers ----------------------------------------------------------------------------


class Answers:
    """Every use case a listener can ask for, with its answer in words."""

    def __init__(
        self,
        context: Context,
        *,
        charts: ChartWorker | None = None,
        canvases: Canvases | None = None,
    ) -> None:
        self.context = context
        self.charts = charts or ChartWorker()  # draws report charts in a child process
        self.canvases = canvases  # makes a board's canvas in Slack

    def clock(self) -> datetime:
        return self.context.clock()

    # --- finding ----------------------------------------------------------------------

    async def bet(self, actor: Actor, bet_id: int) -> BetFacts | Reply:
        """A bet by id, for a button or a form that needs it (e.g. to open a modal)."""
        found = await usecase.find(self.context, actor, bet_id=bet_id)
        return no(found) if isinstance(found, Refused) else found

    async def evidence(self, actor: Actor, evidence_id: int) -> tuple[BetFacts, Any] | Reply:
        found = await usecase.find_evidence(self.context, actor, evidence_id)
        return no(found) if isinstance(found, Refused) else found

    async def may_close(self, actor: Actor, bet: BetFacts) -> bool:
        return await self.context.may_close(actor, bet.owner_id, bet.creator_id)

    async def search(self, team_id: str, query: str, *, limit: int = 100) -> list[BetFacts]:
        return await usecase.search(self.context, team_id, query, limit=limit)

    # --- creating -----------------------------------------------------------------------

    async def create(self, actor: Actor, draft: BetDraft) -> Reply:
        result = await usecase.create(self.context, actor, draft)
        if isinstance(result, Refused):
            return no(result)
        bet = result.bet
        key = format_key(bet.number)
        lines = [f"Created *{key}* · {escape(bet.title)}. Its card is in <#{bet.channel_id}>."]
        if not bet.signal:
            lines.append(
                f"It has no signal yet, so nobody can tell when it worked. Add one: "
                f"`/hypothesis signal {key} &lt;what we'll see&gt;`."
            )
        if result.coaching:
            coached = "\n".join(f"• {escape(note)}" for note in result.coaching)
            lines.append("A coach would ask:\n" + coached)
        return Reply("\n".join(lines), bet=bet)

    async def create_from_line(
        self, actor: Actor, text: str, *, pivot_of: int | None = None
    ) -> Reply:
        if actor.channel_id is None:
            return refused("Create bets from a channel, so the team sees them.")
        line = parse_one_liner(text)
        return await self.create(
            actor,
            BetDraft(
                channel_id=actor.channel_id,
                title=line.title,
                hypothesis=line.hypothesis,
                signal=line.signal,
                expect_within=line.expect_within,
                pivot_of=pivot_of,
            ),
        )

    # --- moves --------------------------------------------------------------------------

    async def move(
        self,
        actor: Actor,
        request: MoveRequest,
        *,
        source: str,
        bet_id: int | None = None,
        number: int | None = None,
        evidence_id: int | None = None,
    ) -> Reply:
        result = await usecase.move(
            self.context,
            actor,
            request,
            source=source,
            bet_id=bet_id,
            number=number,
            evidence_id=evidence_id,
        )
        if isinstance(result, Refused):
            return no(result)
        key = format_key(result.bet.number)
        text = f"*{key}* {_DONE[request.move]}."
        if result.wip is not None and result.wip.over:
            # T14: still started, and the channel hears it is over its limit.
            text += (
                f" <#{result.bet.channel_id}> is now over its WIP limit: "
                f"{counted(result.wip.count, 'bet')} building, limit {result.wip.limit}."
            )
        return Reply(text, bet=result.bet)

    async def add_evidence(
        self,
        actor: Actor,
        new: NewEvidence,
        *,
        bet_id: int | None = None,
        number: int | None = None,
    ) -> Reply:
        """Evidence on a bet; (channel_id, message_ts) names the Slack message it came from,
        which can be evidence only once."""
        result = await usecase.add_evidence(self.context, actor, new, bet_id=bet_id, number=number)
        if isinstance(result, Refused):
            return no(result)
        key = format_key(result.bet.number)
        return Reply(f"Recorded {new.verdict} evidence on *{key}*.", bet=result.bet)

    async def snooze(self, actor: Actor, duration: timedelta, **bet: int) -> Reply:
        result = await usecase.snooze(self.context, actor, duration, **bet)
        if isinstance(result, Refused):
            return no(result)
        until = result.bet.snoozed_until
        assert until is not None
        when = format_moment(until, result.tz, now=self.clock())
        return Reply(f"*{format_key(result.bet.number)}*: no nudges until {when}.", bet=result.bet)

    async def expect(self, actor: Actor, when: str, *, number: int) -> Reply:
        result = await usecase.expect(self.context, actor, when, number=number)
        if isinstance(result, Refused):
            return no(result)
        said = card_blocks.expected_text(result.bet, now=self.clock(), tz=result.tz)
        return Reply(f"*{format_key(result.bet.number)}*: {said}.", bet=result.bet)

    async def set_signal(self, actor: Actor, text: str, *, number: int) -> Reply:
        result = await usecase.set_signal(self.context, actor, text, number=number)
        if isinstance(result, Refused):
            return no(result)
        return Reply(f"*{format_key(result.bet.number)}*: signal set.", bet=result.bet)

    # --- thread replies -------------------------------------------------------------------

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
        """A human reply in a bet's thread: evidence with verdict unknown, recorded once, at
        the reply's own time (its ts), whenever it is labelled (T5)."""
        return await usecase.thread_reply(
            self.context,
            team_id=team_id,
            channel_id=channel_id,
            thread_ts=thread_ts,
            user_id=user_id,
            new=NewEvidence(
                verdict=Verdict.UNKNOWN,
                text=grammar.clean_text(text)[:MAX_TEXT],
                source="thread",
                channel_id=channel_id,
                message_ts=message_ts,
                permalink=permalink,
                posted_at=posted_at(message_ts, self.clock()),
            ),
            prompt=lambda bet, evidence: {
                "text": f"Recorded as evidence on {format_key(bet.number)}",
                "blocks": replies.reply_prompt(bet, evidence),
            },
        )

    async def settle_verdict(self, actor: Actor, evidence_id: int, verdict: Verdict) -> Reply:
        result = await usecase.settle_verdict(self.context, actor, evidence_id, verdict)
        if isinstance(result, Refused):
            return no(result)
        label = _VERDICT_LABEL[verdict]
        return Reply(
            f"Marked: {label}.",
            blocks=replies.reply_answered(result.bet, result.evidence, label),
            bet=result.bet,
        )

    # --- reading --------------------------------------------------------------------------

    async def show(self, actor: Actor, number: int) -> Reply:
        shown = await usecase.show(self.context, actor, number)
        if isinstance(shown, Refused):
            return no(shown)
        blocks = card_blocks.show_blocks(
            shown.bet,
            shown.evidence,
            shown.history,
            now=self.clock(),
            tz=shown.tz,
            pivot_of_number=shown.pivot_of_number,
            forecast=shown.forecast,
        )
        return Reply(card_blocks.card_text(shown.bet), blocks=blocks, bet=shown.bet)

    async def list_bets(self, actor: Actor, scope: str) -> Reply:
        listed = await usecase.list_bets(self.context, actor, scope)
        if not listed.bets:
            empty = {
                "mine": "You have no open bets.",
                "shipped": "Nothing is shipped and awaiting feedback.",
                "overdue": "Nothing is overdue. 🎉",
            }
            return Reply(empty.get(scope, "No bets yet. `/hypothesis new We believe …`"))
        titles = {
            "mine": "Your open bets",
            "shipped": "Shipped, awaiting feedback",
            "overdue": "Overdue: escalated, still no evidence",
            "all": "All bets",
        }
        title = titles.get(scope, "Open bets")
        blocks = lists.bet_list(
            listed.bets,
            now=self.clock(),
            title=title,
            more_hint=f"`/hypothesis list {scope}`",
            total=listed.total,
            forecasts=listed.forecasts,
            tz=listed.tz,
        )
        return Reply(f"{title}: {listed.total}", blocks=blocks)

    async def away(self, actor: Actor, until: Any) -> Reply:
        result = await usecase.away(self.context, actor, until)
        if isinstance(result, Refused):
            return no(result)
        if result.until is None:
            return Reply("Welcome back: your nudges are on again.")
        day = format_day(result.until, today=result.today)
        return Reply(f"Enjoy the break. No nudges for you until {day}.")

    async def settings(self, actor: Actor, changes: dict[str, Any]) -> Reply:
        """Show the channel's settings, or change them (an event like any other)."""
        result = await channel_usecase.settings(self.context, actor, changes)
        if isinstance(result, Refused):
            return refused("Settings belong to a channel: run this in the team's channel.")
        head = (
            "Updated. This channel's settings now:"
            if result.changed
            else ("This channel's settings:")
        )
        return Reply(head + "\n" + describe_settings(result.rules))

    async def report(self, actor: Actor, window: timedelta) -> Reply:
        """Queue the channel's flow report; the listener posts its chart in the thread."""
        figures = await flow.report(self.context, actor, window)
        if isinstance(figures, Refused):
            if figures.why is Why.NO_CHANNEL:
                return refused("Reports belong to a channel: run this in the team's channel.")
            return no(figures)
        now = self.clock()
        report = await build_report(figures, now=now, charts=self.charts)
        outbox_id = await flow.queue_report(figures, report.payload, now=now)
        return Reply(
            f"Posting the flow report for the {report.label} in <#{figures.channel_id}>…",
            outbox_id=outbox_id,
            chart=report.chart,
        )

    async def board(self, actor: Actor, on: bool) -> Reply:
        """`/hypothesis board` and `board off`: the channel's board in its canvas."""
        if not on:
            off = await boards.turn_off(self.context, actor)
            if isinstance(off, Refused):
                return refused(BOARD_WORDS[off.why])
            return Reply(BOARD_OFF if off.was_on else BOARD_OFF_ALREADY)
        found = await boards.current(self.context, actor)
        if isinstance(found, Refused):
            return refused(BOARD_WORDS[found.why])
        if found is not None and found.enabled:
            return Reply(f"The board is on already: {canvas_link(actor.team_id, found.canvas_id)}")
        if found is not None:  # turned off before: on again, in the same canvas
            made: Made | Unavailable = Made(found.canvas_id, found.channel_canvas)
        elif self.canvases is None:
            return refused(board_unavailable("no_client"))
        else:
            made = await self.canvases.make(actor.team_id, actor.channel_id or "")
        if isinstance(made, Unavailable):
            return refused(board_unavailable(made.code))
        result = await boards.turn_on(
            self.context,
            actor,
            canvas_id=made.canvas_id,
            channel_canvas=made.channel_canvas,
            link_notice=lambda canvas_id: board_notice(actor, canvas_id, made.channel_canvas),
        )
        if isinstance(result, Refused):
            return refused(BOARD_WORDS[result.why])
        where = (
            "this channel's canvas" if made.channel_canvas else "a canvas shared with this channel"
        )
        return Reply(
            f"📋 The board is on, in {where}: {canvas_link(actor.team_id, made.canvas_id)}. "
            "It follows every change to the channel's bets within seconds, and moves on once a "
            "day at the digest hour. `/hypothesis board off` stops it."
        )

    # --- the slash command ----------------------------------------------------------------

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
            case grammar.BoardSwitch(on=on):
                return await self.board(actor, on)
            case grammar.Start(number=number):
                return await self.move(
                    actor, MoveRequest(Move.START), source="command", number=number
                )
            case grammar.Ship(number=number, link=link):
                request = MoveRequest(Move.SHIP, link=link)
                return await self.move(actor, request, source="command", number=number)
            case grammar.Validate(number=number, text=text, link=link):
                request = MoveRequest(Move.VALIDATE, text, link)
                return await self.move(actor, request, source="command", number=number)
            case grammar.Invalidate(number=number, text=text, link=link, learned=learned):
                request = MoveRequest(Move.INVALIDATE, text, link, learned or text)
                return await self.move(actor, request, source="command", number=number)
            case grammar.Kill(number=number, reason=reason, learned=learned):
                request = MoveRequest(Move.KILL, reason, None, learned or reason)
                return await self.move(actor, request, source="command", number=number)
            case grammar.AddEvidence(number=number, verdict=verdict, text=text, link=link):
                new = NewEvidence(verdict=verdict, text=text.strip(), source="command", link=link)
                return await self.add_evidence(actor, new, number=number)
            case grammar.SetSignal(number=number, text=text):
                return await self.set_signal(actor, text, number=number)
            case grammar.Expect(number=number, when=when):
                return await self.expect(actor, when, number=number)
            case grammar.Snooze(number=number, duration=duration):
                return await self.snooze(actor, duration, number=number)
        return refused("That command isn't available yet. `/hypothesis help` lists what is.")


def posted_at(ts: str, now: datetime) -> datetime:
    """A Slack message's own time, from its ts ("1794000000.000100"); never later than
    `now` (a clock ahead of ours must not make evidence from the future)."""
    try:
        return min(datetime.fromtimestamp(float(ts), tz=UTC), now)
    except (TypeError, ValueError, OverflowError, OSError):
        return now
