"""What a one-shot command says and returns when it cannot go on."""

from __future__ import annotations

import sys
from typing import TextIO

from ops.settings import Settings, SettingsError, load_settings

REFUSED = 2  # exit code: bad settings or bad input; nothing was changed


def settings_or_refuse(err: TextIO | None = None) -> Settings | None:
    """The settings, or None after saying on stderr what is wrong with them."""
    try:
        return load_settings()
    except SettingsError as error:
        print(f"hypobot: {error}", file=err or sys.stderr)
        return None
