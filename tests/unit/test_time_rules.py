"""T1–T5 and T8–T10 as specifications: pure rules, no database, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bets.evidence import (
    DECISIVE,
    Verdict,
    decisive_after,
    feedback_after,
    verdict_of_move,
)
from bets.flow import flow_report
from bets.forecasts import (
    BetForecast,
    NoForecast,
    NoForecastReason,
    Observation,
    forecast,
    kaplan_meier,
)
from bets.hours import WorkingHours
from bets.lifecycle import Move, State
from bets.metrics import (
    MAX_WINDOW,
    BetFacts,
    is_awaiting,
    killed_before_learning,
)
from bets.timing import (
    ESCALATE_AFTER_NUDGES,
    ChannelRules,
    Chase,
    ChaseFacts,
    EscalationReason,
    chase,
    expected_at,
    first_nudge_due,
    next_nudge_due,
)

BERLIN = ZoneInfo("Europe/Berlin")
RULES = ChannelRules.defaults(BERLIN)
SLE = timedelta(days=14)
# Monday 2026-03-02 10:00 CET
SHIPPED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC instant in March 2026 (Berlin is UTC+1 until the 29th)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def run(now: datetime, sle: timedelta = SLE, **facts: object) -> Chase:
    return chase(ChaseFacts(shipped_at=SHIPPED, **facts), RULES, sle=sle, now=now)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- channel rules


def test_channel_rules_default_to_office_hours_in_the_channel_zone() -> None:
    assert RULES.hours == WorkingHours(tz=BERLIN)
    assert RULES.hours.start == time(9, 0) and RULES.hours.end == time(18, 0)
    assert RULES.nudge_after == days(3) and RULES.nudge_repeat == days(2)
    assert RULES.sle_default == days(14) and RULES.grace == timedelta(hours=3)
    assert RULES.nudges_per_day == 5 and RULES.wip_limit is None and RULES.lead_id is None


def test_channel_rules_refuse_working_hours_in_another_zone() -> None:
    with pytest.raises(ValueError):
        ChannelRules(tz=BERLIN, hours=WorkingHours(tz=ZoneInfo("America/New_York")))


# --------------------------------------------------------------------------- T1


def test_t1_within_counts_from_shipping() -> None:
    assert expected_at(shipped_at=SHIPPED, expect_within=days(10), expected_on=None) == (
        SHIPPED + days(10)
    )


def test_t1_within_has_no_date_before_shipping() -> None:
    assert expected_at(shipped_at=None, expect_within=days(10), expected_on=None) is None


def test_t1_explicit_date_is_absolute_and_wins() -> None:
    on = at(20, 8)
    assert expected_at(shipped_at=SHIPPED, expect_within=days(3), expected_on=on) == on
    assert expected_at(shipped_at=None, expect_within=None, expected_on=on) == on


def test_t1_first_nudge_without_expected_date_is_nudge_after_shipping() -> None:
    due = first_nudge_due(shipped_at=SHIPPED, expected=None, nudge_after=days(3))
    assert due == SHIPPED + days(3)


def test_t1_first_nudge_with_expected_date_is_that_date() -> None:
    due = first_nudge_due(shipped_at=SHIPPED, expected=at(12, 9), nudge_after=days(3))
    assert due == at(12, 9)


# --------------------------------------------------------------------------- T2


def _next(expected: datetime | None, count: int, last: datetime | None) -> datetime:
    return next_nudge_due(
        shipped_at=SHIPPED,
        expected=expected,
        nudge_after=days(3),
        nudge_count=count,
        last_nudged_at=last,
        repeat=days(2),
    )


def test_t2_nudges_repeat_two_days_after_the_last() -> None:
    assert _next(None, 1, at(5, 9)) == at(7, 9)


def test_t2_expect_after_first_nudge_moves_next_nudge() -> None:
    assert _next(at(20, 9), 1, at(5, 9)) == at(20, 9)


def test_t2_an_expected_date_already_passed_does_not_hold_back_repeats() -> None:
    assert _next(at(4, 9), 2, at(5, 9)) == at(7, 9)


def test_t2_no_nudge_before_the_new_expected_date() -> None:
    result = run(at(10, 10), nudge_count=1, unanswered_nudges=1, last_nudged_at=at(5, 9),
                 expected=at(20, 9))  # fmt: skip
    assert not result.nudge_now and not result.waiting
    assert result.nudge_due == at(20, 9)


def test_t2_nudge_due_outside_working_hours_waits() -> None:
    # due Thursday 10:00 CET; at 19:00 CET it waits, next morning it goes out
    evening = run(at(5, 18))
    assert not evening.nudge_now and evening.waiting
    morning = run(at(6, 8, 30))
    assert morning.nudge_now and not morning.waiting and morning.unanswered == 1


def test_t2_nudge_due_on_saturday_waits_for_monday() -> None:
    result = run(at(7, 10), nudge_count=1, unanswered_nudges=1, last_nudged_at=at(5, 9))
    assert result.nudge_due == at(7, 9) and result.waiting and not result.nudge_now
    assert run(at(9, 8), nudge_count=1, unanswered_nudges=1, last_nudged_at=at(5, 9)).nudge_now


# --------------------------------------------------------------------------- T3


def test_t3_no_escalation_before_first_nudge_or_expected_date() -> None:
    # long past the SLE, inside working hours, but never nudged (the owner is away)
    assert run(at(20, 10), owner_away_until=at(30, 0)).escalate is None
    # past the SLE, nudged once, but the expected date is still ahead
    late = run(at(27, 10), nudge_count=1, unanswered_nudges=1, last_nudged_at=at(26, 9),
               expected=at(30, 9))  # fmt: skip
    assert late.escalate is None and not late.nudge_now


def test_t3_past_sle_escalates_together_with_the_first_nudge() -> None:
    result = run(at(17, 10), expected=None)
    assert result.nudge_now
    assert result.escalate is EscalationReason.PAST_SLE
    assert result.owner_away_until is None


def test_t3_third_unanswered_nudge_escalates() -> None:
    result = run(at(9, 10), nudge_count=2, unanswered_nudges=2, last_nudged_at=at(7, 9))
    assert result.nudge_now and result.unanswered == ESCALATE_AFTER_NUDGES
    assert result.escalate is EscalationReason.UNANSWERED


def test_t3_two_unanswered_nudges_do_not_escalate() -> None:
    result = run(at(7, 10), nudge_count=1, unanswered_nudges=1, last_nudged_at=at(5, 9))
    assert result.escalate is None


def test_t3_lead_is_mentioned_once_per_bet() -> None:
    result = run(at(20, 10), nudge_count=5, unanswered_nudges=5, last_nudged_at=at(18, 9),
                 escalated=True)  # fmt: skip
    assert result.escalate is None and result.nudge_now


def test_t3_no_escalation_outside_working_hours() -> None:
    result = run(at(20, 20), nudge_count=3, unanswered_nudges=3, last_nudged_at=at(18, 9))
    assert result.escalate is None and result.waiting


# --------------------------------------------------------------------------- T4


def test_t4_snoozed_bet_gets_no_nudge_and_no_escalation() -> None:
    result = run(at(20, 10), nudge_count=3, unanswered_nudges=3, last_nudged_at=at(18, 9),
                 snoozed_until=at(25, 9))  # fmt: skip
    assert not result.nudge_now and result.waiting and result.escalate is None


def test_t4_nudges_resume_when_the_snooze_ends() -> None:
    result = run(at(25, 10), nudge_count=1, unanswered_nudges=1, last_nudged_at=at(5, 9),
                 snoozed_until=at(25, 9))  # fmt: skip
    assert result.nudge_now


def test_t4_away_owner_gets_no_nudge() -> None:
    result = run(at(6, 10), owner_away_until=at(12, 0))
    assert not result.nudge_now and result.waiting and result.escalate is None


def test_t4_away_owner_past_sle_escalates_with_away_until() -> None:
    away = at(30, 0)
    result = run(at(20, 10), nudge_count=1, unanswered_nudges=1, last_nudged_at=at(5, 9),
                 owner_away_until=away)  # fmt: skip
    assert not result.nudge_now
    assert result.escalate is EscalationReason.PAST_SLE
    assert result.owner_away_until == away


def test_t4_away_owner_never_nudged_is_not_escalated() -> None:
    result = run(at(20, 10), owner_away_until=at(30, 0))
    assert result.escalate is None and not result.nudge_now


def test_t4_unanswered_nudges_do_not_escalate_while_the_owner_is_away() -> None:
    result = run(at(10, 10), nudge_count=3, unanswered_nudges=3, last_nudged_at=at(9, 9),
                 owner_away_until=at(30, 0))  # fmt: skip
    assert result.escalate is None


# --------------------------------------------------------------------------- T5


def test_t5_reply_labelled_later_counts_from_its_post_time() -> None:
    posted = SHIPPED + days(4)
    # labelled decisive two days after it was posted: the moment is still the post time
    assert feedback_after(None, Verdict.SUPPORTS, posted, SHIPPED) == posted


def test_t5_earliest_decisive_evidence_wins() -> None:
    early = SHIPPED + days(2)
    assert feedback_after(early, Verdict.REFUTES, SHIPPED + days(5), SHIPPED) == early
    assert feedback_after(SHIPPED + days(5), Verdict.REFUTES, early, SHIPPED) == early


def test_t5_evidence_before_shipping_does_not_end_time_to_feedback() -> None:
    before = SHIPPED - days(1)
    assert feedback_after(None, Verdict.REFUTES, before, SHIPPED) is None
    assert feedback_after(None, Verdict.SUPPORTS, before, None) is None


def test_t5_evidence_at_the_shipping_instant_counts() -> None:
    assert feedback_after(None, Verdict.SUPPORTS, SHIPPED, SHIPPED) == SHIPPED


def test_t5_inconclusive_evidence_is_not_feedback() -> None:
    for verdict in (Verdict.INCONCLUSIVE, Verdict.UNKNOWN):
        assert not verdict.is_decisive
        assert feedback_after(None, verdict, SHIPPED + days(1), SHIPPED) is None
        assert decisive_after(None, verdict, SHIPPED + days(1)) is None
    assert frozenset({Verdict.SUPPORTS, Verdict.REFUTES}) == DECISIVE


def test_t5_closing_moves_carry_their_verdict() -> None:
    assert verdict_of_move(Move.VALIDATE) is Verdict.SUPPORTS
    assert verdict_of_move(Move.INVALIDATE) is Verdict.REFUTES
    for move in (Move.START, Move.SHIP, Move.KILL):
        assert verdict_of_move(move) is None


def test_t5_a_shipped_bet_with_only_prerelease_evidence_is_still_awaiting() -> None:
    first = feedback_after(None, Verdict.REFUTES, SHIPPED - days(1), SHIPPED)
    bet = BetFacts(1, State.SHIPPED, SHIPPED - days(9), None, SHIPPED, None, first,
                   first_decisive_at=SHIPPED - days(1))  # fmt: skip
    assert is_awaiting(bet)  # T13


# --------------------------------------------------------------------------- T9


def killed(first_feedback: datetime | None, first_decisive: datetime | None) -> BetFacts:
    return BetFacts(7, State.KILLED, SHIPPED - days(9), None, None, SHIPPED + days(1),
                    first_feedback, first_decisive_at=first_decisive)  # fmt: skip


def test_t9_kill_with_prerelease_refuting_evidence_is_not_without_evidence() -> None:
    prototype = SHIPPED - days(2)
    assert decisive_after(None, Verdict.REFUTES, prototype) == prototype
    assert not killed_before_learning(killed(None, prototype))


def test_t9_kill_with_no_decisive_evidence_at_any_time_is_without_evidence() -> None:
    assert killed_before_learning(killed(None, None))


def test_t9_decisive_evidence_before_shipping_counts_as_learning_not_feedback() -> None:
    prototype = SHIPPED - days(2)
    assert decisive_after(None, Verdict.SUPPORTS, prototype) == prototype
    assert feedback_after(None, Verdict.SUPPORTS, prototype, SHIPPED) is None


# --------------------------------------------------------------------------- T8, T10

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _learned(number: int, ttf_days: float, ago: float) -> BetFacts:
    shipped = NOW - days(ago) - days(ttf_days)
    feedback = shipped + days(ttf_days)
    return BetFacts(number, State.VALIDATED, shipped - days(1), None, shipped, feedback, feedback)


def _waiting(number: int, age_days: float) -> BetFacts:
    shipped = NOW - days(age_days)
    return BetFacts(number, State.SHIPPED, shipped - days(1), None, shipped, None, None)


def _history(*ttfs: float) -> list[Observation]:
    """Past bets heard after each of `ttfs` days."""
    return [Observation(n, days(t), heard=True) for n, t in enumerate(ttfs)]


def _forecast(age: float, *ttfs: float) -> BetForecast | NoForecast:
    """The forecast of H-99, waiting `age` days, from bets heard after `ttfs` days."""
    curve = kaplan_meier([*_history(*ttfs), Observation(99, days(age), heard=False)])
    return forecast(curve, number=99, shipped_at=NOW - days(age), now=NOW)


def test_t8_forecast_withheld_under_five_heard() -> None:
    assert _forecast(1, 2, 4, 6, 8) == NoForecast(
        99, NoForecastReason.NOT_ENOUGH_HISTORY, heard=4, others_as_long=4
    )
    report = flow_report([*(_learned(i, t, 5) for i, t in enumerate((2, 4, 6, 8))),
                          _waiting(99, 1)], now=NOW, window=days(30))  # fmt: skip
    assert [a.forecast for a in report.awaiting] == [_forecast(1, 2, 4, 6, 8)]
    assert [a.forecast_at for a in report.awaiting] == [None]


def test_t8_forecast_shows_its_sample_size() -> None:
    result = _forecast(1, 2, 4, 6, 8, 10)
    # all six reached 1 day (itself too); S(8d) = 1/5, S(10d) = 0 ≤ 15 %: 10 days after shipping
    assert result == BetForecast(
        number=99,
        shipped_at=NOW - days(1),
        age=days(1),
        by=NOW - days(1) + days(10),
        expected_at=None,
        heard=5,
        reached=6,
    )
    report = flow_report([*(_learned(i, t, 5) for i, t in enumerate((2, 4, 6, 8, 10))),
                          _waiting(99, 1)], now=NOW, window=days(30))  # fmt: skip
    assert [a.forecast for a in report.awaiting] == [result]
    assert [a.forecast_at for a in report.awaiting] == [result.by]


def test_t8_no_forecast_when_the_bet_waited_longer_than_all_history() -> None:
    assert _forecast(11, 2, 4, 6, 8, 10) == NoForecast(
        99, NoForecastReason.WAITED_LONGER, heard=5, others_as_long=0
    )


def test_t8_sle_met_counts_awaiting_bets_past_the_sle_as_misses() -> None:
    bets = [_learned(1, 2, 5), _learned(2, 3, 5), _waiting(3, 20), _waiting(4, 5)]
    report = flow_report(bets, now=NOW, window=days(30), configured_sle=days(14))
    # #1, #2 heard within 14 days; #3 has waited 20d: a miss; #4 at 5d is not known yet
    assert (report.sle_score.met, report.sle_score.missed) == (2, 1)
    assert report.sle_score.meets() is False


def test_t8_sle_met_is_unknown_only_without_samples_or_misses() -> None:
    assert flow_report([_waiting(1, 5)], now=NOW, window=days(30)).sle_score.meets() is None
    only_miss = flow_report([_waiting(1, 20)], now=NOW, window=days(30)).sle_score
    assert only_miss.share == 0 and only_miss.meets() is False


def test_t10_three_year_window_counts_every_sample() -> None:
    bets = [_learned(i, 2, ago) for i, ago in enumerate((10, 400, 800, 1090))]
    report = flow_report(bets, now=NOW, window=MAX_WINDOW)
    assert (report.every_bet.shipped, report.heard.count) == (4, 4)


def test_t10_window_over_three_years_is_refused() -> None:
    with pytest.raises(ValueError):
        flow_report([], now=NOW, window=MAX_WINDOW + timedelta(seconds=1))
