"""A fake Slack Web API (plus upload and response_url endpoints) served over loopback HTTP.

`hypobot console` talks to it instead of Slack, and the test suite asserts on what it records.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

Json = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT_LENGTH = 40_000
PERMALINK_ROOT = "https://fake.slack.test"
# Fields that arrive JSON-encoded inside form or query parameters.
JSON_FIELDS = frozenset(
    {"blocks", "attachments", "metadata", "view", "files"}
    | {"document_content", "changes", "criteria"}  # canvases
)
# Methods (and the response_url pseudo-method) whose `blocks` are message blocks.
MESSAGE_METHODS = frozenset(
    {"chat.postMessage", "chat.update", "chat.postEphemeral", "response_url"}
)
TOKENLESS_METHODS = frozenset({"oauth.v2.access"})
# Canvases: Slack's limit on a document's markdown (1 MiB, counted in characters), the access
# levels canvases.access.set grants, and the operations of canvases.edit (by what they target).
MAX_CANVAS_MARKDOWN = 1_048_576
MAX_CANVAS_ACCESS_IDS = 20
CANVAS_ACCESS_LEVELS = frozenset({"read", "write", "owner"})
EDITS_AT_AN_END = frozenset({"insert_at_start", "insert_at_end"})  # no section_id
EDITS_OF_A_SECTION = frozenset({"insert_before", "insert_after", "delete"})  # need section_id
CANVAS_HEADINGS = {"h1": (1,), "h2": (2,), "h3": (3,), "any_header": (1, 2, 3)}


@dataclass
class Call:
    """One request received by the fake: an API method, an upload or a response_url post."""

    method: str
    params: Json
    token: str | None = None
    at: float = field(default_factory=time.monotonic)
    status: int | None = None  # the HTTP status the fake answered with, once answered
    result: Json | None = None  # the JSON body it answered with ({"ok": …}), once answered

    @property
    def channel(self) -> str | None:
        return self.params.get("channel")

    @property
    def text(self) -> str | None:
        return self.params.get("text")

    @property
    def blocks(self) -> list[Json] | None:
        return self.params.get("blocks")

    @property
    def thread_ts(self) -> str | None:
        return self.params.get("thread_ts")

    @property
    def view(self) -> Json | None:
        return self.params.get("view")

    def summary(self) -> str:
        return f"{self.method} {json.dumps(self.params, default=str)[:300]}"


class SlackError(Exception):
    """Raised by method handlers; answered as HTTP 200 {"ok": false, "error": ...}."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def response(self) -> web.Response:
        return web.json_response({"ok": False, "error": self.error, **self.extra})


# ---------------------------------------------------------------------------
# Block Kit checks
# ---------------------------------------------------------------------------


def _validate_tree(obj: JsonObject, where: str) -> list[str]:
    """Run slack_sdk's validators on `obj` and every nested Block Kit object."""
    errors: list[str] = []
    try:
        obj.validate_json()
    except Exception as exc:
        errors.append(f"{where}: {exc}")
    for name in sorted(obj.attributes):
        value = getattr(obj, name, None)
        children = list(enumerate(value)) if isinstance(value, list | tuple) else [(None, value)]
        for index, child in children:
            if isinstance(child, JsonObject):
                suffix = "" if index is None else f"[{index}]"
                errors += _validate_tree(child, f"{where}.{name}{suffix}")
    return errors


def check_blocks(blocks: Any, limit: int, where: str = "blocks") -> list[str]:
    """Problems Slack would report for a `blocks` array (empty list when valid)."""
    if not isinstance(blocks, list):
        return [f"{where}: must be an array, got {type(blocks).__name__}"]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(f"{where}: {len(blocks)} blocks exceed the limit of {limit}")
    seen_ids: set[str] = set()
    for index, raw in enumerate(blocks):
        path = f"{where}[{index}]"
        if not isinstance(raw, dict):
            errors.append(f"{path}: must be an object")
            continue
        block_id = raw.get("block_id")
        if block_id is not None:
            if block_id in seen_ids:
                errors.append(f"{path}: duplicate block_id {block_id!r}")
            seen_ids.add(block_id)
        try:
            block = Block.parse(raw)
        except Exception as exc:
            errors.append(f"{path}: {exc}")
            continue
        if block is None:
            errors.append(f"{path}: unknown block type {raw.get('type')!r}")
            continue
        errors += _validate_tree(block, f"{path}({raw['type']})")
    return errors


def check_view(view: Any) -> list[str]:
    """Problems Slack would report for a modal/home `view` (empty list when valid)."""
    if not isinstance(view, dict):
        return [f"view: must be an object, got {type(view).__name__}"]
    errors = check_blocks(view.get("blocks", []), MAX_VIEW_BLOCKS, "view.blocks")
    if errors:  # View() would re-parse the same broken blocks; report each problem once
        return errors
    try:
        View(**view).validate_json()
    except Exception as exc:
        return [f"view: {exc}"]
    return []


# ---------------------------------------------------------------------------
# Request helpers
# ---------------------------------------------------------------------------


async def _read_params(request: web.Request) -> Json:
    """Merge query string and JSON or form body, decoding JSON-string fields."""
    params: Json = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            params.update({key: value for key, value in form.items() if isinstance(value, str)})
    for key in JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            with suppress(ValueError):
                params[key] = json.loads(params[key])
    return params


def _bearer_token(request: web.Request, params: Json) -> str | None:
    """The token from the Authorization: Bearer header, else the `token` param (removed)."""
    token: str | None = params.pop("token", None)
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value:
        return value
    return token


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _ts_key(ts: str) -> Decimal:
    return Decimal(ts)


def _require(params: Json, name: str, error: str = "invalid_arguments") -> Any:
    value = params.get(name)
    if value in (None, ""):
        raise SlackError(error)
    return value


@asynccontextmanager
async def serve_on_loopback(app: web.Application) -> AsyncIterator[str]:
    """Serve an aiohttp app on 127.0.0.1 at a free port; yields "http://127.0.0.1:PORT"."""
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------------------
# The fake
# ---------------------------------------------------------------------------


class FakeSlack:
    """State and behaviour of the fake Slack; serve it with `serve_fake_slack()`."""

    bot_user_id = "UBOT"
    bot_id = "BBOT"
    app_id = "A1"

    def __init__(self, team_id: str = "T1") -> None:
        self.team_id = team_id
        self.root_url = ""  # "http://127.0.0.1:PORT/" once served
        self.calls: list[Call] = []
        self.block_errors: list[str] = []
        # behaviours: Slack's posting limits are off unless asked for (per_channel_rate,
        # per_workspace_rate); testkit.faults adds misbehaviour on request
        self.archived_channels: set[str] = set()
        self.per_channel_rate: float | None = None
        self.burst = 3
        # A workspace-wide posting limit on top of the channels' (None: none), like Slack's.
        self.per_workspace_rate: float | None = None
        self.workspace_burst = 40
        # Membership: the bot is in no channel until it joins a public one (conversations.join)
        # or someone invites it (`invite()`, for private channels); it posts only where it is.
        self.private_channels: set[str] = set()
        self.members: set[tuple[str, str]] = set()  # (team id, channel id)
        self.admins: set[str] = set()
        self.user_fields: dict[str, Json] = {}  # user id -> extra/overriding users.info fields
        self.channel_names: dict[str, str] = {}
        self.team_names: dict[str, str] = {}
        self.oauth_codes: dict[str, str] = {}  # oauth.v2.access code -> team id
        self.org_codes: dict[str, str] = {}  # code -> enterprise id: an org-wide install
        # Workflow steps: function execution id -> ("success", outputs) or ("error", message)
        self.completed_steps: dict[str, tuple[str, Any]] = {}
        self.installer_user_id = "U1"
        # response_url key -> (channel, ts) of the message the click came from, so that
        # replace_original and delete_original change the stored message as Slack does
        self.response_targets: dict[str, tuple[str, str]] = {}
        # state
        self.messages: dict[str, list[Json]] = {}  # channel -> messages, oldest first
        self.views: dict[str, Json] = {}  # view id -> last view
        self.home_views: dict[str, Json] = {}  # user id -> published home view
        self.files: dict[str, Json] = {}  # file id -> file info
        self.uploads: dict[str, bytes] = {}  # file id -> uploaded bytes
        # Canvases. Team settings, each True (every workspace) or a set of team ids:
        # canvases_disabled (every canvas method answers canvas_disabled_user_team) and
        # free_team (no channel canvases, standalone canvases cannot be edited).
        self.canvases_disabled: bool | set[str] = False
        self.free_team: bool | set[str] = False
        # Slack's tier 3 for canvases.edit, per workspace: edits per minute (None: no limit)
        # and how many may go at once (None: a minute's worth).
        self.canvas_edit_rate: float | None = None
        self.canvas_edit_burst: int | None = None
        self.canvases: dict[str, Json] = {}  # canvas id -> canvas (see `_new_canvas`)
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, updated at)
        self._workspace_buckets: dict[str, tuple[float, float]] = {}  # team -> (tokens, at)
        self._canvas_edit_buckets: dict[str, tuple[float, float]] = {}  # team -> (tokens, at)
        self._last_ts_micros = 0
        self._last_id = 0  # of files, canvases and views
        self._last_section_id = 0
        self._changed = asyncio.Condition()
        self._handlers: dict[str, Callable[[Call], Json]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "oauth.v2.access": self._oauth_v2_access,
            "team.info": self._team_info,
            "functions.completeSuccess": self._functions_complete_success,
            "functions.completeError": self._functions_complete_error,
            "conversations.canvases.create": self._conversations_canvases_create,
            "canvases.create": self._canvases_create,
            "canvases.access.set": self._canvases_access_set,
            "canvases.edit": self._canvases_edit,
            "canvases.sections.lookup": self._canvases_sections_lookup,
            "canvases.delete": self._canvases_delete,
        }

    # -- public API ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The Web API base URL, in slack_sdk's form (trailing slash)."""
        return f"{self.root_url}api/"

    def response_url(self, key: str) -> str:
        return f"{self.root_url}response/{key}"

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def reset(self) -> None:
        """Forget recorded calls and block errors; behaviours and stored messages stay."""
        self.calls.clear()
        self.block_errors.clear()

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until at least `count` calls to `method` were recorded and return them all."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: len(self.calls_to(method)) >= count)
        except TimeoutError:
            seen = "\n".join(f"  {call.summary()}" for call in self.calls) or "  (none)"
            raise AssertionError(
                f"expected {count} call(s) to {method} within {timeout}s, "
                f"got {len(self.calls_to(method))}; calls so far:\n{seen}"
            ) from None
        return self.calls_to(method)

    def invite(self, channel: str, *, team_id: str | None = None, inviter: str = "U1") -> Json:
        """Someone typed `/invite @Hypobot` in `channel`: the bot is a member from now on.
        Returns the member_joined_channel event Slack then sends to the app."""
        team = team_id or self.team_id
        self.members.add((team, channel))
        return {
            "type": "member_joined_channel",
            "user": self.bot_user_id,
            "channel": channel,
            "channel_type": "G" if channel in self.private_channels else "C",
            "team": team,
            "inviter": inviter,
            "event_ts": self._next_ts(),
        }

    def is_member(self, channel: str, *, team_id: str | None = None) -> bool:
        return (team_id or self.team_id, channel) in self.members

    def would_deliver(self, event: Json, *, team_id: str | None = None) -> bool:
        """Whether Slack would send this event to the app at all: message events (and
        mentions) only from channels the bot is a member of."""
        if event.get("type") not in ("message", "app_mention") or "channel" not in event:
            return True
        if str(event["channel"]).startswith("D"):  # a direct message with the app
            return True
        return self.is_member(event["channel"], team_id=team_id)

    def add_message(
        self,
        channel: str,
        text: str = "",
        *,
        user: str = "U1",
        ts: str | None = None,
        thread_ts: str | None = None,
        **fields: Any,
    ) -> Json:
        """Store a message (e.g. one a human wrote) so history/replies can return it."""
        message: Json = {"type": "message", "user": user, "text": text, **fields}
        if thread_ts:
            message["thread_ts"] = thread_ts
        return self._store(channel, message, ts)

    def channel_canvas(self, channel: str, *, team_id: str | None = None) -> str | None:
        """The id of `channel`'s canvas (not deleted), or None."""
        team = team_id or self.team_id
        return next(
            (
                canvas_id
                for canvas_id, canvas in self.canvases.items()
                if canvas["channel_id"] == channel
                and canvas["team_id"] == team
                and not canvas["deleted"]
            ),
            None,
        )

    def add_canvas(
        self,
        channel: str,
        markdown: str = "",
        *,
        title: str | None = None,
        team_id: str | None = None,
        user: str = "U1",
    ) -> str:
        """Someone created `channel`'s canvas in Slack: returns its id. (The app's own
        conversations.canvases.create then answers channel_canvas_already_exists.)"""
        team = team_id or self.team_id
        if self.channel_canvas(channel, team_id=team) is not None:
            raise ValueError(f"{channel} already has a canvas")
        canvas = self._new_canvas(team, markdown, title, owner=user, channel_id=channel)
        return str(canvas["id"])

    def delete_canvas(self, canvas_id: str, *, user: str = "U1") -> None:
        """Someone deleted the canvas in Slack: from now on it is canvas_not_found."""
        self.canvases[canvas_id].update(deleted=True, deleted_at=time.monotonic(), deleted_by=user)

    def workspace(self) -> Json:
        """The workspace as people would find it again in Slack, JSON-ready (serialise it at
        once: it shares this fake's state): channels with their names and messages, the bot's
        memberships, people's names, files and canvases, and the ids and timestamps handed
        out so far. Not the record of calls (canvas edits included), views or behaviours."""
        return {
            "messages": self.messages,
            "members": sorted([team, channel] for team, channel in self.members),
            "private_channels": sorted(self.private_channels),
            "archived_channels": sorted(self.archived_channels),
            "channel_names": self.channel_names,
            "user_fields": self.user_fields,
            "team_names": self.team_names,
            "files": self.files,
            "canvases": {key: {**canvas, "edits": []} for key, canvas in self.canvases.items()},
            "last_id": self._last_id,
            "last_section_id": self._last_section_id,
            "last_ts_micros": self._last_ts_micros,
        }

    def restore_workspace(self, saved: Json) -> None:
        """Take up a workspace `workspace()` gave, as it was left: new ids and timestamps
        follow those it had handed out."""
        self.messages = {channel: list(history) for channel, history in saved["messages"].items()}
        self.members = {(team, channel) for team, channel in saved["members"]}
        self.private_channels = set(saved["private_channels"])
        self.archived_channels = set(saved["archived_channels"])
        self.channel_names = dict(saved["channel_names"])
        self.user_fields = dict(saved["user_fields"])
        self.team_names = dict(saved["team_names"])
        self.files = dict(saved["files"])
        self.canvases = dict(saved["canvases"])
        self._last_id = int(saved["last_id"])
        self._last_section_id = int(saved["last_section_id"])
        self._last_ts_micros = int(saved["last_ts_micros"])

    def web_app(self) -> web.Application:
        # Slack takes a canvas of 1 MiB of markdown, so the bodies may be larger than that.
        app = web.Application(client_max_size=8 * MAX_CANVAS_MARKDOWN)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_post("/response/{key}", self._handle_response_url)
        return app

    # -- HTTP endpoints -----------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        params = await _read_params(request)
        call = await self._record(
            request.match_info["method"], params, _bearer_token(request, params)
        )
        return await self._respond(call, self._answer_api)

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        params = await _read_params(request)
        params["_key"] = request.match_info["key"]
        call = await self._record("response_url", params, None)
        return await self._respond(call, self._answer_response_url)

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        data = await self._read_upload(request)
        call = await self._record("upload", {"file_id": file_id, "size": len(data)}, None)

        def answer(_: Call) -> web.Response:
            if file_id not in self.files:
                return web.Response(status=404, text="file not found")
            self.uploads[file_id] = data
            return web.Response(text=f"OK - {len(data)}")

        return await self._respond(call, answer)

    @staticmethod
    async def _read_upload(request: web.Request) -> bytes:
        if request.content_type != "multipart/form-data":
            return await request.read()
        form = await request.post()
        for value in form.values():
            if isinstance(value, web.FileField):
                return value.file.read()
        return b""

    async def _record(self, method: str, params: Json, token: str | None) -> Call:
        call = Call(method=method, params=params, token=token)
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()
        return call

    async def _respond(self, call: Call, answer: Callable[[Call], web.Response]) -> web.Response:
        response = await self._misbehave_or_answer(call, answer)
        call.status = response.status
        if response.content_type == "application/json" and response.text:
            call.result = json.loads(response.text)
        return response

    async def _misbehave_or_answer(
        self, call: Call, answer: Callable[[Call], web.Response]
    ) -> web.Response:
        """Slack's posting limits when set (a 429 with Retry-After), else let `answer`
        reply. Subclasses add misbehaviour here (testkit.faults)."""
        if call.method == "chat.postMessage":
            wait = self._posting_wait(call)
            if wait:
                return self._ratelimited(wait)
        if call.method == "canvases.edit":
            wait = self._canvas_edit_wait(call)
            if wait:
                return self._ratelimited(wait)
        return answer(call)

    @staticmethod
    def _ratelimited(retry_after: int) -> web.Response:
        return web.json_response(
            {"ok": False, "error": "ratelimited"},
            status=429,
            headers={"Retry-After": str(retry_after)},
        )

    def _posting_wait(self, call: Call) -> int:
        """0 when a post may go now (its tokens are taken), else the Retry-After seconds:
        the workspace's bucket must have a token, then the channel's."""
        team = self._team_of(call)
        if self.per_workspace_rate is not None:
            tokens, _ = self._refilled(
                self._workspace_buckets, team, self.per_workspace_rate, self.workspace_burst
            )
            if tokens < 1:
                return max(1, math.ceil((1 - tokens) / self.per_workspace_rate))
        if not self._take_channel_token(call.channel):
            return 1
        if self.per_workspace_rate is not None:
            tokens, now = self._refilled(
                self._workspace_buckets, team, self.per_workspace_rate, self.workspace_burst
            )
            self._workspace_buckets[team] = (tokens - 1, now)
        return 0

    @staticmethod
    def _refilled(
        buckets: dict[str, tuple[float, float]], key: str, rate: float, burst: int
    ) -> tuple[float, float]:
        now = time.monotonic()
        tokens, updated = buckets.get(key, (float(burst), now))
        return min(float(burst), tokens + (now - updated) * rate), now

    def _canvas_edit_wait(self, call: Call) -> int:
        """0 when a canvas edit may go now (its token is taken), else the Retry-After seconds:
        one bucket per workspace, `canvas_edit_burst` edits at once, then `canvas_edit_rate`
        a minute."""
        if self.canvas_edit_rate is None:
            return 0
        per_second = self.canvas_edit_rate / 60
        burst = self.canvas_edit_burst
        if burst is None:
            burst = max(1, math.ceil(self.canvas_edit_rate))
        team = self._team_of(call)
        tokens, now = self._refilled(self._canvas_edit_buckets, team, per_second, burst)
        if tokens < 1:
            self._canvas_edit_buckets[team] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / per_second))
        self._canvas_edit_buckets[team] = (tokens - 1, now)
        return 0

    def _take_channel_token(self, channel: str | None) -> bool:
        """Token bucket per channel: `burst` posts at once, then `per_channel_rate` per second."""
        if self.per_channel_rate is None or channel is None:
            return True
        now = time.monotonic()
        tokens, updated = self._buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - updated) * self.per_channel_rate)
        if tokens < 1:
            self._buckets[channel] = (tokens, now)
            return False
        self._buckets[channel] = (tokens - 1, now)
        return True

    def _answer_api(self, call: Call) -> web.Response:
        try:
            handler = self._handlers.get(call.method)
            if handler is None:
                raise SlackError("unknown_method")
            if call.token is None and call.method not in TOKENLESS_METHODS:
                raise SlackError("not_authed")
            self._check_payload(call)
            body = handler(call)
        except SlackError as exc:
            return exc.response()
        return web.json_response({"ok": True, **body})

    def _answer_response_url(self, call: Call) -> web.Response:
        try:
            self._check_payload(call)
        except SlackError as exc:
            return exc.response()
        target = self.response_targets.get(call.params["_key"])
        if target is not None:
            self._change_original(*target, call.params)
        return web.json_response({"ok": True})

    def _change_original(self, channel: str, ts: str, params: Json) -> None:
        """replace_original / delete_original, applied to the message the click came from."""
        original = self.message(channel, ts)
        if original is None:
            return
        if _truthy(params.get("delete_original")):
            self.messages[channel].remove(original)
        elif _truthy(params.get("replace_original")):
            for key in ("text", "blocks", "attachments"):
                original.pop(key, None)
                if key in params:
                    original[key] = params[key]

    def _check_payload(self, call: Call) -> None:
        params = call.params
        errors: list[str] = []
        if call.method in MESSAGE_METHODS and "blocks" in params:
            errors += check_blocks(params["blocks"], MAX_MESSAGE_BLOCKS)
        if call.method.startswith("views.") and "view" in params:
            errors += check_view(params["view"])
        if errors:
            self.block_errors += [f"{call.method}: {error}" for error in errors]
            raise SlackError("invalid_blocks", errors=errors)
        text = params.get("text")
        too_long = isinstance(text, str) and len(text) > MAX_TEXT_LENGTH
        if too_long and call.method in ("chat.postMessage", "chat.update"):
            raise SlackError("msg_too_long")

    # -- storage ------------------------------------------------------------

    def _next_ts(self) -> str:
        micros = max(time.time_ns() // 1000, self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        self._last_id += 1
        return f"{prefix}{self._last_id:08d}"

    def _store(self, channel: str, message: Json, ts: str | None = None) -> Json:
        message["ts"] = ts or self._next_ts()
        history = self.messages.setdefault(channel, [])
        history.append(message)
        history.sort(key=lambda m: _ts_key(m["ts"]))
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            parent = self.message(channel, thread_ts)
            if parent is not None:
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                parent["latest_reply"] = message["ts"]
        return message

    def message(self, channel: str, ts: str) -> Json | None:
        """The message `ts` of `channel`, as stored (None: there is none)."""
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    def _team_of(self, call: Call) -> str:
        """Tokens minted by oauth.v2.access ("xoxb-fake-<team>") belong to that team."""
        prefix = "xoxb-fake-"
        if call.token and call.token.startswith(prefix):
            return call.token.removeprefix(prefix)
        return self.team_id

    def _team(self, team_id: str) -> Json:
        name = self.team_names.get(team_id, f"Team {team_id}")
        return {"id": team_id, "name": name, "domain": name.lower().replace(" ", "-")}

    def _check_not_archived(self, channel: str) -> None:
        if channel in self.archived_channels:
            raise SlackError("is_archived")

    def _check_member(self, call: Call, channel: str) -> None:
        """Slack refuses a post where the bot is not a member: a private channel it was not
        invited to is one it cannot even see."""
        direct = channel.startswith(("D", "U", "W"))  # the app's DM with a person
        if direct or (self._team_of(call), channel) in self.members:
            return
        hidden = channel in self.private_channels
        raise SlackError("channel_not_found" if hidden else "not_in_channel")

    @staticmethod
    def _shown(message: Json, include_metadata: bool) -> Json:
        return {k: v for k, v in message.items() if include_metadata or k != "metadata"}

    # -- method handlers ----------------------------------------------------

    def _auth_test(self, call: Call) -> Json:
        team = self._team(self._team_of(call))
        return {
            "url": f"https://{team['domain']}.slack.test/",
            "team": team["name"],
            "user": "hypobot",
            "team_id": team["id"],
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, call: Call) -> Json:
        params = call.params
        channel = _require(params, "channel", "channel_not_found")
        self._check_not_archived(channel)
        self._check_member(call, channel)
        if not any(params.get(key) for key in ("text", "blocks", "attachments")):
            raise SlackError("no_text")
        message: Json = {
            "type": "message",
            "text": params.get("text", ""),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self._team_of(call),
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata", "reply_broadcast"):
            if params.get(key) not in (None, ""):
                message[key] = params[key]
        self._store(channel, message)
        return {"channel": channel, "ts": message["ts"], "message": message}

    def _chat_update(self, call: Call) -> Json:
        params = call.params
        channel = _require(params, "channel", "channel_not_found")
        ts = _require(params, "ts", "message_not_found")
        self._check_not_archived(channel)
        self._check_member(call, channel)
        message = self.message(channel, ts)
        if message is None:
            raise SlackError("message_not_found")
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params:
                message[key] = params[key]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {"channel": channel, "ts": ts, "text": message.get("text", ""), "message": message}

    def _chat_post_ephemeral(self, call: Call) -> Json:
        channel = _require(call.params, "channel", "channel_not_found")
        _require(call.params, "user", "user_not_in_channel")
        self._check_not_archived(channel)
        if channel in self.private_channels:  # invisible to a bot that is not in it
            self._check_member(call, channel)
        return {"message_ts": self._next_ts()}

    def _chat_get_permalink(self, call: Call) -> Json:
        channel = _require(call.params, "channel", "channel_not_found")
        ts = _require(call.params, "message_ts", "message_not_found")
        return {
            "channel": channel,
            "permalink": f"{PERMALINK_ROOT}/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _save_view(self, call: Call, view_id: str | None = None) -> Json:
        view = _require(call.params, "view")
        view_id = view_id or self._next_id("V")
        saved: Json = {
            "id": view_id,
            "team_id": self._team_of(call),
            "callback_id": "",
            "private_metadata": "",
            "external_id": "",
            "state": {"values": {}},
            "hash": f"{time.time():.6f}.{view_id}",
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "app_installed_team_id": self._team_of(call),
            "bot_id": self.bot_id,
            **view,
        }
        self.views[view_id] = saved
        return {"view": saved}

    def _views_open(self, call: Call) -> Json:
        if not (call.params.get("trigger_id") or call.params.get("interactivity_pointer")):
            raise SlackError("invalid_trigger_id")
        return self._save_view(call)

    def _views_update(self, call: Call) -> Json:
        view_id = call.params.get("view_id")
        if not view_id:
            external_id = _require(call.params, "external_id")
            view_id = next(
                (v["id"] for v in self.views.values() if v.get("external_id") == external_id),
                None,
            )
            if view_id is None:
                raise SlackError("not_found")
        return self._save_view(call, view_id)

    def _views_publish(self, call: Call) -> Json:
        user_id = _require(call.params, "user_id", "user_not_found")
        response = self._save_view(call)
        self.home_views[user_id] = response["view"]
        return response

    def _users_info(self, call: Call) -> Json:
        user_id = _require(call.params, "user", "user_not_found")
        name = f"user-{user_id.lower()}"
        user: Json = {
            "id": user_id,
            "team_id": self._team_of(call),
            "name": name,
            "real_name": name,
            "deleted": False,
            "is_admin": user_id in self.admins,
            "is_owner": False,
            "is_bot": user_id == self.bot_user_id,
            "tz": "Europe/Berlin",
            "tz_label": "Central European Time",
            "tz_offset": 3600,
            "profile": {"real_name": name, "display_name": name},
        }
        return {"user": {**user, **self.user_fields.get(user_id, {})}}

    def _conversations_info(self, call: Call) -> Json:
        channel = _require(call.params, "channel", "channel_not_found")
        info: Json = {
            "id": channel,
            "name": self.channel_names.get(channel, channel.lower()),
            "is_channel": True,
            "is_private": channel in self.private_channels,
            "is_member": (self._team_of(call), channel) in self.members,
            "is_archived": channel in self.archived_channels,
            "created": 1_700_000_000,
        }
        canvas_id = self.channel_canvas(channel, team_id=self._team_of(call))
        if canvas_id is not None:  # as Slack shows a channel's canvas
            empty = not self.canvases[canvas_id]["markdown"]
            info["properties"] = {"canvas": {"file_id": canvas_id, "is_empty": empty}}
        return {"channel": info}

    def _conversations_join(self, call: Call) -> Json:
        """A public channel: the bot joins (once). A private one cannot be joined: Slack says
        so when the bot is in it, and cannot see it otherwise."""
        channel = _require(call.params, "channel", "channel_not_found")
        member = (self._team_of(call), channel)
        if channel in self.private_channels:
            raise SlackError(
                "method_not_supported_for_channel_type"
                if member in self.members
                else "channel_not_found"
            )
        self._check_not_archived(channel)
        already = member in self.members
        self.members.add(member)
        info = self._conversations_info(call)
        return info | ({"warning": "already_in_channel"} if already else {})

    def _conversations_history(self, call: Call) -> Json:
        params = call.params
        channel = _require(params, "channel", "channel_not_found")
        oldest = _ts_key(str(params.get("oldest") or "0"))
        latest = _ts_key(str(params["latest"])) if params.get("latest") else None
        inclusive = _truthy(params.get("inclusive"))

        def in_range(ts: Decimal) -> bool:
            above = ts >= oldest if inclusive else ts > oldest
            below = latest is None or (ts <= latest if inclusive else ts < latest)
            return above and below

        top_level = [
            m
            for m in reversed(self.messages.get(channel, []))
            if in_range(_ts_key(m["ts"]))
            and (m.get("thread_ts") in (None, m["ts"]) or _truthy(m.get("reply_broadcast")))
        ]
        return self._page(top_level, params)

    def _conversations_replies(self, call: Call) -> Json:
        params = call.params
        channel = _require(params, "channel", "channel_not_found")
        ts = _require(params, "ts", "thread_not_found")
        if self.message(channel, ts) is None:
            raise SlackError("thread_not_found")
        thread = [m for m in self.messages[channel] if m["ts"] == ts or m.get("thread_ts") == ts]
        return self._page(thread, params)

    def _page(self, messages: list[Json], params: Json) -> Json:
        limit = int(params.get("limit") or 100)
        include_metadata = _truthy(params.get("include_all_metadata"))
        return {
            "messages": [self._shown(m, include_metadata) for m in messages[:limit]],
            "has_more": len(messages) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    def _files_get_upload_url(self, call: Call) -> Json:
        filename = _require(call.params, "filename")
        length = int(_require(call.params, "length"))
        file_id = self._next_id("F")
        self.files[file_id] = {
            "id": file_id,
            "name": filename,
            "title": filename,
            "size": length,
            "user": self.bot_user_id,
            "permalink": f"{PERMALINK_ROOT}/files/{self.bot_user_id}/{file_id}/{filename}",
            "channels": [],
        }
        return {"upload_url": f"{self.root_url}upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, call: Call) -> Json:
        params = call.params
        requested = _require(params, "files")
        if not isinstance(requested, list) or not requested:
            raise SlackError("invalid_arguments")
        channels = [c for c in str(params.get("channels") or "").split(",") if c]
        if params.get("channel_id"):
            channels.append(params["channel_id"])
        for channel in channels:
            self._check_not_archived(channel)
            self._check_member(call, channel)
        completed: list[Json] = []
        for item in requested:
            file_id = item.get("id")
            if file_id not in self.uploads:
                raise SlackError("file_not_found")
            info = self.files[file_id]
            info["title"] = item.get("title") or info["name"]
            info["channels"] = channels
            info["initial_comment"] = params.get("initial_comment")
            info["thread_ts"] = params.get("thread_ts")
            completed.append({key: info[key] for key in ("id", "title", "name", "size")})
        return {"files": completed}

    def _oauth_v2_access(self, call: Call) -> Json:
        code = _require(call.params, "code", "invalid_code")
        if code in self.org_codes:  # org-wide: no team, the enterprise, the org's token
            enterprise = {"id": self.org_codes[code], "name": f"Org {self.org_codes[code]}"}
            return {
                "access_token": f"xoxb-fake-{enterprise['id']}",
                "token_type": "bot",
                "scope": "commands,chat:write",
                "bot_user_id": self.bot_user_id,
                "app_id": self.app_id,
                "team": None,
                "enterprise": enterprise,
                "is_enterprise_install": True,
                "authed_user": {"id": self.installer_user_id},
            }
        team = self._team(self.oauth_codes.get(code, self.team_id))
        return {
            "access_token": f"xoxb-fake-{team['id']}",
            "token_type": "bot",
            "scope": "commands,chat:write,users:read,channels:history,files:write",
            "bot_user_id": self.bot_user_id,
            "app_id": self.app_id,
            "team": {"id": team["id"], "name": team["name"]},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": self.installer_user_id},
        }

    def _complete_step(self, call: Call, outcome: tuple[str, Any]) -> Json:
        """A workflow step ends once: Slack refuses a second completion of an execution."""
        execution = _require(call.params, "function_execution_id", "invalid_arguments")
        if execution in self.completed_steps:
            raise SlackError("function_execution_not_found")
        self.completed_steps[execution] = outcome
        return {}

    def _functions_complete_success(self, call: Call) -> Json:
        outputs = call.params.get("outputs")
        if isinstance(outputs, str):
            outputs = json.loads(outputs)
        if not isinstance(outputs, dict):
            raise SlackError("invalid_arguments")
        return self._complete_step(call, ("success", outputs))

    def _functions_complete_error(self, call: Call) -> Json:
        return self._complete_step(call, ("error", _require(call.params, "error")))

    def _team_info(self, call: Call) -> Json:
        return {"team": self._team(call.params.get("team") or self._team_of(call))}

    # -- canvases -----------------------------------------------------------

    def _new_canvas(
        self,
        team: str,
        markdown: str,
        title: str | None,
        *,
        owner: str,
        channel_id: str | None = None,
        tabbed_in: str | None = None,
    ) -> Json:
        """Store a canvas. `channel_id`: the channel's canvas; `tabbed_in`: a standalone canvas
        added to that channel's tabs (both give that channel write access)."""
        canvas_id = self._next_id("F")
        shared_with = channel_id or tabbed_in
        canvas: Json = {
            "id": canvas_id,
            "team_id": team,
            "kind": "channel" if channel_id else "standalone",
            "channel_id": channel_id,
            "tabbed_in": tabbed_in,
            "title": title,
            "owner": owner,
            "markdown": markdown,
            "sections": self._sections(markdown),
            "access": {
                "channels": {shared_with: "write"} if shared_with else {},
                "users": {},
            },
            "created_at": time.monotonic(),
            "edits": [],
            "deleted": False,
            "deleted_at": None,
            "deleted_by": None,
        }
        self.canvases[canvas_id] = canvas
        return canvas

    def _sections(self, markdown: str) -> list[Json]:
        """The document as sections, one per line, each with a fresh id."""
        if not markdown:
            return []
        first = self._last_section_id + 1
        lines = markdown.split("\n")
        self._last_section_id += len(lines)
        return [
            {"id": f"temp:C:{number:028d}", "markdown": line}
            for number, line in enumerate(lines, first)
        ]

    @staticmethod
    def _team_setting(setting: bool | set[str], team: str) -> bool:
        return setting if isinstance(setting, bool) else team in setting

    def _canvas_team(self, call: Call) -> str:
        """The caller's workspace, refused when canvases are off there."""
        team = self._team_of(call)
        if self._team_setting(self.canvases_disabled, team):
            raise SlackError("canvas_disabled_user_team")
        return team

    def _live_canvas(self, call: Call, team: str) -> Json:
        canvas_id = _require(call.params, "canvas_id", "canvas_not_found")
        canvas = self.canvases.get(canvas_id)
        if canvas is None or canvas["team_id"] != team or canvas["deleted"]:
            raise SlackError("canvas_not_found")
        return canvas

    @staticmethod
    def _markdown(source: Json, key: str = "document_content") -> str | None:
        """The markdown of a {"type": "markdown", "markdown": …} field (None when absent)."""
        content = source.get(key)
        if content is None:
            return None
        if (
            not isinstance(content, dict)
            or content.get("type") != "markdown"
            or not isinstance(content.get("markdown"), str)
        ):
            raise SlackError("invalid_arguments")
        return str(content["markdown"])

    def _check_canvas_size(self, call: Call, what: str, markdown: str, error: str) -> None:
        """Slack refuses a document over 1 MiB of markdown: recorded like a Block Kit error."""
        if len(markdown) > MAX_CANVAS_MARKDOWN:
            self.block_errors.append(
                f"{call.method}: {what}: {len(markdown)} characters of markdown exceed "
                f"the limit of {MAX_CANVAS_MARKDOWN}"
            )
            raise SlackError(error)

    def _conversations_canvases_create(self, call: Call) -> Json:
        team = self._canvas_team(call)
        channel = _require(call.params, "channel_id", "channel_not_found")
        markdown = self._markdown(call.params) or ""
        if self._team_setting(self.free_team, team):
            raise SlackError("team_tier_cannot_create_channel_canvases")
        self._check_not_archived(channel)
        self._check_member(call, channel)
        if self.channel_canvas(channel, team_id=team) is not None:
            raise SlackError("channel_canvas_already_exists")
        self._check_canvas_size(
            call, "document_content", markdown, "channel_canvas_creation_failed"
        )
        title = call.params.get("title") or None
        canvas = self._new_canvas(team, markdown, title, owner=self.bot_user_id, channel_id=channel)
        return {"canvas_id": canvas["id"]}

    def _canvases_create(self, call: Call) -> Json:
        team = self._canvas_team(call)
        markdown = self._markdown(call.params) or ""
        channel = call.params.get("channel_id") or None
        if channel is not None:  # tabbed in a channel: one the bot can see and is in
            self._check_not_archived(channel)
            self._check_member(call, channel)
        self._check_canvas_size(call, "document_content", markdown, "canvas_creation_failed")
        title = call.params.get("title") or None
        canvas = self._new_canvas(team, markdown, title, owner=self.bot_user_id, tabbed_in=channel)
        return {"canvas_id": canvas["id"]}

    @staticmethod
    def _id_list(value: Any) -> list[str]:
        """channel_ids / user_ids: slack_sdk joins them with commas; JSON arrays work too."""
        if value in (None, ""):
            return []
        if isinstance(value, str) and value.startswith("["):
            with suppress(ValueError):
                value = json.loads(value)
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list) or not all(isinstance(i, str) and i for i in value):
            raise SlackError("invalid_arguments")
        return [item.strip() for item in value]

    def _canvases_access_set(self, call: Call) -> Json:
        team = self._canvas_team(call)
        canvas = self._live_canvas(call, team)
        level = _require(call.params, "access_level")
        if level not in CANVAS_ACCESS_LEVELS:
            raise SlackError("invalid_arguments")
        channels = self._id_list(call.params.get("channel_ids"))
        users = self._id_list(call.params.get("user_ids"))
        if bool(channels) == bool(users):  # one of the two, not both
            raise SlackError("invalid_parameters")
        if len(channels) > MAX_CANVAS_ACCESS_IDS or len(users) > MAX_CANVAS_ACCESS_IDS:
            raise SlackError("invalid_arguments")
        if channels and level == "owner":  # only a person can own a canvas
            raise SlackError("invalid_arguments")
        granted = canvas["access"]["channels" if channels else "users"]
        granted.update(dict.fromkeys(channels or users, level))
        return {}

    def _canvases_edit(self, call: Call) -> Json:
        team = self._canvas_team(call)
        canvas = self._live_canvas(call, team)
        if canvas["kind"] == "standalone" and self._team_setting(self.free_team, team):
            raise SlackError("free_teams_cannot_edit_standalone_canvases")
        changes = call.params.get("changes")
        if not isinstance(changes, list) or not changes:
            raise SlackError("invalid_arguments")
        sections = list(canvas["sections"])
        title = canvas["title"]
        for change in changes:  # all or nothing: applied to copies, kept once all went
            if not isinstance(change, dict):
                raise SlackError("invalid_arguments")
            if change.get("operation") == "rename":
                title = self._markdown(change, "title_content")
                if title is None or "section_id" in change:
                    raise SlackError("invalid_arguments")
                continue
            sections = self._edited(sections, change)
        markdown = "\n".join(section["markdown"] for section in sections)
        self._check_canvas_size(call, f"canvas {canvas['id']}", markdown, "canvas_editing_failed")
        canvas.update(title=title, sections=sections, markdown=markdown)
        canvas["edits"].append({"at": time.monotonic(), "changes": changes, "markdown": markdown})
        return {}

    def _edited(self, sections: list[Json], change: Json) -> list[Json]:
        """`sections` after one change (other than a rename)."""
        operation = change.get("operation")
        section_id = change.get("section_id")
        if operation in EDITS_AT_AN_END:
            valid = section_id is None
        elif operation in EDITS_OF_A_SECTION:
            valid = isinstance(section_id, str) and bool(section_id)
        else:
            valid = operation == "replace" and (section_id is None or isinstance(section_id, str))
        markdown = self._markdown(change)
        if not valid or (markdown is None and operation != "delete"):
            raise SlackError("invalid_arguments")
        new = [] if operation == "delete" else self._sections(markdown or "")
        if section_id is None:
            if operation == "replace":
                return new
            return new + sections if operation == "insert_at_start" else sections + new
        index = next((i for i, s in enumerate(sections) if s["id"] == section_id), None)
        if index is None:
            raise SlackError("canvas_editing_failed")
        if operation == "insert_before":
            return sections[:index] + new + sections[index:]
        if operation == "insert_after":
            return sections[: index + 1] + new + sections[index + 1 :]
        # replace or delete the section
        return sections[:index] + new + sections[index + 1 :]

    def _canvases_sections_lookup(self, call: Call) -> Json:
        team = self._canvas_team(call)
        canvas = self._live_canvas(call, team)
        criteria = call.params.get("criteria")
        if not isinstance(criteria, dict):
            raise SlackError("invalid_arguments")
        types = criteria.get("section_types")
        text = criteria.get("contains_text")
        if types is None and text is None:
            raise SlackError("invalid_arguments")
        if types is not None and (
            not isinstance(types, list) or not types or not set(types) <= CANVAS_HEADINGS.keys()
        ):
            raise SlackError("invalid_arguments")
        levels = {level for name in types or () for level in CANVAS_HEADINGS[name]}

        def matches(line: str) -> bool:
            hashes = len(line) - len(line.lstrip("#"))
            heading = line[hashes : hashes + 1] == " " and hashes in levels
            return bool(line.strip()) and (types is None or heading) and str(text or "") in line

        found = [{"id": s["id"]} for s in canvas["sections"] if matches(s["markdown"])]
        return {"sections": found}

    def _canvases_delete(self, call: Call) -> Json:
        team = self._canvas_team(call)
        canvas = self._live_canvas(call, team)
        canvas.update(deleted=True, deleted_at=time.monotonic(), deleted_by=self.bot_user_id)
        return {}


@asynccontextmanager
async def serve_fake_slack(
    team_id: str = "T1", *, fake: FakeSlack | None = None
) -> AsyncIterator[FakeSlack]:
    """Run a FakeSlack (or `fake`, say a misbehaving one) on a free loopback port for the
    duration of the block."""
    fake = fake or FakeSlack(team_id)
    async with serve_on_loopback(fake.web_app()) as root:
        fake.root_url = f"{root}/"
        yield fake
