"""docs/rules.md, the rules the code cites: every rule has its anchor, every link in it lands,
and every citation in bets/ names a rule that is there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "rules.md"
TIME_RULES = [f"T{n}" for n in range(1, 15)]
FORECAST_RULES = [f"F{n}" for n in range(1, 9)]
FLOW_METRICS = [
    "time-to-feedback",
    "awaiting-feedback",
    "cycle-time",
    "lead-time-to-learning",
    "percentiles",
    "sle",
    "ageing-status",
    "validation-rate",
    "wip",
    "throughput-of-learning",
]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings() -> dict[str, str]:
    """Each heading's anchor, by anchor."""
    found = re.findall(r"^#{1,6} (.+)$", RULES.read_text(encoding="utf-8"), re.M)
    return {slug(heading): heading for heading in found}


@pytest.mark.parametrize("rule", TIME_RULES + FORECAST_RULES)
def test_every_rule_has_a_heading_of_its_own(rule: str) -> None:
    assert [anchor for anchor in headings() if anchor.startswith(f"{rule.lower()}-")], rule


def test_the_time_rules_anchors_read_as_their_names() -> None:
    assert "t1-expected-date" in headings()
    assert "f2-time-to-feedback-counting-every-bet" in headings()


@pytest.mark.parametrize("metric", FLOW_METRICS)
def test_every_flow_metric_is_defined(metric: str) -> None:
    assert metric in headings()


def test_every_link_inside_the_rules_lands_on_a_heading() -> None:
    links = re.findall(r"\]\(#([^)]+)\)", RULES.read_text(encoding="utf-8"))
    assert links
    assert sorted(set(links) - set(headings())) == []


def test_every_citation_in_the_rules_code_names_a_rule_that_is_there() -> None:
    known = {anchor.split("-", 1)[0].upper() for anchor in headings()}
    cited: set[str] = set()
    for path in (ROOT / "bets").glob("*.py"):
        for citation in re.findall(r"docs/rules\.md,\s*([^)\"]+)", path.read_text()):
            cited |= set(re.findall(r"\b[TF]\d+\b", citation))
    assert cited and sorted(cited - known) == []


def test_the_readme_links_the_rules() -> None:
    assert "[docs/rules.md](docs/rules.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
