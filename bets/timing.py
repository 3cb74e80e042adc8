"""When Hypobot speaks about a shipped bet (docs/rules.md, T1–T4): expected dates, nudges
and escalation.

Pure rules over one bet's facts and its channel's rules; the clock is passed in as `now`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from bets.durations import parse_date, parse_duration
from bets.hours import WEEKDAYS, WorkingHours
from bets.metrics import BetFacts

ESCALATE_AFTER_NUDGES = 3
DEFAULT_NUDGES_PER_DAY = 5

_T = TypeVar("_T")

# Stands for "the default working hours in the channel's own zone"; replaced on creation.
_ZONE_HOURS = WorkingHours(tz=ZoneInfo("UTC"))


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")


@dataclass(frozen=True)
class ChannelRules:
    """A channel's rules as one typed value, so every decision reads the same settings.

    `hours` defaults to 09:00–18:00 Monday–Friday in `tz`; working hours given explicitly
    must be in `tz` too, because one zone serves the channel's digest and hours alike.
    """

    tz: ZoneInfo
    hours: WorkingHours = _ZONE_HOURS
    digest_enabled: bool = True
    digest_at: time = time(9, 30)
    digest_days: frozenset[int] = WEEKDAYS
    nudge_after: timedelta = timedelta(days=3)
    nudge_repeat: timedelta = timedelta(days=2)
    sle_default: timedelta = timedelta(days=14)
    grace: timedelta = timedelta(hours=3)
    wip_limit: int | None = None
    lead_id: str | None = None
    nudges_per_day: int = DEFAULT_NUDGES_PER_DAY  # the nudge budget: at most N a local day

    def __post_init__(self) -> None:
        if self.hours is _ZONE_HOURS:
            object.__setattr__(self, "hours", WorkingHours(tz=self.tz))
        elif self.hours.tz.key != self.tz.key:
            raise ValueError("working hours must be in the channel's zone")
        if self.nudge_after <= timedelta(0) or self.nudge_repeat <= timedelta(0):
            raise ValueError("nudge delays must be positive")
        if self.nudges_per_day < 0:
            raise ValueError("nudges per day cannot be negative")

    @classmethod
    def defaults(cls, tz: ZoneInfo) -> ChannelRules:
        """A new channel's rules in zone `tz`: everything else at its default."""
        return cls(tz=tz)


# --------------------------------------------------------------------------- T1, T2


def expected_at(
    *,
    shipped_at: datetime | None,
    expect_within: timedelta | None,
    expected_on: datetime | None,
) -> datetime | None:
    """When the bet's signal should show (docs/rules.md, T1).

    An explicit date is absolute and wins. "Within N" counts from shipping, so before
    shipping there is no date yet (the card says "N days after shipping").
    """
    if expected_on is not None:
        return expected_on
    if expect_within is None or shipped_at is None:
        return None
    return shipped_at + expect_within


def first_nudge_due(
    *, shipped_at: datetime, expected: datetime | None, nudge_after: timedelta
) -> datetime:
    """The first nudge is due on the expected date when there is one, else `nudge_after`
    after shipping (T1): asking before the team said the signal could show is nagging."""
    if expected is not None:
        return expected
    return shipped_at + nudge_after


def next_nudge_due(
    *,
    shipped_at: datetime,
    expected: datetime | None,
    nudge_after: timedelta,
    nudge_count: int,
    last_nudged_at: datetime | None,
    repeat: timedelta,
) -> datetime:
    """When the next nudge is due, before working hours, snoozes and absences
    (docs/rules.md, T1, T2).

    Before any nudge: `first_nudge_due`. Once nudging began: `repeat` after the last
    nudge, but never before `expected`: an `expect` typed after the first nudge moves the
    next one, since the owner just said when the signal can show.
    """
    if nudge_count <= 0 or last_nudged_at is None:
        return first_nudge_due(shipped_at=shipped_at, expected=expected, nudge_after=nudge_after)
    due = last_nudged_at + repeat
    if expected is not None and expected > due:
        return expected
    return due


# --------------------------------------------------------------------------- T3, T4


@dataclass(frozen=True)
class ChaseFacts:
    """What chasing needs of one shipped bet; `expected` already resolved by `expected_at`."""

    shipped_at: datetime
    expected: datetime | None = None
    nudge_count: int = 0
    unanswered_nudges: int = 0
    last_nudged_at: datetime | None = None
    escalated: bool = False
    snoozed_until: datetime | None = None
    owner_away_until: datetime | None = None


class EscalationReason(StrEnum):
    UNANSWERED = "unanswered"
    PAST_SLE = "past_sle"


class Hold(StrEnum):
    """Why a nudge that is due does not go out now: the first that applies, in this order
    (a snoozed bet waits for its snooze however the budget stands)."""

    SNOOZED = "snoozed"
    OWNER_AWAY = "owner_away"
    OUTSIDE_HOURS = "outside_hours"
    OVER_BUDGET = "over_budget"  # free to go, but the channel's nudge budget is spent today


@dataclass(frozen=True)
class Chase:
    """What to do about one shipped bet at `now`."""

    nudge_due: datetime
    nudge_now: bool
    held_by: Hold | None  # a nudge is due but waits, and why; None when none waits
    escalate: EscalationReason | None
    unanswered: int  # unanswered nudges, counting one sent now
    owner_away_until: datetime | None = None  # set when escalating while the owner is away

    @property
    def waiting(self) -> bool:
        """A nudge is due but held back, by anything."""
        return self.held_by is not None

    @property
    def held(self) -> bool:
        """It would go out now, but the channel's nudge budget is spent today."""
        return self.held_by is Hold.OVER_BUDGET


def _active(until: datetime | None, now: datetime) -> bool:
    return until is not None and until > now


def _nudge_due(facts: ChaseFacts, rules: ChannelRules) -> datetime:
    return next_nudge_due(
        shipped_at=facts.shipped_at,
        expected=facts.expected,
        nudge_after=rules.nudge_after,
        nudge_count=facts.nudge_count,
        last_nudged_at=facts.last_nudged_at,
        repeat=rules.nudge_repeat,
    )


def nudge_ready(facts: ChaseFacts, rules: ChannelRules, *, now: datetime) -> bool:
    """A nudge is due and nothing about the bet holds it back (no snooze, owner not away):
    only working hours and the channel's budget decide when it goes out."""
    _require_aware(now)
    return (
        _nudge_due(facts, rules) <= now
        and not _active(facts.snoozed_until, now)
        and not _active(facts.owner_away_until, now)
    )


def chase(
    facts: ChaseFacts,
    rules: ChannelRules,
    *,
    sle: timedelta,
    now: datetime,
    budget_spent: bool = False,
) -> Chase:
    """Whether to nudge the owner and whether to escalate to the lead, at `now`
    (docs/rules.md, T2–T4).

    A nudge goes out when due, inside working hours, with no snooze, the owner not away
    (T2, T4) and the channel's nudge budget not `budget_spent` for today (`chase_channel`
    decides that). Escalation (T3) mentions the lead once per bet and only after at least
    one nudge (one sent now counts), never before the expected date, never while snoozed
    and only inside working hours; then the third unanswered nudge or an age past the SLE
    escalates. An away owner can't answer, so unanswered nudges don't escalate while they
    are away, but a bet past the SLE still does, saying until when the owner is away (T4).
    Escalations are not nudges: the budget never holds one back.
    """
    _require_aware(now)
    due = _nudge_due(facts, rules)
    in_hours = rules.hours.contains(now)
    snoozed = _active(facts.snoozed_until, now)
    away = _active(facts.owner_away_until, now)
    is_due = due <= now
    free = is_due and in_hours and not snoozed and not away
    nudge_now = free and not budget_spent
    sent = 1 if nudge_now else 0
    nudges = facts.nudge_count + sent
    unanswered = facts.unanswered_nudges + sent

    reason: EscalationReason | None = None
    may_escalate = (
        not facts.escalated
        and nudges >= 1
        and in_hours
        and not snoozed
        and (facts.expected is None or now >= facts.expected)
    )
    if may_escalate:
        if unanswered >= ESCALATE_AFTER_NUDGES and not away:
            reason = EscalationReason.UNANSWERED
        elif now - facts.shipped_at > sle:
            reason = EscalationReason.PAST_SLE
    return Chase(
        nudge_due=due.astimezone(UTC),
        nudge_now=nudge_now,
        held_by=_hold(is_due and not nudge_now, snoozed=snoozed, away=away, in_hours=in_hours),
        escalate=reason,
        unanswered=unanswered,
        owner_away_until=facts.owner_away_until if reason is not None and away else None,
    )


def _hold(waiting: bool, *, snoozed: bool, away: bool, in_hours: bool) -> Hold | None:
    if not waiting:
        return None
    if snoozed:
        return Hold.SNOOZED
    if away:
        return Hold.OWNER_AWAY
    return Hold.OVER_BUDGET if in_hours else Hold.OUTSIDE_HOURS


# --------------------------------------------------------------------------- the nudge budget


def local_day(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The channel's local day around `now`, as [start, end) in UTC: the budget's period.
    Midnight to midnight on the wall clock, so a DST day is 23 or 25 hours long."""
    _require_aware(now)
    day = now.astimezone(tz).date()
    start = datetime.combine(day, time(0, 0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def within_budget(
    due: Sequence[_T], *, sent_today: int, budget: int
) -> tuple[tuple[_T, ...], tuple[_T, ...]]:
    """Split the nudges `due` now (most overdue first) into those the channel's budget
    lets out today and those that wait for a later day, given `sent_today` already sent."""
    if budget < 0 or sent_today < 0:
        raise ValueError("a nudge budget and a count of nudges cannot be negative")
    room = max(0, budget - sent_today)
    return tuple(due[:room]), tuple(due[room:])


def chase_channel(
    facts: Sequence[ChaseFacts],
    rules: ChannelRules,
    *,
    sle: timedelta,
    now: datetime,
    sent_today: int,
) -> tuple[Chase, ...]:
    """`chase` for each of a channel's shipped bets (in the order given), within its nudge
    budget: of the nudges that would go out now, the most overdue go first, up to
    `rules.nudges_per_day` a local day counting the `sent_today`; the rest wait (`held`),
    and their escalations are decided as if no nudge went out now (T3 needs one first)."""
    decided = [chase(one, rules, sle=sle, now=now) for one in facts]
    # Most overdue first: the nudge due longest ago, then the bet shipped first.
    going = sorted(
        (index for index, decision in enumerate(decided) if decision.nudge_now),
        key=lambda index: (decided[index].nudge_due, facts[index].shipped_at, index),
    )
    _, held = within_budget(going, sent_today=sent_today, budget=rules.nudges_per_day)
    for index in held:
        decided[index] = chase(facts[index], rules, sle=sle, now=now, budget_spent=True)
    return tuple(decided)


def held_by_budget(
    facts: Sequence[ChaseFacts], rules: ChannelRules, *, now: datetime, sent_today: int
) -> int:
    """How many of a channel's bets are due a nudge that today's budget can't reach (the
    digest counts them): the same count before and after the day's sweep, since a nudge
    sent leaves both the due bets and the budget's room one smaller. Working hours don't
    enter: the digest may go out before they start."""
    ready = [one for one in facts if nudge_ready(one, rules, now=now)]
    _, held = within_budget(ready, sent_today=sent_today, budget=rules.nudges_per_day)
    return len(held)


# --------------------------------------------------------------------------- one bet


def expected_of(bet: BetFacts) -> datetime | None:
    """The bet's expected signal date (T1): `expected_at` applied to its own columns."""
    return expected_at(
        shipped_at=bet.shipped_at, expect_within=bet.expect_within, expected_on=bet.expected_at
    )


def chase_facts(bet: BetFacts, *, owner_away_until: datetime | None) -> ChaseFacts:
    """What `chase` needs of a shipped bet."""
    if bet.shipped_at is None:
        raise ValueError(f"H-{bet.number} is not shipped; only a shipped bet is chased")
    return ChaseFacts(
        shipped_at=bet.shipped_at,
        expected=expected_of(bet),
        nudge_count=bet.nudge_count,
        unanswered_nudges=bet.unanswered_nudges,
        last_nudged_at=bet.last_nudged_at,
        escalated=bet.escalated_at is not None or bet.escalated,
        snoozed_until=bet.snoozed_until,
        owner_away_until=owner_away_until,
    )


# --------------------------------------------------------------------------- typed expectations


@dataclass(frozen=True)
class Expectation:
    """When a bet's signal should show, as typed: an absolute moment, or "within N" of
    shipping (T1)."""

    at: datetime | None = None
    within: timedelta | None = None


def read_expectation(
    text: str, *, shipped_at: datetime | None, now: datetime, tz: ZoneInfo
) -> Expectation | None:
    """`expect` and the form's "expected by" (docs/rules.md, T1, T2): a date is absolute (the
    start of that day in the channel's zone); a duration counts from shipping, or from now
    for a bet that has shipped already. None when it is neither, or not in the future."""
    duration = parse_duration(text)
    if duration is not None:
        if shipped_at is None:
            return Expectation(within=duration)
        return Expectation(at=now + duration)
    day = parse_date(text)
    if day is None:
        return None
    moment = datetime.combine(day, time(0, 0), tzinfo=tz)
    return Expectation(at=moment) if moment > now else None
