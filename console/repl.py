"""The read-eval-print loop around a console session: lines from a script, a terminal (with
line editing) or a pipe; quiet logs; Ctrl-C and Ctrl-D behaving as in a shell."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from console.shell import Console, ConsoleClock, ConsoleError, parse_moment
from ops import logs
from ops.settings import SettingsError, load_settings


class _OneLine(logging.Formatter):
    """A warning as one line: what happened and its error type, never a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        error = getattr(record, "error_type", None) or (
            record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
        )
        return f"⚠ {record.name}: {record.getMessage()}" + (f" ({error})" if error else "")


def _configure_logs(debug: bool) -> None:
    if debug:
        logs.configure("DEBUG", "text")
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    # Bolt warns at every start that the token gives way to `authorize`: true, and noise here.
    logging.getLogger("hypobot.bolt").setLevel(logging.ERROR)


def _wants_colour(out: TextIO) -> bool:
    return out.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _terminal_lines(console: Console) -> Iterator[str]:
    """Lines typed at a terminal, with readline's editing and history when available."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (input() edits lines once it is imported)
    while True:
        prompt = console.prompt()
        if console.paint.color:  # readline must not count escape codes as columns
            prompt = f"\001\x1b[1m\002{prompt}\001\x1b[22m\002"
        try:
            yield input(prompt)
        except EOFError:  # Ctrl-D
            print(file=console.out)
            return
        except KeyboardInterrupt:
            print(file=console.out)
            console.interrupted()


def _stream_lines(stream: TextIO) -> Iterator[str]:
    for line in stream:
        yield line.rstrip("\r\n")


def main(*, script: str | None, now: str | None, debug: bool) -> int:
    out = sys.stdout
    if isinstance(out, io.TextIOWrapper):
        out.reconfigure(errors="replace")  # emoji on a terminal that cannot show them
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"hypobot console: {error}", file=sys.stderr)
        return 2
    start = parse_moment(now) if now else None
    if now and start is None:
        print(
            f"hypobot console: --now {now!r} is not ISO 8601; for example --now 2026-11-02T10:00Z",
            file=sys.stderr,
        )
        return 2
    if script and not Path(script).is_file():
        print(f"hypobot console: --script {script}: no such file", file=sys.stderr)
        return 2
    _configure_logs(debug)
    console = Console(settings, out, color=_wants_colour(out), clock=ConsoleClock(start))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(console.start())
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a database it cannot open, most likely: one line, no traceback
        reason = (
            str(error)
            if isinstance(error, ConsoleError)
            else f"cannot start on {console.database} ({type(error).__name__}: {error})"
        )
        print(f"hypobot console: {reason}", file=sys.stderr)
        with contextlib.suppress(Exception):
            loop.run_until_complete(console.close())
        loop.close()
        return 2
    try:
        if script:
            with open(script, encoding="utf-8") as lines:
                console.echo = True
                if not _run_lines(loop, console, _stream_lines(lines)):
                    return 0
        interactive = sys.stdin.isatty()
        console.echo = not interactive
        source = _terminal_lines(console) if interactive else _stream_lines(sys.stdin)
        _run_lines(loop, console, source)
        console.end_of_input()
        return 0
    except BrokenPipeError:
        return 0
    finally:
        with contextlib.suppress(Exception, KeyboardInterrupt):
            loop.run_until_complete(console.close())
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _run_lines(loop: asyncio.AbstractEventLoop, console: Console, lines: Iterator[str]) -> bool:
    """Handle each line; False once the person asked to quit."""
    return all(_handle(loop, console, line) for line in lines)


def _handle(loop: asyncio.AbstractEventLoop, console: Console, line: str) -> bool:
    task = loop.create_task(console.handle(line))
    try:
        return loop.run_until_complete(task)
    except KeyboardInterrupt:
        task.cancel()
        with contextlib.suppress(BaseException):
            loop.run_until_complete(task)
        console.note("(interrupted)")
        return True
