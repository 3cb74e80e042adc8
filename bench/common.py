"""What the benchmarks share: processes on loopback, a fresh PostgreSQL database per run,
SQL counting, RSS, percentiles, and the printed table with its JSON copy in bench/out/."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import math
import os
import platform
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import aiohttp

from storage import db
from testkit.scratch import PG_ADMIN_URL, admin, drop_database, with_database

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"


# --- figures -------------------------------------------------------------------------------


def percentile(sample: Sequence[float], p: float) -> float:
    """Nearest rank, as docs/rules.md defines it for the product's own metrics."""
    if not sample:
        return math.nan
    ordered = sorted(sample)
    rank = math.ceil(Fraction(str(p)) * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def least_squares(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """(slope, intercept) of the straight line that fits (xs, ys) best."""
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx if sxx else math.nan
    return slope, mean_y - slope * mean_x


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table, numbers right-aligned."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.2f}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    texts = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in texts)) for i, h in enumerate(headers)]
    numeric = [
        all(isinstance(row[i], int | float) and not isinstance(row[i], bool) for row in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if numeric[i] else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, texts)])


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_json(name: str, data: dict[str, Any]) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2, default=str) + "\n")
    return path


# --- databases -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def postgres_database(purpose: str) -> AsyncIterator[str]:
    """An empty PostgreSQL database on the test server, dropped afterwards; yields its URL."""
    name = f"hypobot_bench_{purpose}_{uuid.uuid4().hex[:8]}"
    await admin(f'CREATE DATABASE "{name}"')
    url = with_database(PG_ADMIN_URL, name)
    try:
        yield url
    finally:
        with contextlib.suppress(Exception):
            await db.disconnect()
        await drop_database(url)


class QueryCounter(logging.Handler):
    """Counts the SQL statements Tortoise sends (it logs each at DEBUG on tortoise.db_client)."""

    LOGGER = "tortoise.db_client"

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0
        self.delivery = 0  # of which sent while `delivering` was true in the sending task
        self.delivering: contextvars.ContextVar[bool] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if not str(record.msg).startswith(("Created connection pool", "Closed connection pool")):
            self.count += 1
            if self.delivering is not None and self.delivering.get():
                self.delivery += 1

    def install(self) -> QueryCounter:
        logger = logging.getLogger(self.LOGGER)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.addHandler(self)
        return self

    def remove(self) -> None:
        logging.getLogger(self.LOGGER).removeHandler(self)


# --- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_file(name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    return OUT / f"{name}.log"


async def start(
    args: Sequence[str], *, env: dict[str, str], log_name: str
) -> asyncio.subprocess.Process:
    """A child process with its output in bench/out/<log_name>.log (a pipe nobody reads
    would fill up and stall it)."""
    with log_file(log_name).open("wb") as log:
        return await asyncio.create_subprocess_exec(
            *args, env=env, cwd=ROOT, stdout=log, stderr=asyncio.subprocess.STDOUT
        )


async def stop(process: asyncio.subprocess.Process, timeout: float = 15.0) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def wait_healthy(url: str, process: asyncio.subprocess.Process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"{url} exited with {process.returncode} before it was up")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def serve_env(*, port: int, database_url: str, api_url: str, scheduler: str) -> dict[str, str]:
    """The environment for `hypobot serve` against the fake Slack."""
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "HYPOBOT_SCHEDULER": scheduler,
        "SLACK_APP_TOKEN": "",
    }


def hypobot_command() -> list[str]:
    """`hypobot serve`, through this interpreter (the console script may be elsewhere)."""
    return [sys.executable, "-m", "console.cli", "serve"]


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (the chart process, multiprocessing's tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:") and int(line.split()[1]) == pid:
                found.append(int(entry.name))
                break
    return found


def rss_mb(pid: int) -> float:
    """VmRSS of a process, in MB (1 MB = 2^20 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def quiet(pids: Sequence[int], *, window: float = 0.5, timeout: float = 30.0) -> None:
    """Wait until the processes use (almost) no CPU for `window` seconds: background work
    after the previous round (cards sent after an ack) must not land on the next one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(pid) for pid in pids)
        await asyncio.sleep(window)
        if sum(cpu_seconds(pid) for pid in pids) - before < 0.02 * window * len(pids):
            return


@contextlib.asynccontextmanager
async def fake_process(module: str, *args: str) -> AsyncIterator[tuple[str, int]]:
    """A fake Slack served by `python -m module args` in its own process (so answering does
    not share an event loop with what is measured); yields the base URL it prints first,
    and its pid."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        yield line.decode().strip(), process.pid
    finally:
        await stop(process)


async def serve_until_stopped(fake: Any, app: Any) -> None:
    """Serve a fake Slack's `app` on loopback, print its base URL on stdout (what
    `fake_process` reads), and serve until SIGTERM or SIGINT."""
    from console.fakeslack import serve_on_loopback

    async with serve_on_loopback(app) as root:
        fake.root_url = f"{root}/"
        print(fake.base_url, flush=True)
        stopped = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stopped.set)
        await stopped.wait()


async def load_round(spec: dict[str, Any], *, against: str) -> dict[str, Any]:
    """One round of concurrent signed commands through the load generator, a process of
    its own (bench/loadgen.py), so it shares no event loop with the servers measured."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.loadgen",
        json.dumps(spec),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"load generator failed against {against}")
    result: dict[str, Any] = json.loads(out)
    return result


WARM_UP = 40  # commands of each kind a server gets before anything is recorded


def new_text(index: int) -> str:
    """The text of the index-th `/hypothesis new` a latency bench sends."""
    return (
        f"new We believe a one-click export #{index} for admins will cut support tickets. "
        "We'll know when export tickets drop 30% within 10 days"
    )


def baseline_app(api_url: str) -> Any:
    """A Bolt AsyncApp as the baseline apps build it: the bench's token and signing secret,
    the fake Slack's Web API, listeners acked before they run (as Hypobot's)."""
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    return AsyncApp(
        token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url),
        process_before_response=False,
    )


async def serve_bolt(app: Any, port: int) -> None:
    """A baseline Bolt app on the same aiohttp stack as `hypobot serve` (AppRunner, no
    access log, /healthz beside /slack/events), until SIGTERM or SIGINT."""
    from aiohttp import web

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    application = app.web_app(path="/slack/events")
    application.router.add_get("/healthz", healthz)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stopped = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stopped.set)
    await stopped.wait()
    await runner.cleanup()
