"""The nudge sweep: chase shipped bets whose evidence is overdue, inside working hours, and
escalate the ones nobody answers (three unanswered nudges, or older than the SLE)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bets.durations import format_duration
from bets.hours import nudge_due_at, nudge_send_at
from bot.blocks.nudge import escalation_blocks, nudge_blocks, nudge_text
from storage import channels as channel_store
from storage import nudges as store
from storage.models import Bet, Channel
from storage.nudges import Planned
from usecases.flow import channel_sle, for_each, working_hours

log = logging.getLogger("hypobot.nudges")

ESCALATE_AFTER_NUDGES = 3


@dataclass
class NudgeReport:
    nudged: int = 0
    escalated: int = 0
    waiting: int = 0  # due, but outside hours, snoozed or the owner is away
    channels: int = 0


async def run(
    now: datetime, *, owner: str, queued: Callable[[str, str], None] = lambda *_: None
) -> NudgeReport:
    """Sweep every tracked channel; `queued(team_id, channel_id)` is called as each
    channel's messages are queued (the scheduler starts delivering them while the sweep
    goes on)."""
    report = NudgeReport()
    channels = await channels_to_sweep(now)

    async def sweep(channel: Channel) -> None:
        if await _sweep_channel(channel, now, owner, report):
            queued(channel.team_id, channel.channel_id)

    await for_each(channels, sweep)
    return report


async def channels_to_sweep(now: datetime) -> list[Channel]:
    """Channels in working hours with bets awaiting feedback, busiest first: a channel's
    messages go out at Slack's pace, one a second, so the channels with the most to send
    start first and the sweep ends soonest (longest processing time first)."""
    awaiting = await store.awaiting_counts()
    channels = [
        channel
        for channel in await channel_store.tracked_channels()
        if (channel.team_id, channel.channel_id) in awaiting
        and working_hours(channel).contains(now)  # nothing lands outside working hours
    ]
    return sorted(channels, key=lambda channel: -awaiting[(channel.team_id, channel.channel_id)])


async def _sweep_channel(channel: Channel, now: datetime, owner: str, report: NudgeReport) -> bool:
    """Decide the channel's nudges and escalations, then write them in one transaction.
    True when it queued messages."""
    bets = await store.awaiting_feedback(channel.team_id, channel.channel_id)
    if not bets:
        return False
    report.channels += 1
    sample = await store.sle_sample(channel.team_id, channel.channel_id, now=now)
    sle = channel_sle(channel, sample, now)
    hours = working_hours(channel)
    dues = [(bet, _due(channel, bet)) for bet in bets]
    owners = {bet.owner_id for bet, due in dues if due <= now}
    away = await store.away_until(channel.team_id, owners) if owners else {}
    plans: list[Planned] = []
    for bet, due in dues:
        send_at = nudge_send_at(
            due, hours, snoozed_until=bet.snoozed_until, away_until=away.get(bet.owner_id)
        )
        if send_at <= now:
            plans.append(_nudge_plan(bet, due, sle, now))
            escalation = _escalation_plan(channel, bet, sle, now, bet.unanswered_nudges + 1)
        elif due <= now:
            report.waiting += 1
            continue
        else:
            escalation = _escalation_plan(channel, bet, sle, now, bet.unanswered_nudges)
        if escalation is not None:
            plans.append(escalation)
    if not plans:
        return False
    done = await store.record_channel(channel.team_id, plans, now=now, owner=owner)
    for plan in done:
        if plan.job == "nudge":
            report.nudged += 1
            number = plan.bet.nudge_count + 1
            log.info(
                "nudge.queued",
                extra={"team_id": plan.bet.team_id, "bet": plan.bet.number, "number": number},
            )
        else:
            report.escalated += 1
    return bool(done)


def _due(channel: Channel, bet: Bet) -> datetime:
    return nudge_due_at(
        shipped_at=bet.shipped_at,
        nudge_after=timedelta(seconds=channel.nudge_after_s),
        expected_at=bet.expected_at,
        nudge_count=bet.nudge_count,
        last_nudged_at=bet.last_nudged_at,
        repeat=timedelta(seconds=channel.nudge_repeat_s),
    )


def _escalation_reason(bet: Bet, sle: timedelta, now: datetime, nudges: int) -> str | None:
    if bet.escalated_at is not None:
        return None
    if nudges >= ESCALATE_AFTER_NUDGES:
        return f"{nudges} nudges without an answer"
    if now - bet.shipped_at > sle:
        age = format_duration(now - bet.shipped_at)
        return f"shipped {age} ago, past the SLE of {format_duration(sle)}"
    return None


def _nudge_plan(bet: Bet, due: datetime, sle: timedelta, now: datetime) -> Planned:
    # The due moment names the run: replicas computing the same state compute the same key.
    payload = {
        "text": nudge_text(bet),
        "blocks": nudge_blocks(bet, now=now, sle=sle, number=bet.nudge_count + 1),
    }
    return Planned("nudge", bet, due.isoformat(), payload)


def _escalation_plan(
    channel: Channel, bet: Bet, sle: timedelta, now: datetime, nudges: int
) -> Planned | None:
    """Escalate once per bet (period "1"), whichever path (nudge count or age) gets here."""
    reason = _escalation_reason(bet, sle, now, nudges)
    if reason is None:
        return None
    blocks = escalation_blocks(bet, lead_id=channel.lead_user_id, reason=reason)
    payload = {"text": f"H-{bet.number} is overdue for evidence", "blocks": blocks}
    return Planned("escalate", bet, "1", payload, reason)
