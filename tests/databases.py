"""Fresh databases for tests: a migrated SQLite file or PostgreSQL database per test.

Both start from a template migrated once per session (a file copy for SQLite,
CREATE DATABASE … TEMPLATE for PostgreSQL), so each test sees only its own rows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import asyncpg

from storage import db
from testkit.scratch import PG_ADMIN_URL, admin, create_database, drop_database, with_database

__all__ = ["PG_ADMIN_URL", "Templates", "drop_database", "fresh_database"]


class Templates:
    """Migrated templates, made at most once per test session."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.sqlite: Path | None = None
        self.postgres: str | None = None

    def sqlite_template(self) -> Path:
        if self.sqlite is None:
            path = self.workdir / "template.sqlite3"
            asyncio.run(db.migrate(f"sqlite://{path}"))
            self.sqlite = path
        return self.sqlite

    def postgres_template(self) -> str:
        if self.postgres is None:
            name = f"hypobot_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            try:
                asyncio.run(admin(f'CREATE DATABASE "{name}"'))
            except (OSError, asyncpg.PostgresError) as error:
                raise RuntimeError(
                    f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({error}); start it "
                    "(`.ci/run` does) or point HYPOBOT_TEST_PG at one"
                ) from error
            asyncio.run(db.migrate(with_database(PG_ADMIN_URL, name)))
            self.postgres = name
        return self.postgres

    def drop(self) -> None:
        if self.postgres:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{self.postgres}" WITH (FORCE)'))


async def fresh_database(kind: str, templates: Templates, tmp_path: Path) -> str:
    """A database URL of `kind` ("sqlite" or "postgres"), migrated and empty."""
    if kind == "sqlite":
        path = tmp_path / "hypobot.sqlite3"
        template = await asyncio.to_thread(templates.sqlite_template)
        shutil.copyfile(template, path)
        return f"sqlite://{path}"
    template = await asyncio.to_thread(templates.postgres_template)
    return await create_database("hypobot_t", template=template)
