"""The nudge sweep: chase shipped bets whose evidence is overdue, inside working hours and
within each channel's nudge budget (most overdue first), and escalate the ones nobody
answers. What to do is `usecases.chasing` (the rules are `bets.timing`); this pass words
it and records it, channel by channel. A bet without a card (imported) gets its card with
its first nudge."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bets.timing import EscalationReason, Hold
from bot.blocks.nudge import escalation_blocks, escalation_text, nudge_blocks, nudge_text
from jobs.fanout import for_each
from usecases import chasing

log = logging.getLogger("hypobot.nudges")


@dataclass
class NudgeReport:
    """What a sweep did, and the nudges that were due but wait, counted by what holds each
    back (`bets.timing.Hold`): whoever runs `hypobot jobs run nudges` sees why."""

    nudged: int = 0
    escalated: int = 0
    over_budget: int = 0  # free to go, but the channel's nudge budget is spent today
    outside_hours: int = 0
    snoozed: int = 0
    owner_away: int = 0
    channels: int = 0

    def count_waiting(self, waiting: Mapping[Hold, int]) -> None:
        for hold, count in waiting.items():
            setattr(self, hold.value, getattr(self, hold.value) + count)


async def run(now: datetime, *, owner: str) -> NudgeReport:
    """Sweep every tracked channel (the sender hears of each channel's messages as they
    are queued, and starts delivering them while the sweep goes on)."""
    report = NudgeReport()

    async def sweep(channel: chasing.ToSweep) -> None:
        await _sweep_channel(channel, now, owner, report)

    await for_each(await chasing.channels_to_sweep(now), sweep)
    return report


async def _sweep_channel(
    sweep: chasing.ToSweep, now: datetime, owner: str, report: NudgeReport
) -> bool:
    """Word the channel's nudges and escalations, then record them in one unit of work.
    True when it queued messages."""
    decided = await chasing.decide(sweep, now)
    if not decided.decisions:
        return False
    report.channels += 1
    report.count_waiting(decided.waiting)
    plans: list[chasing.Planned] = []
    for bet, decision in decided.decisions:
        if decision.nudge_now:
            number = bet.nudge_count + 1
            payload = {
                "text": nudge_text(bet),
                "blocks": nudge_blocks(bet, now=now, sle=decided.sle, number=number),
            }
            plans.append(chasing.nudge_plan(bet, decision, payload))
        if decision.escalate is not None:
            blocks = escalation_blocks(
                bet,
                lead_id=decided.rules.lead_id,
                reason=EscalationReason(decision.escalate),
                unanswered=decision.unanswered,
                sle=decided.sle,
                now=now,
                owner_away_until=decision.owner_away_until,
                tz=decided.rules.tz,
            )
            payload = {"text": escalation_text(bet), "blocks": blocks}
            plans.append(chasing.escalation_plan(bet, decision, payload))
    if not plans:
        return False
    done = await chasing.record(decided, plans, now=now, owner=owner)
    for plan in done:
        if plan.kind is chasing.Kind.NUDGE:
            report.nudged += 1
            log.info(
                "nudge.queued",
                extra={
                    "team_id": plan.bet.team_id,
                    "bet": plan.bet.number,
                    "number": plan.bet.nudge_count + 1,
                },
            )
        else:
            report.escalated += 1
    return bool(done)
