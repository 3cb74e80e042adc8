"""Connecting to the database named by DATABASE_URL, and keeping its schema current."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import (
    DBConnectionError,
    IntegrityError,
    OperationalError,
    TransactionManagementError,
)
from tortoise.migrations.api import migrate as tortoise_migrate
from tortoise.models import Model
from tortoise.transactions import in_transaction

MODELS = "storage.models"
MIGRATIONS = "storage.migrations"
DEFAULT_SQLITE = "hypobot.sqlite3"
T = TypeVar("T")
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


async def _keep_session(connection: object) -> None:
    """What asyncpg's pool runs on a connection handed back, after it has rolled back any
    open transaction: by default `RESET ALL`, `CLOSE ALL`, `UNLISTEN *` and unlocking
    advisory locks, one more round trip per statement run outside a transaction. Hypobot
    sets no session state, opens no cursor, listens to nothing and takes no advisory
    lock, so there is nothing to reset."""


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
        connection["credentials"]["reset"] = _keep_session
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


@asynccontextmanager
async def connected(url: str | None, *, upgrade: bool = True) -> AsyncIterator[None]:
    """The database open for the block (a CLI command's lifetime), closed after it."""
    await connect(url, upgrade=upgrade)
    try:
        yield
    finally:
        await disconnect()


# A lost or restarted database: retrying is the right advice. Tortoise does not translate
# every asyncpg connection error, so those are named here too.
UNREACHABLE: tuple[type[BaseException], ...] = (
    DBConnectionError,
    OperationalError,
    TransactionManagementError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InternalClientError,
)


# What to do once the current unit of work has committed (None outside one).
_AFTER_COMMIT: ContextVar[list[Callable[[], None]] | None] = ContextVar(
    "hypobot_after_commit", default=None
)


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[None]:
    """One transaction: everything a use case writes (the change, its event, its outbox
    rows) commits together or not at all; what was asked for with `after_commit` runs once
    it has committed, and not at all if it rolled back. A unit of work opened inside another
    is part of it."""
    if _AFTER_COMMIT.get() is not None:
        async with in_transaction():
            yield
        return
    waiting: list[Callable[[], None]] = []
    token = _AFTER_COMMIT.set(waiting)
    try:
        async with in_transaction():
            yield
    finally:
        _AFTER_COMMIT.reset(token)
    for then in waiting:
        then()


def after_commit(then: Callable[[], None]) -> None:
    """Call `then` once the current unit of work has committed (at once outside one: what
    was written is committed already)."""
    waiting = _AFTER_COMMIT.get()
    if waiting is None:
        then()
    else:
        waiting.append(then)


async def ping() -> bool:
    """True when the database answers a trivial query (for /readyz)."""
    try:
        name = next(iter(connections.db_config))
        await connections.get(name).execute_query("SELECT 1")
    except Exception:
        return False
    return True


async def fetch(model: type[Model], sql: str, values: Sequence[Any]) -> list[dict[str, Any]]:
    """Run `sql` (with `?` placeholders) on `model`'s connection, in the current transaction
    if there is one, and return its rows (RETURNING rows too)."""
    connection = model._meta.db
    if connection.capabilities.dialect == "postgres":
        sql = _numbered(sql)
    return await connection.execute_query_dict(sql, list(values))


async def in_one_step(model: type[Model], work: Callable[[sqlite3.Connection], T]) -> T:
    """SQLite: run `work` with the connection on the connection's own thread, in the current
    transaction if there is one, as one step: its statements run back to back, where each
    awaited statement is a hop to that thread and back that waits for a turn of the event
    loop (and, inside a write transaction, every other writer waits for it)."""
    client = model._meta.db
    async with client.acquire_connection() as connection:
        try:
            result: T = await connection._execute(work, connection._conn)
        except sqlite3.IntegrityError as error:
            raise IntegrityError(error) from error
        except sqlite3.OperationalError as error:
            raise OperationalError(error) from error
    return result


def is_postgres_connection(model: type[Model] | None = None) -> bool:
    """Whether this process's database (the connection `model` uses) is PostgreSQL."""
    from storage.models import Channel

    return bool((model or Channel)._meta.db.capabilities.dialect == "postgres")


def placeholders(connection: Any) -> Any:
    """A function that writes `?` placeholders as `connection`'s dialect wants them."""
    postgres = connection.capabilities.dialect == "postgres"
    return _numbered if postgres else (lambda sql: sql)


def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's $1, $2, … (none of our SQL has a literal `?`)."""
    parts = sql.split("?")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)) + parts[-1]
