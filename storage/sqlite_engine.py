"""SQLite engine whose transactions begin IMMEDIATE.

Tortoise begins SQLite transactions DEFERRED; with two processes on one file (`hypobot serve`
and `hypobot jobs run`), a deferred transaction that reads and then writes fails at once
with "database is locked" instead of waiting out busy_timeout. IMMEDIATE takes the write
lock up front, so the second writer waits its turn.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError


def _begin_immediate(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:  # as Tortoise's begin: end what is open first
        connection.commit()
    connection.execute("BEGIN IMMEDIATE")


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        """One hop to the connection's thread (Tortoise's begin takes two: commit, BEGIN)."""
        try:
            await self._connection._execute(_begin_immediate, self._connection._conn)
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> SqliteTransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)


client_class = ImmediateSqliteClient
