"""`hypobot purge --team T`: delete everything kept for one workspace, after confirmation."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

from bets.reading import counted
from console.exits import REFUSED, settings_or_refuse
from storage import db
from storage import purge as store


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    purge: argparse.ArgumentParser = subparsers.add_parser(
        "purge",
        help="delete one workspace's bets, evidence, events, outbox, settings and installation",
        description=(
            "Delete everything kept for one workspace: its bets, evidence, events, outbox "
            "rows, channel settings, API tokens and installation. It first lists how many "
            "rows of each go, then asks for the team id to be typed again (or --yes). "
            "Nothing is posted to Slack; it cannot be undone (`hypobot export --team` first "
            "keeps a copy)."
        ),
    )
    purge.add_argument("--team", required=True, help="the workspace's team id, e.g. T012AB3C4")
    purge.add_argument(
        "--yes", action="store_true", help="skip the prompt (scripts); nothing asks again"
    )
    return purge


def _table(counts: dict[str, int]) -> str:
    width = max(len(name) for name in counts)
    return "\n".join(f"  {name:<{width}}  {count}" for name, count in counts.items())


async def purge_workspace(team: str, *, yes: bool, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    """Show what goes, ask for the team id unless `yes`, then delete (database connected)."""
    counts = await store.counts(team)
    if not any(counts.values()):
        known = ", ".join(await store.known_teams()) or "none"
        print(f"hypobot: nothing is kept for workspace {team} (workspaces: {known})", file=out)
        return 0
    print(f"hypobot: this deletes every row kept for workspace {team}:", file=out)
    print(_table(counts), file=out)
    if not yes:
        if not stdin.isatty():
            print(
                "hypobot: not purged: stdin is not a terminal to confirm on; "
                f"run `hypobot purge --team {team} --yes` to purge without the prompt",
                file=err,
            )
            return REFUSED
        print(f"Type the team id ({team}) to delete it all: ", end="", file=out, flush=True)
        typed = stdin.readline().strip()
        if typed != team:
            print(f"hypobot: not purged ({typed!r} is not {team})", file=err)
            return REFUSED
    deleted = await store.purge(team)
    print(f"hypobot: purged workspace {team} ({counted(sum(deleted.values()), 'row')})", file=out)
    return 0


async def _purge(url: str | None, team: str, *, yes: bool) -> int:
    async with db.connected(url):
        return await purge_workspace(team, yes=yes, stdin=sys.stdin, out=sys.stdout, err=sys.stderr)


def run(args: argparse.Namespace) -> int:
    settings = settings_or_refuse()
    if settings is None:
        return REFUSED
    return asyncio.run(_purge(settings.database_url, args.team, yes=args.yes))
