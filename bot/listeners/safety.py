"""What a person sees when something breaks on our side: a calm message, never a traceback."""

from __future__ import annotations

import logging

from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError

log = logging.getLogger("hypobot.listeners")

TRY_AGAIN = (
    "Hypobot couldn't reach its database just now, so nothing was changed. "
    "Please try again in a moment."
)
OUR_FAULT = "Something went wrong on Hypobot's side, so nothing was changed. Please try again."


def failure_text(error: BaseException, *, where: str) -> str:
    """Log the failure (type and place, never the payload) and say what the user can do."""
    transient = isinstance(
        error, (DBConnectionError, OperationalError, TransactionManagementError, OSError)
    )
    log.error(
        "listener.failed",
        extra={"where": where, "error_type": type(error).__name__, "transient": transient},
        exc_info=error,
    )
    return TRY_AGAIN if transient else OUR_FAULT
