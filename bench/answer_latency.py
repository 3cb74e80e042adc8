"""Answer latency: how long the person who typed `/hypothesis new …` or `/hypothesis show H-n`
waits for the answer, under 200 concurrent commands, on SQLite and on PostgreSQL, for three
servers side by side: a bare Bolt app that only acks (bench/bare_app.py), a bare Bolt app
doing the same durable work in hand-written SQL and answering in the ack
(bench/raw_sql_app.py), and `hypobot serve`.

    python -m bench.answer_latency [--quick] [--rounds N] [--concurrency N] [--db sqlite|postgres]
                                   [--channels N] [--teams N]

The answer is the ack when the ack carries it, otherwise the post to the request's own
response_url, timestamped as it arrives at Slack's stand-in: a receiver in its own process
(`--sink`), which does nothing else. The Web API calls (the cards) go to the fake Slack
in this process. The card is
the chat.postMessage of the new bet's card in its channel, timed from the burst's start.
Every time is time.monotonic(), which is system-wide on Linux: the load generator's process
and this one read the same clock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench import common
from console.fakeslack import FakeSlack, serve_fake_slack

ANSWER_TARGET = 1.5  # Hypobot answer p99 / raw-SQL answer p99
ACK_TARGET = 1.25  # Hypobot ack p99 / raw-SQL ack p99 (its ack carries its answer)
ACK_MOST_MS = 2500.0  # no ack slower than this (Slack allows 3 s)
CARD_TARGET = 1.1  # Hypobot card p99 / the pacing floor of the burst's cards
ANSWER_WAIT_S = 60.0  # an answer not at the fake by then is counted as missing
CARD_WAIT_S = 120.0
WORKING = "Working on it"  # Hypobot's ack when the answer follows through the response_url
CARD_TITLE = re.compile(r"#(\d+) ·")  # "H-7 · A one-click export #12 · proposed"
# Hypobot's outbox pacing (bot.slack.Limits, the defaults of ops.settings): the floor under
# the card latency of a burst, whatever the code does.
CHANNEL_RATE, CHANNEL_BURST, WORKSPACE_RATE, WORKSPACE_BURST = 1.0, 3, 20.0, 40


# --- the response_url receiver ----------------------------------------------------------


class Sink:
    """Slack's response_url endpoint, alone in its own process: each post is timestamped as
    its request arrives, before its body is read, so the figure is the server's and not the
    fake Web API's (which validates every message's blocks on the bench's own event loop).
    GET /calls?since=N lists what arrived from the N-th post on."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def post(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        body = await request.read()
        text = ""
        with contextlib.suppress(ValueError):
            parsed = json.loads(body or b"{}")
            text = str(parsed.get("text") or "") if isinstance(parsed, dict) else ""
        self.calls.append({"key": request.match_info["key"], "at": at, "text": text[:200]})
        return web.json_response({"ok": True})

    async def list(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        return web.json_response({"calls": self.calls[since:], "next": len(self.calls)})


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def serve_sink(port: int) -> None:
    sink = Sink()
    app = web.Application()
    app.router.add_post("/response/{key}", sink.post)
    app.router.add_get("/calls", sink.list)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


class SinkClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: dict[str, dict[str, Any]] = {}
        self.next = 0

    def response_url(self, key: str) -> str:
        return f"{self.url}/response/{key}"

    async def poll(self, session: aiohttp.ClientSession) -> None:
        async with session.get(f"{self.url}/calls", params={"since": self.next}) as response:
            found = await response.json()
        for call in found["calls"]:
            self.seen.setdefault(call["key"], call)
        self.next = found["next"]


@dataclass
class Server:
    name: str
    slug: str
    url: str
    process: asyncio.subprocess.Process
    ack_ms: dict[str, list[float]] = field(default_factory=dict)
    answer_ms: dict[str, list[float]] = field(default_factory=dict)
    card_ms: list[float] = field(default_factory=list)
    in_ack: Counter[str] = field(default_factory=Counter)  # answers that came in the ack
    # Per command, each recorded burst's (ack p99, answer p99), in round order.
    per_round: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def error(self, kind: str, text: str) -> None:
        self.errors.setdefault(kind, []).append(text)


@contextlib.asynccontextmanager
async def databases(kind: str) -> AsyncIterator[tuple[str, str]]:
    """(Hypobot's database, the raw-SQL app's database): fresh, dropped afterwards."""
    if kind == "postgres":
        async with (
            common.postgres_database("answer") as url,
            common.postgres_database("answer_raw") as raw,
        ):
            yield url, raw
        return
    with tempfile.TemporaryDirectory(prefix="hypobot-bench-") as tmp:
        yield f"sqlite://{Path(tmp) / 'hypobot.sqlite3'}", f"sqlite://{Path(tmp) / 'raw.sqlite3'}"


async def start_servers(db_kind: str, fake: FakeSlack, url: str, raw_url: str) -> list[Server]:
    """The ack-only app, the raw-SQL app and `hypobot serve`, each on a free port."""
    runs = [
        ("ack-only Bolt", "ack", [sys.executable, "-m", "bench.bare_app"], None),
        ("raw-SQL Bolt", "raw", [sys.executable, "-m", "bench.raw_sql_app"], raw_url),
        ("hypobot", "hypobot", common.hypobot_command(), url),
    ]
    servers = []
    for name, slug, command, database_url in runs:
        port = common.free_port()
        if slug == "hypobot":
            env = common.serve_env(
                port=port, database_url=url, api_url=fake.base_url, scheduler="off"
            )
        else:
            command = [*command, str(port), fake.base_url]
            if database_url:
                command.append(database_url)
            env = dict(os.environ)
        process = await common.start(command, env=env, log_name=f"answer-{db_kind}-{slug}")
        servers.append(Server(name, slug, f"http://127.0.0.1:{port}", process))
    for server in servers:
        await common.wait_healthy(f"{server.url}/healthz", server.process)
    return servers


def ack_text(body: str) -> str:
    """The text an ack carries ("" for an empty ack)."""
    if not body.strip():
        return ""
    with contextlib.suppress(ValueError):
        parsed = json.loads(body)
        if isinstance(parsed, dict):
            return str(parsed.get("text") or "")
    return body


async def load(
    server: Server, sink: SinkClient, kind: str, texts: list[str], channels: list[str], tag: str
) -> dict[str, Any]:
    """One burst through the load generator process; each request its own response_url."""
    spec = {
        "url": f"{server.url}/slack/events",
        "texts": texts,
        "channels": channels,
        "response_url_prefix": sink.response_url(tag),
    }
    return await common.load_round(spec, against=server.name)


async def answers(
    server: Server, sink: SinkClient, kind: str, tag: str, result: dict[str, Any], record: bool
) -> None:
    """Each request's answer: its ack when that carries it, else its response_url post."""
    requests = result["requests"]
    waiting: dict[str, int] = {}
    for index, request in enumerate(requests):
        if request["error"]:
            if record:
                server.error(kind, request["error"])
            continue
        text = ack_text(request["body"])
        if server.slug == "ack" or (text and WORKING not in text):
            if record:
                server.ack_ms.setdefault(kind, []).append(request["ms"])
                server.answer_ms.setdefault(kind, []).append(request["ms"])
                server.in_ack[kind] += 1
                if server.slug != "ack" and _failed(text):
                    server.error(kind, f"answer: {text[:120]}")
            continue
        if record:
            server.ack_ms.setdefault(kind, []).append(request["ms"])
        waiting[f"{tag}-{index}"] = index
    deadline = time.monotonic() + ANSWER_WAIT_S
    async with aiohttp.ClientSession() as session:
        while waiting.keys() - sink.seen.keys() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            await sink.poll(session)
    if not record:
        return
    for key, index in waiting.items():
        call = sink.seen.get(key)
        if call is None:
            server.error(kind, f"no answer within {ANSWER_WAIT_S:.0f}s")
            continue
        server.answer_ms.setdefault(kind, []).append((call["at"] - requests[index]["start"]) * 1000)
        text = call["text"]
        if _failed(text):
            server.error(kind, f"answer: {text[:120]}")


def _failed(text: str) -> bool:
    return any(words in text for words in ("There is no", "went wrong", "Try `/hypothesis"))


async def cards(
    server: Server, fake: FakeSlack, numbers: range, started: float, record: bool
) -> None:
    """The moment each new bet's card reached its channel, from the burst's start."""
    wanted = set(numbers)
    found: dict[int, float] = {}
    deadline = time.monotonic() + CARD_WAIT_S
    while wanted - found.keys() and time.monotonic() < deadline:
        for call in fake.calls_to("chat.postMessage"):
            match = CARD_TITLE.search(str(call.params.get("text") or ""))
            if match and call.at >= started and int(match.group(1)) in wanted:
                found.setdefault(int(match.group(1)), call.at)
        await asyncio.sleep(0.1)
    if not record:
        return
    server.card_ms.extend((at - started) * 1000 for at in found.values())
    for _ in wanted - found.keys():
        server.error("card", f"no card within {CARD_WAIT_S:.0f}s")


PROFILE: dict[str, bool] = {}  # {"on": True} with --profile


@contextlib.asynccontextmanager
async def profiled(server: Server, tag: str, *, on: bool) -> AsyncIterator[None]:
    """With --profile, py-spy samples `hypobot serve` from the burst's first request to its
    last answer (raw stacks, 500 a second, idle time left out) into bench/out/."""
    if not on or server.slug != "hypobot":
        yield
        return
    out = common.ROOT / "bench" / "out" / f"profile-{tag}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = await asyncio.create_subprocess_exec(
        "py-spy",
        "record",
        "--rate",
        "500",
        "--format",
        "raw",
        "--nonblocking",
        "--pid",
        str(server.process.pid),
        "--output",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(0.5)  # py-spy attaches
    try:
        yield
    finally:
        spy.send_signal(2)
        await spy.wait()
        print(f"  profile: {out.relative_to(common.ROOT)}", file=sys.stderr)


async def burst(
    server: Server,
    fake: FakeSlack,
    sink: SinkClient,
    kind: str,
    texts: list[str],
    channels: list[str],
    tag: str,
    *,
    record: bool,
    numbers: range | None = None,
) -> None:
    async with profiled(server, f"{tag}", on=record and PROFILE.get("on", False)):
        result = await load(server, sink, kind, texts, channels, tag)
        acks_before = len(server.ack_ms.get(kind, []))
        answers_before = len(server.answer_ms.get(kind, []))
        await answers(server, sink, kind, tag, result, record)
        if record:
            server.per_round.setdefault(kind, []).append(
                (
                    common.percentile(server.ack_ms.get(kind, [])[acks_before:], 0.99),
                    common.percentile(server.answer_ms.get(kind, [])[answers_before:], 0.99),
                )
            )
    if numbers is not None and server.slug == "hypobot":
        await cards(server, fake, numbers, result["started"], record)


async def measure(
    db_kind: str, rounds: int, concurrency: int, channels: list[str]
) -> tuple[list[Server], float]:
    async with serve_fake_slack() as fake, databases(db_kind) as (url, raw_url):
        fake.calls.clear()
        sink_port = common.free_port()
        sink_process = await common.start(
            [sys.executable, "-m", "bench.answer_latency", "--sink", str(sink_port)],
            env=dict(os.environ),
            log_name=f"answer-{db_kind}-sink",
        )
        sink = SinkClient(f"http://127.0.0.1:{sink_port}")
        await common.wait_healthy(f"{sink.url}/healthz", sink_process)
        servers = await start_servers(db_kind, fake, url, raw_url)
        pids = [server.process.pid for server in servers] + [os.getpid(), sink_process.pid]
        rss = 0.0
        try:
            for server in servers:  # warm-up: discarded
                tag = f"{server.slug}-{db_kind}-warm"
                news = [common.new_text(i) for i in range(common.WARM_UP)]
                await burst(server, fake, sink, "new", news, channels, tag + "-new", record=False)
                shows = [f"show H-{i % common.WARM_UP + 1}" for i in range(common.WARM_UP)]
                await burst(
                    server, fake, sink, "show", shows, channels, tag + "-show", record=False
                )
            created = common.WARM_UP
            for number in range(rounds):
                order = servers if number % 2 == 0 else servers[::-1]
                first = created
                texts = [common.new_text(first + i) for i in range(concurrency)]
                for server in order:
                    await common.quiet(pids)
                    tag = f"{server.slug}-{db_kind}-{number}-new"
                    await burst(
                        server,
                        fake,
                        sink,
                        "new",
                        texts,
                        channels,
                        tag,
                        record=True,
                        numbers=range(first, first + concurrency),
                    )
                created += concurrency
                shows = [f"show H-{(i * 7) % created + 1}" for i in range(concurrency)]
                for server in order:
                    await common.quiet(pids)
                    tag = f"{server.slug}-{db_kind}-{number}-show"
                    await burst(server, fake, sink, "show", shows, channels, tag, record=True)
                fake.calls.clear()  # matched already: keep the scans short
                print(f"  {db_kind}: round {number + 1}/{rounds} done", file=sys.stderr)
            rss = common.rss_mb(servers[-1].process.pid)
        finally:
            for server in servers:
                await common.stop(server.process)
            await common.stop(sink_process)
    return servers, rss


def card_floor(concurrency: int, channels: int) -> float:
    """The least time the outbox's pacing lets the last card of one workspace's burst go out:
    its busiest channel's bucket, and the workspace's."""
    per_channel = -(-concurrency // channels)
    return max(
        0.0,
        (per_channel - CHANNEL_BURST) / CHANNEL_RATE,
        (concurrency - WORKSPACE_BURST) / WORKSPACE_RATE,
    )


def _per_round(mine: Server, theirs: Server, kind: str, index: int) -> list[float]:
    """The ratio of the two servers' p99 (0: ack, 1: answer) in each round: the servers of
    a round run back to back, so a round's ratio is not swayed by how busy the machine was
    in another round."""
    return [
        a[index] / b[index]
        for a, b in zip(mine.per_round.get(kind, []), theirs.per_round.get(kind, []), strict=False)
        if b[index]
    ]


def summarise(
    db_kind: str, servers: list[Server], floor_s: float
) -> tuple[list[list[Any]], list[list[Any]], list[dict[str, Any]]]:
    _, raw, hypobot = servers  # the ack-only app: its rows in the table, for reference
    rows: list[list[Any]] = []
    ratios: list[list[Any]] = []
    records: list[dict[str, Any]] = []
    p99 = common.percentile
    for kind in ("new", "show"):
        for server in servers:
            acks = server.ack_ms.get(kind, [])
            answered = server.answer_ms.get(kind, [])
            card = p99(server.card_ms, 0.99) if kind == "new" and server is hypobot else None
            errors = len(server.errors.get(kind, [])) + (
                len(server.errors.get("card", [])) if card is not None else 0
            )
            record = {
                "db": db_kind,
                "command": kind,
                "server": server.name,
                "n": len(acks),
                "answered_in_ack": server.in_ack[kind],
                "errors": errors,
                "ack_p50_ms": p99(acks, 0.5),
                "ack_p99_ms": p99(acks, 0.99),
                "answer_p50_ms": p99(answered, 0.5),
                "answer_p99_ms": p99(answered, 0.99),
                "card_p99_ms": card,
            }
            records.append(record)
            rows.append(
                [
                    db_kind,
                    kind,
                    server.name,
                    str(len(acks)),
                    f"{server.in_ack[kind]}",
                    str(errors),
                    record["ack_p50_ms"],
                    record["ack_p99_ms"],
                    record["answer_p50_ms"],
                    record["answer_p99_ms"],
                    "" if card is None else card,
                ]
            )
        raw_answer = p99(raw.answer_ms.get(kind, []), 0.99)
        pairs = [
            (
                "answer p99 hypobot / raw-SQL",
                p99(hypobot.answer_ms.get(kind, []), 0.99),
                raw_answer,
                ANSWER_TARGET,
            ),
            (
                "ack p99 hypobot / raw-SQL",
                p99(hypobot.ack_ms.get(kind, []), 0.99),
                p99(raw.ack_ms.get(kind, []), 0.99),
                ACK_TARGET,
            ),
            (
                "slowest ack / 2.5 s",
                max(hypobot.ack_ms.get(kind, []), default=0.0),
                ACK_MOST_MS,
                1.0,
            ),
        ]
        if kind == "new":
            pairs.append(
                (
                    "card p99 / pacing floor",
                    p99(hypobot.card_ms, 0.99),
                    floor_s * 1000,
                    CARD_TARGET,
                )
            )
        rounds = {
            "answer p99 hypobot / raw-SQL": _per_round(hypobot, raw, kind, 1),
            "ack p99 hypobot / raw-SQL": _per_round(hypobot, raw, kind, 0),
        }
        for label, mine, theirs, target in pairs:
            ratio = mine / theirs if theirs else float("nan")
            verdict = "meets" if ratio <= target else f"MISSES by {ratio / target:.2f}x"
            each = rounds.get(label, [])
            spread = (
                f"{statistics.median(each):.2f}x ({min(each):.2f}-{max(each):.2f})" if each else ""
            )
            ratios.append([db_kind, kind, label, f"{ratio:.2f}x", spread, f"<= {target}x", verdict])
            records.append(
                {
                    "db": db_kind,
                    "command": kind,
                    "ratio": label,
                    "value": ratio,
                    "per_round": each,
                    "target": target,
                }
            )
    return rows, ratios, records


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round per command")
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)  # the receiver, on a port
    parser.add_argument("--rounds", type=int, help="rounds of concurrent requests (default 2)")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--db", choices=("sqlite", "postgres"), action="append")
    parser.add_argument(
        "--channels", type=int, default=20, help="channels the burst is spread over"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample hypobot serve with py-spy during each recorded burst (bench/out/)",
    )
    args = parser.parse_args()
    PROFILE["on"] = args.profile
    if args.sink:
        await serve_sink(args.sink)
        return
    rounds = args.rounds or (1 if args.quick else 2)
    kinds = args.db or ["sqlite", "postgres"]
    channels = [f"C{n:03d}" for n in range(1, args.channels + 1)]
    load_before = os.getloadavg()
    rows: list[list[Any]] = []
    ratios: list[list[Any]] = []
    records: list[dict[str, Any]] = []
    rss: dict[str, float] = {}
    floor = card_floor(args.concurrency, len(channels))
    for kind in kinds:
        servers, rss[kind] = await measure(kind, rounds, args.concurrency, channels)
        more_rows, more_ratios, more_records = summarise(kind, servers, floor)
        rows += more_rows
        ratios += more_ratios
        records += more_records
        for server in servers:
            for command, errors in server.errors.items():
                for error in sorted(set(errors))[:3]:
                    print(f"  {server.name} {command}: {error}", file=sys.stderr)
    load_after = os.getloadavg()
    print(
        f"\nAnswer latency: {rounds} round(s) x {args.concurrency} concurrent signed commands "
        f"per command and server over {len(channels)} channels, after "
        f"{common.WARM_UP}+{common.WARM_UP} warm-up requests; the servers' order alternates "
        "per round"
    )
    print(
        "answer: the ack when it carries the answer (in ack: how many did), else the "
        "response_url post as it arrives (a receiver in its own process); the ack-only "
        "app's answer is its ack"
    )
    print(
        f"card: burst start to the card's chat.postMessage; the outbox's pacing "
        f"({CHANNEL_RATE:g}/s per channel, burst {CHANNEL_BURST}; {WORKSPACE_RATE:g}/s per "
        f"workspace, burst {WORKSPACE_BURST}) puts the last card no sooner than {floor:.1f} s"
    )
    print(
        f"load average before {load_before[0]:.2f} / after {load_after[0]:.2f} "
        f"({os.cpu_count()} CPUs); RSS of hypobot serve after the run: "
        + ", ".join(f"{kind} {mb:.0f} MB" for kind, mb in rss.items())
        + "\n"
    )
    headers = [
        "db",
        "command",
        "server",
        "n",
        "in ack",
        "errors",
        "ack p50",
        "ack p99",
        "answer p50",
        "answer p99",
        "card p99",
    ]
    print(common.table(headers, rows))
    print()
    print(
        common.table(
            ["db", "command", "ratio", "all rounds", "per round: median (range)", "target", ""],
            ratios,
        )
    )
    path = common.write_json(
        "answer_latency",
        {
            "rounds": rounds,
            "concurrency": args.concurrency,
            "channels": len(channels),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "card_floor_s": floor,
            "rss_mb": rss,
            "results": records,
        },
    )
    print(f"\n(ms; written to {path.relative_to(common.ROOT)})")


if __name__ == "__main__":
    asyncio.run(main())
