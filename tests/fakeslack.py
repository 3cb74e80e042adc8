"""The fake Slack Web API lives in the package (console/fakeslack.py), where `hypobot console`
uses it too; tests import it from here."""

from console.fakeslack import *  # noqa: F403
from console.fakeslack import (  # noqa: F401
    PERMALINK_ROOT,
    Call,
    FakeSlack,
    SlackError,
    serve_fake_slack,
    serve_on_loopback,
)
