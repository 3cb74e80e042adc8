"""The report's chart: the Kaplan–Meier curve of a window's bets (docs/rules.md, F2) with the
SLE and the percentiles marked, as a PNG that decodes at the size Slack shows well."""

from __future__ import annotations

import asyncio
import io
import os
import random
import signal
import subprocess
import sys
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from PIL import Image

from bets.forecasts import Observation, Survival, kaplan_meier
from bot.charts import survival_chart, survival_figure
from bot.reports import ChartFailed, ChartWorker

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SLE = timedelta(days=12)
WINDOW = "the last 90 days"
DAY = timedelta(days=1)


def decoded(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return image


def observations(count: int, seed: int = 7, heard_share: float = 0.7) -> list[Observation]:
    rng = random.Random(seed)
    return [
        Observation(n, timedelta(days=rng.expovariate(1 / 6)), rng.random() < heard_share)
        for n in range(1, count + 1)
    ]


def percentiles_of(curve: Survival) -> dict[str, timedelta | None]:
    return {
        "median": curve.percentile(0.5),
        "p85": curve.percentile(0.85),
        "p95": curve.percentile(0.95),
    }


def arguments(curve: Survival, **overrides: Any) -> dict[str, Any]:
    chosen: dict[str, Any] = {
        "sle": SLE,
        "sle_from_history": True,
        "percentiles": percentiles_of(curve),
        "window_label": WINDOW,
        "title": "Time to feedback, last 90 days",
    }
    return chosen | overrides


def figure_of(curve: Survival, **overrides: Any) -> Figure:
    return survival_figure(curve, **arguments(curve, **overrides))


def chart(curve: Survival, **overrides: Any) -> bytes:
    return survival_chart(curve, **arguments(curve, **overrides))


def the_axes(figure: Figure) -> Axes:
    [axes] = figure.axes
    return axes


def legend_texts(axes: Axes) -> list[str]:
    legend = axes.get_legend()
    assert legend is not None
    return [text.get_text() for text in legend.get_texts()]


def line(axes: Axes, label: str) -> Line2D:
    [found] = [drawn for drawn in axes.get_lines() if drawn.get_label() == label]
    return found


def xs(drawn: Line2D) -> list[float]:
    return [float(x) for x in np.asarray(drawn.get_xdata())]


def ys(drawn: Line2D) -> list[float]:
    return [float(y) for y in np.asarray(drawn.get_ydata())]


def texts(figure: Figure) -> list[str]:
    return [text.get_text() for text in figure.findobj(Text)]


# A small sample with a censored bet, ties and a share never heard: times in days
#   heard at 2, 2, 5, 9; censored at 3 (awaiting), 5 (tied with a heard one), 20 (killed)
SMALL = kaplan_meier(
    [
        Observation(1, 2 * DAY, heard=True),
        Observation(2, 2 * DAY, heard=True),
        Observation(3, 3 * DAY, heard=False),
        Observation(4, 5 * DAY, heard=True),
        Observation(5, 5 * DAY, heard=False),
        Observation(6, 9 * DAY, heard=True),
        Observation(7, 20 * DAY, heard=False),
        Observation(8, 1 * DAY, heard=True),
    ]
)


# --- the picture -------------------------------------------------------------------------


def test_the_chart_is_a_png_of_a_thousand_by_seven_hundred_pixels() -> None:
    curve = kaplan_meier(observations(60))
    image = decoded(chart(curve))
    assert image.size == (1000, 700)


def test_an_empty_sample_gives_the_placeholder() -> None:
    empty = kaplan_meier([])
    figure = figure_of(empty, percentiles={"median": None}, sle_from_history=False)
    assert "No bet shipped in the last 90 days" in texts(figure)
    assert the_axes(figure).get_legend() is None
    assert decoded(chart(empty, percentiles={})).size == (1000, 700)


def test_the_step_line_starts_at_a_hundred_percent_and_ends_at_the_unheard_share() -> None:
    axes = the_axes(figure_of(SMALL))
    curve = line(axes, "still unheard")
    assert curve.get_drawstyle() == "steps-post"
    # S: 1 → 7/8 at 1d → 7/8·5/7 at 2d → ·3/4 at 5d (4 at risk, the censored one too) → ·1/2
    assert xs(curve) == [0.0, 1.0, 2.0, 5.0, 9.0, 20.0]  # up to the longest wait, 20d
    heights = ys(curve)
    assert heights[0] == 100.0
    assert heights[-1] == heights[-2] == pytest.approx(float(SMALL.unheard_share) * 100)
    assert heights == pytest.approx([100, 87.5, 62.5, 46.875, 23.4375, 23.4375])


def test_censored_bets_are_marked_on_the_curve_at_their_times() -> None:
    axes = the_axes(figure_of(SMALL))
    marks = line(axes, "not heard yet (censored)")
    assert marks.get_marker() == "+"
    assert marks.get_linestyle() == "None"
    assert xs(marks) == [3.0, 5.0, 20.0]
    # on the curve: S at their time, after the step of a bet heard at the same time
    assert ys(marks) == pytest.approx([62.5, 46.875, 23.4375])


def test_the_legend_names_the_sle_with_its_source_and_the_percentiles() -> None:
    curve = kaplan_meier(observations(60))
    percentiles = {"median": 4 * DAY, "p85": 11 * DAY, "p95": None}
    axes = the_axes(figure_of(curve, percentiles=percentiles))
    labels = legend_texts(axes)
    assert "SLE 12d (history)" in labels
    assert {"median 4d", "p85 11d", "p95 not reached"} <= set(labels)
    assert xs(line(axes, "SLE 12d (history)"))[0] == 12.0
    median = line(axes, "median 4d")
    assert median.get_linestyle() == "--" and xs(median)[0] == 4.0
    assert len(xs(line(axes, "p95 not reached"))) == 0  # named, not drawn

    configured = the_axes(figure_of(curve, sle=14 * DAY, sle_from_history=False))
    assert "SLE 14d (setting)" in legend_texts(configured)


def test_the_85_percent_target_is_a_dotted_line_at_15_percent_still_unheard() -> None:
    axes = the_axes(figure_of(SMALL))
    [target] = [drawn for drawn in axes.get_lines() if str(drawn.get_label()).startswith("target")]
    assert target.get_linestyle() == ":"
    assert ys(target) == [15.0, 15.0]


def test_the_subtitle_counts_the_sample_and_says_what_is_still_unheard() -> None:
    many = kaplan_meier(
        [Observation(n, n * DAY, heard=n <= 6) for n in range(1, 11)]  # 6 heard, 4 waiting
    )
    title = the_axes(figure_of(many)).get_title(loc="left")
    assert "10 bets shipped in the last 90 days, 6 heard, 4 not heard yet" in title
    assert "40 % still unheard after 10d" in title
    assert "no estimate" not in title

    settled = the_axes(figure_of(kaplan_meier(observations(40, heard_share=1.0))))
    assert "still unheard after" not in settled.get_title(loc="left")  # the curve reaches 0


def test_fewer_than_five_heard_draws_the_curve_but_no_estimate() -> None:
    few = kaplan_meier(
        [Observation(n, n * DAY, heard=n <= 4) for n in range(1, 9)]  # 4 heard
    )
    assert not few.enough
    axes = the_axes(figure_of(few, percentiles={"median": 4 * DAY, "p95": None}))
    assert "fewer than 5 heard: no estimate" in axes.get_title(loc="left")
    assert ys(line(axes, "still unheard"))[0] == 100.0
    labels = legend_texts(axes)
    assert "SLE 12d (history)" in labels
    assert not any(label.startswith(("median", "p95")) for label in labels)
    assert decoded(chart(few, percentiles={"median": 4 * DAY, "p95": None}))


def test_censored_bets_and_percentiles_not_reached_render() -> None:
    mostly_waiting = kaplan_meier(observations(300, seed=3, heard_share=0.3))
    percentiles = percentiles_of(mostly_waiting)
    assert percentiles["p95"] is None  # not reached
    assert decoded(chart(mostly_waiting)).size == (1000, 700)


def test_a_sample_heard_at_once_renders() -> None:
    at_once = kaplan_meier([Observation(n, timedelta(0), heard=True) for n in range(1, 6)])
    figure = figure_of(at_once, percentiles={"median": timedelta(0)})
    assert ys(line(the_axes(figure), "still unheard")) == [100.0, 0.0, 0.0]
    assert decoded(chart(at_once, percentiles={"median": timedelta(0)}))


def test_a_title_with_dollars_and_markup_is_drawn_as_text() -> None:
    # "$…$" would be parsed as mathtext (and an unbalanced "$" would raise) if not literal
    png = chart(
        SMALL,
        title="Revenue $5 <!channel> $x^2$ & co " * 10,
        window_label="$the last $9 days",
        percentiles={"$p$": 3 * DAY, "$q": None},
    )
    assert decoded(png).size == (1000, 700)


def test_the_same_data_gives_the_same_bytes() -> None:
    assert chart(SMALL) == chart(SMALL)


# --- the chart process -------------------------------------------------------------------


def _chart_args() -> tuple[tuple[Survival], dict[str, Any]]:
    curve = kaplan_meier(observations(12))
    return (curve,), arguments(curve)


async def test_the_chart_process_draws_what_the_server_would_have_drawn() -> None:
    worker = ChartWorker(idle_s=60)
    args, kwargs = _chart_args()
    try:
        png = await worker.draw(*args, **kwargs)
        assert worker.pid is not None and worker.pid != os.getpid()
        assert png == survival_chart(*args, **kwargs)  # byte for byte (it is deterministic)
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
            await worker.draw("not a curve", **arguments(SMALL))
        args, kwargs = _chart_args()
        assert decoded(await worker.draw(*args, **kwargs))  # the process lives on
    finally:
        await worker.stop()
