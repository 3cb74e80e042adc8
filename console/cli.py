"""The `hypobot` command: serve Slack, and look after Hypobot's database and jobs."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from console.csv_export import write_csv
from ops import logs
from ops.settings import Settings, SettingsError, load_settings
from storage import db

JOB_NAMES = ("nudges", "digests", "outbox")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        sys.exit(f"hypobot: {error}")


def _configure_logs(settings: Settings) -> None:
    secrets = [
        s.get_secret_value()
        for s in (
            settings.slack_bot_token,
            settings.slack_signing_secret,
            settings.slack_app_token,
            settings.slack_client_secret,
            settings.hypobot_encryption_key,
        )
        if s is not None
    ]
    logs.configure(settings.log_level, settings.log_format, secrets, background=True)


def _at(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        sys.exit(f"hypobot: --at {text!r} is not ISO 8601; for example --at 2026-12-01T09:30:00Z")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- commands ---------------------------------------------------------------------------


async def _serve(settings: Settings) -> None:
    from jobs.scheduler import Jobs, replica_id
    from jobs.scheduler import start as start_scheduler
    from server.process import assemble, serve

    async with db.connected(settings.database_url):
        process = assemble(settings)
        runtime = process.runtime
        owner = replica_id()

        def start_jobs() -> Any:
            jobs = Jobs(runtime.sender, clock=runtime.answers.clock, owner=owner)
            return start_scheduler(jobs)

        on = settings.hypobot_scheduler == "on"
        await serve(
            process,
            host=settings.host,
            port=settings.port,
            start_jobs=start_jobs if on else None,
            replica=owner,
        )


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings()
    try:
        settings.require_slack()
    except SettingsError as error:
        sys.exit(f"hypobot: {error}")
    _configure_logs(settings)
    try:
        asyncio.run(_serve(settings))
    except SettingsError as error:
        sys.exit(f"hypobot: {error}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    _configure_logs(settings)
    asyncio.run(db.migrate(settings.database_url))
    print("hypobot: database schema is current")
    return 0


async def _export(settings: Settings, team: str | None) -> list[dict[str, Any]]:
    from storage import bets as store
    from usecases.export import team_export  # the API answers with these records, or part

    async with db.connected(settings.database_url):
        teams = [team] if team else await store.team_ids()
        exported: list[dict[str, Any]] = []
        for team_id in teams:
            exported += await team_export(team_id)
        return exported


def cmd_export(args: argparse.Namespace) -> int:
    settings = _settings()
    records = asyncio.run(_export(settings, args.team))
    if args.format == "json":
        json.dump(records, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    write_csv(records, sys.stdout)  # inert in a spreadsheet; `hypobot import` reads it back
    return 0


def cmd_jobs_run(args: argparse.Namespace) -> int:
    if args.name not in JOB_NAMES:
        print(
            f"hypobot: unknown job {args.name!r}; jobs are: {', '.join(JOB_NAMES)}",
            file=sys.stderr,
        )
        return 2
    settings = _settings()
    _require_slack_token(settings)
    _configure_logs(settings)
    from jobs.runner import run_job

    summary = asyncio.run(run_job(settings, args.name, _at(args.at)))
    print(json.dumps(summary, default=str))
    return 0


def _require_slack_token(settings: Settings) -> None:
    """A pass posts to Slack, so it needs what `serve` needs to reach Slack: one line naming
    the missing variable. Not the signing secret: a pass receives no requests."""
    secret = settings.slack_signing_secret or SecretStr("not-needed-by-jobs")
    try:
        settings.model_copy(update={"slack_signing_secret": secret}).require_slack()
    except SettingsError as error:
        sys.exit(f"hypobot: {error}")


def cmd_jobs_status(args: argparse.Namespace) -> int:
    settings = _settings()
    from jobs.runner import status

    print(json.dumps(asyncio.run(status(settings)), indent=2, default=str))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="hypobot", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve Slack (HTTP or Socket Mode) and run the scheduler")
    sub.add_parser("migrate", help="create or upgrade the database schema")
    export = sub.add_parser("export", help="print every bet with its evidence and events")
    export.add_argument("--team", help="only this workspace (team id)")
    export.add_argument("--format", choices=("json", "csv"), default="json")
    jobs = sub.add_parser("jobs", help="run or inspect scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    run = jobs_sub.add_parser("run", help="run one pass of a job as if the clock read --at")
    run.add_argument("name", help=f"one of: {', '.join(JOB_NAMES)}")
    run.add_argument("--at", help="ISO 8601 moment, e.g. 2026-12-01T09:30:00Z (default: now)")
    jobs_sub.add_parser("status", help="outbox depth and failures, recent claims")
    return root


HANDLERS = {
    "serve": cmd_serve,
    "migrate": cmd_migrate,
    "export": cmd_export,
}

# Modules that add a subcommand: each has `add_parser(subparsers)` that registers it and
# `run(args) -> int` that carries it out.
EXTRA_COMMANDS: tuple[str, ...] = (
    "console.purge",
    "console.csv_import",
    "console",
    "console.tokens",
)


def _extras() -> dict[str, Any]:
    return {name: importlib.import_module(name) for name in EXTRA_COMMANDS}


def main(argv: Sequence[str] | None = None) -> int:
    root = parser()
    extras = _extras()
    sub = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    owners = {module.add_parser(sub).prog.split()[-1]: module for module in extras.values()}
    args = root.parse_args(argv)
    try:
        if args.command == "jobs":
            return cmd_jobs_run(args) if args.jobs_command == "run" else cmd_jobs_status(args)
        if args.command in owners:
            return int(owners[args.command].run(args))
        return HANDLERS[args.command](args)
    finally:
        logs.flush()  # every log line out before a closing "hypobot: …" line on stderr


if __name__ == "__main__":
    sys.exit(main())
