"""`hypobot console`: try Hypobot without Slack. Typed lines become the requests Slack would
send, the real app answers them, and a fake Slack Web API in the same process shows the result
as text. Registered in console/cli.py's EXTRA_COMMANDS."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "console",
        help="try Hypobot without Slack: an interactive shell on the local database",
        description=(
            "Type /hypothesis commands, press buttons by number, reply in threads and run jobs "
            "as if in Slack, with no Slack workspace or tokens. Bets are kept in DATABASE_URL "
            "(default ./hypobot.sqlite3), the pretend Slack beside it "
            "(./hypobot.sqlite3-console), so a session picks up where the last left off."
        ),
    )
    parser.add_argument(
        "--script", metavar="FILE", help="run FILE's lines first (shown as typed), then stdin"
    )
    parser.add_argument(
        "--now",
        metavar="WHEN",
        help="start the console's clock at WHEN (ISO 8601), e.g. 2026-11-02T10:00Z",
    )
    parser.add_argument(
        "--debug", action="store_true", help="log everything to stderr, tracebacks included"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from console.repl import main

    return main(script=args.script, now=args.now, debug=args.debug)
