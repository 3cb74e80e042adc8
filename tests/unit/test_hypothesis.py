"""Reading a bet as typed (bets/hypothesis.py): one reading for the one-liner, the New bet
form and the "Create a bet" step, and what a hypothesis needs to be created at all."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bets.hypothesis import Part, missing_parts, parse_one_liner, read_bet


def test_the_one_liner_splits_hypothesis_signal_and_within() -> None:
    line = parse_one_liner(
        "We believe a one-click export for admins will cut tickets. "
        "We'll know when export tickets drop 30% within 10 days."
    )
    assert line.hypothesis == "We believe a one-click export for admins will cut tickets"
    assert line.signal == "export tickets drop 30%"
    assert line.expect_within == timedelta(days=10)
    assert line.title == "A one-click export"


@pytest.mark.parametrize(
    "signal",
    [
        "We'll know when export tickets drop 30% within 4 days",
        "export tickets drop 30% within 4d",
        "we will know when export tickets drop 30%, within 4 days.",
    ],
)
def test_a_signal_given_apart_reads_as_the_one_liners_signal(signal: str) -> None:
    line = read_bet("We believe a one-click export will cut tickets", signal)
    assert (line.signal, line.expect_within) == ("export tickets drop 30%", timedelta(days=4))


def test_a_signal_given_apart_leaves_the_hypothesis_whole() -> None:
    typed = "We believe faster search for admins will cut tickets.\nA lot."
    assert read_bet(typed, "tickets drop").hypothesis == typed.strip()


@pytest.mark.parametrize(
    ("hypothesis", "missing"),
    [
        ("", (Part.CHANGE, Part.OUTCOME)),
        ("We believe", (Part.CHANGE, Part.OUTCOME)),
        ("We believe that", (Part.CHANGE, Part.OUTCOME)),
        ("We believe dark mode", (Part.OUTCOME,)),
        ("We believe dark mode. We will know when retention rises", (Part.OUTCOME,)),
        ("We believe will raise retention", (Part.CHANGE,)),
        ("We believe dark mode will raise retention", ()),
        ("Dark mode for night owls will raise retention", ()),
        ("We believe users want to export", ()),
    ],
)
def test_a_hypothesis_needs_a_change_and_an_outcome(
    hypothesis: str, missing: tuple[Part, ...]
) -> None:
    assert missing_parts(hypothesis) == missing
