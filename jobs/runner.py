"""Running one pass of a named job as if the clock read a given moment (`hypobot jobs run`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.renderers import ON_FAILED, RENDERERS
from jobs import scheduler
from ops.settings import Settings
from outbox import rows as outbox_store
from outbox.queue import DOORBELL
from outbox.sender import from_settings
from storage import claims, db


async def run_job(settings: Settings, name: str, at: datetime) -> dict[str, Any]:
    """One pass, with a sender of its own (no Slack edge: a pass only sends)."""
    async with db.connected(settings.database_url):
        sender = from_settings(settings, renderers=RENDERERS, on_failed=ON_FAILED, clock=lambda: at)
        sender.hear(DOORBELL)
        jobs = scheduler.Jobs(sender, clock=lambda: at, owner=scheduler.replica_id())
        try:
            return {"job": name, "at": at.isoformat(), **await jobs.run(name, at)}
        finally:
            await sender.stop()
            await sender.clients.close()


async def status(settings: Settings) -> dict[str, Any]:
    async with db.connected(settings.database_url):
        failures = await outbox_store.recent_failures()
        return {
            "outbox": await outbox_store.counts_by_status(),
            "failed": [
                {
                    "id": row.id,
                    "team_id": row.team_id,
                    "channel_id": row.channel_id,
                    "kind": row.kind,
                    "error": row.last_error,
                    "at": row.next_attempt_at,
                }
                for row in failures
            ],
            "claims": [
                {
                    "job": claim.job,
                    "scope": claim.scope,
                    "period": claim.period,
                    "status": claim.status,
                    "owner": claim.owner,
                    "done_at": claim.done_at,
                }
                for claim in await claims.recent()
            ],
        }
