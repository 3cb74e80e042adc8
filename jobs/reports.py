"""`/hypothesis report`: a channel's flow figures over a window, as Block Kit and a chart."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bets.metrics import flow_report, forecast_feedback, recent_ttfs
from bot.blocks.report import report_blocks, report_text, window_words
from jobs.flow import facts_of, zone
from storage import channels as store
from storage.models import Channel


@dataclass(frozen=True)
class Report:
    payload: dict[str, Any]  # chat.postMessage arguments
    chart: bytes  # PNG
    label: str


def _draw_chart(*args: Any, **kwargs: Any) -> bytes:
    """matplotlib is heavy (memory) and slow (CPU): it is loaded when a report is first asked
    for, and runs in a worker thread so acks keep flowing meanwhile."""
    from jobs.charts import ttf_chart

    return ttf_chart(*args, **kwargs)


async def build_report(channel: Channel, *, window: timedelta, now: datetime) -> Report:
    bets = await store.bets_for_metrics(channel.team_id, channel.channel_id, now=now)
    facts = [facts_of(bet) for bet in bets]
    report = flow_report(
        facts, now=now, window=window, default_sle=timedelta(seconds=channel.sle_default_s)
    )
    sample = recent_ttfs(facts, now)
    forecasts = {
        item.number: moment
        for item in report.awaiting
        if (moment := forecast_feedback(item.shipped_at, sample, now=now)) is not None
    }
    label = f"last {window_words(window)}"
    tz = zone(channel)
    titles = {bet.number: bet.title for bet in bets}
    blocks = report_blocks(
        report, window_label=label, titles=titles, forecasts=forecasts, now=now, tz=tz
    )
    chart = await asyncio.to_thread(
        _draw_chart,
        report.feedback,
        report.awaiting,
        median=report.ttf_median,
        sle=report.sle.value,
        now=now,
        tz=tz,
        title=f"Time to feedback, {label}",
    )
    payload = {"text": report_text(report, window_label=label), "blocks": blocks}
    return Report(payload=payload, chart=chart, label=label)
