"""Connecting to the database named by DATABASE_URL, and keeping its schema current."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as tortoise_migrate

MODELS = "storage.models"
MIGRATIONS = "storage.migrations"
DEFAULT_SQLITE = "hypobot.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalise_url(url: str | None) -> str:
    """The usual forms in, one Tortoise form out; unset means ./hypobot.sqlite3."""
    if not url:
        return "sqlite://" + str(Path(os.getcwd(), DEFAULT_SQLITE))
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite://") :]
        path = path.split("?", 1)[0]
        if not path or path == ":memory:":
            return url
        return "sqlite://" + str(Path(path).expanduser().resolve())
    if scheme in ("postgres", "postgresql", "asyncpg"):
        return "postgres" + url[len(scheme) :]
    raise ValueError(f"unsupported database scheme {scheme!r}")


def connection_name(url: str | None) -> str:
    """Named for its backend: Tortoise caches SQL per connection name, so one process that
    opens SQLite and later PostgreSQL (the test suite) must not reuse a name."""
    return "postgres" if is_postgres(url) else "sqlite"


def tortoise_config(url: str | None) -> dict[str, Any]:
    normalised = normalise_url(url)
    name = connection_name(url)
    connection = expand_db_url(normalised)
    if normalised.startswith("sqlite"):
        connection["engine"] = "storage.sqlite_engine"
        connection["credentials"].setdefault("busy_timeout", SQLITE_BUSY_TIMEOUT_MS)
        connection["credentials"].setdefault("synchronous", "NORMAL")
    else:
        connection["credentials"].setdefault("minsize", 1)
        connection["credentials"].setdefault("maxsize", 10)
    return {
        "connections": {name: connection},
        "apps": {
            "models": {
                "models": [MODELS],
                "default_connection": name,
                "migrations": MIGRATIONS,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def is_postgres(url: str | None) -> bool:
    return normalise_url(url).startswith("postgres")


async def migrate(url: str | None) -> None:
    """Create or upgrade the schema to the newest committed migration."""
    await tortoise_migrate(config=tortoise_config(url))
    await Tortoise.close_connections()


async def connect(url: str | None, *, upgrade: bool = True) -> None:
    """Open the database for this process (applying migrations first when `upgrade`)."""
    if upgrade:
        await migrate(url)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)


async def disconnect() -> None:
    await Tortoise.close_connections()


async def ping() -> bool:
    """True when the database answers a trivial query (for /readyz)."""
    try:
        name = next(iter(connections.db_config))
        await connections.get(name).execute_query("SELECT 1")
    except Exception:
        return False
    return True
