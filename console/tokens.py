"""`hypobot tokens create|list|revoke --team T…`: the HTTP API's tokens for one workspace.

`create` prints the token alone on stdout (`TOKEN=$(hypobot tokens create …)` works) and
says the rest on stderr; it is shown this once, and Hypobot keeps only its SHA-256."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from typing import Any, TextIO

from console.exits import REFUSED, settings_or_refuse
from storage import bets as bet_store
from storage import db
from usecases import tokens
from usecases.context import Context

_WHY = {
    tokens.TokenWhy.BAD_NAME: "a token name is 1–28 letters, digits, '.', '_' or '-', "
    "starting with a letter or digit, e.g. --name ci",
    tokens.TokenWhy.NAME_TAKEN: "workspace {team} has a live token named {name!r} already; "
    "revoke it first (hypobot tokens revoke --team {team} --name {name}) or pick another name",
    tokens.TokenWhy.NO_SUCH_TOKEN: "workspace {team} has no live token {name}; "
    "see hypobot tokens list --team {team}",
}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "tokens",
        help="make, list and revoke the HTTP API's tokens of a workspace",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="tokens_command", required=True)
    create = sub.add_parser(
        "create",
        help="make a token (printed once; only its hash is kept)",
        description="Make a token for the HTTP API (Authorization: Bearer <token>), good for "
        "this workspace only. It is printed once, alone on stdout; Hypobot keeps only its "
        "SHA-256, so a lost token is revoked and made again.",
    )
    create.add_argument("--team", required=True, help="the workspace's team id, e.g. T012AB3C4")
    create.add_argument("--name", required=True, help="what the token is for, e.g. ci")
    listing = sub.add_parser(
        "list",
        help="name, created, last used, revoked (never the token)",
        description="List the workspace's tokens: id, name, when made, last used and revoked. "
        "The tokens themselves are never shown again.",
    )
    listing.add_argument("--team", required=True, help="the workspace's team id")
    revoke = sub.add_parser(
        "revoke",
        help="revoke a token: it answers 401 from now on",
        description="Revoke a token by its name or its id (from `hypobot tokens list`): a "
        "request carrying it is answered 401 from now on.",
    )
    revoke.add_argument("--team", required=True, help="the workspace's team id")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--name", help="the token's name")
    which.add_argument("--id", type=int, help="the token's id (from tokens list)")
    return parser


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def _table(rows: list[tokens.TokenFacts]) -> str:
    headers = ("id", "name", "created", "last used", "revoked")
    cells = [
        (str(r.id), r.name, _when(r.created_at), _when(r.last_used_at), _when(r.revoked_at))
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = [headers, tuple("-" * w for w in widths), *cells]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


async def tokens_command(args: argparse.Namespace, *, out: TextIO, err: TextIO) -> int:
    """Carry out `tokens <create|list|revoke>` (database connected)."""
    ctx = Context()
    team = args.team
    if args.tokens_command == "create":
        issued = await tokens.create(ctx, team, args.name)
        if isinstance(issued, tokens.TokenRefused):
            print(f"hypobot: {_WHY[issued.why].format(team=team, name=args.name)}", file=err)
            return REFUSED
        print(issued.token, file=out)
        print(
            f"hypobot: token {args.name!r} made for workspace {team}; it is shown this once "
            "(Hypobot keeps only its hash). Send it as: Authorization: Bearer <token>",
            file=err,
        )
        if team not in await bet_store.team_ids():
            print(f"hypobot: note: no bets are kept for workspace {team} yet", file=err)
        return 0
    if args.tokens_command == "list":
        found = list(await tokens.list_tokens(ctx, team))
        if not found:
            print(f"hypobot: workspace {team} has no API tokens", file=err)
            return 0
        print(_table(found), file=out)
        return 0
    revoked = await tokens.revoke(ctx, team, name=args.name, token_id=args.id)
    if isinstance(revoked, tokens.TokenRefused):
        which = repr(args.name) if args.name is not None else f"with id {args.id}"
        print(f"hypobot: {_WHY[revoked.why].format(team=team, name=which)}", file=err)
        return REFUSED
    for row in revoked:
        print(f"hypobot: revoked token {row.name!r} (id {row.id}) of workspace {team}", file=out)
    return 0


async def _tokens(url: str | None, args: argparse.Namespace) -> int:
    async with db.connected(url):
        return await tokens_command(args, out=sys.stdout, err=sys.stderr)


def run(args: argparse.Namespace) -> int:
    settings = settings_or_refuse()
    if settings is None:
        return REFUSED
    return asyncio.run(_tokens(settings.database_url, args))
