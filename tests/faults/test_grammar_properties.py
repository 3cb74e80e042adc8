"""The `/hypothesis` grammar under generated input: any text Slack could send parses to a
typed command or a usage message, never an exception, and what it keeps is storable."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bets.hypothesis import MAX_TEXT
from bot import grammar

# Words and pieces people (and Slack's escaping) put into a command.
SUBCOMMANDS = (*grammar.USAGE, "help", "?", "H-1", "12", "settings", "away")
KEYS = ("H-1", "h-12", "H12", "12", "#3", "h 4", "H-0", "0", "H-999999999", "H-1234567890", "H-")
DURATIONS = ("3d", "2w", "12h", "1w2d", "0d", "-1d", "9999w", "2 weeks", "90m", "3x")
DATES = ("2026-12-01", "2026-02-30", "2020-01-01", "31/12/2026", "tomorrow")
LINKS = (
    "https://example.com/a?b=c",
    "<https://example.com/x|the dashboard>",
    "http://",
    "https://ex.com/(wiki).",
    "<mailto:a@b.c|a@b.c>",
    "ftp://nope",
)
MARKUP = (
    "<@U123ABC|ann>",
    "<@W12345>",
    "U1234",
    "<!channel>",
    "<!here>",
    "<!subteam^S123|@team>",
    "<#C123|general>",
    "&amp;",
    "&lt;b&gt;",
    "&lt;!channel&gt;",
    "`",
    "```",
    "*bold*",
    "learned:",
    "what we learned:",
    "We believe",
    "We'll know when",
    "we will know if",
    "within 10 days",
    "+",
    "-",
    "–",
    "?",
    "supports",
    "refutes",
    "until",
    "off",
    "in",
)
SETTINGS_WORDS = (
    "digest",
    "09:30",
    "25:00",
    "Europe/Berlin",
    "europe/berlin",
    "Mars/Olympus",
    "mon-fri",
    "fri-mon",
    "weekdays",
    "nudge-after",
    "repeat",
    "wip",
    "5",
    "1000",
    "sle",
    "hours",
    "09:00-18:00",
    "18:00-09:00",
    "9:00",
    "to",
    "days",
    "zone",
    "tz",
    "lead",
    "grace",
    "on",
)
ODD = ("\x00", "\x07", "\r\n", "\n", "\t", "\u200b", "\u202e", "🎉", "ﬁ", "１２", "٣", "²", "\x7f")

POOL = KEYS + DURATIONS + DATES + LINKS + MARKUP + SETTINGS_WORDS + ODD
KEYED = frozenset(grammar.USAGE) - {"new", "list", "away", "report", "settings", "help"}
SEPARATORS = (" ", " ", " ", "  ", "\n", " \t", "", ",")
BATCH = 25  # texts per example: drawing a batch costs hypothesis far less than 25 examples


def command_text(spec: bytes, loose: list[str]) -> str:
    """A command from bytes: the first picks the subcommand, each next one a word (from
    POOL, or one of the example's free-form texts) and the separator before it."""
    if not spec:
        return loose[0] if loose else ""
    head = SUBCOMMANDS[spec[0] % len(SUBCOMMANDS)]
    parts = [head.upper() if spec[0] & 0x80 else head]
    rest = spec[1:]
    if head in KEYED and rest and rest[0] < 0xC0:  # mostly a well-formed key next
        parts.append(f" {('H-', 'h', '')[rest[0] % 3]}{rest[0] % 20 + 1}")
        rest = rest[1:]
    for byte in rest:
        choice = byte % (len(POOL) + len(loose))
        word = POOL[choice] if choice < len(POOL) else loose[choice - len(POOL)]
        parts.append(SEPARATORS[byte >> 5] + word)
    return "".join(parts)


batches = st.tuples(
    st.lists(st.binary(min_size=1, max_size=24), min_size=BATCH - 5, max_size=BATCH - 5),
    st.lists(st.text(max_size=60), min_size=5, max_size=5),
).map(lambda drawn: [command_text(spec, drawn[1]) for spec in drawn[0]] + drawn[1])

_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TEXT_FIELDS = ("text", "reason", "learned", "link", "when")


def _check_parsed(parsed: grammar.Command | grammar.Usage) -> None:
    if isinstance(parsed, grammar.Usage):
        assert parsed.message.strip()
        # What it echoes of the user's words is cut short, so the message stays small.
        assert len(parsed.message) < 1500, len(parsed.message)
        return
    values = {f.name: getattr(parsed, f.name) for f in fields(parsed)}
    if "number" in values:
        assert 0 < values["number"] < 10**9
    for name in TEXT_FIELDS:
        value = values.get(name)
        if value is None:
            continue
        assert isinstance(value, str)
        assert len(value) <= MAX_TEXT
        assert not _UNSTORABLE.search(value), (name, value)
        assert "\n" not in value and value == value.strip()
    if values.get("link") is not None:
        link = values["link"]
        assert link.lower().startswith(("http://", "https://")) and not re.search(r"\s", link)
    if isinstance(parsed, (grammar.Validate, grammar.Invalidate, grammar.AddEvidence)):
        assert parsed.text or parsed.link
    if isinstance(parsed, grammar.Kill):
        assert parsed.reason
    if isinstance(parsed, (grammar.New, grammar.Pivot)):
        assert parsed.text
    if isinstance(parsed, grammar.Snooze):
        assert timedelta(0) < parsed.duration <= timedelta(days=3 * 365)
    if isinstance(parsed, grammar.Report):
        assert parsed.window > timedelta(0)


TEXTS = 10_000


def test_any_command_text_parses_to_a_command_or_a_usage_message() -> None:
    seen: list[int] = []

    @settings(max_examples=TEXTS // BATCH, deadline=None, database=None)
    @given(batches)
    def parse_all(texts: list[str]) -> None:
        for text in texts:
            parsed = grammar.parse(text)
            assert isinstance(parsed, (grammar.Usage, *grammar.Command.__args__)), text
            _check_parsed(parsed)
            assert grammar.parse(text) == parsed  # no hidden state
        seen.append(len(texts))

    parse_all()
    assert sum(seen) >= TEXTS


KEY_FORMS = ("H-{n}", "h-{n}", "H{n}", "h{n}", "{n}", "H - {n}")


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.integers(min_value=1, max_value=999_999_999),
    st.sampled_from(KEY_FORMS),
    st.sampled_from(("show", "start", "SHOW", "Start")),
)
def test_every_way_of_typing_a_key_names_the_same_bet(number: int, form: str, verb: str) -> None:
    parsed = grammar.parse(f"{verb} {form.format(n=number)}".replace(" - ", "-"))
    assert getattr(parsed, "number", None) == number, parsed


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=1, max_value=150),
    st.sampled_from((("h", "hours"), ("d", "days"), ("w", "weeks"))),
)
def test_a_typed_duration_is_read_back_exactly(number: int, amount: int, unit: tuple) -> None:
    parsed = grammar.parse(f"snooze H-{number} {amount}{unit[0]}")
    assert parsed == grammar.Snooze(number, timedelta(**{unit[1]: amount}))
