"""The report's chart: a PNG that decodes, at the size Slack shows well, from any input."""

from __future__ import annotations

import asyncio
import io
import os
import random
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bets.lifecycle import State
from bets.metrics import Ageing, Awaiting, BetFacts, FeedbackPoint, flow_report
from bot.charts import ttf_chart
from bot.reports import ChartFailed, ChartWorker

NOW = datetime(2026, 4, 30, 12, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SLE = timedelta(days=14)


def decoded(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return image


def assert_readable_size(image: Image.Image) -> None:
    width, height = image.size
    assert 900 <= width <= 1500
    assert 600 <= height <= 1050


def points(count: int, seed: int = 7) -> list[FeedbackPoint]:
    rng = random.Random(seed)
    made = []
    for number in range(1, count + 1):
        shipped = NOW - timedelta(days=rng.uniform(1, 90))
        ttf = timedelta(days=rng.expovariate(1 / 6))
        made.append(FeedbackPoint(number, shipped, shipped + ttf, ttf))
    return made


def awaiting(count: int) -> list[Awaiting]:
    statuses = (Ageing.ON_TRACK, Ageing.AT_RISK, Ageing.PAST_SLE)
    return [
        Awaiting(
            number=1000 + n,
            shipped_at=NOW - timedelta(days=n * 0.7),
            age=timedelta(days=n * 0.7),
            status=statuses[min(2, n // 10)],
        )
        for n in range(count)
    ]


def chart(
    feedback: list[FeedbackPoint], waiting: list[Awaiting], title: str = "Time to feedback"
) -> bytes:
    return ttf_chart(
        feedback, waiting, median=timedelta(days=4), sle=SLE, now=NOW, tz=TZ, title=title
    )


def test_the_chart_is_a_png_of_about_a_thousand_by_seven_hundred_pixels() -> None:
    image = decoded(chart(points(30), awaiting(8)))
    assert image.size == (1000, 700)


def test_the_chart_renders_from_a_real_flow_report() -> None:
    def days_ago(n: float) -> datetime:
        return NOW - timedelta(days=n)

    bets = [
        BetFacts(
            n, State.VALIDATED, days_ago(40), None, days_ago(30 - n), days_ago(28 - 2 * n), None
        )
        for n in range(1, 8)
    ]
    bets.append(BetFacts(20, State.SHIPPED, days_ago(9), None, days_ago(6), None, None))
    report = flow_report(bets, now=NOW, window=timedelta(days=30))
    png = ttf_chart(
        report.feedback,
        report.awaiting,
        median=report.ttf_median,
        sle=report.sle.value,
        now=NOW,
        tz=TZ,
        title="Time to feedback · #growth · last 30 days",
    )
    assert_readable_size(decoded(png))


def test_empty_inputs_give_a_no_data_figure() -> None:
    png = ttf_chart([], [], median=None, sle=SLE, now=NOW, tz=TZ, title="Nothing yet")
    assert_readable_size(decoded(png))


def test_one_empty_panel_still_renders() -> None:
    assert_readable_size(decoded(chart([], awaiting(3))))
    assert_readable_size(decoded(chart(points(1), [])))


def test_five_hundred_points_and_many_awaiting_bets_render() -> None:
    assert_readable_size(decoded(chart(points(500), awaiting(300))))


def test_a_title_with_dollars_and_markup_is_drawn_as_text() -> None:
    # "$…$" would be parsed as mathtext (and an unbalanced "$" would raise) if not literal
    png = chart(points(5), awaiting(2), title="Revenue $5 <!channel> $x^2$ & co " * 10)
    assert_readable_size(decoded(png))


def test_the_same_data_gives_the_same_bytes() -> None:
    assert chart(points(40), awaiting(5)) == chart(points(40), awaiting(5))


# --- the chart process -------------------------------------------------------------------


def _chart_args() -> tuple[tuple[object, ...], dict[str, object]]:
    return (points(12), awaiting(4)), {
        "median": timedelta(days=5),
        "sle": SLE,
        "now": NOW,
        "tz": TZ,
        "title": "Time to feedback",
    }


async def test_the_chart_process_draws_what_the_server_would_have_drawn() -> None:
    worker = ChartWorker(idle_s=60)
    args, kwargs = _chart_args()
    try:
        png = await worker.draw(*args, **kwargs)
        assert worker.pid is not None and worker.pid != os.getpid()
        assert png == ttf_chart(*args, **kwargs)  # byte for byte (a chart is deterministic)
        again = await worker.draw(*args, **kwargs)
        assert again == png
    finally:
        await worker.stop()
    assert worker.pid is None


def test_the_server_never_loads_matplotlib() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import bot.app, server.http, sys; print('matplotlib' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"


async def test_the_chart_process_stops_when_idle_and_a_killed_one_is_replaced() -> None:
    worker = ChartWorker(idle_s=0.2)
    args, kwargs = _chart_args()
    try:
        await worker.draw(*args, **kwargs)
        first = worker.pid
        assert first is not None
        await asyncio.sleep(1.0)
        assert worker.pid is None  # idle: stopped
        await worker.draw(*args, **kwargs)
        second = worker.pid
        assert second is not None and second != first
        os.kill(second, signal.SIGKILL)
        await asyncio.sleep(0.2)
        assert decoded(await worker.draw(*args, **kwargs))  # a new process drew it
        assert worker.pid not in (None, second)
    finally:
        await worker.stop()


async def test_a_chart_the_process_cannot_draw_is_reported_not_hung() -> None:
    worker = ChartWorker(idle_s=60)
    try:
        with pytest.raises(ChartFailed, match="AttributeError"):
            await worker.draw("not points", [], median=None, sle=SLE, now=NOW, tz=TZ, title="x")
        args, kwargs = _chart_args()
        assert decoded(await worker.draw(*args, **kwargs))  # the process lives on
    finally:
        await worker.stop()
