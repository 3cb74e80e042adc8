"""The report's chart: the share of bets still unheard against days since shipping, the
Kaplan–Meier curve of the window's sample (docs/rules.md, F2), with the SLE (F3) and the
percentiles marked.

Drawn with matplotlib's object-oriented API on an Agg canvas: no pyplot, no display, no
global figure registry or rcParams touched, so charts render headless and side by side in
threads, and a figure is freed as soon as nothing refers to it.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Mapping
from datetime import timedelta
from fractions import Fraction

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from bets.forecasts import MIN_HEARD, Survival
from bets.metrics import SLE_PERCENTILE
from bets.reading import counted, format_duration
from bot.blocks.text import truncate

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 7.0, 100  # 1000 × 700 px
MAX_TITLE = 90
# The SLE's target, 85 % heard, is the curve at 15 % still unheard (F3).
TARGET_UNHEARD = 1 - Fraction(str(SLE_PERCENTILE))

CURVE_COLOUR = "#1c7ed6"
SLE_COLOUR = "#c92a2a"
TARGET_COLOUR = "#868e96"
PERCENTILE_COLOURS = {"median": "#495057", "p85": "#f08c00", "p95": "#7048e8"}
OTHER_PERCENTILE_COLOURS = ("#0ca678", "#e64980", "#5c940d")
MUTED = "#868e96"


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def _percent(share: Fraction) -> str:
    """`30 %`, rounded half up: a whole number reads at a glance on a chart."""
    return f"{math.floor(share * 100 + Fraction(1, 2))} %"


def _placeholder(axes: Axes, message: str) -> None:
    axes.set_axis_off()
    axes.text(
        0.5,
        0.5,
        message,
        ha="center",
        va="center",
        fontsize=13,
        color=MUTED,
        transform=axes.transAxes,
        parse_math=False,
    )


def _summary(curve: Survival, window_label: str) -> str:
    """ "12 bets shipped in the last 90 days, 9 heard, 3 not heard yet", then what the
    curve cannot say: no estimate under 5 heard (T8), the share never heard (F2)."""
    lines = [
        f"{counted(curve.size, 'bet')} shipped in {window_label}, {curve.heard} heard, "
        f"{curve.censored} not heard yet"
    ]
    notes = []
    if not curve.enough:
        notes.append(f"fewer than {MIN_HEARD} heard: no estimate")
    if curve.unheard_share > TARGET_UNHEARD and curve.longest is not None:
        notes.append(
            f"{_percent(curve.unheard_share)} still unheard after {format_duration(curve.longest)}"
        )
    if notes:
        lines.append(" · ".join(notes))
    return "\n".join(lines)


def _curve(axes: Axes, curve: Survival) -> float:
    """The post-step curve from (0, 100 %) to the longest time seen, with a "+" where bets
    were censored (the usual Kaplan–Meier mark). Returns the longest time in days."""
    longest = _days(curve.longest or timedelta(0))
    ys = [100.0, *(float(step.survival) * 100 for step in curve.steps)]
    # the curve stays level from its last step to the longest wait
    xs = [0.0, *(_days(step.time) for step in curve.steps), longest]
    ys.append(ys[-1])
    axes.plot(
        xs,
        ys,
        drawstyle="steps-post",
        color=CURVE_COLOUR,
        linewidth=2,
        label="still unheard",
        zorder=3,
    )
    censored = Counter(curve.times) - Counter({step.time: step.heard for step in curve.steps})
    if censored:
        times = sorted(censored)
        axes.plot(
            [_days(time) for time in times],
            [float(curve.at(time)) * 100 for time in times],
            linestyle="none",
            marker="+",
            markersize=9,
            markeredgewidth=1.5,
            color=CURVE_COLOUR,
            label="not heard yet (censored)",
            zorder=4,
        )
    return longest


def _marks(
    axes: Axes,
    *,
    sle: timedelta,
    sle_from_history: bool,
    percentiles: Mapping[str, timedelta | None],
) -> float:
    """The SLE, the 85 % target and the percentiles given; a percentile not reached is
    named in the legend without a line. Returns the rightmost line in days."""
    source = "history" if sle_from_history else "setting"
    axes.axvline(
        _days(sle),
        color=SLE_COLOUR,
        linewidth=1.5,
        label=f"SLE {format_duration(sle)} ({source})",
        zorder=2,
    )
    axes.axhline(
        float(TARGET_UNHEARD) * 100,
        color=TARGET_COLOUR,
        linestyle=":",
        linewidth=1.5,
        label=f"target: {_percent(1 - TARGET_UNHEARD)} heard ({_percent(TARGET_UNHEARD)} unheard)",
        zorder=1,
    )
    right = _days(sle)
    others = iter(OTHER_PERCENTILE_COLOURS * len(percentiles))
    for name, value in percentiles.items():
        if value is None:
            axes.plot([], [], linestyle="none", label=f"{name} not reached")
            continue
        axes.axvline(
            _days(value),
            color=PERCENTILE_COLOURS.get(name) or next(others),
            linestyle="--",
            linewidth=1.2,
            label=f"{name} {format_duration(value)}",
            zorder=2,
        )
        right = max(right, _days(value))
    return right


def survival_figure(
    curve: Survival,
    *,
    sle: timedelta,
    sle_from_history: bool,
    percentiles: Mapping[str, timedelta | None],
    window_label: str,
    title: str,
) -> Figure:
    """The chart as a Figure on an Agg canvas (`survival_chart` saves it): one Axes with
    the curve, the lines and a legend, or a placeholder when no bet shipped in the window.

    `window_label` completes "shipped in …" ("the last 90 days"). `percentiles` maps a name
    to the curve's percentile, None when not reached ({"median": …, "p85": …, "p95": None});
    under 5 heard bets the curve is no estimate (T8), so they are not drawn then.
    """
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    # parse_math=False: a "$" in a channel's name or title never turns into mathtext
    figure.suptitle(truncate(title, MAX_TITLE), x=0.01, ha="left", fontsize=13, parse_math=False)
    axes = figure.add_subplot()
    if curve.size == 0:
        _placeholder(axes, f"No bet shipped in {window_label}")
        return figure
    axes.set_title(_summary(curve, window_label), loc="left", fontsize=11, parse_math=False)
    longest = _curve(axes, curve)
    right = _marks(
        axes,
        sle=sle,
        sle_from_history=sle_from_history,
        percentiles=percentiles if curve.enough else {},
    )
    axes.set_xlim(0, max(longest, right) * 1.05 + 0.5)
    axes.set_ylim(0, 104)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True))
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0, symbol=" %"))
    axes.set_xlabel("days since shipping")
    axes.set_ylabel("bets still unheard")
    axes.grid(color="#e9ecef", linewidth=0.8)
    axes.spines[["top", "right"]].set_visible(False)
    legend = axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    for text in legend.get_texts():
        text.set_parse_math(False)
    return figure


def survival_chart(
    curve: Survival,
    *,
    sle: timedelta,
    sle_from_history: bool,
    percentiles: Mapping[str, timedelta | None],
    window_label: str,
    title: str,
) -> bytes:
    """A PNG, 1000 × 700 px, of `survival_figure`: the share of the window's bets still
    unheard against days since shipping, with the SLE, the 85 % target and the percentiles
    marked."""
    figure = survival_figure(
        curve,
        sle=sle,
        sle_from_history=sle_from_history,
        percentiles=percentiles,
        window_label=window_label,
        title=title,
    )
    buffer = io.BytesIO()
    # No "Software" chunk: the same data gives the same bytes whatever matplotlib wrote it.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
