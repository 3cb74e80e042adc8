"""The OpenAPI 3.1 document of /api/v1, made from the very models that validate requests
and shape responses (api/bodies.py)."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api.bodies import (
    BetsWithForecast,
    BetWithForecast,
    EvidenceRecorded,
    NewEvidenceBody,
    Problem,
    ShipBody,
)
from api.flow import Flow
from bets.lifecycle import State

PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"
MAX_LIST = 1000
DEFAULT_LIST = 200


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _problems(*statuses: int) -> dict[str, Any]:
    words = {
        401: "No token, a malformed one, an unknown or a revoked one (WWW-Authenticate: Bearer)",
        404: "No bet with that key in the token's workspace",
        409: "The bet's state does not allow it: `allowed` lists the moves legal now",
        413: "The body is over 64 KB",
        415: "The body is not sent as `Content-Type: application/json` (charset utf-8, if "
        "any): `field` is Content-Type, Accept-Post names what is accepted",
        422: "The body, a header or a query parameter is invalid: `field` names it. A query "
        "parameter this operation does not list, or one given twice, is refused too; so is "
        "an Idempotency-Key used before with another path or body",
        429: "Over the token's rate limit: wait Retry-After seconds",
        503: "The database cannot be reached: nothing was done; try again",
    }
    headers = {
        415: {"Accept-Post": {"description": "application/json", "schema": {"type": "string"}}},
        429: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    }
    answers = {str(status): _json(Problem, words[status]) for status in statuses}
    for status in statuses:
        if status in headers:
            answers[str(status)]["headers"] = headers[status]
    return answers


_KEY = {
    "name": "key",
    "in": "path",
    "required": True,
    "description": "The bet's key, as people type it: H-12, h12 or 12.",
    "schema": {"type": "string"},
    "example": "H-12",
}
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any string of 1–255 printable ASCII characters: the same key again, "
    "with the same path and body (as validated: spacing and key order do not count), "
    "answers 200 with the first call's answer and changes nothing; with another path or "
    "body it is refused (422, `field` Idempotency-Key) and changes nothing.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
_COMMON = (401, 429, 503)
_STATE = {
    "name": "state",
    "in": "query",
    "required": False,
    "description": "Only the bets in this state.",
    "schema": {"type": "string", "enum": [str(s) for s in State]},
}
_LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "description": "At most this many bets, by key.",
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIST, "default": DEFAULT_LIST},
}
_CHANNEL = {
    "name": "channel",
    "in": "query",
    "required": True,
    "description": "The channel's id (C…): its bets' figures.",
    "schema": {"type": "string"},
    "example": "C0123ABCD",
}
_WINDOW = {
    "name": "window",
    "in": "query",
    "required": False,
    "description": "How far back, as `/hypothesis report` takes it: 7d, 90d, 2w; at most 3 "
    "years; default 30d. Figures count the bets shipped in it.",
    "schema": {"type": "string", "default": "30d"},
}
_ONLY_LISTED = (
    " Every operation takes exactly the parameters it lists: any other query parameter is "
    "refused with 422 naming it."
)


def _paths() -> dict[str, Any]:
    return {
        f"{PREFIX}/bets/{{key}}/evidence": {
            "post": {
                "operationId": "recordEvidence",
                "summary": "Record evidence on a bet; it is posted in the bet's thread",
                "parameters": [_KEY, _IDEMPOTENCY],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref(NewEvidenceBody)}},
                },
                "responses": {
                    "201": _json(EvidenceRecorded, "Recorded"),
                    "200": _json(EvidenceRecorded, "Recorded before, with this Idempotency-Key"),
                    **_problems(*_COMMON, 404, 409, 413, 415, 422),
                },
            }
        },
        f"{PREFIX}/bets/{{key}}/ship": {
            "post": {
                "operationId": "shipBet",
                "summary": "Ship a bet: time to feedback starts",
                "parameters": [_KEY, _IDEMPOTENCY],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": _ref(ShipBody)}},
                },
                "responses": {
                    "200": {
                        "description": "Shipped (or shipped before, with this Idempotency-Key)",
                        "content": {"application/json": {"schema": _ref(BetWithForecast)}},
                    },
                    **_problems(*_COMMON, 404, 409, 413, 415, 422),
                },
            }
        },
        f"{PREFIX}/bets/{{key}}": {
            "get": {
                "operationId": "getBet",
                "summary": "A bet as `hypobot export` writes it, with its forecast (F4)",
                "parameters": [_KEY],
                "responses": {
                    "200": {
                        "description": "The bet",
                        "content": {"application/json": {"schema": _ref(BetWithForecast)}},
                    },
                    **_problems(*_COMMON, 404, 422),
                },
            }
        },
        f"{PREFIX}/bets": {
            "get": {
                "operationId": "listBets",
                "summary": "The workspace's bets, by key, as `hypobot export` writes them",
                "parameters": [_STATE, _LIMIT],
                "responses": {
                    "200": _json(BetsWithForecast, "The bets, with their forecasts"),
                    **_problems(*_COMMON, 422),
                },
            }
        },
        f"{PREFIX}/flow": {
            "get": {
                "operationId": "getFlow",
                "summary": "Every figure of a channel's report (docs/rules.md, F1–F8): durations "
                "in seconds, instants in ISO 8601 UTC, null with a `why` where a figure cannot "
                "be given",
                "parameters": [_CHANNEL, _WINDOW],
                "responses": {
                    "200": _json(Flow, "The channel's figures"),
                    **_problems(*_COMMON, 404, 422),
                },
            }
        },
        f"{PREFIX}/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "parameters": [],
                "responses": {
                    "200": {"description": "OpenAPI 3.1"},
                    "422": _json(Problem, "A query parameter: this operation takes none"),
                },
            }
        },
    }


@cache
def document() -> dict[str, Any]:
    _, schemas = models_json_schema(
        [
            (NewEvidenceBody, "validation"),
            (ShipBody, "validation"),
            (EvidenceRecorded, "serialization"),
            (BetsWithForecast, "serialization"),
            (BetWithForecast, "serialization"),
            (Flow, "serialization"),
            (Problem, "serialization"),
        ],
        ref_template=REF,
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hypobot API",
            "version": "1",
            "description": "Evidence from where signals live: record evidence on a bet, ship "
            "it, read bets. Tokens: `hypobot tokens create --team T… --name ci`. Bodies are "
            "JSON (`Content-Type: application/json`, else 415)." + _ONLY_LISTED,
        },
        "paths": _paths(),
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `hypobot tokens create` (hypo_…)",
                }
            },
        },
        "security": [{"bearer": []}],
    }
