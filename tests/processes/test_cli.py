"""The `hypobot` command as a person runs it: its help, start-up checks, serve, migrate,
export and import, jobs; and what it leaves on stderr (one line when something is missing,
nothing when all went well)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import importlib
import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from console import cli
from console.fakeslack import FakeSlack
from storage.models import Bet, Event, Evidence
from tests.conftest import Hypobot
from tests.jobs_support import ONE_LINER

# This checkout's code in the processes it starts, whatever their working directory (an
# installed copy of Hypobot may be another checkout).
CLEAN_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
    "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
}


def hypobot_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        env={**CLEAN_ENV, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_without_bot_token_stops_with_one_line_naming_it(tmp_path: Path) -> None:
    result = hypobot_cli("serve", env={"SLACK_SIGNING_SECRET": "s3cret-value"}, cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "hypobot: SLACK_BOT_TOKEN is not set; set it, for example "
        "SLACK_BOT_TOKEN=xoxb-1234-5678-abcd"
    )


def test_malformed_port_stops_start_up_with_an_example(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "x" * 10, "PORT": "http"}
    result = hypobot_cli("serve", env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "PORT is malformed" in result.stderr and "PORT=3000" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_job_exits_2_with_the_list(tmp_path: Path) -> None:
    result = hypobot_cli("jobs", "run", "reports", cwd=tmp_path)
    assert result.returncode == 2
    assert "nudges, digests, outbox" in result.stderr


def test_migrate_creates_the_sqlite_file_in_the_working_directory(tmp_path: Path) -> None:
    result = hypobot_cli("migrate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "hypobot.sqlite3").exists()
    assert hypobot_cli("migrate", cwd=tmp_path).returncode == 0  # idempotent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_env(fake_slack: FakeSlack, port: int, *, scheduler: str) -> dict[str, str]:
    """What `hypobot serve` needs to serve on loopback against the fake Slack."""
    return {
        **CLEAN_ENV,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        "SLACK_API_URL": fake_slack.base_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "HYPOBOT_SCHEDULER": scheduler,
    }


async def _serve(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """`hypobot serve` as a user starts it, in `cwd`, with exactly `env`."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console.cli",
        "serve",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_serve_migrates_and_answers_health_and_readiness(tmp_path: Path, fake_slack) -> None:
    port = _free_port()
    process = await _serve(_serve_env(fake_slack, port, scheduler="off"), tmp_path)
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(400):  # start-up is slower on a loaded CI machine
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        assert response.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("hypobot serve did not start within 40 s")
            async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                assert response.status == 200
            async with session.post(
                f"http://127.0.0.1:{port}/slack/events", data="x=1"
            ) as response:
                assert response.status == 401
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, stderr.decode()
    assert (tmp_path / "hypobot.sqlite3").exists()
    assert b"xoxb-test-token" not in stderr and b"test-signing-secret" not in stderr


async def test_export_prints_bets_with_evidence_and_events(hypobot: Hypobot) -> None:
    await hypobot.command(f"new {ONE_LINER}", team_id="TA")
    await hypobot.command("ship H-1", team_id="TA")
    await hypobot.command("evidence H-1 + 12 admins used it", team_id="TA")
    await hypobot.command(f"new {ONE_LINER}", team_id="TB")
    env = {"DATABASE_URL": hypobot.database}
    result = await asyncio.to_thread(hypobot_cli, "export", "--team", "TA", env=env)
    assert result.returncode == 0, result.stderr
    [bet] = json.loads(result.stdout)
    assert (bet["key"], bet["state"], bet["signal"]) == (
        "H-1",
        "shipped",
        "export tickets drop 30%",
    )
    assert [(e["verdict"], e["text"]) for e in bet["evidence"]] == [
        ("supports", "12 admins used it")
    ]
    assert [e["kind"] for e in bet["events"]] == ["created", "ship", "evidence"]
    assert bet["shipped_at"] and bet["hypothesis"].startswith("We believe")
    result = await asyncio.to_thread(hypobot_cli, "export", "--format", "csv", env=env)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(row["team_id"] for row in rows) == ["TA", "TB"]
    assert await Event.filter(team_id="TA").count() == 3


async def test_serve_with_a_token_slack_refuses_stops_with_one_line(
    tmp_path: Path, fake_slack
) -> None:
    fake_slack.fail["auth.test"] = "invalid_auth"
    env = {
        **CLEAN_ENV,
        "SLACK_BOT_TOKEN": "xoxb-revoked",
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        "SLACK_API_URL": fake_slack.base_url,
        "PORT": str(_free_port()),
        "HYPOBOT_SCHEDULER": "off",
    }
    process = await _serve(env, tmp_path)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode != 0
    assert stderr.decode().strip().splitlines()[-1] == (
        "hypobot: SLACK_BOT_TOKEN was refused by Slack (invalid_auth); copy it again from "
        "OAuth & Permissions → Bot User OAuth Token"
    )


# --- what a newcomer meets ------------------------------------------------------------------


def test_help_lists_every_command() -> None:
    result = hypobot_cli("--help")

    assert result.returncode == 0, result.stderr
    commands = result.stdout.split("{", 1)[1].split("}", 1)[0].split(",")
    probe = argparse.ArgumentParser(prog="hypobot").add_subparsers()
    extras = {
        importlib.import_module(name).add_parser(probe).prog.split()[-1]
        for name in cli.EXTRA_COMMANDS
    }
    assert set(commands) == {"serve", "migrate", "export", "jobs", *extras}
    assert {"purge", "import", "console"} <= set(commands)
    for command in commands:
        assert f"    {command} " in result.stdout  # each with its one-line help


def test_jobs_run_without_bot_token_stops_with_one_line_naming_it(tmp_path: Path) -> None:
    result = hypobot_cli("jobs", "run", "nudges", cwd=tmp_path)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "hypobot: SLACK_BOT_TOKEN is not set; set it, for example "
        "SLACK_BOT_TOKEN=xoxb-1234-5678-abcd"
    ]
    assert result.stdout == ""


def test_jobs_run_needs_no_signing_secret_and_leaves_stderr_empty(
    tmp_path: Path, fake_slack
) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_API_URL": fake_slack.base_url}

    result = hypobot_cli("jobs", "run", "outbox", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["job"] == "outbox"
    # No Tortoise "shutdown" line, no Bolt notice that the token "will be ignored".
    assert result.stderr == ""


def test_migrate_says_one_line_on_stdout_and_nothing_on_stderr(tmp_path: Path) -> None:
    result = hypobot_cli("migrate", cwd=tmp_path)

    assert result.returncode == 0
    assert result.stdout == "hypobot: database schema is current\n"
    assert result.stderr == ""


async def test_serve_with_the_scheduler_logs_no_apscheduler_chatter(
    tmp_path: Path, fake_slack
) -> None:
    port = _free_port()
    process = await _serve(_serve_env(fake_slack, port, scheduler="on"), tmp_path)
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(400):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                        page = await response.text()
                    if 'hypobot_job_runs_total{job="outbox",result="ok"}' in page:
                        break  # the outbox pass ran at least once
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("no outbox pass ran within 40 s")
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    loggers = {json.loads(line)["logger"] for line in stderr.decode().splitlines()}
    assert not {name for name in loggers if name.startswith(("apscheduler", "tortoise"))}
    assert "hypobot.scheduler" in loggers  # our own scheduler.started line is still there
    assert b"will be ignored" not in stderr and b"will be unused" not in stderr


async def test_a_csv_export_imports_back_unchanged_and_only_once(
    hypobot: Hypobot, tmp_path: Path
) -> None:
    await hypobot.command(f"new {ONE_LINER}", team_id="TA", user_id="UALICE")
    await hypobot.command("ship H-1 https://git.test/pr/7", team_id="TA", user_id="UALICE")
    await hypobot.command("evidence H-1 + 12 admins used it", team_id="TA", user_id="UBOB")
    await hypobot.command(
        "new We believe a tour will help admins", team_id="TA", user_id="UCAROL", channel_id="C2"
    )
    env = {"DATABASE_URL": hypobot.database}
    exported = await asyncio.to_thread(hypobot_cli, "export", "--format", "csv", env=env)
    assert exported.returncode == 0, exported.stderr
    path = tmp_path / "bets.csv"
    path.write_text(exported.stdout, encoding="utf-8")

    first = await asyncio.to_thread(
        hypobot_cli, "import", str(path), "--team", "TB", "--apply", env=env
    )
    again = await asyncio.to_thread(
        hypobot_cli, "import", str(path), "--team", "TB", "--apply", env=env
    )

    assert first.returncode == 0, first.stderr
    assert "Imported 2 bet(s) into TB as H-1 to H-2." in first.stdout
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == (
        "Nothing to import: all 2 row(s) are already in TB (skipped). Nothing was written."
    )
    assert await Bet.filter(team_id="TB").count() == 2
    back = await asyncio.to_thread(
        hypobot_cli, "export", "--team", "TB", "--format", "csv", env=env
    )
    before = list(csv.DictReader(io.StringIO(exported.stdout)))
    after = list(csv.DictReader(io.StringIO(back.stdout)))
    # The same file, but for the workspace it is in now (history and all).
    assert back.stdout == exported.stdout.replace('"TA"', '"TB"')
    assert [row["team_id"] for row in after] == ["TB", "TB"]
    assert [row["key"] for row in after] == [row["key"] for row in before]
    assert await Evidence.filter(team_id="TB").count() == 1
