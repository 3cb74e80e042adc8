"""The `/hypothesis` grammar: slash-command text in, a typed command or a `Usage` error out."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeAlias

from bets.durations import (
    DURATION_HELP,
    MAX_DURATION,
    WHEN_HELP,
    measure_duration,
    parse_date,
)
from bets.evidence import Verdict
from bets.hours import parse_clock, parse_days, parse_hours, parse_zone
from bets.hypothesis import MAX_TEXT
from bets.keys import parse_key
from bets.metrics import MAX_WINDOW
from bets.reading import format_limit

# ---------------------------------------------------------------------------------------------
# What `parse` returns


@dataclass(frozen=True)
class Usage:
    """A parse error for the user: what was wrong and the right form, as mrkdwn.

    Echoed user words are cleaned plain text; escape `&`, `<`, `>` on the way out like any
    other user text (backticks are already neutralised inside them).
    """

    message: str


@dataclass(frozen=True)
class OpenModal:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class New:
    text: str


@dataclass(frozen=True)
class Pivot:
    number: int
    text: str


@dataclass(frozen=True)
class ListBets:
    scope: str


@dataclass(frozen=True)
class Show:
    number: int


@dataclass(frozen=True)
class Start:
    number: int


@dataclass(frozen=True)
class Ship:
    number: int
    link: str | None


@dataclass(frozen=True)
class AddEvidence:
    number: int
    verdict: Verdict
    text: str
    link: str | None


@dataclass(frozen=True)
class Validate:
    number: int
    text: str
    link: str | None


@dataclass(frozen=True)
class Invalidate:
    number: int
    text: str
    link: str | None
    learned: str


@dataclass(frozen=True)
class Kill:
    number: int
    reason: str
    learned: str


@dataclass(frozen=True)
class SetSignal:
    number: int
    text: str


@dataclass(frozen=True)
class Expect:
    number: int
    when: str


@dataclass(frozen=True)
class Snooze:
    number: int
    duration: timedelta


@dataclass(frozen=True)
class Away:
    until: date | None


@dataclass(frozen=True)
class Report:
    window: timedelta


@dataclass(frozen=True)
class Settings:
    changes: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class BoardSwitch:
    """`board` (on) or `board off`: the channel's board in its canvas."""

    on: bool


Command: TypeAlias = (
    OpenModal
    | BoardSwitch
    | Help
    | New
    | Pivot
    | ListBets
    | Show
    | Start
    | Ship
    | AddEvidence
    | Validate
    | Invalidate
    | Kill
    | SetSignal
    | Expect
    | Snooze
    | Away
    | Report
    | Settings
)

# ---------------------------------------------------------------------------------------------
# The forms, written once: the help text and every Usage message quote these.

USAGE: dict[str, str] = {
    "new": "/hypothesis new We believe … for … will … . We'll know when …",
    "pivot": "/hypothesis pivot H-3 We believe … . We'll know when …",
    "list": "/hypothesis list [mine|shipped|overdue|all]",
    "show": "/hypothesis show H-12",
    "start": "/hypothesis start H-12",
    "ship": "/hypothesis ship H-12 [link]",
    "evidence": "/hypothesis evidence H-12 [+|-|?] what you saw and/or a link",
    "validate": "/hypothesis validate H-12 the evidence and/or a link",
    "invalidate": "/hypothesis invalidate H-12 the evidence learned: what we learned",
    "kill": "/hypothesis kill H-12 why we stopped learned: what we learned",
    "signal": "/hypothesis signal H-12 We'll know when …",
    "expect": "/hypothesis expect H-12 10d",
    "snooze": "/hypothesis snooze H-12 3d",
    "away": "/hypothesis away until 2026-12-01",
    "report": "/hypothesis report [30d]",
    "board": "/hypothesis board [off]",
    "settings": "/hypothesis settings [setting value …]",
    "help": "/hypothesis help",
}

SETTING_USAGE: dict[str, str] = {
    "digest": "/hypothesis settings digest 09:30 Europe/Berlin mon-fri",
    "nudge-after": "/hypothesis settings nudge-after 3d",
    "repeat": "/hypothesis settings repeat 2d",
    "wip": "/hypothesis settings wip 5",
    "sle": "/hypothesis settings sle 14d",
    "hours": "/hypothesis settings hours 09:00-18:00",
    "days": "/hypothesis settings days mon-fri",
    "zone": "/hypothesis settings zone Europe/Berlin",
    "lead": "/hypothesis settings lead @user",
    "grace": "/hypothesis settings grace 3h",
    "nudges-per-day": "/hypothesis settings nudges-per-day 5",
}

_EXPLAIN: dict[str, str] = {
    "new": "create a bet from one line",
    "pivot": "a new bet that follows on from a closed one",
    "list": "open bets, or yours, shipped, overdue or all",
    "show": "a bet's card",
    "start": "start building",
    "ship": "mark shipped; the wait for evidence starts",
    "evidence": "record what you saw: `+` supports, `-` refutes, `?` inconclusive",
    "validate": "close it: the evidence supports it",
    "invalidate": "close it: the evidence refutes it",
    "kill": "stop it, with a reason",
    "signal": "set or change how we'll know",
    "expect": "when the signal should show: a duration or a date like `2026-12-01`",
    "snooze": "pause its nudges for a while",
    "away": "pause your nudges until a date; `/hypothesis away off` ends it",
    "report": "time to feedback and the SLE over a window (30 days unless given)",
    "board": "keep the channel's bets in its canvas, current within seconds; `off` stops it",
    "settings": "show this channel's settings, or change them:",
    "help": "this list",
}

_SETTING_EXPLAIN: dict[str, str] = {
    "digest": "when the daily digest goes out (zone and days optional); `digest off`/`on`",
    "nudge-after": "how long after shipping the first nudge comes",
    "repeat": "how long between nudges",
    "wip": "the WIP limit; `wip off` removes it",
    "sle": "the expected time to feedback until there is enough history",
    "hours": "working hours for nudges",
    "days": "working days for nudges",
    "zone": "the channel's time zone",
    "lead": "who is mentioned when a bet is escalated; `lead off`",
    "grace": "how late a missed digest may still go out",
    "nudges-per-day": "at most this many nudges a day here, most overdue first; "
    "the rest wait for a later day (`0` stops nudges)",
}


def _help_lines() -> list[str]:
    lines = [
        "*Every piece of work is a bet.* What you can say to `/hypothesis`:",
        "• `/hypothesis` — open the New bet form",
    ]
    for name, form in USAGE.items():
        lines.append(f"• `{form}` — {_EXPLAIN[name]}")
        if name == "settings":
            for setting, explain in _SETTING_EXPLAIN.items():
                short = SETTING_USAGE[setting].removeprefix("/hypothesis settings ")
                lines.append(f"    ◦ `{short}` — {explain}")
    lines.append("Bet keys can be typed `H-12`, `h12` or `12`; durations as `12h`, `3d` or `2w`.")
    return lines


HELP_TEXT = "\n".join(_help_lines())

LIST_SCOPES = ("open", "mine", "shipped", "overdue", "all")
_VERDICTS: dict[str, Verdict] = {
    "+": Verdict.SUPPORTS,
    "-": Verdict.REFUTES,
    "–": Verdict.REFUTES,  # phones and macOS turn a typed "-" into a dash
    "—": Verdict.REFUTES,
    "?": Verdict.INCONCLUSIVE,
    "supports": Verdict.SUPPORTS,
    "support": Verdict.SUPPORTS,
    "refutes": Verdict.REFUTES,
    "refute": Verdict.REFUTES,
    "inconclusive": Verdict.INCONCLUSIVE,
}
DEFAULT_REPORT_WINDOW = timedelta(days=30)

# ---------------------------------------------------------------------------------------------
# Slack's escaped text

_ESCAPED = re.compile(r"<([^<>]*)>|&(amp|lt|gt);")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
# PostgreSQL refuses NUL in text, and lone surrogates can't be encoded at all.
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SPECIAL_MENTIONS = frozenset({"channel", "here", "everyone"})
_USER = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^<>]*)?>|@?([UW][A-Z0-9]{2,})")


def clean_text(slack_text: str) -> str:
    """Slack's escaped text as the plain text we store: no entities, links as URLs, inert @s."""
    text = _UNSTORABLE.sub("", slack_text.replace("\r\n", "\n"))
    # One pass, so text that decodes to "<…>" is never read again as a Slack control sequence.
    return _ESCAPED.sub(_unescape, text).strip()


def _decode(text: str) -> str:
    return _ENTITY.sub(lambda match: _ENTITIES[match[1]], text)


def _unescape(match: re.Match[str]) -> str:
    if match[2]:
        return _ENTITIES[match[2]]
    target, _, label = match[1].partition("|")
    target, label = _decode(target), _decode(label)
    if target.startswith("@") or target.startswith("#"):
        return target[0] + (label or target[1:])
    if target.startswith("!"):
        name = target[1:]
        if name.startswith("subteam^"):
            return label if label.startswith("@") else "@" + (label or name.split("^")[1])
        return "@" + name if name in _SPECIAL_MENTIONS else label
    if target.lower().startswith("mailto:"):
        return label or target[len("mailto:") :]
    return target


def parse_user(token: str) -> str | None:
    """The user id in `<@U123|name>`, `<@U123>`, `U123` or `W123ABC`; None for anything else."""
    match = _USER.fullmatch(token.strip())
    return (match[1] or match[2]) if match else None


# ---------------------------------------------------------------------------------------------
# Pieces of a command

# A word, where a Slack control sequence like `<@U1|Ann Lee>` counts as one word.
_TOKEN = re.compile(r"(?:<[^<>]*>|\S)+")
_URL = re.compile(r"(?<![\w/])https?://[^\s<>\"]+", re.IGNORECASE)
_URL_TAIL = ".,;:!?'\")]}>"
_LEARNED = re.compile(r"(?:\b(?:what\s+)?we\s+)?\blearn(?:ed|t)\s*:", re.IGNORECASE)
_SIGNAL_LEAD = re.compile(
    r"^we(?:'|’|\s+wi)ll\s+know\s+(?:it\s+)?(?:when|if)\b[\s,:]*", re.IGNORECASE
)
_ECHO_LIMIT = 40
# A first word of marks only (`*`, `!`, `=>`) is meant as a verdict; words, numbers and links
# (`-5%`, `+1`) are evidence text.
_MARK = re.compile(r"[^\w\s]+")


def _next_token(text: str) -> tuple[str, str]:
    match = _TOKEN.search(text)
    return (match[0], text[match.end() :]) if match else ("", "")


def _one_line(raw: str) -> str:
    return " ".join(clean_text(raw).split())


def _code(token: str) -> str:
    """A user's word quoted back in a code span, cleaned and cut short."""
    shown = _one_line(token) or token.strip()
    shown = shown.replace("`", "'")
    if len(shown) > _ECHO_LIMIT:
        shown = shown[: _ECHO_LIMIT - 1] + "…"
    return f"`{shown}`"


def _trim_url(url: str) -> str:
    while url and url[-1] in _URL_TAIL:
        # Keep a closing parenthesis that belongs to the URL, as in Wikipedia links.
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _split_link(text: str) -> tuple[str, str | None]:
    """The first http(s) URL as the link, and the rest of the text around it."""
    for match in _URL.finditer(text):
        url = _trim_url(match[0])
        if re.match(r"https?://[^/]", url, re.IGNORECASE):
            rest = text[: match.start()] + " " + text[match.start() + len(url) :]
            return " ".join(rest.split()), url
    return text, None


def _split_learned(text: str) -> tuple[str, str]:
    match = _LEARNED.search(text)
    if not match:
        return text, ""
    return text[: match.start()].rstrip(" ,;:-–—"), text[match.end() :].strip()


def _too_long(*fields: str | None) -> Usage | None:
    for field in fields:
        if field and len(field) > MAX_TEXT:
            return Usage(f"That's {len(field)} characters; keep it under {MAX_TEXT}.")
    return None


def _try(name: str, hint: str = "") -> str:
    return _try_form(USAGE[name], hint)


def _try_form(form: str, hint: str) -> str:
    return f"Try `{form}` ({hint})." if hint else f"Try `{form}`."


def _keyed(name: str, rest: str) -> tuple[int, str] | Usage:
    """The bet key that must follow `name`, and the raw text after it."""
    token, rest = _next_token(rest)
    if not token:
        return Usage(f"Which bet? {_try(name)}")
    number = parse_key(token.rstrip(":,."))
    if number is None:
        return Usage(f"{_code(token)} isn't a bet key. {_try(name)}")
    return number, rest


def _duration(
    text: str, form: str, *, limit: timedelta = MAX_DURATION, what: str, hint: str = DURATION_HELP
) -> timedelta | Usage:
    """A typed duration within `limit`; else what was wrong (not a duration, or longer than
    `what` allows, saying the limit) and the right `form`."""
    duration = measure_duration(text)
    if duration is None:
        return Usage(f"{_code(text)} isn't a duration. {_try_form(form, hint)}")
    if duration > limit:
        return Usage(
            f"{_code(text)} is too long: {what} at most {format_limit(limit)}. "
            f"{_try_form(form, '')}"
        )
    return duration


# ---------------------------------------------------------------------------------------------
# One function per subcommand, each given the raw text after the subcommand word


def _new(rest: str) -> Command | Usage:
    text = _one_line(rest)
    if not text:
        return Usage(f"What's the bet? {_try('new')}")
    return _too_long(text) or New(text)


def _pivot(rest: str) -> Command | Usage:
    keyed = _keyed("pivot", rest)
    if isinstance(keyed, Usage):
        return keyed
    number, rest = keyed
    text = _one_line(rest)
    if not text:
        return Usage(f"What's the new bet? {_try('pivot')}")
    return _too_long(text) or Pivot(number, text)


def _list(rest: str) -> Command | Usage:
    text = _one_line(rest)
    if not text:
        return ListBets("open")
    if text.lower() in LIST_SCOPES:
        return ListBets(text.lower())
    return Usage(
        f"{_code(text)} isn't a list I keep. {_try('list')}" + _did_you_mean(text, LIST_SCOPES)
    )


def _key_only(name: str, make: Callable[[int], Command]) -> Callable[[str], Command | Usage]:
    def parse_key_only(rest: str) -> Command | Usage:
        keyed = _keyed(name, rest)
        if isinstance(keyed, Usage):
            return keyed
        number, rest = keyed
        if rest.strip():
            return Usage(f"`/hypothesis {name}` takes one bet key and nothing else. {_try(name)}")
        return make(number)

    return parse_key_only


def _ship(rest: str) -> Command | Usage:
    keyed = _keyed("ship", rest)
    if isinstance(keyed, Usage):
        return keyed
    number, rest = keyed
    text, link = _split_link(_one_line(rest))
    if text:
        return Usage(
            f"`/hypothesis ship` takes a bet key and one link; I don't know what to do with "
            f"{_code(text)}. {_try('ship')}"
        )
    return _too_long(link) or Ship(number, link)


def _evidence(rest: str) -> Command | Usage:
    keyed = _keyed("evidence", rest)
    if isinstance(keyed, Usage):
        return keyed
    number, rest = keyed
    marker, after = _next_token(rest)
    verdict = _VERDICTS.get(marker.lower())
    if verdict is None and _MARK.fullmatch(clean_text(marker)):
        return Usage(
            f"{_code(marker)} isn't a verdict mark: use `+` supports, `-` refutes or "
            f"`?` inconclusive. {_try('evidence')}"
        )
    if verdict is None:
        verdict, after = Verdict.INCONCLUSIVE, rest
    text, link = _split_link(_one_line(after))
    if not text and not link:
        return Usage(f"What did you see? Add text or a link. {_try('evidence')}")
    return _too_long(text, link) or AddEvidence(number, verdict, text, link)


def _validate(rest: str) -> Command | Usage:
    keyed = _keyed("validate", rest)
    if isinstance(keyed, Usage):
        return keyed
    number, rest = keyed
    text, link = _split_link(_one_line(rest))
    if not text and not link:
        return Usage(f"Validating needs evidence: text or a link. {_try('validate')}")
    return _too_long(text, link) or Validate(number, text, link)


def _invalidate(rest: str) -> Command | Usage:
    keyed = _keyed("invalidate", rest)
    if isinstance(keyed, Usage):
        return keyed
    number, rest = keyed
    evidence, learned = _split_learned(_one_line(rest))
    text, link = _split_link(evidence)
    if not text and not link:
        return Usage(f"Invalidating needs evidence: text or a link. {_try('invalidate')}")
    return _too_long(text, link, learned) or Invalidate(number, text, link, learned)


def _kill(rest: str) -> Command | Usage:
    keyed = _keyed("kill", rest)
    if isinstance(keyed, Usage):
        return keyed
    number, rest = keyed
    reason, learned = _split_learned(_one_line(rest))
    if not reason:
        return Usage(f"Why stop it? Killing a bet needs a reason. {_try('kill')}")
    return _too_long(reason, learned) or Kill(number, reason, learned)


def _signal(rest: str) -> Command | Usage:
    keyed = _keyed("signal", rest)
    if isinstance(keyed, Usage):
        return keyed
    number, rest = keyed
    text = _SIGNAL_LEAD.sub("", _one_line(rest)).strip()
    if not text:
        return Usage(f"How will we know? Say what the signal is. {_try('signal')}")
    return _too_long(text) or SetSignal(number, text)


def _drop_lead_word(text: str, words: tuple[str, ...]) -> str:
    first, _, after = text.partition(" ")
    return after if after and first.lower() in words else text


def _expect(rest: str) -> Command | Usage:
    keyed = _keyed("expect", rest)
    if isinstance(keyed, Usage):
        return keyed
    number, rest = keyed
    when = _drop_lead_word(_one_line(rest), ("in", "within", "by", "on"))
    if not when:
        return Usage(f"When should the signal show? {_try('expect', WHEN_HELP)}")
    if parse_date(when) is not None:
        return Expect(number, when)
    if measure_duration(when) is None:
        return Usage(f"{_code(when)} isn't a duration or a date. {_try('expect', WHEN_HELP)}")
    within = _duration(when, USAGE["expect"], what="`expect` takes", hint=WHEN_HELP)
    return within if isinstance(within, Usage) else Expect(number, when)


def _snooze(rest: str) -> Command | Usage:
    keyed = _keyed("snooze", rest)
    if isinstance(keyed, Usage):
        return keyed
    number, rest = keyed
    text = _drop_lead_word(_one_line(rest), ("for",))
    if not text:
        return Usage(f"For how long? {_try('snooze', DURATION_HELP)}")
    duration = _duration(text, USAGE["snooze"], what="a snooze lasts")
    return duration if isinstance(duration, Usage) else Snooze(number, duration)


def _away(rest: str) -> Command | Usage:
    text = _one_line(rest)
    if text.lower() in ("off", "back"):
        return Away(None)
    text = _drop_lead_word(text, ("until", "till", "til", "to"))
    if not text:
        return Usage(f"Away until when? {_try('away', 'or `/hypothesis away off`')}")
    until = parse_date(text)
    if until is None:
        return Usage(f"{_code(text)} isn't a date. {_try('away', 'or `/hypothesis away off`')}")
    return Away(until)


def _board(rest: str) -> Command | Usage:
    text = _one_line(rest).lower()
    if text in ("", "on"):
        return BoardSwitch(True)
    if text in ("off", "stop"):
        return BoardSwitch(False)
    return Usage(f"{_code(rest.strip())} isn't `on` or `off`. {_try('board')}")


def _report(rest: str) -> Command | Usage:
    text = _drop_lead_word(_one_line(rest), ("last", "for", "over"))
    if not text:
        return Report(DEFAULT_REPORT_WINDOW)
    window = _duration(text, USAGE["report"], limit=MAX_WINDOW, what="a report looks back")
    return window if isinstance(window, Usage) else Report(window)


# ---------------------------------------------------------------------------------------------
# Settings: a sequence of `name value…` pairs, each read by its own small parser

# "hours 09:00 - 18:00" arrives as three words; join them before splitting into words.
_SPACED_RANGE = re.compile(r"([0-9]{1,2}:[0-9]{2})(?:\s*[-–—]\s*|\s+to\s+)([0-9]{1,2}:[0-9]{2})")
_SETTING_ALIASES = {
    "timezone": "zone",
    "tz": "zone",
    "nudge": "nudge-after",
    "nudges": "nudges-per-day",
    "nudges-a-day": "nudges-per-day",
    "budget": "nudges-per-day",
}
_OFF = ("off", "none")


def _zone_name(text: str) -> str | None:
    zone = parse_zone(text)
    return zone.key if zone is not None else None


def _zone_usage(token: str) -> Usage:
    return Usage(
        f"{_code(token)} isn't a time zone I know. "
        "Use an IANA name like `Europe/Berlin` or `America/New_York`."
    )


def _setting_try(name: str, hint: str = "") -> str:
    return _try_form(SETTING_USAGE[name], hint)


# A setting parser reads the tokens after the setting's name from position `at`, and returns
# its changes and the position after what it used.
_Changes = list[tuple[str, object]]
_SettingParser = Callable[[list[str], int], tuple[_Changes, int] | Usage]


def _take(tokens: list[str], at: int) -> str:
    return clean_text(tokens[at]) if at < len(tokens) else ""


def _duration_setting(name: str, key: str) -> _SettingParser:
    def parse_duration_setting(tokens: list[str], at: int) -> tuple[_Changes, int] | Usage:
        value = _take(tokens, at)
        if not value:
            return Usage(f"`{name}` needs a duration. {_setting_try(name, DURATION_HELP)}")
        # "2 weeks" arrives as two words.
        joined = f"{value} {_take(tokens, at + 1)}"
        if value.isdigit() and measure_duration(joined) is not None:
            value, at = joined, at + 1
        duration = _duration(value, SETTING_USAGE[name], what=f"`{name}` is")
        return duration if isinstance(duration, Usage) else ([(key, duration)], at + 1)

    return parse_duration_setting


def _digest(tokens: list[str], at: int) -> tuple[_Changes, int] | Usage:
    value = _take(tokens, at)
    if value.lower() in ("off", "on"):
        return [("digest_enabled", value.lower() == "on")], at + 1
    clock = parse_clock(value)
    if clock is None:
        shown = f"{_code(value)} isn't a time of day." if value else "What time?"
        return Usage(f"{shown} {_setting_try('digest', '24-hour `HH:MM`; or `digest off`')}")
    changes: _Changes = [("digest_time", clock)]
    zone: str | None = None
    days: set[int] = set()
    at += 1
    # Zone and days may follow in either order, until the next setting's name.
    while at < len(tokens) and _setting_name(tokens[at]) not in _SETTING_PARSERS:
        value = _take(tokens, at)
        parsed_days = parse_days(value)
        if parsed_days is not None:
            days |= parsed_days
        elif (named := _zone_name(value)) is None:
            return _zone_usage(value)
        elif zone is not None:
            return Usage(f"One time zone, please. {_setting_try('digest')}")
        else:
            zone = named
        at += 1
    if zone is not None:
        changes.append(("timezone", zone))
    if days:
        changes.append(("digest_days", frozenset(days)))
    return changes, at


def _wip(tokens: list[str], at: int) -> tuple[_Changes, int] | Usage:
    value = _take(tokens, at)
    if value.lower() in _OFF:
        return [("wip_limit", None)], at + 1
    if re.fullmatch(r"[0-9]{1,3}", value) and int(value) > 0:
        return [("wip_limit", int(value))], at + 1
    shown = f"{_code(value)} isn't a WIP limit." if value else "What WIP limit?"
    return Usage(f"{shown} {_setting_try('wip', 'a number from 1 to 999, or `wip off`')}")


def _nudges_per_day(tokens: list[str], at: int) -> tuple[_Changes, int] | Usage:
    value = _take(tokens, at)
    if re.fullmatch(r"[0-9]{1,3}", value):
        return [("nudges_per_day", int(value))], at + 1
    shown = f"{_code(value)} isn't a number of nudges." if value else "How many nudges a day?"
    hint = "a number from 0 to 999; `0` stops nudges in this channel"
    return Usage(f"{shown} {_setting_try('nudges-per-day', hint)}")


def _hours(tokens: list[str], at: int) -> tuple[_Changes, int] | Usage:
    value = _take(tokens, at)
    hours = parse_hours(value)
    if hours is None:
        shown = f"{_code(value)} isn't a range of working hours." if value else "Which hours?"
        hint = "24-hour `HH:MM-HH:MM`, the start before the end"
        return Usage(f"{shown} {_setting_try('hours', hint)}")
    return [("hours", hours)], at + 1


def _days(tokens: list[str], at: int) -> tuple[_Changes, int] | Usage:
    days: set[int] = set()
    # "mon, wed, fri" arrives as three words.
    while at < len(tokens) and (parsed := parse_days(_take(tokens, at))) is not None:
        days |= parsed
        at += 1
    if not days:
        value = _take(tokens, at)
        shown = f"{_code(value)} isn't a set of days." if value else "Which days?"
        return Usage(f"{shown} {_setting_try('days', 'or `mon,wed,fri`, `weekdays`, `daily`')}")
    return [("work_days", frozenset(days))], at


def _zone(tokens: list[str], at: int) -> tuple[_Changes, int] | Usage:
    value = _take(tokens, at)
    if not value:
        return Usage(f"Which time zone? {_setting_try('zone')}")
    zone = _zone_name(value)
    if zone is None:
        return _zone_usage(value)
    return [("timezone", zone)], at + 1


def _lead(tokens: list[str], at: int) -> tuple[_Changes, int] | Usage:
    raw = tokens[at] if at < len(tokens) else ""
    if clean_text(raw).lower() in _OFF:
        return [("lead_user_id", None)], at + 1
    user = parse_user(raw)
    if user is None:
        shown = f"I can't tell who {_code(raw)} is." if raw else "Who leads this channel?"
        return Usage(
            f"{shown} Pick them from Slack's @ list. {_setting_try('lead', 'or `lead off`')}"
        )
    return [("lead_user_id", user)], at + 1


_SETTING_PARSERS: dict[str, _SettingParser] = {
    "digest": _digest,
    "nudge-after": _duration_setting("nudge-after", "nudge_after"),
    "repeat": _duration_setting("repeat", "nudge_repeat"),
    "wip": _wip,
    "sle": _duration_setting("sle", "sle_default"),
    "hours": _hours,
    "days": _days,
    "zone": _zone,
    "lead": _lead,
    "grace": _duration_setting("grace", "grace"),
    "nudges-per-day": _nudges_per_day,
}


def _setting_name(token: str) -> str:
    name = clean_text(token).lower().replace("_", "-")
    return _SETTING_ALIASES.get(name, name)


def _settings(rest: str) -> Command | Usage:
    tokens = _TOKEN.findall(_SPACED_RANGE.sub(r"\1-\2", rest))
    changes: _Changes = []
    at = 0
    while at < len(tokens):
        name = _setting_name(tokens[at])
        parser = _SETTING_PARSERS.get(name)
        if parser is None:
            names = ", ".join(f"`{known}`" for known in _SETTING_PARSERS)
            return Usage(
                f"I don't know the setting {_code(tokens[at])}. I know {names}."
                + _did_you_mean(name, _SETTING_PARSERS)
            )
        result = parser(tokens, at + 1)
        if isinstance(result, Usage):
            return result
        found, at = result
        if {key for key, _ in found} & {key for key, _ in changes}:
            return Usage(f"`{name}` changes something this command already sets; say it once.")
        changes.extend(found)
    return Settings(tuple(changes))


# ---------------------------------------------------------------------------------------------
# The entry point

_SUBCOMMANDS: dict[str, Callable[[str], Command | Usage]] = {
    "new": _new,
    "pivot": _pivot,
    "list": _list,
    "show": _key_only("show", Show),
    "start": _key_only("start", Start),
    "ship": _ship,
    "evidence": _evidence,
    "validate": _validate,
    "invalidate": _invalidate,
    "kill": _kill,
    "signal": _signal,
    "expect": _expect,
    "snooze": _snooze,
    "away": _away,
    "report": _report,
    "board": _board,
    "settings": _settings,
}


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word.lower()[:_ECHO_LIMIT], list(choices), n=1)
    return f" Did you mean `{close[0]}`?" if close else ""


def parse(text: str) -> Command | Usage:
    """Read the text of a `/hypothesis` command as Slack sends it (escaped)."""
    head, rest = _next_token(text)
    if not head:
        return OpenModal()
    word = head.lower()
    if word in ("help", "?"):
        return Help()
    subcommand = _SUBCOMMANDS.get(word)
    if subcommand is not None:
        return subcommand(rest)
    number = parse_key(head)
    if number is not None and not rest.strip():
        return Show(number)
    return Usage(f"I don't know {_code(head)}. Try `{USAGE['help']}`." + _did_you_mean(word, USAGE))
