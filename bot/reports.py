"""`/hypothesis report`: a channel's flow figures over a window, as Block Kit and a chart."""

from __future__ import annotations

import asyncio
import logging
import pickle
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bets.forecasts import SleSource
from bot.blocks.report import report_blocks, report_text
from bot.figures import window_words
from usecases.flow import ChannelFigures

log = logging.getLogger("hypobot.reports")

CHART_WORKER_IDLE_S = 120.0  # the chart process stops after this long without a report
DRAW_S = 60.0  # a chart (with the process's start) taking longer is given up


@dataclass(frozen=True)
class Report:
    payload: dict[str, Any]  # chat.postMessage arguments
    chart: bytes | None  # PNG; None when it could not be drawn
    label: str


class ChartWorker:
    """Draws report charts in a process of its own (bot/chart_process.py).

    matplotlib (with numpy and its fonts) costs about 80 MB resident once it has drawn, and
    a chart about 0.2 s of CPU. In a child process neither stays in `hypobot serve`: the
    server stays small and its event loop keeps acking while a chart is drawn. The child
    starts with the first report, draws one chart at a time, and stops after `idle_s`
    without one; if it dies, the next report starts another.
    """

    def __init__(self, idle_s: float = CHART_WORKER_IDLE_S) -> None:
        self.idle_s = idle_s
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self._idle: asyncio.TimerHandle | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def draw(self, *args: Any, **kwargs: Any) -> bytes:
        """The PNG; ChartFailed when the chart process could not draw it."""
        async with self._lock:
            if self._idle is not None:
                self._idle.cancel()
            try:
                return await asyncio.wait_for(self._ask(pickle.dumps((args, kwargs))), DRAW_S)
            except (OSError, EOFError, TimeoutError, asyncio.IncompleteReadError) as error:
                await self._end()  # in an unknown state: the next chart gets a new one
                raise ChartFailed(type(error).__name__) from error
            finally:
                loop = asyncio.get_running_loop()
                self._idle = loop.call_later(self.idle_s, lambda: loop.create_task(self.stop()))

    async def _ask(self, request: bytes) -> bytes:
        if self._process is None or self._process.returncode is not None:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.chart_process",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(len(request).to_bytes(4, "big") + request)
        await process.stdin.drain()
        size = int.from_bytes(await process.stdout.readexactly(4), "big")
        status, value = pickle.loads(await process.stdout.readexactly(size))
        if status != "ok":
            raise ChartFailed(str(value))
        return bytes(value)

    async def stop(self) -> None:
        """End the chart process (idle, or the server is shutting down)."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        async with self._lock:
            await self._end()

    async def _end(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the process ends at the end of its input
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()


class ChartFailed(Exception):
    """The chart process could not draw a chart."""


async def build_report(figures: ChannelFigures, *, now: datetime, charts: ChartWorker) -> Report:
    """The report's message from a channel's figures, with its chart (drawn in the chart
    process; a report whose chart fails goes out without its picture)."""
    report = figures.report
    label = f"last {window_words(report.window)}"
    tz = figures.rules.tz
    blocks = report_blocks(
        report,
        window_label=label,
        titles=figures.titles,
        now=now,
        tz=tz,
        forecasts_since=figures.forecasts_since,
    )
    every = report.every_bet
    try:
        chart: bytes | None = await charts.draw(
            report.curve,
            sle=report.sle.value,
            sle_from_history=report.sle.source is SleSource.HISTORY,
            percentiles={"median": every.p50, "p85": every.p85, "p95": every.p95},
            window_label=f"the {label}",
            title=f"Time to feedback counting every bet, {label}",
        )
    except ChartFailed as error:  # the figures stand without their picture
        log.warning("report.chart_failed", extra={"error": str(error)[:200]})
        chart = None
    payload = {"text": report_text(report, window_label=label), "blocks": blocks}
    return Report(payload=payload, chart=chart, label=label)
