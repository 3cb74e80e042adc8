"""The HTTP API's request and response bodies. The same models validate what arrives, shape
what leaves and make the OpenAPI document (api/openapi.py), so the three cannot drift."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    field_validator,
)

from bets.lifecycle import Move, State
from bot.blocks.text import MAX_LINK_URL, MAX_SECTION_TEXT, is_web_url

MAX_SOURCE = 64  # evidence.source_name

_STRICT = ConfigDict(strict=True, extra="forbid")


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _web_link(value: str | None) -> str | None:
    if value is None:
        return None
    _no_nul(value)
    if not is_web_url(value):
        raise ValueError("must be an http(s) URL, e.g. https://dashboards.example.com/d/42")
    return value.strip()


class NewEvidenceBody(BaseModel):
    """Evidence on a bet from elsewhere: a dashboard, an experiment platform, CI."""

    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "examples": [
                {
                    "verdict": "supports",
                    "text": "Export tickets down 34% week on week",
                    "link": "https://grafana.example.com/d/tickets",
                    "observed_at": "2026-11-05T09:00:00Z",
                    "source": "grafana",
                }
            ]
        },
    )

    verdict: Literal["supports", "refutes", "inconclusive"] = Field(
        description="What the evidence says about the bet's hypothesis; supports and "
        "refutes are decisive (they end time to feedback and stop nudges)."
    )
    text: str = Field(max_length=MAX_SECTION_TEXT, description="What was observed.")
    link: str | None = Field(
        default=None, max_length=MAX_LINK_URL, description="An http(s) link to the evidence."
    )
    observed_at: AwareDatetime | None = Field(
        default=None,
        description="When it was observed, ISO 8601 with an offset, not in the future nor "
        "before the bet was created (else 422); the evidence's time for time to feedback. "
        "Default: when the call arrives.",
    )
    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_SOURCE,
        description='Where it comes from, shown in the thread as "📎 from <source>". '
        "Default: the token's name.",
    )

    _text = field_validator("text", "source")(_no_nul)
    _link = field_validator("link")(_web_link)

    @field_validator("observed_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValueError("is out of range") from None


class ShipBody(BaseModel):
    """Ship a bet (its state becomes shipped): time to feedback starts now."""

    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={"examples": [{"link": "https://github.com/acme/app/pull/42"}]},
    )

    link: str | None = Field(
        default=None, max_length=MAX_LINK_URL, description="What shipped: a PR, a release."
    )

    _link = field_validator("link")(_web_link)


class EvidenceRecorded(BaseModel):
    """The evidence was recorded (201), or had been already with this Idempotency-Key (200)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"key": "H-12", "evidence_id": 345, "state": "shipped"}]},
    )

    key: str = Field(description="The bet's key, H-<n>.")
    evidence_id: int
    state: State = Field(description="The bet's state now.")


class EvidenceRecord(BaseModel):
    text: str
    link: str | None
    verdict: Literal["supports", "refutes", "inconclusive", "unknown"]
    source: str = Field(description="command, button, modal, thread, shortcut, api, …")
    source_name: str = Field(
        description='Where evidence from elsewhere came from (the API call\'s "source", '
        "default the token's name); empty for evidence given in Slack."
    )
    author: str = Field(description="A Slack user id, or api:<token name>.")
    at: str | None = Field(description="When it was posted or observed (ISO 8601).")
    permalink: str | None


class EventRecord(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    kind: str
    actor: str = Field(description="A Slack user id, or api:<token name>.")
    at: str | None
    from_: str | None = Field(alias="from")
    to: str | None
    data: dict[str, Any]


_BET_EXAMPLE: dict[str, Any] = {
    "team_id": "T0123ABCD",
    "key": "H-12",
    "channel_id": "C0123ABCD",
    "title": "A one-click export",
    "state": "shipped",
    "hypothesis": "We believe a one-click export for admins will cut tickets",
    "signal": "export tickets drop 30% within 10 days",
    "owner": "U0123ABCD",
    "creator": "U0123ABCD",
    "link": "https://github.com/acme/app/pull/42",
    "learned": "",
    "close_reason": "",
    "created_at": "2026-11-02T10:00:00+00:00",
    "started_at": None,
    "shipped_at": "2026-11-03T16:20:00+00:00",
    "closed_at": None,
    "first_feedback_at": None,
    "expected_at": None,
    "expect_within_s": 864000,
    "snoozed_until": None,
    "pivot_of": "H-9",
    "coach_notes": "",
    "first_decisive_at": "2026-11-05T09:00:00+00:00",
    "evidence": [
        {
            "text": "Export tickets down 34% week on week",
            "link": "https://grafana.example.com/d/tickets",
            "verdict": "supports",
            "source": "api",
            "source_name": "grafana",
            "author": "api:grafana",
            "at": "2026-11-05T09:00:00+00:00",
            "permalink": None,
        }
    ],
    "events": [
        {
            "kind": "ship",
            "actor": "api:ci",
            "at": "2026-11-03T16:20:00+00:00",
            "from": "proposed",
            "to": "shipped",
            "data": {"source": "api"},
        }
    ],
}


class BetRecord(BaseModel):
    """A bet as `hypobot export` writes it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [_BET_EXAMPLE]},
    )

    team_id: str
    key: str
    channel_id: str
    title: str
    state: State
    hypothesis: str
    signal: str
    owner: str
    creator: str
    link: str | None
    learned: str
    close_reason: str
    created_at: str | None
    started_at: str | None
    shipped_at: str | None
    closed_at: str | None
    first_feedback_at: str | None
    expected_at: str | None = Field(description="An expected date set as a date.")
    expect_within_s: int | None = Field(
        description='An expected date set as "within N" of shipping, in seconds.'
    )
    snoozed_until: str | None = Field(description="No nudges before this instant.")
    pivot_of: str | None = Field(description="The key of the bet this one pivots from.")
    coach_notes: str
    first_decisive_at: str | None = Field(
        description="The first supporting or refuting evidence, before shipping too "
        "(first_feedback_at counts only after shipping)."
    )
    evidence: list[EvidenceRecord]
    events: list[EventRecord]


class BetRecords(RootModel[list[BetRecord]]):
    """Bets as `hypobot export` writes them, by key."""


class BetWithForecast(BetRecord):
    """A bet as `hypobot export` writes it, and its forecast while it awaits feedback."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_BET_EXAMPLE,
                    "forecast_85_at": "2026-11-14T16:20:00Z",
                    "forecast_why": None,
                }
            ]
        },
    )

    forecast_85_at: str | None = Field(
        description="When the bet is 85 % likely to have been heard (docs/rules.md, F4), ISO "
        "8601 UTC; never before its expected date. Null without a forecast."
    )
    forecast_why: str | None = Field(
        description="Why there is no forecast (not awaiting feedback, too little history, "
        "waited longer than the bets seen); null when there is one."
    )


class BetsWithForecast(RootModel[list[BetWithForecast]]):
    """Bets as `hypobot export` writes them, with their forecasts, by key."""


class Problem(BaseModel):
    """Why nothing was done. `field` names the request's field at fault (422); `state` and
    `allowed` say where the bet is and the moves legal from there (409)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": "invalid",
                    "message": "verdict: Input should be 'supports', 'refutes' or 'inconclusive'",
                    "field": "verdict",
                },
                {
                    "error": "illegal_move",
                    "message": "H-12 is killed: it cannot ship; no move is legal from there",
                    "state": "killed",
                    "allowed": [],
                },
            ]
        },
    )

    error: str = Field(description="A code: unauthorized, not_found, invalid, too_large, …")
    message: str
    field: str | None = None
    state: State | None = None
    allowed: list[Move] | None = None


def dumped(model: BaseModel) -> Any:
    """A response model as JSON-ready data, with its wire names."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=isinstance(model, Problem))
