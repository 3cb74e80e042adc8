"""Shortcuts: "Record as evidence" on any message, and the modal it opens."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.blocks import ids
from bot.listeners.shortcuts.record_evidence import record_evidence, record_evidence_submission
from bot.runtime import Runtime


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.shortcut(ids.RECORD_EVIDENCE)(record_evidence(runtime))
    app.view(ids.RECORD_EVIDENCE_VIEW)(record_evidence_submission(runtime))
