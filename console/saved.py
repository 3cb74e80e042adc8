"""The console's pretend Slack kept between sessions, so that a session picks up where the last
left off: the workspace (channels and their names, messages and threads, the bot's
memberships, people's names, files and canvases) in a JSON file, and the files Hypobot
attached, in a folder beside the console's database."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from console.fakeslack import FakeSlack
from storage import db

WORKSPACE_FILE = "slack.json"
FILES_FOLDER = "files"


def state_dir(database_url: str | None) -> Path | None:
    """Where a console on `database_url` keeps its pretend Slack: beside a SQLite file
    (./hypobot.sqlite3-console for ./hypobot.sqlite3), or for PostgreSQL in the working
    directory, named after the database (./hypobot-console for database hypobot). None for
    an in-memory database: nothing outlives it, so nothing is kept."""
    normalised = db.normalise_url(database_url)
    url = urlsplit(normalised)
    if url.scheme == "sqlite":
        path = normalised.removeprefix("sqlite://").split("?", 1)[0]
        return None if path in ("", ":memory:") else Path(f"{path}-console")
    return Path.cwd() / f"{url.path.lstrip('/') or url.hostname}-console"


def files_dir(state: Path | None) -> Path:
    """Where the files Hypobot attaches are saved."""
    if state is None:
        return Path(tempfile.gettempdir()) / "hypobot-console"
    return state / FILES_FOLDER


def restore(fake: FakeSlack, state: Path | None) -> None:
    """Give `fake` the workspace the last session left in `state`, if any. Raises OSError,
    ValueError or KeyError when the file cannot be read."""
    path = state / WORKSPACE_FILE if state else None
    if path is not None and path.exists():
        fake.restore_workspace(json.loads(path.read_text(encoding="utf-8")))


def keep(fake: FakeSlack, state: Path | None) -> None:
    """Write `fake`'s workspace to `state`, whole or not at all (a session killed mid-write
    leaves the last one)."""
    if state is None:
        return
    state.mkdir(parents=True, exist_ok=True)
    path = state / WORKSPACE_FILE
    partial = path.with_name(f"{WORKSPACE_FILE}.partial")
    partial.write_text(json.dumps(fake.workspace(), ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)
