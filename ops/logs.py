"""Structured logs (an event name plus fields) with every Slack secret scrubbed out, and the
id of the request being handled on every line logged while handling it."""

from __future__ import annotations

import atexit
import copy
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
from queue import SimpleQueue
from typing import Any, TextIO

# Slack tokens and the signing secret must never reach a log line, whoever logs it
# (our code, Bolt, slack_sdk or aiohttp).
# xwfp-: the just-in-time token of a workflow step (function_executed's bot_access_token).
_TOKEN = re.compile(r"\b(xox[abposre]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|xwfp-[A-Za-z0-9-]+)")
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class Redactor(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def scrub(self, text: str) -> str:
        text = _TOKEN.sub("[redacted]", text)
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrub(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _RESERVED and isinstance(value, str):
                setattr(record, key, self.scrub(value))
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        return True


# Fields every record logged in this context carries (request_id, slack_retry_num). asyncio
# copies the context into tasks created meanwhile, so work a listener does after its ack
# (Bolt runs it as a task) and deliveries it kicks off carry the same request_id.
_CONTEXT: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("hypobot_log_context", default=())


@contextmanager
def bound(**fields: str) -> Iterator[None]:
    """Add `fields` to every record logged in this context (and tasks started in it)."""
    token = _CONTEXT.set((*_CONTEXT.get(), *fields.items()))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class RequestContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in reversed(_CONTEXT.get()):  # the innermost binding wins
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RESERVED}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **_fields(record),
        }
        if record.exc_text:
            line["error"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        line = f"{record.levelname[0]} {record.name}: {record.getMessage()} {extra}".rstrip()
        return line + ("\n" + record.exc_text if record.exc_text else "")


class BoltTokenNotice(logging.Filter):
    """Drops Bolt's start-up notices that SLACK_BOT_TOKEN "will be unused / ignored".

    Bolt reads SLACK_BOT_TOKEN from the environment itself and warns when an `authorize`
    is given as well; Hypobot's single-workspace authorize *is* that token (asked about
    once with auth.test), so the notice is wrong there. In OAuth mode, where the token
    really is ignored, bot/app.py says so in its own words (settings.bot_token_ignored).
    """

    NOTICES = ("`token` will be unused", "`token` (or SLACK_BOT_TOKEN env variable) will be")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING or "bolt" not in record.name:
            return True
        message = record.getMessage()
        return not any(notice in message for notice in self.NOTICES)


class _Enqueue(QueueHandler):
    """Hands each record to the writer thread. What only this thread knows is settled here:
    the request context (a context variable), the message with its arguments, and the
    traceback as text; scrubbing, JSON and the write to stderr happen in the writer."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record = copy.copy(record)
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        return record


_writer: QueueListener | None = None


def configure(
    level: str = "INFO",
    fmt: str = "json",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
    *,
    background: bool = False,
) -> None:
    """Install one handler on the root logger (stderr unless `stream`), stamping the request
    context and scrubbing `secrets` and any token.

    With `background` (hypobot serve), lines are scrubbed, formatted and written by a
    thread of their own: the event loop only queues each record, so a burst of requests
    does not wait on log formatting, nor the whole process on a stderr pipe that blocks.
    """
    global _writer
    if _writer is not None:
        _writer.stop()
        _writer = None
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(Redactor(secrets))
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    installed: logging.Handler = handler
    if background:
        records: SimpleQueue[logging.LogRecord] = SimpleQueue()
        installed = _Enqueue(records)
        _writer = QueueListener(records, handler)
        _writer.start()
        atexit.register(flush)
    installed.addFilter(RequestContext())
    root = logging.getLogger()
    root.handlers[:] = [installed]
    root.setLevel(level)
    quiet = max(logging.WARNING, logging.getLevelName(level))
    # Chatter, not events: Tortoise's "shutdown" after every one-shot command, and
    # APScheduler's "Running job … executed successfully" for every pass (the outbox runs
    # every 5 s). Our own job.ran / job.failed lines say what a pass did.
    for name in ("tortoise", "aiosqlite", "apscheduler"):
        logging.getLogger(name).setLevel(quiet)
    # slack_sdk and Bolt build their debug lines (a whole message body, every header)
    # whenever their own logger's level is at most DEBUG, and an unset level (0) is, before
    # the logger drops them: at the level we log at, they skip that work.
    for name in ("slack_sdk", "slack_bolt", "hypobot.bolt"):
        logging.getLogger(name).setLevel(level)
    installed.addFilter(BoltTokenNotice())
    # What no line of ours shows (the logging HOWTO's "Optimization"): where each call was
    # made from (a walk up the stack per record), and the thread and process. A third of the
    # cost of logging a line in the event loop.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def flush() -> None:
    """Write out what the background writer holds and stop it (at exit)."""
    global _writer
    if _writer is not None:
        _writer.stop()
        _writer = None
