"""The `hypobot` command: serve Slack, and look after Hypobot's database and jobs."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import signal
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
    from usecases.export import team_export  # the API answers with these very records

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


SERVE = """Serve Slack and the HTTP API, and run the scheduled jobs, in one process.

Slack's requests arrive on HOST:PORT (default 0.0.0.0:3000) at /slack/events, each checked
against SLACK_SIGNING_SECRET; or over Socket Mode when SLACK_APP_TOKEN is set. Beside them:
the HTTP API under /api/v1 (bearer tokens from `hypobot tokens`), /healthz, /readyz and
/metrics. The nudge, digest and outbox passes run on their intervals unless
HYPOBOT_SCHEDULER=off; any number of replicas may share one PostgreSQL database.

The database schema is brought up to date first. Settings come from the environment (or
.env): SLACK_BOT_TOKEN, or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and HYPOBOT_ENCRYPTION_KEY
to install in any workspace; DATABASE_URL (default ./hypobot.sqlite3). A missing or
malformed one stops start-up with one line naming it."""

MIGRATE = """Create the database schema, or upgrade it to this version's; it is safe to run again.

The database is DATABASE_URL: sqlite:///abs/path/hypobot.sqlite3, postgres://user@host/db
(or postgresql://); unset means hypobot.sqlite3 in the working directory. `hypobot serve`
migrates on start-up too."""

EXPORT = """Print every bet with its evidence and events on stdout, as JSON (default) or CSV.

The JSON records are the HTTP API's (GET /api/v1/bets/{key}); the CSV has one row per bet,
its evidence and events as JSON cells, and imports back with `hypobot import --team T…`.
Piped into a reader that stops early (`hypobot export | head`), it ends quietly."""

JOBS = """Run one pass of a scheduled job now, or see what the jobs left behind.

`serve` runs the passes on their own; these are for cron, for trying things, and for
looking into the outbox."""

JOBS_RUN = """Run one pass of a job, as if the clock read --at, and print what it did as JSON.

nudges: chase the shipped bets whose evidence is overdue (inside working hours, within each
channel's nudge budget) and escalate the unanswered; the report counts the nudges that wait
by what holds each back. digests: post each channel's digest that is due. outbox: send what
is queued. A pass posts to Slack, so it needs what `serve` needs to reach Slack: SLACK_BOT_TOKEN,
or the three OAuth variables (not the signing secret)."""

JOBS_STATUS = """Print, as JSON, the outbox's rows by status, its recent failures with their
reasons, and the jobs' recent claims (which replica ran what, and when)."""


def parser() -> argparse.ArgumentParser:
    """The root parser with the commands of this module (`main` adds EXTRA_COMMANDS')."""
    root = argparse.ArgumentParser(prog="hypobot", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    raw = argparse.RawDescriptionHelpFormatter
    sub.add_parser(
        "serve",
        help="serve Slack (HTTP or Socket Mode) and run the scheduler",
        description=SERVE,
        formatter_class=raw,
    )
    sub.add_parser(
        "migrate",
        help="create or upgrade the database schema",
        description=MIGRATE,
        formatter_class=raw,
    )
    export = sub.add_parser(
        "export",
        help="print every bet with its evidence and events",
        description=EXPORT,
        formatter_class=raw,
    )
    export.add_argument("--team", help="only this workspace (team id), e.g. T012AB3C4")
    export.add_argument(
        "--format",
        choices=("json", "csv"),
        default="json",
        help="json: a list of records, as the HTTP API gives them (default); "
        "csv: one row per bet, the format `hypobot import` reads",
    )
    jobs = sub.add_parser(
        "jobs", help="run or inspect scheduled jobs", description=JOBS, formatter_class=raw
    )
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    run = jobs_sub.add_parser(
        "run",
        help="run one pass of a job as if the clock read --at",
        description=JOBS_RUN,
        formatter_class=raw,
    )
    run.add_argument("name", help=f"one of: {', '.join(JOB_NAMES)}")
    run.add_argument("--at", help="ISO 8601 moment, e.g. 2026-12-01T09:30:00Z (default: now)")
    jobs_sub.add_parser(
        "status",
        help="outbox depth and failures, recent claims",
        description=JOBS_STATUS,
        formatter_class=raw,
    )
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


def full_parser() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    """Every command's parser, and the module that carries out each extra command."""
    root = parser()
    sub = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    owners = {module.add_parser(sub).prog.split()[-1]: module for module in _extras().values()}
    return root, owners


def main(argv: Sequence[str] | None = None) -> int:
    root, owners = full_parser()
    args = root.parse_args(argv)
    try:
        if args.command == "jobs":
            status = cmd_jobs_run(args) if args.jobs_command == "run" else cmd_jobs_status(args)
        elif args.command in owners:
            status = int(owners[args.command].run(args))
        else:
            status = HANDLERS[args.command](args)
        sys.stdout.flush()  # a reader gone shows here, not in Python's flush at exit
        return status
    except BrokenPipeError:
        return _reader_gone()
    finally:
        logs.flush()  # every log line out before a closing "hypobot: …" line on stderr


def _reader_gone() -> int:
    """Whoever read stdout stopped early (`hypobot export | head`): end quietly, as Unix
    tools do when SIGPIPE ends them (exit status 128 + SIGPIPE, no traceback). What is left
    for stdout goes to /dev/null, so Python's own flush at exit cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
