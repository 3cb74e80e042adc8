"""The nudge sweep: chase shipped bets whose evidence is overdue, inside working hours, and
escalate the ones nobody answers (three unanswered nudges, or older than the SLE)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bets.durations import format_duration
from bets.hours import nudge_due_at, nudge_send_at
from bot.blocks.nudge import escalation_blocks, nudge_blocks, nudge_text
from jobs.flow import channel_sle, working_hours
from storage import channels as channel_store
from storage import claims
from storage import nudges as store
from storage.channels import bets_for_metrics
from storage.models import Bet, Channel

log = logging.getLogger("hypobot.nudges")

LEASE = timedelta(minutes=5)
ESCALATE_AFTER_NUDGES = 3


@dataclass
class NudgeReport:
    nudged: int = 0
    escalated: int = 0
    waiting: int = 0  # due, but outside hours, snoozed or the owner is away
    channels: int = 0


async def run(now: datetime, *, owner: str) -> NudgeReport:
    report = NudgeReport()
    for channel in await channel_store.tracked_channels():
        await _sweep_channel(channel, now, owner, report)
    return report


async def _sweep_channel(channel: Channel, now: datetime, owner: str, report: NudgeReport) -> None:
    hours = working_hours(channel)
    if not hours.contains(now):
        return  # nothing lands outside the channel's working hours and days
    bets = await store.awaiting_feedback(channel.team_id, channel.channel_id)
    if not bets:
        return
    report.channels += 1
    sle = channel_sle(
        channel, await bets_for_metrics(channel.team_id, channel.channel_id, now=now), now
    )
    away = await store.away_until(channel.team_id, (bet.owner_id for bet in bets))
    for bet in bets:
        due = nudge_due_at(
            shipped_at=bet.shipped_at,
            nudge_after=timedelta(seconds=channel.nudge_after_s),
            expected_at=bet.expected_at,
            nudge_count=bet.nudge_count,
            last_nudged_at=bet.last_nudged_at,
            repeat=timedelta(seconds=channel.nudge_repeat_s),
        )
        send_at = nudge_send_at(
            due, hours, snoozed_until=bet.snoozed_until, away_until=away.get(bet.owner_id)
        )
        if send_at <= now:
            await _nudge(channel, bet, due, sle, now, owner, report)
        elif due <= now:
            report.waiting += 1
        elif bet.escalated_at is None:
            await _escalate(channel, bet, sle, now, owner, report, nudges=bet.unanswered_nudges)


def _escalation_reason(bet: Bet, sle: timedelta, now: datetime, nudges: int) -> str | None:
    if bet.escalated_at is not None:
        return None
    if nudges >= ESCALATE_AFTER_NUDGES:
        return f"{nudges} nudges without an answer"
    if now - bet.shipped_at > sle:
        age = format_duration(now - bet.shipped_at)
        return f"shipped {age} ago, past the SLE of {format_duration(sle)}"
    return None


async def _nudge(
    channel: Channel,
    bet: Bet,
    due: datetime,
    sle: timedelta,
    now: datetime,
    owner: str,
    report: NudgeReport,
) -> None:
    # The due moment names the run: replicas computing the same state compute the same key.
    held = await claims.claim(
        "nudge",
        f"bet:{bet.id}",
        due.isoformat(),
        team_id=bet.team_id,
        owner=owner,
        now=now,
        lease=LEASE,
    )
    if held is None:
        return
    number = bet.nudge_count + 1
    payload = {
        "text": nudge_text(bet),
        "blocks": nudge_blocks(bet, now=now, sle=sle, number=number),
    }
    await store.record_nudge(bet, held, now=now, payload=payload)
    report.nudged += 1
    log.info("nudge.queued", extra={"team_id": bet.team_id, "bet": bet.number, "number": number})
    await _escalate(channel, bet, sle, now, owner, report, nudges=bet.unanswered_nudges + 1)


async def _escalate(
    channel: Channel,
    bet: Bet,
    sle: timedelta,
    now: datetime,
    owner: str,
    report: NudgeReport,
    *,
    nudges: int,
) -> None:
    """Escalate once per bet: its own claim, whichever path (nudge count or age) gets here."""
    reason = _escalation_reason(bet, sle, now, nudges)
    if reason is None:
        return
    held = await claims.claim(
        "escalate", f"bet:{bet.id}", "1", team_id=bet.team_id, owner=owner, now=now, lease=LEASE
    )
    if held is None:
        return
    await store.record_escalation(
        bet, held, now=now, payload=_escalation_payload(channel, bet, reason), reason=reason
    )
    report.escalated += 1


def _escalation_payload(channel: Channel, bet: Bet, reason: str) -> dict[str, object]:
    blocks = escalation_blocks(bet, lead_id=channel.lead_user_id, reason=reason)
    return {"text": f"H-{bet.number} is overdue for evidence", "blocks": blocks}
