"""Modals end to end: the New bet form, Add evidence and closing a bet, opened and submitted
through signed requests to the served app."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.blocks import ids
from storage.models import Bet, Evidence
from tests.conftest import Hypobot
from tests.flows import posted_bet, row_counts, settle

Values = dict[str, dict[str, dict[str, Any]]]

HYPOTHESIS = "We believe a one-click export for admins will cut support tickets"


def _text(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def _url(value: str | None) -> dict[str, Any]:
    return {"type": "url_text_input", "value": value}


def _state(fields: dict[str, dict[str, Any]]) -> Values:
    """view.state.values as Slack sends it: block_id == action_id for each of our inputs."""
    return {field: {field: state} for field, state in fields.items()}


def new_bet_values(**changes: dict[str, Any]) -> Values:
    """A filled-in New bet form; `changes` replaces fields by id."""
    fields = {
        ids.F_TITLE: _text("One-click export"),
        ids.F_HYPOTHESIS: _text(HYPOTHESIS),
        ids.F_SIGNAL: _text("We'll know when export tickets drop 30%"),
        ids.F_OWNER: {"type": "users_select", "selected_user": "U2"},
        ids.F_LINK: _url("https://tracker.test/EXP-1"),
        ids.F_EXPECT: _text("10d"),
        ids.F_CHANNEL: {"type": "conversations_select", "selected_conversation": "C7"},
    }
    return _state(fields | changes)


def evidence_values(verdict: str | None, text: str | None, link: str | None = None) -> Values:
    option = (
        {"text": {"type": "plain_text", "text": verdict}, "value": verdict} if verdict else None
    )
    return _state(
        {
            ids.F_VERDICT: {"type": "radio_buttons", "selected_option": option},
            ids.F_TEXT: _text(text),
            ids.F_LINK: _url(link),
        }
    )


def close_values(move: str, text: str | None, learned: str | None = None) -> Values:
    """The close modal's fields for `move`: kill asks for a reason, the others for evidence."""
    fields = {ids.F_TEXT: _text(text)}
    if move != "kill":
        fields[ids.F_LINK] = _url(None)
    if move != "validate":
        fields[ids.F_LEARNED] = _text(learned)
    return _state(fields)


def metadata(**fields: Any) -> str:
    return json.dumps(fields)


async def submit_new_bet(hypobot: Hypobot, values: Values) -> tuple[int, Any]:
    return await hypobot.slack.submit_view(
        ids.NEW_BET_VIEW, values, private_metadata=metadata(channel_id="C1")
    )


async def submit_close(
    hypobot: Hypobot, bet: Bet, move: str, values: Values, **kw: Any
) -> tuple[int, Any]:
    return await hypobot.slack.submit_view(
        ids.CLOSE_VIEW, values, private_metadata=metadata(bet_id=bet.id, move=move), **kw
    )


# --- New bet ---------------------------------------------------------------------------------


async def test_bare_hypothesis_opens_the_new_bet_modal_with_the_trigger(hypobot: Hypobot) -> None:
    status, _ = await hypobot.command("", trigger_id="trig-77")
    await settle(hypobot)
    assert status == 200
    [opened] = hypobot.fake.calls_to("views.open")
    assert opened.params["trigger_id"] == "trig-77"
    view = opened.view
    assert view["callback_id"] == ids.NEW_BET_VIEW
    assert [block["block_id"] for block in view["blocks"]] == [
        ids.F_TITLE,
        ids.F_HYPOTHESIS,
        ids.F_SIGNAL,
        ids.F_OWNER,
        ids.F_LINK,
        ids.F_EXPECT,
        ids.F_CHANNEL,
    ]
    elements = {block["block_id"]: block["element"] for block in view["blocks"]}
    assert elements[ids.F_OWNER]["initial_user"] == "U1"
    assert elements[ids.F_CHANNEL]["initial_conversation"] == "C1"
    assert json.loads(view["private_metadata"]) == {"channel_id": "C1"}
    assert not hypobot.fake.block_errors


async def test_bare_hypothesis_says_so_when_slack_will_not_open_the_modal(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.fail["views.open"] = "expired_trigger_id"
    await hypobot.command("")
    await settle(hypobot)
    [answer] = hypobot.fake.calls_to("response_url")
    assert answer.params["response_type"] == "ephemeral"
    assert "couldn't open the New bet form" in str(answer.text)
    assert "/hypothesis new We believe" in str(answer.text)


async def test_new_bet_submission_creates_h1_in_the_chosen_channel_for_the_chosen_owner(
    hypobot: Hypobot,
) -> None:
    status, body = await submit_new_bet(hypobot, new_bet_values())
    assert (status, body) == (200, "")
    bet = await Bet.get(team_id="T1", number=1)
    assert (bet.channel_id, bet.owner_id, bet.creator_id) == ("C7", "U2", "U1")
    assert (bet.title, bet.hypothesis) == ("One-click export", HYPOTHESIS)
    assert bet.signal == "export tickets drop 30%"
    assert bet.link == "https://tracker.test/EXP-1"
    # T1: a duration in "expected by" counts from shipping; the bet has not shipped yet
    assert bet.expected_at is None and bet.expect_within_s == 10 * 86400


async def test_new_bet_submission_posts_the_card_in_the_chosen_channel(hypobot: Hypobot) -> None:
    await submit_new_bet(hypobot, new_bet_values())
    await settle(hypobot)
    [card] = hypobot.fake.calls_to("chat.postMessage")
    assert card.channel == "C7"
    assert "H-1 · One-click export" in card.text
    assert ids.START in str(card.blocks)
    assert (await Bet.get(team_id="T1", number=1)).card_ts is not None
    assert not hypobot.fake.block_errors


async def test_new_bet_submission_tells_the_creator_the_key_ephemerally(hypobot: Hypobot) -> None:
    await submit_new_bet(hypobot, new_bet_values())
    await settle(hypobot)
    [note] = hypobot.fake.calls_to("chat.postEphemeral")
    assert (note.channel, note.params["user"]) == ("C7", "U1")
    assert "H-1" in note.text


async def test_new_bet_without_a_title_takes_one_from_the_hypothesis(hypobot: Hypobot) -> None:
    await submit_new_bet(hypobot, new_bet_values(**{ids.F_TITLE: _text(None)}))
    bet = await Bet.get(team_id="T1", number=1)
    assert bet.title and bet.title != "None"
    assert bet.title.lower() in HYPOTHESIS.lower()


async def test_new_bet_keeps_text_exactly_as_typed(hypobot: Hypobot) -> None:
    # Slack sends input values raw, not escaped like message text: nothing to decode.
    typed = "We believe p95 < 200ms & <b>bold</b> search for admins will keep them &amp; us happy"
    await submit_new_bet(hypobot, new_bet_values(**{ids.F_HYPOTHESIS: _text(typed)}))
    assert (await Bet.get(team_id="T1", number=1)).hypothesis == typed


async def test_markup_typed_in_the_new_bet_form_reaches_the_card_inert(hypobot: Hypobot) -> None:
    typed = "We believe <!channel> <https://evil.test|click here> for everyone will win"
    await submit_new_bet(hypobot, new_bet_values(**{ids.F_HYPOTHESIS: _text(typed)}))
    await settle(hypobot)
    [card] = hypobot.fake.calls_to("chat.postMessage")
    shown = str(card.blocks) + card.text
    assert "<!channel>" not in shown
    assert "<https://evil.test|click here>" not in shown
    assert "&lt;!channel&gt;" in shown


async def test_new_bet_from_app_home_without_a_channel_asks_for_one(hypobot: Hypobot) -> None:
    values = new_bet_values(
        **{ids.F_CHANNEL: {"type": "conversations_select", "selected_conversation": None}}
    )
    _, body = await hypobot.slack.submit_view(
        ids.NEW_BET_VIEW, values, private_metadata=metadata(channel_id="")
    )
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [ids.F_CHANNEL]
    assert await row_counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("field", "state"),
    [
        (ids.F_HYPOTHESIS, _text(None)),
        (ids.F_HYPOTHESIS, _text("   ")),
        (ids.F_LINK, _url("tracker.test/EXP-1")),
        (ids.F_LINK, _url("javascript:alert(1)")),
        (ids.F_EXPECT, _text("soon")),
        (ids.F_EXPECT, _text("2020-01-01")),
    ],
    ids=["no-hypothesis", "blank-hypothesis", "link-no-scheme", "link-js", "expect-soon", "past"],
)
async def test_new_bet_with_a_bad_field_stays_open_naming_that_field_and_writes_nothing(
    hypobot: Hypobot, field: str, state: dict[str, Any]
) -> None:
    status, body = await submit_new_bet(hypobot, new_bet_values(**{field: state}))
    await settle(hypobot)
    assert status == 200
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [field]
    assert await row_counts() == (0, 0, 0, 0)
    assert not hypobot.fake.calls_to("chat.postEphemeral")


async def test_within_n_days_in_the_forms_signal_is_read_as_the_one_liner_reads_it(
    hypobot: Hypobot,
) -> None:
    values = new_bet_values(
        **{
            ids.F_SIGNAL: _text("We'll know when export tickets drop 30% within 4 days"),
            ids.F_EXPECT: _text(None),
        }
    )
    assert await submit_new_bet(hypobot, values) == (200, "")
    bet = await Bet.get(team_id="T1", number=1)
    assert bet.signal == "export tickets drop 30%"
    # T1: "within N" counts from shipping, as in `/hypothesis new … within 4 days`
    assert bet.expected_at is None and bet.expect_within_s == 4 * 86400
    await settle(hypobot)
    [card] = hypobot.fake.calls_to("chat.postMessage")
    assert "signal expected 4d after shipping" in str(card.blocks)


async def test_the_forms_expected_by_field_wins_over_within_in_the_signal(
    hypobot: Hypobot,
) -> None:
    values = new_bet_values(**{ids.F_SIGNAL: _text("export tickets drop 30% within 4 days")})
    await submit_new_bet(hypobot, values)
    bet = await Bet.get(team_id="T1", number=1)
    assert (bet.signal, bet.expect_within_s) == ("export tickets drop 30%", 10 * 86400)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("We believe", "needs at least a change and the outcome"),
        ("We believe dark mode", "needs an outcome"),
        ("We believe will raise retention", "needs a change"),
    ],
)
async def test_a_hypothesis_without_a_change_or_an_outcome_keeps_the_form_open(
    hypobot: Hypobot, typed: str, says: str
) -> None:
    values = new_bet_values(**{ids.F_HYPOTHESIS: _text(typed)})
    status, body = await submit_new_bet(hypobot, values)
    await settle(hypobot)
    assert (status, body["response_action"], list(body["errors"])) == (
        200,
        "errors",
        [ids.F_HYPOTHESIS],
    )
    assert says in body["errors"][ids.F_HYPOTHESIS]
    assert "We believe <change> for <whom> will <outcome>" in body["errors"][ids.F_HYPOTHESIS]
    assert await row_counts() == (0, 0, 0, 0)


# --- Add evidence ----------------------------------------------------------------------------


async def test_evidence_modal_records_verdict_words_and_link(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    status, body = await hypobot.slack.submit_view(
        ids.EVIDENCE_VIEW,
        evidence_values("supports", "12 admins exported", "https://metrics.test/d/1"),
        private_metadata=metadata(bet_id=bet.id),
    )
    assert (status, body) == (200, "")
    [evidence] = await Evidence.filter(bet_id=bet.id)
    assert (evidence.verdict, evidence.text, evidence.link) == (
        "supports",
        "12 admins exported",
        "https://metrics.test/d/1",
    )
    assert (evidence.source, evidence.author_id) == ("modal", "U1")


async def test_evidence_modal_updates_the_card_with_the_evidence_count(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    await hypobot.slack.submit_view(
        ids.EVIDENCE_VIEW,
        evidence_values("refutes", "nobody used it"),
        private_metadata=metadata(bet_id=bet.id),
    )
    await settle(hypobot)
    [update] = hypobot.fake.calls_to("chat.update")
    assert update.params["ts"] == bet.card_ts
    assert "📎 1 evidence" in str(update.blocks)
    assert not hypobot.fake.block_errors


async def test_evidence_modal_without_words_or_link_stays_open(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    before = await row_counts()
    _, body = await hypobot.slack.submit_view(
        ids.EVIDENCE_VIEW,
        evidence_values("supports", None),
        private_metadata=metadata(bet_id=bet.id),
    )
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [ids.F_TEXT]
    assert await row_counts() == before


async def test_evidence_modal_for_another_workspaces_bet_is_refused(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped", team_id="TA")
    before = await row_counts()
    _, body = await hypobot.slack.submit_view(
        ids.EVIDENCE_VIEW,
        evidence_values("supports", "looks good to me"),
        private_metadata=metadata(bet_id=bet.id),
        team_id="TB",
        user_id="UB",
    )
    assert body["response_action"] == "errors"
    assert "doesn't exist in this workspace" in body["errors"][ids.F_TEXT]
    assert await row_counts() == before


# --- Closing ---------------------------------------------------------------------------------


async def test_validate_modal_validates_with_the_evidence_given(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    status, body = await submit_close(
        hypobot, bet, "validate", close_values("validate", "tickets fell 35%")
    )
    assert (status, body) == (200, "")
    assert (await Bet.get(id=bet.id)).state == "validated"
    [evidence] = await Evidence.filter(bet_id=bet.id)
    assert (evidence.verdict, evidence.text, evidence.source) == (
        "supports",
        "tickets fell 35%",
        "modal",
    )


async def test_evidence_modal_keeps_text_exactly_as_typed(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    typed = "p95 went from > 300ms to < 200ms"
    await hypobot.slack.submit_view(
        ids.EVIDENCE_VIEW,
        evidence_values("supports", typed),
        private_metadata=metadata(bet_id=bet.id),
    )
    assert (await Evidence.get(bet_id=bet.id)).text == typed


async def test_validate_modal_without_any_evidence_stays_open(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    _, body = await submit_close(hypobot, bet, "validate", close_values("validate", None))
    assert body["response_action"] == "errors"
    assert "give the evidence" in body["errors"][ids.F_TEXT]
    assert (await Bet.get(id=bet.id)).state == "shipped"


async def test_kill_modal_without_a_reason_stays_open(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "building")
    before = await row_counts()
    _, body = await submit_close(hypobot, bet, "kill", close_values("kill", None, "nothing"))
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [ids.F_TEXT]
    assert (await Bet.get(id=bet.id)).state == "building"
    assert await row_counts() == before


async def test_invalidate_modal_without_what_we_learned_stays_open(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    before = await row_counts()
    _, body = await submit_close(
        hypobot, bet, "invalidate", close_values("invalidate", "tickets rose", None)
    )
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [ids.F_LEARNED]
    assert (await Bet.get(id=bet.id)).state == "shipped"
    assert await row_counts() == before


async def test_invalidate_modal_keeps_what_we_learned_on_the_bet(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    await submit_close(
        hypobot,
        bet,
        "invalidate",
        close_values("invalidate", "tickets rose 5%", "admins export through the API"),
    )
    bet = await Bet.get(id=bet.id)
    assert bet.state == "invalidated"
    assert bet.learned == "admins export through the API"


async def test_invalidate_modal_shows_what_we_learned_on_the_card(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    await submit_close(
        hypobot,
        bet,
        "invalidate",
        close_values("invalidate", "tickets rose 5%", "admins export through the API"),
    )
    await settle(hypobot)
    [update] = hypobot.fake.calls_to("chat.update")
    assert update.params["ts"] == bet.card_ts
    assert "*Learned:* admins export through the API" in str(update.blocks)
    assert "invalidated" in update.text
    assert not hypobot.fake.block_errors


async def test_kill_modal_keeps_the_reason_and_what_we_learned(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "building")
    await submit_close(
        hypobot, bet, "kill", close_values("kill", "superseded by the API", "ask admins first")
    )
    bet = await Bet.get(id=bet.id)
    assert bet.state == "killed"
    assert (bet.close_reason, bet.learned) == ("superseded by the API", "ask admins first")


async def test_close_modal_submitted_by_someone_else_is_refused(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "building")
    _, body = await submit_close(
        hypobot, bet, "kill", close_values("kill", "meh", "meh"), user_id="U9"
    )
    assert body["response_action"] == "errors"
    assert "Only H-1's owner" in body["errors"][ids.F_TEXT]
    assert (await Bet.get(id=bet.id)).state == "building"


async def test_close_modal_with_unreadable_metadata_stays_open(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "building")
    _, body = await hypobot.slack.submit_view(
        ids.CLOSE_VIEW, close_values("kill", "meh", "meh"), private_metadata="{not json"
    )
    assert body["response_action"] == "errors"
    assert "out of date" in body["errors"][ids.F_TEXT]
    assert (await Bet.get(id=bet.id)).state == "building"
