"""The report's chart: time to feedback per bet, and the ageing of bets awaiting feedback.

Drawn with matplotlib's object-oriented API on an Agg canvas: no pyplot, no display, no
global figure registry or rcParams touched, so charts render headless and side by side in
threads, and a figure is freed as soon as the function returns.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bets.keys import format_key
from bets.metrics import Ageing, Awaiting, FeedbackPoint
from bets.reading import format_date, format_duration
from bot.blocks.text import truncate

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 7.0, 100  # 1000 × 700 px
LABELLED_POINTS = 5  # the largest TTFs get their key written next to them
MAX_BARS = 20  # the oldest awaiting bets shown; the rest are counted
MIN_ROWS = 8  # room kept for bars, so three bets do not get bars a finger thick
MAX_TITLE = 90

WITHIN_SLE = "#3b7dd8"
PAST_SLE = "#d9480f"
MEDIAN_COLOUR = "#495057"
SLE_COLOUR = "#c92a2a"
STATUS_COLOUR = {
    Ageing.ON_TRACK: "#2f9e44",
    Ageing.AT_RISK: "#f08c00",
    Ageing.PAST_SLE: "#c92a2a",
}
MUTED = "#868e96"


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


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


def _reference_lines(
    axes: Axes, *, median: timedelta | None, sle: timedelta, vertical: bool
) -> None:
    """The median (dashed grey) and SLE (red) lines, labelled in the legend."""
    draw = axes.axvline if vertical else axes.axhline
    if median is not None:
        draw(
            _days(median),
            color=MEDIAN_COLOUR,
            linestyle="--",
            linewidth=1.2,
            label=f"median {format_duration(median)}",
        )
    draw(_days(sle), color=SLE_COLOUR, linewidth=1.5, label=f"SLE {format_duration(sle)}")


def _scatter(
    axes: Axes,
    points: Sequence[FeedbackPoint],
    *,
    median: timedelta | None,
    sle: timedelta,
    tz: ZoneInfo,
) -> None:
    axes.set_title("Time to feedback per bet, by ship date", loc="left", fontsize=11)
    if not points:
        _placeholder(axes, "No feedback yet")
        return
    for past, colour, label in ((False, WITHIN_SLE, "within SLE"), (True, PAST_SLE, "past SLE")):
        chosen = [point for point in points if (point.ttf > sle) is past]
        if chosen:
            axes.scatter(
                [point.shipped_at for point in chosen],
                [_days(point.ttf) for point in chosen],
                s=28,
                color=colour,
                alpha=0.8,
                edgecolors="white",
                linewidths=0.5,
                label=label,
                zorder=3,
            )
    largest = sorted(points, key=lambda point: (-point.ttf, point.number))[:LABELLED_POINTS]
    for rank, point in enumerate(largest):
        axes.annotate(
            format_key(point.number),
            (mdates.date2num(point.shipped_at), _days(point.ttf)),
            xytext=(5, 4 if rank % 2 == 0 else -11),
            textcoords="offset points",
            fontsize=8,
            color="#212529",
            parse_math=False,
        )
    _reference_lines(axes, median=median, sle=sle, vertical=False)
    top = max(max(_days(point.ttf) for point in points), _days(sle))
    axes.set_ylim(0, top * 1.15 + 0.5)
    axes.set_ylabel("days to feedback")
    first = min(point.shipped_at for point in points)
    last = max(point.shipped_at for point in points)
    pad = max((last - first) * 0.03, timedelta(days=3))  # one ship date gets a week of axis
    axes.set_xlim(first - pad, last + pad)
    locator = mdates.AutoDateLocator(tz=tz, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b", tz=tz))
    axes.grid(axis="y", color="#e9ecef", linewidth=0.8)
    axes.legend(loc="upper left", fontsize=8, frameon=False, ncols=4)


def _ageing(
    axes: Axes,
    awaiting: Sequence[Awaiting],
    *,
    median: timedelta | None,
    sle: timedelta,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    axes.set_title(
        f"Awaiting feedback on {format_date(now, tz, now=now)}: age in days",
        loc="left",
        fontsize=11,
    )
    if not awaiting:
        _placeholder(axes, "Nothing is awaiting feedback")
        return
    oldest = sorted(awaiting, key=lambda item: (-item.age, item.number))
    shown = oldest[:MAX_BARS]
    rows = range(len(shown))
    axes.barh(
        list(rows),
        [_days(item.age) for item in shown],
        color=[STATUS_COLOUR[item.status] for item in shown],
        height=0.7,
        zorder=3,
    )
    axes.set_yticks(list(rows), [format_key(item.number) for item in shown], fontsize=8)
    # the oldest on top; a few bets keep the bar height of many
    axes.set_ylim(max(len(shown), MIN_ROWS) - 0.5, -0.5)
    _reference_lines(axes, median=median, sle=sle, vertical=True)
    right = max(_days(shown[0].age), _days(sle))
    axes.set_xlim(0, right * 1.1 + 0.5)
    axes.set_xlabel("days since shipped")
    axes.grid(axis="x", color="#e9ecef", linewidth=0.8)
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    if len(oldest) > len(shown):
        axes.text(
            1.0,
            -0.16,
            f"+ {len(oldest) - len(shown)} more awaiting feedback",
            ha="right",
            va="top",
            fontsize=8,
            color=MUTED,
            transform=axes.transAxes,
        )


def ttf_chart(
    points: Sequence[FeedbackPoint],
    awaiting: Sequence[Awaiting],
    *,
    median: timedelta | None,
    sle: timedelta,
    now: datetime,
    tz: ZoneInfo,
    title: str,
) -> bytes:
    """A PNG, 1000 × 700 px: (a) time to feedback per bet against its ship date, with the
    median and SLE lines and the largest labelled; (b) the age of each bet awaiting
    feedback, oldest on top, against the same lines. Empty inputs give a "no data yet"
    figure."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    # parse_math=False: a "$" in a channel's name or title never turns into mathtext
    figure.suptitle(truncate(title, MAX_TITLE), x=0.01, ha="left", fontsize=13, parse_math=False)
    if not points and not awaiting:
        _placeholder(figure.add_subplot(), "No data yet: ship a bet and record its evidence")
    else:
        top, bottom = figure.subplots(2, 1, height_ratios=(1, 1))
        _scatter(top, points, median=median, sle=sle, tz=tz)
        _ageing(bottom, awaiting, median=median, sle=sle, now=now, tz=tz)
        for axes in (top, bottom):
            axes.spines[["top", "right"]].set_visible(False)
    buffer = io.BytesIO()
    # No "Software" chunk: the same data gives the same bytes whatever matplotlib wrote it.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
