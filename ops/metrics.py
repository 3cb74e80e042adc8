"""What an operator watches, as Prometheus metrics: Slack requests and ack latency, job runs,
claims, lag, and the outbox. Labels stay few and bounded: no team, channel or user ids."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

log = logging.getLogger("hypobot.metrics")

# Our own registry, so what /metrics shows is exactly what is defined here (plus the
# process, platform and garbage-collector figures prometheus-client ships).
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)
CONTENT_TYPE = CONTENT_TYPE_LATEST

KINDS = ("command", "action", "view", "event", "other")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")
# Slack retries a request it got no answer to within 3 s: the buckets straddle that line.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
LAG_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 3 * 3600, 24 * 3600)

SLACK_REQUESTS = Counter(
    "hypobot_slack_requests",
    "Requests Slack posted to /slack/events, by kind and outcome "
    "(acked: 2xx/3xx, rejected: 401, client_error: other 4xx, server_error: 5xx)",
    ["kind", "outcome"],
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "hypobot_slack_ack_seconds",
    "From a request's arrival at /slack/events to the HTTP response (Slack allows 3 s)",
    ["kind"],
    buckets=ACK_BUCKETS,
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "hypobot_job_runs",
    "Scheduled passes this replica ran, by job and result (ok or error)",
    ["job", "result"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "hypobot_job_duration_seconds",
    "How long one scheduled pass took, including delivering what it queued",
    ["job"],
    registry=REGISTRY,
)
CLAIMS = Counter(
    "hypobot_claims",
    "Scheduled runs this replica tried to claim: taken, or skipped (another replica did it)",
    ["job", "result"],
    registry=REGISTRY,
)
JOB_LAG = Histogram(
    "hypobot_job_lag_seconds",
    "From when a nudge or digest was due to when it was queued",
    ["job"],
    buckets=LAG_BUCKETS,
    registry=REGISTRY,
)
OUTBOX_ROWS = Gauge(
    "hypobot_outbox_rows",
    "Outbox rows in the whole database by status, counted when /metrics is scraped "
    "(every replica reports the same figure: aggregate with max, not sum)",
    ["status"],
    registry=REGISTRY,
)
DATABASE_UP = Gauge(
    "hypobot_database_up",
    "1 when the database answered the last scrape's outbox count, else 0",
    registry=REGISTRY,
)
OUTBOX_DELIVERIES = Counter(
    "hypobot_outbox_deliveries",
    "Outbox rows this replica handled, by result (sent, retried, failed, deferred)",
    ["result"],
    registry=REGISTRY,
)
OUTBOX_FAILURES = Counter(
    "hypobot_outbox_failures",
    "Outbox rows marked failed, by error code (Slack's error, no_installation or gave_up)",
    ["error"],
    registry=REGISTRY,
)
OUTBOX_RETRIES = Counter(
    "hypobot_outbox_retries",
    "Outbox sends to try again later, by reason (ratelimited, server_error, network)",
    ["reason"],
    registry=REGISTRY,
)
OUTBOX_SEND_LAG = Histogram(
    "hypobot_outbox_send_lag_seconds",
    "From when a message was queued to when Slack accepted it",
    buckets=LAG_BUCKETS,
    registry=REGISTRY,
)


# --- Slack requests -------------------------------------------------------------------------

_PAYLOAD_KINDS = {
    "block_actions": "action",
    "interactive_message": "action",
    "view_submission": "view",
    "view_closed": "view",
}


def parsed_kind(parsed: dict[str, Any], content_type: str) -> str:
    """command, action, view, event or other, from a /slack/events body Bolt's parser has
    read into `parsed` (never trusted: this runs before Bolt's signature check, so anything
    unexpected is other)."""
    kind = parsed.get("type")
    if content_type == "application/json":
        return "event" if kind == "event_callback" else "other"
    if "command" in parsed:
        return "command"
    return _PAYLOAD_KINDS.get(kind, "other") if isinstance(kind, str) else "other"


def outcome(status: int) -> str:
    if status == 401:
        return "rejected"
    if status < 400:
        return "acked"
    return "client_error" if status < 500 else "server_error"


OUTCOMES = ("acked", "rejected", "client_error", "server_error")
for _kind in KINDS:  # every series from the start, so a first request shows as an increase
    ACK_SECONDS.labels(_kind)
    for _outcome in OUTCOMES:
        SLACK_REQUESTS.labels(_kind, _outcome)


def slack_request(kind: str, status: int, seconds: float) -> None:
    SLACK_REQUESTS.labels(kind, outcome(status)).inc()
    ACK_SECONDS.labels(kind).observe(seconds)


# --- jobs and claims -----------------------------------------------------------------------


def job_ran(job: str, result: str, seconds: float) -> None:
    JOB_RUNS.labels(job, result).inc()
    JOB_SECONDS.labels(job).observe(seconds)


def claimed(job: str, result: str, *, period: str, now: datetime) -> None:
    """Count a claim attempt; a run named by an instant (nudges name theirs by the moment the
    nudge fell due) also records how late it was queued."""
    CLAIMS.labels(job, result).inc()
    if result != "skipped" and "T" in period:
        try:
            due = datetime.fromisoformat(period)
        except ValueError:
            return
        if due.tzinfo is not None:
            lag(job, now - due)


def lag(job: str, late: timedelta) -> None:
    JOB_LAG.labels(job).observe(max(0.0, late.total_seconds()))


# --- the outbox ------------------------------------------------------------------------------

_RETRY_REASONS = (("uncertain: network", "network"), ("server error", "server_error"))


def error_code(error: str) -> str:
    """A bounded label from an outbox error: Slack's code, or our own word for the rest."""
    if error.startswith("gave up"):
        return "gave_up"
    for prefix, reason in _RETRY_REASONS:
        if error.startswith(prefix):
            return reason
    word = re.sub(r"[^a-z0-9_]", "_", error.split(":", 1)[0].strip().lower())
    return word[:40] or "unknown"


def outbox_delivery(result: str, error: str = "", *, queued_for: timedelta | None = None) -> None:
    """One outbox row handled: sent (with how long it was queued), retried, failed, deferred."""
    OUTBOX_DELIVERIES.labels(result).inc()
    if result == "failed":
        OUTBOX_FAILURES.labels(error_code(error)).inc()
    elif result == "retried":
        OUTBOX_RETRIES.labels(error_code(error)).inc()
    elif result == "sent" and queued_for is not None:
        OUTBOX_SEND_LAG.observe(max(0.0, queued_for.total_seconds()))


async def refresh(
    counts_by_status: Callable[[], Awaitable[dict[str, int]]], timeout: float = 2.0
) -> None:
    """Count the outbox by status (`counts_by_status`, one GROUP BY), bounded so a slow
    database cannot stall a scrape; on failure the gauges keep their last values and
    database_up drops to 0."""
    try:
        async with asyncio.timeout(timeout):
            counts = await counts_by_status()
    except Exception as error:
        DATABASE_UP.set(0)
        log.warning("metrics.refresh_failed", extra={"error_type": type(error).__name__})
        return
    DATABASE_UP.set(1)
    for status in (*OUTBOX_STATUSES, *(set(counts) - set(OUTBOX_STATUSES))):
        OUTBOX_ROWS.labels(status).set(counts.get(status, 0))


def exposition() -> bytes:
    return generate_latest(REGISTRY)
