"""Block Kit builders: valid for slack_sdk.models, inside Slack's limits, user text inert."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bets.evidence import EvidenceFacts, Verdict
from bets.lifecycle import Move, State, allowed_moves
from bets.metrics import BetFacts
from bot.blocks import ids
from bot.blocks.card import MOVE_ACTION_IDS, card, card_text, show_blocks
from bot.blocks.lists import bet_list, help_blocks, message
from bot.blocks.modals import close_modal, evidence_modal, new_bet_modal, read_values
from bot.blocks.replies import confirmation, reply_answered, reply_prompt
from bot.blocks.text import (
    MAX_BLOCKS_MESSAGE,
    MAX_BUTTON_TEXT,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    MAX_VIEW_TITLE,
    button,
    cap_blocks,
    context,
    escape,
    link,
    section,
    truncate,
    user,
)
from usecases.results import Happened

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SMUGGLED = ("<!channel>", "<!here>", "<https://evil.example|click>", "<@U0ADMIN>")
HOSTILE = "Faster search <!channel> <!here> <https://evil.example|click> <@U0ADMIN> & co"


def make_bet(**changes: Any) -> BetFacts:
    fields: dict[str, Any] = {
        "started_at": None,
        "shipped_at": None,
        "closed_at": None,
        "first_feedback_at": None,
        "id": 7,
        "team_id": "T1",
        "number": 3,
        "channel_id": "C1",
        "title": "Faster search",
        "hypothesis": "We believe instant results for editors will cut time to publish",
        "signal": "median time to publish drops 20%",
        "owner_id": "U0OWNER",
        "creator_id": "U0OWNER",
        "state": "proposed",
        "created_at": NOW - timedelta(days=10),
    }
    stamps = {
        "building": ("started_at",),
        "shipped": ("started_at", "shipped_at"),
        "validated": ("shipped_at", "closed_at"),
        "invalidated": ("shipped_at", "closed_at"),
        "killed": ("closed_at",),
    }
    for stamp in stamps.get(changes.get("state", "proposed"), ()):
        fields[stamp] = NOW - timedelta(days=3)
    fields.update(changes)
    fields["state"] = State(fields["state"])
    fields.pop("coach_notes", None)  # coaching is never on a card (T11)
    return BetFacts(**fields)


def make_evidence(n: int, **changes: Any) -> EvidenceFacts:
    fields: dict[str, Any] = {
        "id": 100 + n,
        "bet_id": 7,
        "text": f"observation {n}",
        "link": None,
        "verdict": "supports",
        "source": "thread",
        "author_id": "U0AUTHOR",
        "at": NOW - timedelta(hours=n),
    }
    fields.update(changes)
    fields["verdict"] = Verdict(fields["verdict"])
    return EvidenceFacts(**fields)


def make_event(n: int) -> Happened:
    return Happened(
        kind="move",
        actor_id="U0OWNER",
        at=NOW - timedelta(days=n),
        from_state="proposed",
        to_state="shipped",
        data={},
    )


def strings(value: Any) -> Iterator[str]:
    """Every string anywhere in a JSON-ready structure."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def text_objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if value.get("type") in ("plain_text", "mrkdwn"):
            yield value
        for item in value.values():
            yield from text_objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from text_objects(item)


def assert_text_objects_fit(value: Any) -> None:
    for text in text_objects(value):
        assert 1 <= len(text["text"]) <= MAX_SECTION_TEXT


def assert_valid_blocks(blocks: list[dict[str, Any]]) -> None:
    """slack_sdk accepts every block, drops nothing, and the message fits Slack's caps."""
    assert 1 <= len(blocks) <= MAX_BLOCKS_MESSAGE
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()
        assert parsed.to_dict() == block  # to_dict validates nested objects too
    assert_text_objects_fit(blocks)
    json.dumps(blocks)


def assert_valid_view(view: dict[str, Any]) -> None:
    parsed = View(**view)
    parsed.validate_json()
    assert parsed.to_dict() == view
    for block in view["blocks"]:
        Block.parse(block).validate_json()
    assert_text_objects_fit(view)
    json.loads(view["private_metadata"])


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        element["action_id"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def all_bets() -> list[BetFacts]:
    return [make_bet(state=str(state)) for state in State]


# --- escaping and text ------------------------------------------------------------------


def test_title_with_channel_mention_is_inert() -> None:
    bet = make_bet(
        title=HOSTILE,
        hypothesis=HOSTILE,
        signal=HOSTILE,
        learned=HOSTILE,
        close_reason=HOSTILE,
        coach_notes=HOSTILE,
        state="killed",
    )
    rendered = [
        card(bet, now=NOW),
        show_blocks(bet, [make_evidence(1, text=HOSTILE, source=HOSTILE)], [], now=NOW),
        bet_list([bet], now=NOW, title=HOSTILE, more_hint="`/hypothesis list all`"),
        evidence_modal(bet),
        close_modal(make_bet(title=HOSTILE, state="shipped"), Move.VALIDATE),
        card_text(bet),
    ]
    text = "\n".join(strings(rendered))
    for smuggled in SMUGGLED:
        assert smuggled not in text
    assert "&lt;!channel&gt;" in text
    assert "&amp; co" in text


def test_escape_turns_control_characters_into_entities() -> None:
    assert escape("a & b <c> d") == "a &amp; b &lt;c&gt; d"


def test_emoji_and_rtl_text_survive_escaping() -> None:
    title = "שלום עולם 👋🏽 مرحبا ‏بالعالم 🇩🇪 👨‍👩‍👧 1️⃣"
    assert escape(title) == title
    assert title in card_text(make_bet(title=title))
    assert_valid_blocks(card(make_bet(title=title, hypothesis=title), now=NOW))


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("abcdef", 4, "abc…"),
        ("a &amp; b", 5, "a…"),  # never "a &a…"
        ("x &lt;y", 6, "x…"),
        ("👋🏽👋🏽👋🏽", 4, "👋🏽…"),  # the skin tone stays with its hand
        ("🇩🇪🇫🇷🇮🇹", 4, "🇩🇪…"),  # flags stay pairs
        ("ab👨‍👩‍👧cd", 6, "ab…"),  # a family is one glyph
        ("see <@U123> now", 8, "see…"),  # a mention is never cut in half
    ],
)
def test_truncate_never_breaks_an_entity_a_mention_or_an_emoji(
    text: str, limit: int, expected: str
) -> None:
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= limit


def test_user_mentions_only_real_ids() -> None:
    assert user("U0123ABC") == "<@U0123ABC>"
    assert user("<!channel>") == "&lt;!channel&gt;"


def test_link_encodes_url_breakers_and_escapes_the_label() -> None:
    assert (
        link("https://x.example/a|b>c", "<!here>") == "<https://x.example/a%7Cb%3Ec|&lt;!here&gt;>"
    )
    assert link("javascript:alert(1)", "click") == "javascript:alert(1)"
    assert link("https://x.example/") == "<https://x.example/>"


def test_long_button_text_is_cut_and_oversized_ids_are_refused() -> None:
    element = button("x" * 500, ids.SHIP, "7")
    assert len(element["text"]["text"]) == MAX_BUTTON_TEXT
    with pytest.raises(ValueError):
        button("Ship", "a" * 300, "7")


def test_cap_blocks_ends_with_the_more_line() -> None:
    blocks = [section(str(n)) for n in range(60)]
    capped = cap_blocks(blocks, more="and {n} more — `/hypothesis list overdue`")
    assert len(capped) == MAX_BLOCKS_MESSAGE
    assert capped[-1] == context("and 11 more — `/hypothesis list overdue`")
    assert cap_blocks(blocks[:5], more="unused") == blocks[:5]


# --- card ------------------------------------------------------------------------------


@pytest.mark.parametrize("bet", all_bets(), ids=[str(state) for state in State])
def test_every_card_is_valid_block_kit(bet: BetFacts) -> None:
    assert_valid_blocks(card(bet, now=NOW))


@pytest.mark.parametrize("state", list(State))
def test_card_buttons_are_the_legal_moves(state: State) -> None:
    found = action_ids(card(make_bet(state=str(state)), now=NOW))
    moves = {MOVE_ACTION_IDS[move] for move in allowed_moves(state)}
    assert {action for action in found if action in MOVE_ACTION_IDS.values()} == moves
    assert (ids.ADD_EVIDENCE in found) == (not state.is_final)
    assert (ids.SNOOZE in found) == (state is State.SHIPPED)


def test_card_buttons_carry_the_bet_id() -> None:
    blocks = card(make_bet(state="shipped", id=42), now=NOW)
    values = {e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]}
    assert values == {"42"}


def test_card_of_killed_bet_has_no_buttons() -> None:
    bet = make_bet(state="killed", close_reason="Nobody asked for it", learned="Ask first")
    blocks = card(bet, now=NOW)
    assert action_ids(blocks) == []
    text = "\n".join(strings(blocks))
    assert "Nobody asked for it" in text
    assert "*Learned:* Ask first" in text


def test_card_shows_what_a_bet_is_and_where_it_stands() -> None:
    bet = make_bet(
        state="shipped",
        link="https://tracker.example/PRJ-1",
        expected_at=NOW + timedelta(days=5),
        evidence_count=2,
    )
    text = "\n".join(strings(card(bet, now=NOW, pivot_of_number=2)))
    for part in (
        "H-3 · Faster search",
        "We believe instant results",
        "We'll know when median time to publish drops 20%",
        "<@U0OWNER>",
        "🚀 shipped",
        "shipped 3d ago",
        "2 evidence",
        "signal expected Sat 7 Mar",
        "<https://tracker.example/PRJ-1|tracker.example/PRJ-1>",
        "Pivot of H-2",
    ):
        assert part in text


def test_card_without_a_signal_says_how_to_add_one() -> None:
    text = "\n".join(strings(card(make_bet(signal=""), now=NOW)))
    assert "No signal yet" in text
    assert "`/hypothesis signal H-3 &lt;text&gt;`" in text


def test_t11_the_public_card_never_carries_coaching() -> None:
    for state in State:
        text = json.dumps(card(make_bet(state=state, signal="it works"), now=NOW))
        assert "🧭" not in text and "coach" not in text.lower()


@pytest.mark.parametrize("state", ["validated", "invalidated", "killed"])
def test_t11_a_closed_bets_card_and_show_offer_no_move_or_suggestion(state: str) -> None:
    bet = make_bet(state=state, signal="", learned="admins want an API", close_reason="why")
    for blocks in (card(bet, now=NOW), show_blocks(bet, [], [], now=NOW)):
        text = "\n".join(strings(blocks))
        assert "/hypothesis" not in text
        assert not [b for b in blocks if b["type"] == "actions"]


def test_t1_card_before_shipping_says_within_n_counts_from_shipping() -> None:
    bet = make_bet(expect_within=timedelta(days=7))
    assert "signal expected 7d after shipping" in "\n".join(strings(card(bet, now=NOW)))
    shipped = make_bet(state="shipped", expect_within=timedelta(days=7))
    # shipped 3 days before NOW (Mon 2 Mar 2026): expected 4 days from now
    assert "signal expected Fri 6 Mar" in "\n".join(strings(card(shipped, now=NOW)))


def test_t7_card_dates_are_in_the_channels_zone_with_the_weekday() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # expect 2026-11-20 typed in Berlin: midnight there is 23:00 UTC the day before
    moment = datetime(2026, 11, 20, tzinfo=berlin)
    bet = make_bet(expected_at=moment)
    text = "\n".join(strings(card(bet, now=NOW, tz=berlin)))
    assert "signal expected Fri 20 Nov" in text
    next_year = make_bet(expected_at=datetime(2027, 1, 5, tzinfo=berlin))
    assert "Tue 5 Jan 2027" in "\n".join(strings(card(next_year, now=NOW, tz=berlin)))


def test_five_thousand_char_title_is_truncated_within_limits() -> None:
    long = "&" * 5000
    bet = make_bet(
        title=long,
        hypothesis=long,
        signal=long,
        learned=long,
        state="invalidated",
        close_reason=long,
    )
    assert_valid_blocks(card(bet, now=NOW))
    assert_valid_blocks(bet_list([bet], now=NOW, title=long, more_hint="`/hypothesis list`"))
    assert len(card_text(bet)) < 400
    list_header = bet_list([bet], now=NOW, title=long, more_hint="x")[0]
    assert len(list_header["text"]["text"]) <= MAX_HEADER_TEXT
    for text in strings(card(bet, now=NOW)):
        assert not text.endswith(("&…", "&a…", "&am…", "&amp…"))


def test_card_text_is_the_escaped_notification_line() -> None:
    assert card_text(make_bet(state="shipped")) == "H-3 · Faster search · shipped"
    assert card_text(make_bet(title="R&D <b>")) == "H-3 · R&amp;D &lt;b&gt; · proposed"


# --- show ------------------------------------------------------------------------------


def test_show_lists_evidence_newest_first_and_history() -> None:
    evidence = [
        make_evidence(5, text="older", verdict="refutes"),
        make_evidence(1, text="newer", link="https://x.example/1"),
    ]
    blocks = show_blocks(make_bet(state="shipped"), evidence, [make_event(1)], now=NOW)
    assert_valid_blocks(blocks)
    text = "\n".join(strings(blocks))
    assert text.index("newer") < text.index("older")
    assert "move proposed → shipped" in text
    assert "2 evidence" in text


def test_show_with_much_evidence_is_capped_with_and_n_more() -> None:
    evidence = [make_evidence(n) for n in range(80)]
    events = [make_event(n) for n in range(30)]
    blocks = show_blocks(make_bet(state="shipped"), evidence, events, now=NOW)
    assert_valid_blocks(blocks)
    assert len(blocks) == MAX_BLOCKS_MESSAGE
    assert any("older pieces of evidence" in t for t in strings(blocks))
    assert blocks[-2] == section("*History*")


def test_show_without_evidence_or_events_is_valid() -> None:
    assert_valid_blocks(show_blocks(make_bet(), [], [], now=NOW))


# --- lists and replies -----------------------------------------------------------------


def test_long_list_is_cut_with_and_n_more() -> None:
    bets = [make_bet(id=n, number=n, state="shipped") for n in range(1, 121)]
    blocks = bet_list(bets, now=NOW, title="Overdue", more_hint="`/hypothesis list overdue`")
    assert_valid_blocks(blocks)
    assert len(blocks) == MAX_BLOCKS_MESSAGE
    # a header, 48 bets, then the line for the 72 left off
    assert blocks[-1] == context("and 72 more — `/hypothesis list overdue`")


def test_empty_list_says_so() -> None:
    blocks = bet_list([], now=NOW, title="Mine", more_hint="x")
    assert_valid_blocks(blocks)
    assert "No bets here." in strings(blocks)


def test_long_help_is_split_into_sections_that_fit() -> None:
    help_text = "\n".join(f"`/hypothesis command{n}` does thing {n}" for n in range(400))
    blocks = help_blocks(help_text)
    assert_valid_blocks(blocks)
    assert len(blocks) > 1
    assert "\n".join(b["text"]["text"] for b in blocks) == help_text


def test_message_and_confirmation_are_one_section() -> None:
    assert_valid_blocks(message("Shipped *H-3*."))
    assert confirmation("Shipped *H-3*.") == [section("✅ Shipped *H-3*.")]


@pytest.mark.parametrize("state", list(State))
def test_reply_prompt_offers_verdicts_and_only_legal_outcomes(state: State) -> None:
    blocks = reply_prompt(make_bet(state=str(state)), make_evidence(1))
    assert_valid_blocks(blocks)
    found = action_ids(blocks)
    assert found[:3] == [ids.VERDICT_SUPPORTS, ids.VERDICT_REFUTES, ids.VERDICT_NOTE]
    assert (ids.REPLY_VALIDATE in found) == (Move.VALIDATE in allowed_moves(state))
    assert (ids.REPLY_INVALIDATE in found) == (Move.INVALIDATE in allowed_moves(state))
    assert "Recorded as evidence on *H-3* (verdict unknown)" in blocks[0]["text"]["text"]
    values = {e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]}
    assert values == {"101"}


def test_reply_answered_has_no_buttons() -> None:
    blocks = reply_answered(make_bet(state="shipped"), make_evidence(1), "supports")
    assert_valid_blocks(blocks)
    assert action_ids(blocks) == []


# --- modals ----------------------------------------------------------------------------


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def test_new_bet_modal_is_valid_and_prefilled() -> None:
    view = new_bet_modal(
        channel_id="C1",
        owner_id="U0OWNER",
        initial={ids.F_TITLE: "x" * 400, ids.F_LINK: "ftp://nope"},
        errors={ids.F_EXPECT: "Give <a duration>"},
    )
    assert_valid_view(view)
    assert view["callback_id"] == ids.NEW_BET_VIEW
    assert json.loads(view["private_metadata"]) == {"channel_id": "C1"}
    fields = inputs(view)
    assert list(fields) == [
        ids.F_TITLE,
        ids.F_HYPOTHESIS,
        ids.F_SIGNAL,
        ids.F_OWNER,
        ids.F_LINK,
        ids.F_EXPECT,
        ids.F_CHANNEL,
    ]
    assert all(b["element"]["action_id"] == field for field, b in fields.items())
    assert len(fields[ids.F_TITLE]["element"]["initial_value"]) == 150
    assert "initial_value" not in fields[ids.F_LINK]["element"]
    assert fields[ids.F_OWNER]["element"]["initial_user"] == "U0OWNER"
    channel = fields[ids.F_CHANNEL]["element"]
    assert channel["initial_conversation"] == "C1"
    assert channel["default_to_current_conversation"] is True
    assert channel["response_url_enabled"] is False
    assert {f for f, b in fields.items() if b["optional"]} == {
        ids.F_SIGNAL,
        ids.F_LINK,
        ids.F_EXPECT,
    }
    assert "Give &lt;a duration&gt;" in json.dumps(view)


def test_evidence_modal_asks_for_a_verdict() -> None:
    view = evidence_modal(make_bet(state="shipped", title=HOSTILE))
    assert_valid_view(view)
    assert view["callback_id"] == ids.EVIDENCE_VIEW
    assert json.loads(view["private_metadata"]) == {"bet_id": 7}
    verdict = inputs(view)[ids.F_VERDICT]["element"]
    assert [o["value"] for o in verdict["options"]] == ["supports", "refutes", "inconclusive"]


@pytest.mark.parametrize(
    ("move", "title", "required", "optional"),
    [
        (Move.VALIDATE, "Validate H-3", set(), {ids.F_TEXT, ids.F_LINK}),
        (Move.INVALIDATE, "Invalidate H-3", {ids.F_LEARNED}, {ids.F_TEXT, ids.F_LINK}),
        (Move.KILL, "Kill H-3", {ids.F_TEXT, ids.F_LEARNED}, set()),
    ],
)
def test_close_modal_asks_what_each_move_needs(
    move: Move, title: str, required: set[str], optional: set[str]
) -> None:
    view = close_modal(make_bet(state="shipped"), move)
    assert_valid_view(view)
    assert view["callback_id"] == ids.CLOSE_VIEW
    assert view["title"]["text"] == title
    assert json.loads(view["private_metadata"]) == {"bet_id": 7, "move": str(move)}
    fields = inputs(view)
    assert {f for f, b in fields.items() if not b["optional"]} == required
    assert {f for f, b in fields.items() if b["optional"]} == optional


def test_close_modal_title_fits_for_huge_numbers() -> None:
    view = close_modal(make_bet(state="shipped", number=987654321), Move.INVALIDATE)
    assert_valid_view(view)
    assert len(view["title"]["text"]) <= MAX_VIEW_TITLE


def test_close_modal_hints_when_decisive_evidence_exists() -> None:
    view = close_modal(make_bet(state="shipped", first_feedback_at=NOW), Move.VALIDATE)
    assert "already has decisive evidence" in inputs(view)[ids.F_TEXT]["hint"]["text"]


def test_close_modal_refuses_moves_that_do_not_close() -> None:
    with pytest.raises(ValueError):
        close_modal(make_bet(), Move.SHIP)


# What a person would type or pick, per element type, as Slack reports it in view.state.
ANSWERS = {
    "plain_text_input": {"value": "  typed text  "},
    "url_text_input": {"value": "https://x.example/a"},
    "users_select": {"selected_user": "U0PICKED"},
    "conversations_select": {"selected_conversation": "C0PICKED"},
    "radio_buttons": {
        "selected_option": {"text": {"type": "plain_text", "text": "Refutes"}, "value": "refutes"}
    },
}
READ = {
    "plain_text_input": "typed text",
    "url_text_input": "https://x.example/a",
    "users_select": "U0PICKED",
    "conversations_select": "C0PICKED",
    "radio_buttons": "refutes",
}


def submitted_state(view: dict[str, Any]) -> dict[str, Any]:
    return {
        field: {field: {"type": b["element"]["type"], **ANSWERS[b["element"]["type"]]}}
        for field, b in inputs(view).items()
    }


@pytest.mark.parametrize(
    "view",
    [
        new_bet_modal(channel_id="C1", owner_id="U0OWNER"),
        evidence_modal(make_bet()),
        close_modal(make_bet(state="shipped"), Move.INVALIDATE),
    ],
    ids=["new_bet", "evidence", "close"],
)
def test_read_values_round_trips_every_field_of_a_modal(view: dict[str, Any]) -> None:
    values = read_values(submitted_state(view))
    assert values == {f: READ[b["element"]["type"]] for f, b in inputs(view).items()}


def test_read_values_on_a_realistic_payload() -> None:
    state = {
        ids.F_TITLE: {ids.F_TITLE: {"type": "plain_text_input", "value": "Faster search"}},
        ids.F_SIGNAL: {ids.F_SIGNAL: {"type": "plain_text_input", "value": None}},
        ids.F_EXPECT: {ids.F_EXPECT: {"type": "plain_text_input", "value": "   "}},
        ids.F_LINK: {ids.F_LINK: {"type": "url_text_input", "value": None}},
        ids.F_OWNER: {ids.F_OWNER: {"type": "users_select", "selected_user": "U0OWNER"}},
        ids.F_CHANNEL: {
            ids.F_CHANNEL: {"type": "conversations_select", "selected_conversation": "C1"}
        },
        ids.F_VERDICT: {ids.F_VERDICT: {"type": "radio_buttons", "selected_option": None}},
        "when": {"when": {"type": "datepicker", "selected_date": "2026-12-01"}},
        "other": {"other": {"type": "some_future_element", "value": "ignored"}},
    }
    assert read_values(state) == {
        ids.F_TITLE: "Faster search",
        ids.F_SIGNAL: None,
        ids.F_EXPECT: None,
        ids.F_LINK: None,
        ids.F_OWNER: "U0OWNER",
        ids.F_CHANNEL: "C1",
        ids.F_VERDICT: None,
        "when": "2026-12-01",
    }
