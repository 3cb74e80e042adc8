"""The HTTP API's routes under /api/v1: bearer token → workspace, rate limit, body checks,
then the same use cases a slash command calls. Every refusal is a Problem body with a 4xx
status and changes nothing; no input makes it answer 500 or show a traceback."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError
from tortoise.exceptions import IntegrityError

from api import openapi
from api.bodies import (
    BetsWithForecast,
    BetWithForecast,
    EvidenceRecorded,
    NewEvidenceBody,
    Problem,
    ShipBody,
    dumped,
)
from api.flow import flow_of, forecast_fields
from api.limits import TokenRate
from bets.evidence import Verdict
from bets.keys import format_key, parse_key
from bets.lifecycle import Move, MoveRequest, State
from bets.reading import format_moment
from bot import grammar
from bot.blocks.from_elsewhere import evidence_message
from ops.settings import Settings
from usecases import bets as usecase
from usecases import export, tokens
from usecases import flow as flow_usecase
from usecases.bets import EvidenceAdded, Moved, NewEvidence
from usecases.context import Actor, Context
from usecases.results import DATABASE_UNREACHABLE, Refused, Why

log = logging.getLogger("hypobot.api")

PREFIX = openapi.PREFIX
MAX_BODY = 64 * 1024
UNREACHABLE_RETRY_S = 5
CHANNEL_ID = re.compile(r"^[A-Z0-9]{2,32}$")
IDEMPOTENCY_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")
JSON = "application/json"
JSON_CHARSETS = ("utf-8", "utf8")  # RFC 8259: JSON between systems is UTF-8
SHOWN = 100  # at most this much of a caller's header or parameter name is quoted back
TOKEN_HELP = "make one with: hypobot tokens create --team T… --name ci"
CALLER: web.RequestKey[tokens.Caller] = web.RequestKey("api_caller", tokens.Caller)
Body = TypeVar("Body", bound=BaseModel)
Result = TypeVar("Result")


class Refusal(Exception):
    """A 4xx answer decided on the way in (the guard turns it into its response)."""

    def __init__(self, status: int, problem: Problem, headers: dict[str, str] | None = None):
        super().__init__(problem.error)
        self.response = web.json_response(dumped(problem), status=status, headers=headers)


def _refuse(status: int, error: str, message: str, **more: Any) -> Refusal:
    headers = more.pop("headers", None)
    return Refusal(status, Problem(error=error, message=message, **more), headers)


def _invalid(field: str, message: str) -> Refusal:
    return _refuse(422, "invalid", f"{field}: {message}", field=field)


def _not_found(number: int | None, key: str) -> Refusal:
    shown = format_key(number) if number is not None else repr(key[:40])
    return _refuse(404, "not_found", f"no bet {shown} in this token's workspace")


class Api:
    def __init__(self, ctx: Context, settings: Settings) -> None:
        self.ctx = ctx
        self.rate = TokenRate(rate=settings.hypobot_api_rate, burst=settings.hypobot_api_burst)

    # --- on the way in ------------------------------------------------------------------

    @web.middleware
    async def guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Token and rate limit first; every refusal, unknown route and failure becomes a
        Problem body."""
        try:
            if request.path != f"{PREFIX}/openapi.json":
                caller = await self._caller(request)
                wait = await self.rate.take(caller.team_id, caller.token_id)
                if wait:
                    raise _refuse(
                        429,
                        "rate_limited",
                        f"over this token's limit; try again in {wait} s",
                        headers={"Retry-After": str(wait)},
                    )
                request[CALLER] = caller
            return await handler(request)
        except Refusal as refusal:
            return refusal.response
        except web.HTTPException as error:  # no such route, or not with that method
            if error.status < 400:
                raise
            code = "not_found" if error.status == 404 else "http_error"
            problem = Problem(
                error=code, message=f"{request.method} {request.path}: {error.reason}"
            )
            return web.json_response(dumped(problem), status=error.status)
        except DATABASE_UNREACHABLE as error:
            log.warning("api.database_unreachable", extra={"error_type": type(error).__name__})
            problem = Problem(error="unavailable", message="the database cannot be reached")
            headers = {"Retry-After": str(UNREACHABLE_RETRY_S)}
            return web.json_response(dumped(problem), status=503, headers=headers)
        except Exception as error:  # a bug: say so without a traceback, and log its type
            log.error("api.failed", extra={"error_type": type(error).__name__})
            problem = Problem(error="internal", message="something went wrong; nothing is lost")
            return web.json_response(dumped(problem), status=500)

    async def _caller(self, request: web.Request) -> tokens.Caller:
        scheme, _, presented = request.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise _refuse(
                401,
                "unauthorized",
                f"send Authorization: Bearer <token>; {TOKEN_HELP}",
                headers={"WWW-Authenticate": 'Bearer realm="hypobot"'},
            )
        caller = await tokens.authenticate(presented.strip())
        if caller is None:
            raise _refuse(
                401,
                "unauthorized",
                f"this token is unknown or revoked; {TOKEN_HELP}",
                headers={"WWW-Authenticate": 'Bearer realm="hypobot", error="invalid_token"'},
            )
        return caller

    @staticmethod
    def _number(request: web.Request) -> int:
        key = request.match_info["key"]
        number = parse_key(key)
        if number is None:
            raise _not_found(None, key)
        return number

    @staticmethod
    def _idempotency_key(request: web.Request) -> str | None:
        if "Idempotency-Key" not in request.headers:
            return None
        value = request.headers["Idempotency-Key"]
        if not IDEMPOTENCY_KEY.match(value):
            raise _invalid("Idempotency-Key", "must be 1 to 255 printable ASCII characters")
        return value

    @staticmethod
    def _query(request: web.Request, *accepted: str) -> None:
        """Refuse a query parameter the route does not take, or one given twice: a
        misspelt filter must not quietly widen an answer."""
        takes = ", ".join(accepted) if accepted else "none"
        for name in request.query:
            shown = name[:SHOWN]
            if name not in accepted:
                raise _invalid(shown, f"is not a query parameter of this path (it takes {takes})")
            if len(request.query.getall(name)) > 1:
                raise _invalid(shown, "is given more than once")

    @staticmethod
    def _json_only(request: web.Request, body: bytes) -> None:
        """A body, when there is one, is JSON in UTF-8: any other Content-Type is 415."""
        if not body:
            return
        charset = (request.charset or "utf-8").lower()
        if request.content_type == JSON and charset in JSON_CHARSETS:
            return
        sent = request.headers.get("Content-Type")
        got = f"got {sent[:SHOWN]!r}" if sent is not None else "got none"
        raise _refuse(
            415,
            "unsupported_media_type",
            f"send the body as Content-Type: {JSON} (charset utf-8, if any); {got}",
            field="Content-Type",
            headers={"Accept-Post": JSON},
        )

    @staticmethod
    async def _body(request: web.Request) -> bytes:
        too_large = _refuse(413, "too_large", f"the body is over {MAX_BODY // 1024} KB")
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise too_large
        body = bytearray()
        while chunk := await request.content.read(MAX_BODY + 1 - len(body)):
            body += chunk
            if len(body) > MAX_BODY:
                raise too_large
        return bytes(body)

    @staticmethod
    def _parsed(model: type[Body], body: bytes) -> Body:
        try:
            return model.model_validate_json(body)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "body"
            message = first["msg"].removeprefix("Value error, ")
            if first["type"] == "json_invalid":
                message = "is not valid JSON (" + message.removeprefix("Invalid JSON: ") + ")"
            elif first["type"] == "model_type":
                message = "must be a JSON object"
            raise _invalid(field, message) from None

    async def _kept(
        self, caller: tokens.Caller, key: str | None, path: str, digest: str
    ) -> web.Response | None:
        """The answer kept for this Idempotency-Key, if the key was used before for this
        very request: the same method, path and body (`digest`, of the body as validated,
        so spacing, key order and an offset's spelling do not count). The key used for
        another request is refused naming it. A row kept before bodies were (no digest)
        replays its answer."""
        if key is None:
            return None
        kept = await tokens.kept(caller, key)
        if kept is None:
            return None
        if (kept.method, kept.path) != ("POST", path):
            raise _invalid(
                "Idempotency-Key",
                f"was used for another request ({kept.method} {kept.path}); "
                "use a new key for a new request",
            )
        if kept.body_sha256 is not None and kept.body_sha256 != digest:
            raise _invalid(
                "Idempotency-Key",
                "was used with another body; the first body's answer stands: "
                "use a new key for a new request",
            )
        return web.json_response(kept.response, status=200)

    def _keeper(
        self,
        caller: tokens.Caller,
        key: str | None,
        path: str,
        digest: str,
        status: int,
        answer: Callable[[Any], Awaitable[Any]],
    ) -> Callable[[Any], Awaitable[None]] | None:
        """What a use case writes alongside its change: the answer kept for the key."""
        if key is None:
            return None

        async def keep(result: Any) -> None:
            body = await answer(result)
            await tokens.keep(
                self.ctx,
                caller,
                key,
                method="POST",
                path=path,
                status=status,
                response=body,
                body_sha256=digest,
            )

        return keep

    async def _once(
        self,
        caller: tokens.Caller,
        key: str | None,
        path: str,
        digest: str,
        change: Awaitable[Result],
    ) -> Result | web.Response:
        """Run a use case that keeps its answer for `key`. When a concurrent call with the
        same key kept its answer first (the unique key refused ours, and our change was
        rolled back with it), answer as if ours had come second: its answer for the same
        body, 422 for another. Never "still in flight" (409): the unique key refuses our
        row only once theirs has committed (PostgreSQL makes our insert wait for their
        transaction; SQLite runs one write transaction at a time), so theirs is there to
        read by then."""
        try:
            return await change
        except IntegrityError:
            if (replay := await self._kept(caller, key, path, digest)) is None:
                raise
            return replay

    # --- routes -------------------------------------------------------------------------

    async def openapi(self, request: web.Request) -> web.Response:
        self._query(request)
        return web.json_response(openapi.document())

    async def evidence(self, request: web.Request) -> web.Response:
        caller = request[CALLER]
        self._query(request)
        number = self._number(request)
        key = self._idempotency_key(request)
        raw = await self._body(request)
        self._json_only(request, raw)
        body = self._parsed(NewEvidenceBody, raw)
        if body.observed_at is not None and body.observed_at > self.ctx.clock():
            raise _invalid("observed_at", "is in the future")
        path = f"{PREFIX}/bets/{format_key(number)}/evidence"
        digest = _digest(body)
        if (replay := await self._kept(caller, key, path, digest)) is not None:
            return replay
        actor = Actor(caller.team_id, caller.actor_id)
        if body.observed_at is not None:
            await self._observed_after_creation(actor, number, body.observed_at)
        source = body.source or caller.name
        new = NewEvidence(
            verdict=Verdict(body.verdict),
            text=body.text.strip(),
            source="api",
            link=body.link,
            posted_at=body.observed_at,
            source_name=source,
        )

        async def answer(added: EvidenceAdded) -> Any:
            return dumped(_recorded(added))

        result = await self._once(
            caller,
            key,
            path,
            digest,
            usecase.add_evidence(
                self.ctx,
                actor,
                new,
                number=number,
                announce=lambda bet, evidence: evidence_message(bet, evidence, source),
                alongside=self._keeper(caller, key, path, digest, 201, answer),
            ),
        )
        if isinstance(result, web.Response):
            return result
        if isinstance(result, Refused):
            raise _refused(result, number)
        await self._done(caller, "api.evidence", number)
        return web.json_response(dumped(_recorded(result)), status=201)

    async def _observed_after_creation(
        self, actor: Actor, number: int, observed_at: datetime
    ) -> None:
        """Evidence observed before its bet existed is not evidence on it (a bet's
        creation time never changes, so reading it before the change is enough)."""
        found = await usecase.find(self.ctx, actor, number=number)
        if isinstance(found, Refused):
            raise _refused(found, number)
        if observed_at < found.created_at:
            created = format_moment(found.created_at, UTC, now=self.ctx.clock())
            raise _invalid(
                "observed_at", f"observed before {format_key(number)} existed (created {created})"
            )

    async def ship(self, request: web.Request) -> web.Response:
        caller = request[CALLER]
        self._query(request)
        number = self._number(request)
        key = self._idempotency_key(request)
        raw = await self._body(request)
        self._json_only(request, raw)
        body = self._parsed(ShipBody, raw) if raw.strip() else ShipBody()
        path = f"{PREFIX}/bets/{format_key(number)}/ship"
        digest = _digest(body)
        if (replay := await self._kept(caller, key, path, digest)) is not None:
            return replay

        async def answer(moved: Moved) -> Any:
            return await _record(caller.team_id, moved.bet.number, self.ctx.clock())

        result = await self._once(
            caller,
            key,
            path,
            digest,
            usecase.move(
                self.ctx,
                Actor(caller.team_id, caller.actor_id),
                MoveRequest(Move.SHIP, link=body.link),
                source="api",
                number=number,
                alongside=self._keeper(caller, key, path, digest, 200, answer),
            ),
        )
        if isinstance(result, web.Response):
            return result
        if isinstance(result, Refused):
            raise _refused(result, number)
        await self._done(caller, "api.ship", number)
        return web.json_response(await _record(caller.team_id, number, self.ctx.clock()))

    async def bet(self, request: web.Request) -> web.Response:
        caller = request[CALLER]
        self._query(request)
        number = self._number(request)
        record = await _record(caller.team_id, number, self.ctx.clock())
        if record is None:
            raise _not_found(number, "")
        await tokens.used(self.ctx, caller)
        return web.json_response(record)

    async def bets(self, request: web.Request) -> web.Response:
        caller = request[CALLER]
        self._query(request, "state", "limit")
        state = None
        if "state" in request.query:
            try:
                state = State(request.query["state"])
            except ValueError:
                raise _invalid("state", f"must be one of {', '.join(State)}") from None
        limit = openapi.DEFAULT_LIST
        if "limit" in request.query:
            text = request.query["limit"]
            if not (text.isascii() and text.isdigit() and 1 <= int(text) <= openapi.MAX_LIST):
                raise _invalid("limit", f"must be a whole number from 1 to {openapi.MAX_LIST}")
            limit = int(text)
        records = await export.records_in(caller.team_id, state=state, limit=limit)
        await tokens.used(self.ctx, caller)
        forecasts = await flow_usecase.forecasts_by_number(
            caller.team_id,
            [parse_key(record["key"]) or 0 for record in records],
            now=self.ctx.clock(),
        )
        with_forecasts = [
            record | forecast_fields(forecasts.get(parse_key(record["key"]) or 0))
            for record in records
        ]
        return web.json_response(dumped(BetsWithForecast.model_validate(with_forecasts)))

    async def _done(self, caller: tokens.Caller, event: str, number: int) -> None:
        """A change went through: note the token's use (its cards and thread messages are on
        their way: the outbox's doorbell rang when they were committed)."""
        await tokens.used(self.ctx, caller)
        log.info(event, extra={"team_id": caller.team_id, "token": caller.name, "bet": number})

    async def flow(self, request: web.Request) -> web.Response:
        """A channel's figures over a window (default: the report's), as the report says
        them (docs/rules.md, F1–F8)."""
        caller = request[CALLER]
        self._query(request, "channel", "window")
        channel_id = request.query.get("channel", "").strip()
        if not CHANNEL_ID.match(channel_id):
            raise _invalid("channel", "is required: a channel id such as C0123ABCD")
        window = grammar.DEFAULT_REPORT_WINDOW
        if "window" in request.query:
            parsed = grammar.parse(f"report {request.query['window'][:SHOWN]}")
            if not isinstance(parsed, grammar.Report):
                words = parsed.message.split("\n")[0] if isinstance(parsed, grammar.Usage) else ""
                raise _invalid(
                    "window", f"must be a duration such as 90d, at most 3 years. {words}"
                )
            window = parsed.window
        found = await flow_usecase.report(
            self.ctx, Actor(caller.team_id, caller.actor_id, channel_id), window
        )
        if isinstance(found, Refused):
            raise _refuse(404, "not_found", f"no bets in {channel_id} in this token's workspace")
        await tokens.used(self.ctx, caller)
        body = flow_of(found.report, channel_id=channel_id, forecasts_since=found.forecasts_since)
        return web.json_response(dumped(body))


def _digest(body: BaseModel) -> str:
    """The SHA-256 of a request body as validated, in one canonical JSON spelling: what an
    Idempotency-Key's kept answer is for."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _recorded(added: EvidenceAdded) -> EvidenceRecorded:
    return EvidenceRecorded(
        key=format_key(added.bet.number), evidence_id=added.evidence.id, state=added.bet.state
    )


async def _record(team_id: str, number: int, now: datetime) -> Any:
    """The bet's export record with its forecast (F4), as the API answers with it (None: no
    such bet)."""
    record = await export.record_of(team_id, number)
    if record is None:
        return None
    forecasts = await flow_usecase.forecasts_by_number(team_id, [number], now=now)
    forecast = forecasts.get(number)
    return dumped(BetWithForecast.model_validate(record | forecast_fields(forecast)))


def _refused(refused: Refused, number: int) -> Refusal:
    key = format_key(refused.number or number)
    if refused.why is Why.NO_SUCH_BET:
        return _not_found(number, "")
    if refused.why is Why.EMPTY_EVIDENCE:
        return _invalid("text", "is empty: say what was observed, or give a link")
    allowed = list(refused.allowed)
    legal = ", ".join(allowed) if allowed else "none: it is closed"
    if refused.why is Why.ILLEGAL_MOVE:
        message = f"{key} is {refused.state}: it cannot {refused.move}; legal moves: {legal}"
        return _refuse(409, "illegal_move", message, state=refused.state, allowed=allowed)
    if refused.why is Why.CLOSED:
        message = f"{key} is {refused.state}: a closed bet takes no evidence"
        return _refuse(409, "closed", message, state=refused.state, allowed=allowed)
    return _refuse(409, str(refused.why), f"{key}: {refused.why}", state=refused.state)


def application(ctx: Context, settings: Settings) -> web.Application:
    """The API as an aiohttp application, to mount at PREFIX beside /slack/events; `ctx` is
    the use cases' context the Slack edge uses too (the same clock and admins)."""
    api = Api(ctx, settings)
    app = web.Application(middlewares=[api.guard])
    app.router.add_get("/openapi.json", api.openapi)
    app.router.add_post("/bets/{key}/evidence", api.evidence)
    app.router.add_post("/bets/{key}/ship", api.ship)
    app.router.add_get("/bets/{key}", api.bet)
    app.router.add_get("/bets", api.bets)
    app.router.add_get("/flow", api.flow)
    return app
