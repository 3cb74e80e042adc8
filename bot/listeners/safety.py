"""What a person sees when something breaks on our side: a calm message, never a traceback."""

from __future__ import annotations

import logging

import asyncpg
from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError

log = logging.getLogger("hypobot.listeners")

# A lost or restarted database: retrying is the right advice. Tortoise does not translate
# every asyncpg connection error, so those are named here too.
TRANSIENT = (
    DBConnectionError,
    OperationalError,
    TransactionManagementError,
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InternalClientError,
)

TRY_AGAIN = (
    "Hypobot couldn't reach its database just now, so nothing was changed. "
    "Please try again in a moment."
)
OUR_FAULT = "Something went wrong on Hypobot's side, so nothing was changed. Please try again."


def failure_text(error: BaseException, *, where: str) -> str:
    """Log the failure (type and place, never the payload) and say what the user can do."""
    transient = isinstance(error, TRANSIENT)
    log.error(
        "listener.failed",
        extra={"where": where, "error_type": type(error).__name__, "transient": transient},
        exc_info=error,
    )
    return TRY_AGAIN if transient else OUR_FAULT
