"""Scratch PostgreSQL databases for the test suite and the benchmarks: made on the server
at HYPOBOT_TEST_PG (default: trust auth on loopback, as CI and this machine have it),
dropped when done."""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from storage import db

PG_ADMIN_URL = os.environ.get("HYPOBOT_TEST_PG", "postgres://postgres@127.0.0.1:5432/test")


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` instead."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


async def admin(sql: str) -> None:
    """Run one statement on the server's admin database (CREATE / DROP DATABASE)."""
    connection = await asyncpg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def create_database(prefix: str = "hypobot_scratch", *, template: str | None = None) -> str:
    """A new, empty database (a copy of `template` when given); returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    await admin(f'CREATE DATABASE "{name}"{copy}')
    return with_database(PG_ADMIN_URL, name)


async def drop_database(url: str) -> None:
    """Drop a PostgreSQL database made here (SQLite files are the caller's)."""
    if db.is_postgres(url):
        name = urlsplit(url).path.lstrip("/")
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
