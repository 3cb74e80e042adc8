"""The HTTP API's tokens: make one (shown once, kept as its SHA-256 only), list, revoke,
and find the workspace of a presented token; and the answers kept for Idempotency-Keys.

A token acts as `api:<name>` in the bet's history, so every change it makes names it
(never the token itself)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from storage import bets as bet_store
from storage import db
from storage import tokens as store
from storage.models import ApiToken
from usecases.context import Context

PREFIX = "hypo_"
# `api:` + the name fits the 32 characters of an event's actor.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,27}$")
CONSOLE = "console"  # who makes and revokes tokens: whoever runs `hypobot tokens`
# "Last used" is noted at most this often per token: not one more write on every call.
USE_NOTED_EVERY = timedelta(minutes=1)


class TokenWhy(StrEnum):
    BAD_NAME = "bad_name"
    NAME_TAKEN = "name_taken"  # a live token of the workspace has that name already
    NO_SUCH_TOKEN = "no_such_token"  # none live by that name or id


@dataclass(frozen=True)
class TokenRefused:
    why: TokenWhy
    name: str = ""


@dataclass(frozen=True)
class TokenFacts:
    id: int
    team_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class Issued:
    token: str  # the only time it exists outside the caller's hands
    facts: TokenFacts


@dataclass(frozen=True)
class Caller:
    """Who is calling the API: a live token, and so a workspace."""

    team_id: str
    token_id: int
    name: str
    last_used_at: datetime | None = None

    @property
    def actor_id(self) -> str:
        return f"api:{self.name}"


@dataclass(frozen=True)
class Kept:
    """The answer kept for an Idempotency-Key, and the SHA-256 of the request body it
    answered (None for a row kept before the body was: it still replays its answer)."""

    method: str
    path: str
    status: int
    response: Any
    body_sha256: str | None = None


# A kept row's `response` column holds {BODY_SHA256: …, ANSWER: …}. Rows kept before the
# body was hold the answer itself: an EvidenceRecorded or a BetRecord, whose keys are never
# exactly these two, so both read back without a schema change.
BODY_SHA256 = "body_sha256"
ANSWER = "answer"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _facts(row: ApiToken) -> TokenFacts:
    return TokenFacts(
        row.id, row.team_id, row.name, row.created_at, row.last_used_at, row.revoked_at
    )


async def create(ctx: Context, team_id: str, name: str) -> Issued | TokenRefused:
    if not NAME.match(name):
        return TokenRefused(TokenWhy.BAD_NAME, name)
    now = ctx.clock()
    token = PREFIX + secrets.token_urlsafe(32)
    async with db.unit_of_work():
        if await store.live_tokens_named(team_id, name):
            return TokenRefused(TokenWhy.NAME_TAKEN, name)
        row = await store.insert_token(team_id, name=name, token_hash=token_hash(token), now=now)
        await _event(team_id, "token_created", row, now)
    return Issued(token, _facts(row))


async def list_tokens(ctx: Context, team_id: str) -> tuple[TokenFacts, ...]:
    return tuple(_facts(row) for row in await store.tokens_of(team_id))


async def revoke(
    ctx: Context, team_id: str, *, name: str | None = None, token_id: int | None = None
) -> tuple[TokenFacts, ...] | TokenRefused:
    """Revoke the live token(s) named `name`, or the one with `token_id`: from now on
    they answer 401."""
    now = ctx.clock()
    async with db.unit_of_work():
        if token_id is not None:
            one = await store.live_token_by_id(team_id, token_id)
            rows = [one] if one is not None else []
        else:
            rows = await store.live_tokens_named(team_id, name or "")
        if not rows:
            return TokenRefused(TokenWhy.NO_SUCH_TOKEN, name or str(token_id))
        for row in rows:
            await store.revoke(row, now=now)
            await _event(team_id, "token_revoked", row, now)
    return tuple(_facts(row) for row in rows)


async def _event(team_id: str, kind: str, row: ApiToken, now: datetime) -> None:
    await bet_store.write_event(
        None,
        team_id=team_id,
        actor_id=CONSOLE,
        now=now,
        kind=kind,
        data={"token_id": row.id, "name": row.name},
    )


async def authenticate(presented: str) -> Caller | None:
    """The caller a presented token stands for, or None (unknown or revoked)."""
    if not presented.startswith(PREFIX) or len(presented) > 200:
        return None
    row = await store.live_token_by_hash(token_hash(presented))
    if row is None:
        return None
    return Caller(row.team_id, row.id, row.name, row.last_used_at)


async def used(ctx: Context, caller: Caller) -> None:
    """The token did something that worked: note when (`tokens list` shows it), to the
    minute."""
    now = ctx.clock()
    if caller.last_used_at is None or now - caller.last_used_at >= USE_NOTED_EVERY:
        await store.touch(caller.team_id, caller.token_id, now=now)


async def kept(caller: Caller, idempotency_key: str) -> Kept | None:
    row = await store.request_by_key(caller.team_id, idempotency_key)
    if row is None:
        return None
    kept = row.response
    if isinstance(kept, dict) and set(kept) == {BODY_SHA256, ANSWER}:
        return Kept(row.method, row.path, row.status, kept[ANSWER], kept[BODY_SHA256])
    return Kept(row.method, row.path, row.status, kept)


async def keep(
    ctx: Context,
    caller: Caller,
    idempotency_key: str,
    *,
    method: str,
    path: str,
    status: int,
    response: Any,
    body_sha256: str,
) -> None:
    """Keep the answer to a call made with an Idempotency-Key, with the SHA-256 of the
    body it answers (a later call with the key and another body is refused). Call it
    inside the unit of work of the change it answers for (a use case's `alongside`): a
    concurrent call with the same key fails here with IntegrityError, and its change is
    rolled back with it."""
    await store.insert_request(
        caller.team_id,
        idempotency_key=idempotency_key,
        token_id=caller.token_id,
        method=method,
        path=path,
        status=status,
        response={BODY_SHA256: body_sha256, ANSWER: response},
        now=ctx.clock(),
    )
