"""The HTTP API's tokens (kept as SHA-256 hashes only) and the calls made with an
Idempotency-Key: query primitives, each scoped by team_id except the look-up of a presented
token, which is how a call finds its workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.models import ApiRequest, ApiToken


async def insert_token(team_id: str, *, name: str, token_hash: str, now: datetime) -> ApiToken:
    return await ApiToken.create(team_id=team_id, name=name, token_hash=token_hash, created_at=now)


async def live_token_by_hash(token_hash: str) -> ApiToken | None:
    """The unrevoked token with this hash, whichever workspace it belongs to."""
    return await ApiToken.get_or_none(token_hash=token_hash, revoked_at__isnull=True)


async def tokens_of(team_id: str) -> list[ApiToken]:
    return await ApiToken.filter(team_id=team_id).order_by("created_at", "id")


async def live_tokens_named(team_id: str, name: str) -> list[ApiToken]:
    return await ApiToken.filter(team_id=team_id, name=name, revoked_at__isnull=True)


async def live_token_by_id(team_id: str, token_id: int) -> ApiToken | None:
    return await ApiToken.get_or_none(team_id=team_id, id=token_id, revoked_at__isnull=True)


async def revoke(token: ApiToken, *, now: datetime) -> None:
    token.revoked_at = now
    await token.save(update_fields=["revoked_at"])


async def touch(team_id: str, token_id: int, *, now: datetime) -> None:
    """Note when a token was last used."""
    await ApiToken.filter(team_id=team_id, id=token_id).update(last_used_at=now)


async def request_by_key(team_id: str, idempotency_key: str) -> ApiRequest | None:
    return await ApiRequest.get_or_none(team_id=team_id, idempotency_key=idempotency_key)


async def insert_request(
    team_id: str,
    *,
    idempotency_key: str,
    token_id: int,
    method: str,
    path: str,
    status: int,
    response: dict[str, Any] | list[Any],
    now: datetime,
) -> ApiRequest:
    """The answer to a call made with an Idempotency-Key. The unique (team, key) decides
    between two concurrent calls with the same key: the second one's insert fails."""
    return await ApiRequest.create(
        team_id=team_id,
        idempotency_key=idempotency_key,
        token_id=token_id,
        method=method,
        path=path,
        status=status,
        response=response,
        created_at=now,
    )
