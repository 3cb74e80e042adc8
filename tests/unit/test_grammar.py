"""The `/hypothesis` grammar: what each text means, and what a person is told when it's wrong."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.grammar import (
    HELP_TEXT,
    SETTING_USAGE,
    USAGE,
    AddEvidence,
    Away,
    BoardSwitch,
    Command,
    Expect,
    Help,
    Invalidate,
    Kill,
    ListBets,
    New,
    OpenModal,
    Pivot,
    Report,
    SetSignal,
    Settings,
    Ship,
    Show,
    Snooze,
    Start,
    Usage,
    Validate,
    clean_text,
    parse,
    parse_user,
)

WEEKDAYS = frozenset(range(5))


def usage(text: str) -> str:
    result = parse(text)
    assert isinstance(result, Usage), result
    return result.message


# --------------------------------------------------------------------------- every subcommand

HAPPY = [
    ("", OpenModal()),
    ("help", Help()),
    ("new We believe x will y", New("We believe x will y")),
    ("pivot H-3 We believe z", Pivot(3, "We believe z")),
    ("list", ListBets("open")),
    ("list overdue", ListBets("overdue")),
    ("show H-12", Show(12)),
    ("start H-12", Start(12)),
    ("ship H-12", Ship(12, None)),
    ("ship H-12 <https://x.y/pr/1>", Ship(12, "https://x.y/pr/1")),
    ("evidence H-12 + signups up 12%", AddEvidence(12, "supports", "signups up 12%", None)),
    ("evidence H-12 - no change", AddEvidence(12, "refutes", "no change", None)),
    ("evidence H-12 ? mixed", AddEvidence(12, "inconclusive", "mixed", None)),
    ("validate H-12 <https://x.y/d> up 12%", Validate(12, "up 12%", "https://x.y/d")),
    ("invalidate H-12 flat learned: wrong users", Invalidate(12, "flat", None, "wrong users")),
    ("kill H-12 no users", Kill(12, "no users", "")),
    ("signal H-12 signups rise 10%", SetSignal(12, "signups rise 10%")),
    ("expect H-12 10d", Expect(12, "10d")),
    ("expect H-12 2026-12-01", Expect(12, "2026-12-01")),
    ("snooze H-12 3d", Snooze(12, timedelta(days=3))),
    ("away until 2026-12-01", Away(date(2026, 12, 1))),
    ("away off", Away(None)),
    ("report", Report(timedelta(days=30))),
    ("board", BoardSwitch(True)),
    ("board off", BoardSwitch(False)),
    ("report 2w", Report(timedelta(days=14))),
    ("settings", Settings(())),
    ("settings wip 5", Settings((("wip_limit", 5),))),
]

BAD = [
    ("new", "What's the bet?"),
    ("new    ", "What's the bet?"),
    ("pivot", "Which bet?"),
    ("pivot H-3", "What's the new bet?"),
    ("list everything", "isn't a list I keep"),
    ("show", "Which bet?"),
    ("show H-x", "`H-x` isn't a bet key"),
    ("start H-12 H-13", "takes one bet key and nothing else"),
    ("ship H-12 finally done", "I don't know what to do with `finally done`"),
    ("evidence H-12", "What did you see?"),
    ("validate H-12", "Validating needs evidence"),
    ("invalidate H-12 learned: wrong users", "Invalidating needs evidence"),
    ("kill H-12", "Killing a bet needs a reason"),
    ("signal H-12", "How will we know?"),
    ("expect H-12 soon", "`soon` isn't a duration or a date"),
    ("snooze H-12 soon", "`soon` isn't a duration"),
    ("away soon", "`soon` isn't a date"),
    ("report lately", "`lately` isn't a duration"),
    ("board sideways", "`sideways` isn't `on` or `off`"),
    ("settings wip many", "`many` isn't a WIP limit"),
    ("frobnicate", "I don't know `frobnicate`"),
]


@pytest.mark.parametrize(("text", "expected"), HAPPY, ids=[text or "(empty)" for text, _ in HAPPY])
def test_each_subcommand_reads_its_right_form(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(("text", "expected"), BAD, ids=[text for text, _ in BAD])
def test_each_subcommand_explains_a_wrong_form(text: str, expected: str) -> None:
    assert expected in usage(text)


def test_every_subcommand_has_a_happy_and_a_bad_case() -> None:
    covered_happy = {text.split(" ")[0] for text, _ in HAPPY}
    covered_bad = {text.split(" ")[0] for text, _ in BAD}
    subcommands = set(USAGE) - {"help"}
    assert subcommands <= covered_happy
    assert subcommands <= covered_bad


# --------------------------------------------------------------------------- words and keys


def test_bare_command_opens_the_form() -> None:
    assert parse("   \n ") == OpenModal()


def test_question_mark_asks_for_help() -> None:
    assert parse("?") == Help()


def test_subcommand_is_case_insensitive() -> None:
    assert parse("SHOW H-12") == parse("Show H-12") == Show(12)


@pytest.mark.parametrize("key", ["H-12", "h-12", "H12", "h12", "12"])
def test_keys_are_case_insensitive(key: str) -> None:
    assert parse(f"show {key}") == Show(12)


def test_key_followed_by_a_colon_still_reads() -> None:
    assert parse("evidence H-12: signups up") == AddEvidence(12, "inconclusive", "signups up", None)


def test_missing_key_asks_which_bet_with_the_right_form() -> None:
    assert usage("start") == "Which bet? Try `/hypothesis start H-12`."


def test_bad_key_is_named_with_the_right_form() -> None:
    assert usage("show H-x") == "`H-x` isn't a bet key. Try `/hypothesis show H-12`."


def test_zero_is_not_a_bet_key() -> None:
    assert "isn't a bet key" in usage("show H-0")


def test_a_key_alone_shows_that_bet() -> None:
    assert parse("H-7") == Show(7)


def test_unknown_subcommand_points_to_help() -> None:
    assert usage("frobnicate") == "I don't know `frobnicate`. Try `/hypothesis help`."


def test_unknown_subcommand_suggests_a_close_match() -> None:
    assert usage("shp H-12").endswith("Did you mean `ship`?")


def test_echoed_words_cannot_break_out_of_code() -> None:
    message = usage("fro`bni`cate")
    assert "`fro'bni'cate`" in message


def test_long_echoed_words_are_cut_short() -> None:
    message = usage("x" * 500)
    assert "x" * 39 + "…" in message
    assert "x" * 41 not in message


# --------------------------------------------------------------------------- new and pivot


def test_new_keeps_emoji_and_right_to_left_text() -> None:
    text = "We believe 🚀 onboarding for שלום users will lift signups 📈"
    assert parse(f"new {text}") == New(text)


def test_new_collapses_whitespace_and_newlines() -> None:
    assert parse("new  We believe\n x   will y ") == New("We believe x will y")


def test_new_keeps_the_text_after_cleaning() -> None:
    assert parse("new We believe Q&amp;A &lt;3 <@U1|ann>") == New("We believe Q&A <3 @ann")


def test_text_over_the_limit_is_refused_with_its_length() -> None:
    assert usage("new " + "x" * 5000) == "That's 5000 characters; keep it under 3000."


def test_text_at_the_limit_is_accepted() -> None:
    assert parse("new " + "x" * 3000) == New("x" * 3000)


def test_pivot_without_a_key_asks_which_bet() -> None:
    assert usage("pivot We believe z").startswith("`We` isn't a bet key.")


# --------------------------------------------------------------------------- list


@pytest.mark.parametrize("scope", ["open", "mine", "shipped", "overdue", "all"])
def test_list_accepts_each_scope(scope: str) -> None:
    assert parse(f"list {scope.upper()}") == ListBets(scope)


def test_list_suggests_a_close_scope() -> None:
    assert usage("list mne").endswith("Did you mean `mine`?")


# --------------------------------------------------------------------------- ship and links


def test_ship_takes_a_labelled_link_as_its_url() -> None:
    assert parse("ship H-2 <https://github.com/o/r/pull/9|PR 9>") == Ship(
        2, "https://github.com/o/r/pull/9"
    )


def test_ship_takes_a_plain_url() -> None:
    assert parse("ship H-2 https://x.y/z") == Ship(2, "https://x.y/z")


def test_link_entities_are_decoded() -> None:
    assert parse("ship H-2 <https://x.y/?a=1&amp;b=2>") == Ship(2, "https://x.y/?a=1&b=2")


def test_only_the_first_url_becomes_the_link() -> None:
    assert parse("evidence H-2 see <https://a.b/1> and <https://a.b/2>") == AddEvidence(
        2, "inconclusive", "see and https://a.b/2", "https://a.b/1"
    )


def test_trailing_punctuation_is_not_part_of_a_link() -> None:
    result = parse("evidence H-2 dashboard (https://a.b/d).")
    assert isinstance(result, AddEvidence)
    assert result.link == "https://a.b/d"


def test_a_url_that_ends_in_a_parenthesis_keeps_it() -> None:
    result = parse("evidence H-2 https://en.wikipedia.org/wiki/Bet_(disambiguation)")
    assert isinstance(result, AddEvidence)
    assert result.link == "https://en.wikipedia.org/wiki/Bet_(disambiguation)"


def test_a_non_web_link_is_text_not_a_link() -> None:
    assert parse("evidence H-2 <mailto:a@b.c|a@b.c> said yes") == AddEvidence(
        2, "inconclusive", "a@b.c said yes", None
    )


# --------------------------------------------------------------------------- evidence


@pytest.mark.parametrize(
    ("marker", "verdict"),
    [
        ("+", "supports"),
        ("-", "refutes"),
        ("–", "refutes"),
        ("?", "inconclusive"),
        ("supports", "supports"),
        ("Refutes", "refutes"),
        ("inconclusive", "inconclusive"),
    ],
)
def test_evidence_marker_sets_the_verdict(marker: str, verdict: str) -> None:
    assert parse(f"evidence H-4 {marker} churn down") == AddEvidence(4, verdict, "churn down", None)


def test_evidence_without_a_marker_is_inconclusive() -> None:
    assert parse("evidence H-4 churn down") == AddEvidence(4, "inconclusive", "churn down", None)


def test_a_minus_sign_on_a_number_is_text_not_a_marker() -> None:
    assert parse("evidence H-4 -5% churn") == AddEvidence(4, "inconclusive", "-5% churn", None)


@pytest.mark.parametrize("mark", ["*", "!", "=>", "++", "&gt;", "…"])
def test_an_unknown_verdict_mark_is_refused_showing_the_marks(mark: str) -> None:
    said = usage(f"evidence H-13 {mark} weird verdict")
    assert "isn't a verdict mark: use `+` supports, `-` refutes or `?` inconclusive." in said
    assert "Try `/hypothesis evidence H-12 [+|-|?]" in said


def test_evidence_may_be_only_a_link() -> None:
    assert parse("evidence H-4 + <https://a.b>") == AddEvidence(4, "supports", "", "https://a.b")


def test_empty_evidence_after_a_marker_is_refused() -> None:
    assert usage("evidence H-4 +").startswith("What did you see?")


# --------------------------------------------------------------------------- closing moves


def test_validate_takes_text_and_link() -> None:
    assert parse("validate H-5 up 12% https://a.b/d") == Validate(5, "up 12%", "https://a.b/d")


def test_invalidate_splits_what_we_learned() -> None:
    assert parse("invalidate H-5 flat <https://a.b> Learned: admins export") == Invalidate(
        5, "flat", "https://a.b", "admins export"
    )


def test_invalidate_without_learned_leaves_it_for_the_service_to_ask() -> None:
    assert parse("invalidate H-5 flat") == Invalidate(5, "flat", None, "")


def test_kill_splits_reason_and_learned() -> None:
    assert parse("kill H-3 nobody used it learned: admins export via API") == Kill(
        3, "nobody used it", "admins export via API"
    )


def test_kill_learned_marker_is_case_insensitive_and_may_say_we() -> None:
    assert parse("kill H-3 nobody used it; we LEARNED: they export") == Kill(
        3, "nobody used it", "they export"
    )


def test_kill_without_reason_asks_for_one() -> None:
    assert usage("kill H-3") == (
        f"Why stop it? Killing a bet needs a reason. Try `{USAGE['kill']}`."
    )


def test_kill_with_only_learned_still_asks_for_a_reason() -> None:
    assert usage("kill H-3 learned: something").startswith("Why stop it?")


def test_a_long_learned_is_refused() -> None:
    assert usage("kill H-3 no users learned: " + "y" * 3001) == (
        "That's 3001 characters; keep it under 3000."
    )


# --------------------------------------------------------------------------- signal and timing


@pytest.mark.parametrize(
    "lead", ["We'll know when", "we’ll know when", "We will know when", "We'll know if"]
)
def test_signal_drops_a_leading_well_know_when(lead: str) -> None:
    assert parse(f"signal H-6 {lead} signups rise 10%") == SetSignal(6, "signups rise 10%")


def test_signal_that_is_only_the_lead_is_refused() -> None:
    assert usage("signal H-6 We'll know when").startswith("How will we know?")


def test_expect_keeps_the_raw_token_for_the_service() -> None:
    assert parse("expect H-6 in 2 weeks") == Expect(6, "2 weeks")


def test_expect_without_a_value_shows_both_forms() -> None:
    assert "a date like `2026-12-01`" in usage("expect H-6")


def test_snooze_names_the_bad_duration_and_the_right_form() -> None:
    assert usage("snooze H-12 soon") == (
        "`soon` isn't a duration. Try `/hypothesis snooze H-12 3d` "
        "(a duration like `12h`, `3d` or `2w`)."
    )


def test_snooze_reads_for_before_a_duration() -> None:
    assert parse("snooze h12 for 1w") == Snooze(12, timedelta(weeks=1))


def test_away_takes_a_bare_date() -> None:
    assert parse("away 2026-12-01") == Away(date(2026, 12, 1))


def test_away_alone_asks_until_when() -> None:
    assert usage("away").startswith("Away until when?")


def test_report_refuses_a_zero_window() -> None:
    assert "isn't a duration" in usage("report 0d")


# --------------------------------------------------------------------------- settings


def test_settings_take_several_changes_at_once() -> None:
    assert parse("settings nudge-after 3d wip 5") == Settings(
        (("nudge_after", timedelta(days=3)), ("wip_limit", 5))
    )


def test_digest_takes_time_zone_and_days() -> None:
    assert parse("settings digest 9:30 Europe/Berlin mon-fri") == Settings(
        (
            ("digest_time", time(9, 30)),
            ("timezone", "Europe/Berlin"),
            ("digest_days", WEEKDAYS),
        )
    )


def test_digest_takes_just_a_time() -> None:
    assert parse("settings digest 09:30") == Settings((("digest_time", time(9, 30)),))


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("mon,wed,fri", frozenset({0, 2, 4})),
        ("daily", frozenset(range(7))),
        ("weekdays", WEEKDAYS),
        ("sat-sun", frozenset({5, 6})),
        ("fri-mon", frozenset({4, 5, 6, 0})),
    ],
)
def test_digest_days_are_read_monday_first(days: str, expected: frozenset[int]) -> None:
    assert parse(f"settings digest 10:00 {days}") == Settings(
        (("digest_time", time(10, 0)), ("digest_days", expected))
    )


@pytest.mark.parametrize(("word", "enabled"), [("off", False), ("on", True), ("OFF", False)])
def test_digest_can_be_turned_off_and_on(word: str, enabled: bool) -> None:
    assert parse(f"settings digest {word}") == Settings((("digest_enabled", enabled),))


def test_zone_names_are_forgiven_their_case() -> None:
    assert parse("settings zone america/new_york") == Settings((("timezone", "America/New_York"),))


def test_bad_zone_is_refused_with_example() -> None:
    assert usage("settings digest 09:30 Europe/Berlinn") == (
        "`Europe/Berlinn` isn't a time zone I know. "
        "Use an IANA name like `Europe/Berlin` or `America/New_York`."
    )


def test_a_zone_region_alone_is_not_a_zone() -> None:
    assert "isn't a time zone I know" in usage("settings zone Europe")


@pytest.mark.parametrize("clock", ["24:00", "9:60", "930", "9.30", "nine"])
def test_digest_time_outside_the_day_is_refused(clock: str) -> None:
    assert f"`{clock}` isn't a time of day" in usage(f"settings digest {clock}")


@pytest.mark.parametrize(
    ("value", "key", "duration"),
    [
        ("nudge-after 3d", "nudge_after", timedelta(days=3)),
        ("repeat 2d", "nudge_repeat", timedelta(days=2)),
        ("sle 14d", "sle_default", timedelta(days=14)),
        ("grace 3h", "grace", timedelta(hours=3)),
        ("grace 2 weeks", "grace", timedelta(weeks=2)),
    ],
)
def test_duration_settings_are_read(value: str, key: str, duration: timedelta) -> None:
    assert parse(f"settings {value}") == Settings(((key, duration),))


def test_duration_setting_without_a_value_names_the_setting() -> None:
    assert usage("settings repeat").startswith("`repeat` needs a duration.")


def test_wip_off_removes_the_limit() -> None:
    assert parse("settings wip off") == Settings((("wip_limit", None),))


def test_wip_zero_is_refused() -> None:
    assert "`0` isn't a WIP limit" in usage("settings wip 0")


def test_hours_are_a_start_and_an_end() -> None:
    assert parse("settings hours 08:00-17:00") == Settings((("hours", (time(8), time(17))),))


def test_hours_may_be_spaced_around_the_dash() -> None:
    assert parse("settings hours 8:00 - 17:00") == Settings((("hours", (time(8), time(17))),))


def test_hours_that_end_before_they_start_are_refused() -> None:
    assert "the start before the end" in usage("settings hours 17:00-08:00")


def test_work_days_may_be_listed_with_spaces() -> None:
    assert parse("settings days mon, wed, fri") == Settings((("work_days", frozenset({0, 2, 4})),))


@pytest.mark.parametrize("mention", ["<@U1AB|bob smith>", "<@U1AB>", "U1AB", "@U1AB"])
def test_lead_is_read_from_a_mention_or_an_id(mention: str) -> None:
    assert parse(f"settings lead {mention}") == Settings((("lead_user_id", "U1AB"),))


def test_lead_off_clears_the_lead() -> None:
    assert parse("settings lead off") == Settings((("lead_user_id", None),))


def test_lead_by_plain_name_asks_for_a_real_mention() -> None:
    assert "I can't tell who `@bob` is" in usage("settings lead @bob")


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("nudges-per-day 3", 3),
        ("nudges-per-day 0", 0),
        ("nudges_per_day 999", 999),
        ("nudges 2", 2),
        ("budget 7", 7),
    ],
)
def test_the_nudge_budget_is_a_number_of_nudges_a_day(text: str, count: int) -> None:
    assert parse(f"settings {text}") == Settings((("nudges_per_day", count),))


@pytest.mark.parametrize("value", ["-1", "1000", "lots", "2.5", "5d"])
def test_a_bad_nudge_budget_is_named_with_the_right_form(value: str) -> None:
    message = usage(f"settings nudges-per-day {value}")
    assert message.startswith(f"`{value}` isn't a number of nudges.")
    assert "`/hypothesis settings nudges-per-day 5`" in message
    assert "`0` stops nudges" in message


def test_a_nudge_budget_without_a_number_asks_for_one() -> None:
    assert usage("settings nudges-per-day").startswith("How many nudges a day?")


def test_the_nudge_budget_combines_with_other_settings() -> None:
    assert parse("settings wip 4 nudges-per-day 2") == Settings(
        (("wip_limit", 4), ("nudges_per_day", 2))
    )


def test_zone_setting_sets_the_timezone() -> None:
    assert parse("settings zone UTC") == Settings((("timezone", "UTC"),))


def test_a_bad_change_changes_nothing() -> None:
    assert isinstance(parse("settings wip 5 nudge-after soon"), Usage)


def test_the_same_setting_twice_is_refused() -> None:
    assert "say it once" in usage("settings wip 5 wip 6")


def test_unknown_setting_lists_the_known_ones() -> None:
    message = usage("settings frequency 3d")
    assert "I don't know the setting `frequency`" in message
    assert all(f"`{name}`" in message for name in SETTING_USAGE)


# --------------------------------------------------------------------------- Slack's escaping


def test_entities_are_decoded() -> None:
    assert clean_text("a &amp; b &lt;c&gt;") == "a & b <c>"


def test_entities_are_decoded_once() -> None:
    assert clean_text("&amp;lt;") == "&lt;"


def test_decoded_brackets_are_not_read_as_mentions() -> None:
    assert clean_text("&lt;!channel&gt;") == "<!channel>"


def test_user_mention_becomes_its_name() -> None:
    assert clean_text("ask <@U123|ann> and <@W9ZZ>") == "ask @ann and @W9ZZ"


def test_escaped_channel_mention_becomes_inert_text() -> None:
    assert clean_text("hey <!channel> <!here> <!everyone>") == "hey @channel @here @everyone"


def test_channel_link_becomes_its_name() -> None:
    assert clean_text("see <#C1|product> or <#C2>") == "see #product or #C2"


def test_user_group_becomes_its_handle() -> None:
    assert clean_text("<!subteam^S1|@design> <!subteam^S2>") == "@design @S2"


def test_link_becomes_its_url() -> None:
    assert clean_text("<https://x.y/z|label> <https://a.b>") == "https://x.y/z https://a.b"


def test_unstorable_characters_are_dropped() -> None:
    assert clean_text("a\x00b\r\nc") == "ab\nc"


def test_clean_text_keeps_newlines_for_multi_line_replies() -> None:
    assert clean_text("line one\nline two") == "line one\nline two"


@pytest.mark.parametrize(
    ("token", "user"),
    [
        ("<@U123|ann>", "U123"),
        ("<@U123>", "U123"),
        ("U123", "U123"),
        ("W123ABC", "W123ABC"),
        (" <@U123> ", "U123"),
        ("@ann", None),
        ("u123", None),
        ("U1", None),
        ("<#C123|general>", None),
        ("", None),
    ],
)
def test_parse_user_reads_mentions_and_bare_ids(token: str, user: str | None) -> None:
    assert parse_user(token) == user


# --------------------------------------------------------------------------- help


def test_help_lists_every_subcommand_and_setting() -> None:
    for form in [*USAGE.values(), *SETTING_USAGE.values()]:
        assert form.removeprefix("/hypothesis settings ") in HELP_TEXT


# --------------------------------------------------------------------------- never raises


@settings(max_examples=2000, deadline=None)
@given(st.text())
def test_parse_never_raises_and_returns_a_command_or_usage(text: str) -> None:
    assert isinstance(parse(text), Command | Usage)


FRAGMENTS = [
    " ",
    "H-1",
    "12",
    "3d",
    "2 weeks",
    "09:30",
    "-",
    "–",
    "+",
    "?",
    ":",
    ",",
    "&amp;",
    "&lt;",
    "<",
    ">",
    "<@U1|a b>",
    "<!channel>",
    "<https://a.b|x>",
    "https://a.b/(c)",
    "learned:",
    "Europe/Berlin",
    "mon-fri",
    "off",
    "wip",
    "digest",
    "\n",
    "\x00",
    "🚀",
    "שלום",
    "`",
]


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from([*USAGE, "settings digest", "settings hours", "settings lead", "H-1"]),
    st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join),
)
def test_parse_never_raises_for_each_subcommand(subcommand: str, text: str) -> None:
    assert isinstance(parse(f"{subcommand} {text}"), Command | Usage)


# --------------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("report 1096d", "`1096d` is too long: a report looks back at most 3 years (1095d)."),
        ("snooze H-1 157w", "`157w` is too long: a snooze lasts at most 3 years (1095d)."),
        ("expect H-1 9999d", "`9999d` is too long: `expect` takes at most 3 years (1095d)."),
        ("settings sle 5000d", "`5000d` is too long: `sle` is at most 3 years (1095d)."),
        ("settings grace 200 weeks", "`200 weeks` is too long: `grace` is at most 3 years"),
    ],
)
def test_a_duration_over_its_limit_says_the_limit(text: str, says: str) -> None:
    assert usage(text).startswith(says)


def test_a_duration_at_its_limit_is_accepted() -> None:
    assert parse("report 1095d") == Report(timedelta(days=1095))
    assert parse("snooze H-1 1095d") == Snooze(1, timedelta(days=1095))
