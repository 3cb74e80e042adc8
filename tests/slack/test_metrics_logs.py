"""What an operator sees: /metrics counts requests, acks, jobs, claims and the outbox; every
log line written while handling a request carries its request id, and no line a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from console.signing import (
    FORM,
    JSON,
    block_action_body,
    event_body,
    message_event,
    slash_command_body,
    view_submission_body,
)
from jobs.scheduler import Jobs
from jobs.scheduler import start as start_scheduler
from ops import logs
from storage import claims
from storage.models import Claim, Outbox
from testkit.signing import SIGNING_SECRET, sign
from tests.conftest import Hypobot, eventually
from tests.flows import settle
from tests.jobs_support import ONE_LINER

BOT_TOKEN = "xoxb-test-token"


def metric(exposition: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 when none)."""
    total = 0.0
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


async def scrape(hypobot: Hypobot) -> str:
    async with hypobot.slack.session.get(hypobot.url + "/metrics") as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        return await response.text()


async def test_metrics_answer_without_a_slack_signature(hypobot: Hypobot) -> None:
    text = await scrape(hypobot)
    assert "hypobot_slack_requests_total" in text
    assert "process_resident_memory_bytes" in text


async def test_an_acked_command_is_counted_with_its_ack_latency(hypobot: Hypobot) -> None:
    before = await scrape(hypobot)

    status, _ = await hypobot.command("help")

    after = await scrape(hypobot)
    assert status == 200
    acked = {"kind": "command", "outcome": "acked"}
    assert metric(after, "hypobot_slack_requests_total", **acked) == (
        metric(before, "hypobot_slack_requests_total", **acked) + 1
    )
    count = "hypobot_slack_ack_seconds_count"
    assert metric(after, count, kind="command") == metric(before, count, kind="command") + 1
    assert metric(after, "hypobot_slack_ack_seconds_bucket", kind="command", le="3.0") == (
        metric(before, "hypobot_slack_ack_seconds_bucket", kind="command", le="3.0") + 1
    )


FORGED: list[tuple[str, str, str]] = [
    ("command", slash_command_body("help"), FORM),
    ("action", block_action_body("start", "1"), FORM),
    ("view", view_submission_body("new_bet", {}), FORM),
    ("event", event_body(message_event("hi", ts="1793000000.000100")), JSON),
    ("other", json.dumps({"type": "url_verification", "challenge": "x"}), JSON),
    ("other", "not a slack body", "text/plain"),
]


@pytest.mark.parametrize(
    ("kind", "body", "content_type"), FORGED, ids=[f"{k}-{c}" for k, _, c in FORGED]
)
async def test_a_forged_request_is_counted_as_rejected_under_its_kind(
    hypobot: Hypobot, kind: str, body: str, content_type: str
) -> None:
    before = await scrape(hypobot)

    status, _ = await hypobot.slack.post_raw(body, content_type, sign(body, secret="forged"))

    after = await scrape(hypobot)
    assert status == 401
    rejected = {"kind": kind, "outcome": "rejected"}
    assert metric(after, "hypobot_slack_requests_total", **rejected) == (
        metric(before, "hypobot_slack_requests_total", **rejected) + 1
    )


async def test_outbox_rows_are_counted_by_status_and_failures_by_error_code(
    hypobot: Hypobot,
) -> None:
    before = await scrape(hypobot)
    await hypobot.command(f"new {ONE_LINER}")
    await hypobot.deliver()  # the card: sent
    hypobot.fake.fail["chat.postMessage"] = "channel_not_found"
    await hypobot.command(f"new {ONE_LINER}", channel_id="CGONE")
    await hypobot.deliver()  # its card: failed

    after = await scrape(hypobot)
    assert metric(after, "hypobot_database_up") == 1
    for status in ("sent", "failed"):
        rows = await Outbox.filter(status=status).count()
        assert metric(after, "hypobot_outbox_rows", status=status) == rows >= 1
    assert metric(after, "hypobot_outbox_rows", status="pending") == 0
    failures = {"error": "channel_not_found"}
    assert metric(after, "hypobot_outbox_failures_total", **failures) == (
        metric(before, "hypobot_outbox_failures_total", **failures) + 1
    )
    assert metric(after, "hypobot_outbox_deliveries_total", result="sent") >= (
        metric(before, "hypobot_outbox_deliveries_total", result="sent") + 1
    )
    assert metric(after, "hypobot_outbox_send_lag_seconds_count") > 0


async def test_claims_count_taken_and_skipped_and_the_lag_of_runs_taken(
    hypobot: Hypobot,
) -> None:
    now = hypobot.clock()
    due = (now - timedelta(minutes=10)).isoformat()  # a run named by the instant it fell due
    before = await scrape(hypobot)
    key = [("bet:1", due)]

    first = await claims.take("nudge", key, team_id="T1", owner="replica-a", now=now)
    claims.count_taken("nudge", key, first, now=now)
    second = await claims.take("nudge", key, team_id="T1", owner="replica-b", now=now)
    claims.count_taken("nudge", key, second, now=now)

    after = await scrape(hypobot)
    assert first == set(key) and second == set()
    for result in ("taken", "skipped"):
        name, labels = "hypobot_claims_total", {"job": "nudge", "result": result}
        assert metric(after, name, **labels) == metric(before, name, **labels) + 1, result
    lags = "hypobot_job_lag_seconds"
    assert metric(after, f"{lags}_count", job="nudge") == (
        metric(before, f"{lags}_count", job="nudge") + 1
    )
    assert metric(after, f"{lags}_sum", job="nudge") == (
        metric(before, f"{lags}_sum", job="nudge") + 600
    )


async def test_a_run_an_earlier_version_left_running_is_taken_once_its_lease_lapsed(
    hypobot: Hypobot,
) -> None:
    """Before runs were claimed with their effects, a replica claimed a run under a lease
    and then did it; one that died left the row "running". After an upgrade, take() does
    such a run once the lease has lapsed, and leaves a live one alone."""
    now = hypobot.clock()
    for channel, lease_until in (
        ("C1", now - timedelta(seconds=1)),
        ("C2", now + timedelta(minutes=4)),
    ):
        await Claim.create(
            team_id="T1",
            job="digest",
            scope=f"channel:T1:{channel}",
            period="2026-11-02",
            owner="old-replica",
            lease_until=lease_until,
            status="running",
            created_at=now - timedelta(minutes=1),
        )
    keys = [("channel:T1:C1", "2026-11-02"), ("channel:T1:C2", "2026-11-02")]
    got = await claims.take("digest", keys, team_id="T1", owner="new-replica", now=now)
    assert got == {("channel:T1:C1", "2026-11-02")}
    taken = await Claim.get(scope="channel:T1:C1")
    assert (taken.owner, taken.status) == ("new-replica", "done")
    assert (await Claim.get(scope="channel:T1:C2")).owner == "old-replica"


async def test_scheduled_passes_are_counted_by_job_and_result(hypobot: Hypobot) -> None:
    before = await scrape(hypobot)
    jobs = Jobs(hypobot.runtime.sender, clock=hypobot.clock, owner="test")
    scheduler = start_scheduler(jobs)
    try:

        async def every_pass_ran() -> bool:
            text = await scrape(hypobot)
            return all(
                metric(text, "hypobot_job_runs_total", job=job, result="ok")
                > metric(before, "hypobot_job_runs_total", job=job, result="ok")
                for job in ("nudges", "digests", "outbox")
            )

        await eventually(every_pass_ran)
    finally:
        scheduler.shutdown(wait=False)
    after = await scrape(hypobot)
    assert metric(after, "hypobot_job_duration_seconds_count", job="digests") >= 1


# --- logs ------------------------------------------------------------------------------------


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Logging as `hypobot serve` installs it (JSON, DEBUG, secrets to scrub) into a buffer;
    the previous set-up comes back after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in ("tortoise", "aiosqlite")}
    buffer = io.StringIO()
    logs.configure("DEBUG", "json", [BOT_TOKEN, SIGNING_SECRET], stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]


def _access(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["event"] == "http.request"]


async def test_every_line_logged_for_a_request_carries_its_request_id(
    hypobot: Hypobot, json_logs: io.StringIO
) -> None:
    body = slash_command_body(f"new {ONE_LINER}", response_url=hypobot.fake.response_url("x"))
    async with hypobot.slack.session.post(
        hypobot.slack.url, data=body, headers={"Content-Type": FORM, **sign(body)}
    ) as response:
        assert response.status == 200
        request_id = response.headers["X-Request-Id"]
    await settle(hypobot)

    lines = _lines(json_logs)
    [access] = [line for line in _access(lines) if line["request_id"] == request_id]
    assert access["method"] == "POST" and access["path"] == "/slack/events"
    assert access["status"] == 200 and access["kind"] == "command"
    assert access["duration_ms"] > 0
    assert set(access) == {
        *("at", "level", "logger", "event", "request_id"),
        *("method", "path", "status", "duration_ms", "kind"),
    }
    # The card went out after the ack, in a task the listener started: same request id.
    [sent] = [line for line in lines if line["event"] == "outbox.sent"]
    assert sent["request_id"] == request_id
    traced = [line for line in lines if line.get("request_id") == request_id]
    assert {line["logger"] for line in traced} > {"hypobot.access", "hypobot.outbox"}
    written = json_logs.getvalue()
    assert BOT_TOKEN not in written and SIGNING_SECRET not in written
    assert ONE_LINER not in written  # never the body


async def test_each_request_gets_its_own_id_and_a_slack_retry_is_logged(
    hypobot: Hypobot, json_logs: io.StringIO
) -> None:
    await hypobot.command("help")
    await hypobot.slack.event(message_event("hi", ts="1793000000.000100"), retry_num=2)
    await settle(hypobot)

    first, retried = _access(_lines(json_logs))
    assert first["request_id"] != retried["request_id"]
    assert len(first["request_id"]) == 32
    assert "slack_retry_num" not in first
    assert retried["slack_retry_num"] == "2" and retried["kind"] == "event"


async def test_health_probes_and_scrapes_log_at_debug_only(
    hypobot: Hypobot, json_logs: io.StringIO
) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        async with hypobot.slack.session.get(hypobot.url + path) as response:
            assert response.status == 200

    probes = _access(_lines(json_logs))
    assert [line["path"] for line in probes] == ["/healthz", "/readyz", "/metrics"]
    assert {line["level"] for line in probes} == {"debug"}


def test_serve_writes_its_logs_from_a_thread_with_the_context_and_secrets_settled() -> None:
    """`hypobot serve` logs through a writer thread: the request id is read where the line
    was logged, secrets are still scrubbed and a traceback still arrives, as text."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    buffer = io.StringIO()
    logs.configure("INFO", "json", [SIGNING_SECRET], stream=buffer, background=True)
    try:
        with logs.bound(request_id="req-1"):
            logging.getLogger("hypobot.test").info("sent %s", BOT_TOKEN, extra={"n": 1})
            try:
                raise ValueError(f"boom {SIGNING_SECRET}")
            except ValueError:
                logging.getLogger("hypobot.test").exception("failed")
        logging.getLogger("hypobot.test").info("outside")
    finally:
        logs.flush()  # the writer has written everything when this returns
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    sent, failed, outside = _lines(buffer)
    assert (sent["event"], sent["request_id"], sent["n"]) == ("sent [redacted]", "req-1", 1)
    assert failed["request_id"] == "req-1" and "ValueError: boom [redacted]" in failed["error"]
    assert "request_id" not in outside
    assert BOT_TOKEN not in buffer.getvalue() and SIGNING_SECRET not in buffer.getvalue()
