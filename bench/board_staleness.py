"""Board staleness: how long a change to a bet takes to show on its channel's board, with
`hypobot serve` (production settings: a rewrite of a board at most every 10 s, canvases.edit
at 50 a minute with a burst of 5 per workspace) against a fake Slack (its own process, on
loopback) that enforces Slack's tier 3 on canvases.edit per workspace, answering 429 with
Retry-After beyond it (and Slack's posting limits on the cards).

    python -m bench.board_staleness [--minutes 3] [--channels 20] [--per-minute 200]

Boards are turned on in --channels channels (`/hypothesis board`, signed, over HTTP); then
--per-minute signed `/hypothesis new …` a minute, spread evenly in time and over the
channels in turn, for --minutes. Each bet's title carries a marker; a change is shown by the
first canvases.edit of its channel's canvas, at or after the moment the command was sent,
whose document has the marker (the fake records each edit's time and document; both
processes read time.monotonic(), system-wide on Linux). Prints p50/p90/p99/max seconds from
change to that edit, changes never shown, canvases.edit calls and their 429s, and the floor
the limits set: a board can be rewritten no more often than every
max(10 s, channels / (edits a minute / 60)) = 24 s for 20 boards sharing 50 edits a minute,
and a change waits for its board's next rewrite. Target: p99 <= 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bench import common
from console.fakeslack import FakeSlack
from console.signing import SlackClient
from storage import db

TARGET_P99_S = 30.0
TEAM = "T1"
DRAIN_S = 120.0  # after the last change, how long its rewrite may take to come


@dataclass(frozen=True)
class Limits:
    edits_per_minute: float = 50.0  # canvases.edit, Slack's tier 3, per workspace
    edit_burst: int = 5
    board_every_s: float = 10.0  # HYPOBOT_BOARD_EVERY_S, production's

    def board_interval(self, boards: int) -> float:
        """The least time between two rewrites of a board when `boards` boards all change
        all the time: their own interval, or their share of the workspace's edits."""
        return max(self.board_every_s, boards * 60 / self.edits_per_minute)


@dataclass
class Result:
    channels: int
    per_minute: float
    minutes: float
    changes: int = 0
    refused: int = 0  # commands not answered 200
    shown: list[float] = field(default_factory=list)  # seconds, change to the edit showing it
    unshown: int = 0
    edits: int = 0  # canvases.edit calls answered 200
    edit_calls: int = 0
    edits_429: int = 0
    posts_429: int = 0
    edits_per_board_minute: float = 0.0  # from the first change to the last edit
    duration_s: float = 0.0

    def p(self, q: float) -> float:
        return common.percentile(self.shown, q)


def channel_ids(channels: int) -> list[str]:
    return [f"C{n:04d}" for n in range(channels)]


def marker(index: int) -> str:
    return f"b{index:06d}x"


def change_text(index: int) -> str:
    return (
        f"new We believe a {marker(index)} flag for admins will cut support tickets. "
        "We'll know when flag tickets drop 30% within 10 days"
    )


# --- the fake, in its own process ----------------------------------------------------------


def fake_report(fake: FakeSlack) -> dict[str, Any]:
    edits = [
        [canvas["channel_id"], edit["at"], edit["markdown"]]
        for canvas in fake.canvases.values()
        for edit in canvas["edits"]
    ]
    edit_calls = fake.calls_to("canvases.edit")
    return {
        "edits": edits,
        "edit_calls": len(edit_calls),
        "edits_429": sum(call.status == 429 for call in edit_calls),
        "posts_429": sum(call.status == 429 for call in fake.calls_to("chat.postMessage")),
    }


async def serve_fake(limits: Limits) -> None:
    """Serve the fake until SIGTERM; print its base URL first."""
    fake = FakeSlack(TEAM)
    fake.canvas_edit_rate, fake.canvas_edit_burst = limits.edits_per_minute, limits.edit_burst
    fake.per_channel_rate, fake.burst = 1.0, 3  # Slack's posting limits, for the cards
    fake.per_workspace_rate, fake.workspace_burst = 20.0, 40
    app = fake.web_app()

    async def report(_: web.Request) -> web.Response:
        return web.json_response(fake_report(fake))

    app.router.add_get("/bench/report", report)
    await common.serve_until_stopped(fake, app)


async def report_of(session: aiohttp.ClientSession, api: str) -> dict[str, Any]:
    async with session.get(f"{api.removesuffix('api/')}bench/report") as response:
        found: dict[str, Any] = await response.json()
        return found


# --- the run ---------------------------------------------------------------------------------


def first_showing(edits: list[tuple[float, str]], since: float, text: str) -> float | None:
    """The time of the first edit (time order) at or after `since` whose document has
    `text`."""
    for at, markdown in edits:
        if at >= since and text in markdown:
            return at
    return None


async def drive(
    client: SlackClient, api: str, channels: list[str], per_minute: float, minutes: float
) -> tuple[list[tuple[int, str, float]], int]:
    """The changes, evenly spread in time, each channel in turn; returns (index, channel,
    moment sent) of each and how many were refused."""
    total = round(per_minute * minutes)
    every = 60 / per_minute
    sent: list[tuple[int, str, float]] = []
    refused = 0

    async def one(index: int, channel: str) -> None:
        nonlocal refused
        sent.append((index, channel, time.monotonic()))
        status, _ = await client.command(
            change_text(index),
            channel_id=channel,
            response_url=f"{api.removesuffix('api/')}response/c{index}",
        )
        if status != 200:
            refused += 1

    tasks = []
    begin = time.monotonic()
    for index in range(total):
        delay = begin + index * every - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, channels[index % len(channels)])))
    await asyncio.gather(*tasks)
    return sent, refused


async def run(args: argparse.Namespace, limits: Limits) -> Result:
    result = Result(args.channels, args.per_minute, args.minutes)
    channels = channel_ids(args.channels)
    fake_args = [
        "--serve-fake",
        *("--edits-per-minute", str(limits.edits_per_minute)),
        *("--edit-burst", str(limits.edit_burst)),
    ]
    async with (
        common.postgres_database("board") as url,
        common.fake_process("bench.board_staleness", *fake_args) as (api, _fake_pid),
    ):
        await db.migrate(url)
        port = common.free_port()
        env = common.serve_env(port=port, database_url=url, api_url=api, scheduler="on")
        env |= {
            "SLACK_CANVAS_EDITS_PER_MINUTE": str(limits.edits_per_minute),
            "SLACK_CANVAS_EDIT_BURST": str(limits.edit_burst),
            "HYPOBOT_BOARD_EVERY_S": str(limits.board_every_s),
        }
        server = await common.start(common.hypobot_command(), env=env, log_name="board-serve")
        try:
            base = f"http://127.0.0.1:{port}"
            await common.wait_healthy(f"{base}/healthz", server)
            timeout = aiohttp.ClientTimeout(total=60)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                client = SlackClient(base, session, common.SIGNING_SECRET)
                await boards_on(client, session, api, channels)
                print(
                    f"  {len(channels)} boards on; {args.per_minute:g} changes a minute for "
                    f"{args.minutes:g} min…",
                    file=sys.stderr,
                )
                before = await report_of(session, api)
                begin = time.monotonic()
                sent, result.refused = await drive(
                    client, api, channels, args.per_minute, args.minutes
                )
                last = time.monotonic()
                report = await until_shown(session, api, sent, last + DRAIN_S)
                result.duration_s = last - begin
        finally:
            await common.stop(server)
    measure(result, sent, report, before, begin)
    return result


async def boards_on(
    client: SlackClient, session: aiohttp.ClientSession, api: str, channels: list[str]
) -> None:
    """`/hypothesis board` in every channel, then until every board's first rewrite is out
    (20 boards at 50 edits a minute, a burst of 5: about 20 s)."""
    for channel in channels:
        status, body = await client.command(
            "board", channel_id=channel, response_url=f"{api.removesuffix('api/')}response/b"
        )
        if status != 200:
            raise RuntimeError(f"/hypothesis board in {channel}: {status} {body}")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        report = await report_of(session, api)
        if {channel for channel, _, _ in report["edits"]} >= set(channels):
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("the boards' first rewrites did not all come within 120 s")


async def until_shown(
    session: aiohttp.ClientSession,
    api: str,
    sent: list[tuple[int, str, float]],
    deadline: float,
) -> dict[str, Any]:
    """The fake's report once every change is on its board (or at `deadline`)."""
    while True:
        report = await report_of(session, api)
        latest: dict[str, str] = {}
        for channel, _, markdown in sorted(report["edits"], key=lambda edit: edit[1]):
            latest[channel] = markdown
        if all(marker(i) in latest.get(channel, "") for i, channel, _ in sent):
            return report
        if time.monotonic() > deadline:
            return report
        await asyncio.sleep(1)


def measure(
    result: Result,
    sent: list[tuple[int, str, float]],
    report: dict[str, Any],
    before: dict[str, Any],
    begin: float,
) -> None:
    by_channel: dict[str, list[tuple[float, str]]] = {}
    for channel, at, markdown in sorted(report["edits"], key=lambda edit: edit[1]):
        by_channel.setdefault(channel, []).append((at, markdown))
    result.changes = len(sent)
    for index, channel, moment in sent:
        at = first_showing(by_channel.get(channel, []), moment, marker(index))
        if at is None:
            result.unshown += 1
        else:
            result.shown.append(at - moment)
    during = [edit for edit in report["edits"] if edit[1] >= begin]
    result.edits = len(during)
    span = max((edit[1] for edit in during), default=begin) - begin
    result.edits_per_board_minute = len(during) / max(1, result.channels) / (span / 60 or 1)
    result.edit_calls = report["edit_calls"] - before["edit_calls"]
    result.edits_429 = report["edits_429"] - before["edits_429"]
    result.posts_429 = report["posts_429"] - before["posts_429"]


# --- the table -----------------------------------------------------------------------------

HEADERS = [
    "boards",
    "changes/min",
    "min",
    "changes",
    "shown",
    "never",
    "p50 s",
    "p90 s",
    "p99 s",
    "max s",
    "floor s",
    "edits",
    "edits/board/min",
    "edit 429s",
    "post 429s",
    "target",
]


def row_of(result: Result, limits: Limits) -> list[Any]:
    meets = result.unshown == 0 and result.p(0.99) <= TARGET_P99_S
    return [
        result.channels,
        result.per_minute,
        round(result.minutes, 2),
        result.changes,
        len(result.shown),
        result.unshown,
        round(result.p(0.5), 1),
        round(result.p(0.9), 1),
        round(result.p(0.99), 1),
        round(max(result.shown, default=float("nan")), 1),
        round(limits.board_interval(result.channels), 1),
        result.edits,
        round(result.edits_per_board_minute, 2),
        result.edits_429,
        result.posts_429,
        "meets" if meets else "MISSES",
    ]


async def main(args: argparse.Namespace) -> None:
    limits = Limits(args.edits_per_minute, args.edit_burst, args.board_every_s)
    result = await run(args, limits)
    print(
        f"\nBoard staleness, hypobot serve on PostgreSQL, fake Slack in its own process "
        f"enforcing canvases.edit at {limits.edits_per_minute:g} a minute (burst "
        f"{limits.edit_burst}) per workspace; a board rewritten at most every "
        f"{limits.board_every_s:g} s"
    )
    print(
        f"target: p99 <= {TARGET_P99_S:g} s from a change (the command sent) to the "
        "canvases.edit that shows it; floor: the least time between two rewrites of a "
        "board when all of them change\n"
    )
    print(common.table(HEADERS, [row_of(result, limits)]))
    path = common.write_json(
        "board_staleness",
        {
            "limits": vars(limits),
            "result": {**vars(result), "shown": sorted(result.shown)},
        },
    )
    print(f"\n(JSON: {path.relative_to(common.ROOT)})")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="how long changes come")
    parser.add_argument("--channels", type=int, default=20, help="boards, one per channel")
    parser.add_argument("--per-minute", type=float, default=200.0, help="changes a minute")
    parser.add_argument("--edits-per-minute", type=float, default=50.0)
    parser.add_argument("--edit-burst", type=int, default=5)
    parser.add_argument("--board-every-s", type=float, default=10.0)
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments_given = arguments()
    limits_given = Limits(
        arguments_given.edits_per_minute, arguments_given.edit_burst, arguments_given.board_every_s
    )
    if arguments_given.serve_fake:
        asyncio.run(serve_fake(limits_given))
    else:
        asyncio.run(main(arguments_given))
