"""The `hypobot` command as a newcomer reads it: every command says what it does and every
option what it takes, and output piped into a reader that stops early ends quietly."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from console import cli

ROOT = Path(__file__).resolve().parents[2]
# This checkout's code, whatever the working directory (an installed copy may be elsewhere).
CLEAN_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
    "PYTHONPATH": str(ROOT),
}
COMMANDS = ("serve", "migrate", "export", "import", "purge", "tokens", "jobs", "console")


def hypobot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        env=CLEAN_ENV,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def commands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every command's parser under `parser`, sub-commands (`jobs run`) included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                yield command
                yield from commands(command)


def test_every_command_has_a_description_and_every_option_help_text() -> None:
    root, _ = cli.full_parser()
    found = {command.prog: command for command in commands(root)}
    assert {f"hypobot {name}" for name in COMMANDS} <= set(found)
    for prog, command in found.items():
        assert (command.description or "").strip(), f"{prog} --help has no description"
        for action in command._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert action.help, f"{prog} {'/'.join(action.option_strings) or action.dest}"


def test_export_help_says_what_it_prints_and_what_format_takes(tmp_path: Path) -> None:
    result = hypobot("export", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Print every bet with its evidence and events" in result.stdout
    assert "--format {json,csv}  json: a list of records" in result.stdout


def test_export_into_a_reader_that_stops_early_ends_quietly(tmp_path: Path) -> None:
    """`hypobot export | head`: the reader is gone before the export writes. As Unix tools
    do, it ends with SIGPIPE's status and nothing on stderr: no BrokenPipeError traceback."""
    assert hypobot("migrate", cwd=tmp_path).returncode == 0
    with subprocess.Popen(
        [sys.executable, "-m", "console.cli", "export", "--format", "csv"],
        env=CLEAN_ENV,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # the reader stops before reading anything
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=60) == 128 + signal.SIGPIPE
    assert stderr == ""


def test_export_to_a_reader_that_reads_everything_exits_0(tmp_path: Path) -> None:
    assert hypobot("migrate", cwd=tmp_path).returncode == 0
    result = hypobot("export", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "[]\n", "")
