"""Tortoise models. Every table carries team_id: a row belongs to exactly one workspace."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Workspace(Model):
    """One Slack team. It holds the counter that numbers its bets gap-free."""

    id = fields.IntField(primary_key=True)
    team_id = fields.CharField(max_length=32, unique=True)
    last_bet_number = fields.IntField(default=0)
    created_at = fields.DatetimeField()

    class Meta:
        table = "workspaces"


class Channel(Model):
    """A channel Hypobot tracks (from its first bet), with its schedule and limits."""

    id = fields.IntField(primary_key=True)
    team_id = fields.CharField(max_length=32)
    channel_id = fields.CharField(max_length=32)
    timezone = fields.CharField(max_length=64, default="UTC")
    digest_enabled = fields.BooleanField(default=True)
    digest_time = fields.CharField(max_length=5, default="09:30")  # local HH:MM
    digest_days = fields.CharField(max_length=16, default="0,1,2,3,4")  # Monday = 0
    nudge_after_s = fields.IntField(default=3 * 86400)
    nudge_repeat_s = fields.IntField(default=2 * 86400)
    hours_start = fields.CharField(max_length=5, default="09:00")
    hours_end = fields.CharField(max_length=5, default="18:00")
    work_days = fields.CharField(max_length=16, default="0,1,2,3,4")
    wip_limit = fields.IntField(null=True)
    sle_default_s = fields.IntField(default=14 * 86400)
    grace_s = fields.IntField(default=3 * 3600)
    lead_user_id = fields.CharField(max_length=32, null=True)
    nudges_per_day = fields.IntField(default=5, db_default=5)  # the channel's nudge budget
    # When its bets' forecasts began to be recorded at shipping (F6): its creation, or the
    # upgrade that began recording them.
    forecasts_since = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    # The last local date whose digest was settled (posted, or skipped as empty), and when.
    last_digest_on = fields.CharField(max_length=10, null=True)
    last_digest_at = fields.DatetimeField(null=True)

    class Meta:
        table = "channels"
        unique_together = (("team_id", "channel_id"),)


class Bet(Model):
    id = fields.IntField(primary_key=True)
    team_id = fields.CharField(max_length=32)
    number = fields.IntField()
    channel_id = fields.CharField(max_length=32)
    card_ts = fields.CharField(max_length=32, null=True)  # the card message: the bet's thread
    title = fields.CharField(max_length=200)
    hypothesis = fields.TextField()
    signal = fields.TextField(default="")
    link = fields.TextField(null=True)
    owner_id = fields.CharField(max_length=32)
    creator_id = fields.CharField(max_length=32)
    state = fields.CharField(max_length=16, default="proposed")
    coach_notes = fields.TextField(default="")
    learned = fields.TextField(default="")
    close_reason = fields.TextField(default="")
    pivot_of = fields.ForeignKeyField(
        "models.Bet", related_name="pivots", null=True, on_delete=fields.SET_NULL
    )
    expected_at = fields.DatetimeField(null=True)  # an explicit date (`expect H-1 2026-12-01`)
    expect_within_s = fields.IntField(null=True)  # "within N" of shipping, in seconds (T1)
    snoozed_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    started_at = fields.DatetimeField(null=True)
    shipped_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    # First decisive evidence posted after shipping (T5), and at any time (T9).
    first_feedback_at = fields.DatetimeField(null=True)
    first_decisive_at = fields.DatetimeField(null=True)
    nudge_count = fields.IntField(default=0)
    unanswered_nudges = fields.IntField(default=0)  # since the last evidence
    last_nudged_at = fields.DatetimeField(null=True)
    escalated_at = fields.DatetimeField(null=True)
    evidence_count = fields.IntField(default=0)
    forecast_at_ship = fields.DatetimeField(null=True)  # its 85 % forecast when it shipped (F6)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "bets"
        unique_together = (("team_id", "number"),)
        indexes = (("team_id", "channel_id", "state"), ("team_id", "channel_id", "card_ts"))


class Evidence(Model):
    id = fields.IntField(primary_key=True)
    team_id = fields.CharField(max_length=32)
    bet = fields.ForeignKeyField("models.Bet", related_name="evidence", on_delete=fields.CASCADE)
    text = fields.TextField(default="")
    link = fields.TextField(null=True)
    verdict = fields.CharField(max_length=16)  # supports | refutes | inconclusive | unknown
    # command | button | modal | thread | shortcut | api | workflow
    source = fields.CharField(max_length=16)
    # where evidence from elsewhere came from (the API caller's "source")
    source_name = fields.CharField(max_length=64, default="", db_default="")
    author_id = fields.CharField(max_length=32)
    at = fields.DatetimeField()
    # Where it came from in Slack; (team, channel, ts) dedupes retried deliveries.
    channel_id = fields.CharField(max_length=32, null=True)
    message_ts = fields.CharField(max_length=32, null=True)
    permalink = fields.TextField(null=True)

    class Meta:
        table = "evidence"
        unique_together = (("team_id", "channel_id", "message_ts"),)


class Event(Model):
    """Every change, written in the same transaction as the change itself."""

    id = fields.BigIntField(primary_key=True)
    team_id = fields.CharField(max_length=32)
    bet = fields.ForeignKeyField(
        "models.Bet", related_name="events", null=True, on_delete=fields.CASCADE
    )
    channel_id = fields.CharField(max_length=32, null=True)
    actor_id = fields.CharField(max_length=32)
    at = fields.DatetimeField()
    kind = fields.CharField(max_length=32)
    from_state = fields.CharField(max_length=16, null=True)
    to_state = fields.CharField(max_length=16, null=True)
    data = fields.JSONField(default=dict)

    class Meta:
        table = "events"
        indexes = (("team_id", "bet_id"), ("team_id", "channel_id", "at"))


class Person(Model):
    """Per-person state: away (holiday) pauses their nudges."""

    id = fields.IntField(primary_key=True)
    team_id = fields.CharField(max_length=32)
    user_id = fields.CharField(max_length=32)
    away_until = fields.DatetimeField(null=True)

    class Meta:
        table = "people"
        unique_together = (("team_id", "user_id"),)


class Outbox(Model):
    """An outgoing Slack call, recorded before it is sent so it is never lost silently."""

    id = fields.BigIntField(primary_key=True)
    team_id = fields.CharField(max_length=32)
    channel_id = fields.CharField(max_length=32)
    kind = fields.CharField(max_length=24)  # card | reply | nudge | digest | report | notice
    bet = fields.ForeignKeyField(
        "models.Bet", related_name="outbox", null=True, on_delete=fields.CASCADE
    )
    thread_ts = fields.CharField(max_length=32, null=True)
    payload = fields.JSONField(default=dict)
    status = fields.CharField(max_length=12, default="pending")  # pending | sending | sent | failed
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    lease_until = fields.DatetimeField(null=True)  # while "sending": the sender's lease
    last_error = fields.TextField(default="")
    message_ts = fields.CharField(max_length=32, null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox"
        indexes = (("status", "next_attempt_at"), ("team_id", "bet_id"))


class Claim(Model):
    # The docstring is the table's description in migration 0001: runs are now claimed
    # with their effects (storage/claims.py); `lease_until` and the "running" status are
    # kept for rows an earlier version wrote before doing a run.
    """One scheduled run (job, scope, period), claimed by exactly one replica under a lease."""

    id = fields.BigIntField(primary_key=True)
    team_id = fields.CharField(max_length=32)
    job = fields.CharField(max_length=32)
    scope = fields.CharField(max_length=96)
    period = fields.CharField(max_length=64)
    owner = fields.CharField(max_length=96)
    lease_until = fields.DatetimeField()
    status = fields.CharField(max_length=12, default="running")  # running | done | skipped
    created_at = fields.DatetimeField()
    done_at = fields.DatetimeField(null=True)
    note = fields.TextField(default="")

    class Meta:
        table = "claims"
        unique_together = (("job", "scope", "period"),)


class Installation(Model):
    """Hypobot's bot in one workspace, installed through OAuth (/slack/install).

    The bot token is sealed with HYPOBOT_ENCRYPTION_KEY (Fernet), never stored in clear.
    enterprise_id is "" outside Enterprise Grid, so the pair below stays unique.
    """

    id = fields.IntField(primary_key=True)
    team_id = fields.CharField(max_length=32)
    enterprise_id = fields.CharField(max_length=32, default="")
    team_name = fields.CharField(max_length=255, default="")
    app_id = fields.CharField(max_length=32, default="")
    bot_token_sealed = fields.TextField()
    bot_id = fields.CharField(max_length=32)
    bot_user_id = fields.CharField(max_length=32)
    bot_scopes = fields.TextField(default="")  # comma-separated, as Slack grants them
    installer_user_id = fields.CharField(max_length=32, null=True)
    installed_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "installations"
        unique_together = (("team_id", "enterprise_id"),)


class OAuthState(Model):
    """The state handed to a browser that starts an install: good once, until it expires."""

    id = fields.IntField(primary_key=True)
    state = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "oauth_states"


class ApiToken(Model):
    """A token for the HTTP API: belongs to one workspace, stored as a SHA-256 hash only."""

    id = fields.IntField(primary_key=True)
    team_id = fields.CharField(max_length=32)
    name = fields.CharField(max_length=64)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_tokens"


class ApiRequest(Model):
    """An API call made with an Idempotency-Key: the same key again gets the same answer."""

    id = fields.BigIntField(primary_key=True)
    team_id = fields.CharField(max_length=32)
    idempotency_key = fields.CharField(max_length=255)
    token_id = fields.IntField()
    method = fields.CharField(max_length=8)
    path = fields.CharField(max_length=255)
    status = fields.IntField()
    response = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "api_requests"
        unique_together = (("team_id", "idempotency_key"),)


class Board(Model):
    """A channel's board: the canvas Hypobot keeps its bets in (`/hypothesis board`)."""

    id = fields.IntField(primary_key=True)
    team_id = fields.CharField(max_length=32)
    channel_id = fields.CharField(max_length=32)
    canvas_id = fields.CharField(max_length=32)
    channel_canvas = fields.BooleanField()  # the channel's own canvas, or one shared with it
    enabled = fields.BooleanField(default=True)  # off: no longer updated (the canvas stays)
    owner_id = fields.CharField(max_length=32)  # who turned it on: told if it is deleted
    refreshed_on = fields.CharField(max_length=10, null=True)  # local day of the daily refresh
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "boards"
        unique_together = (("team_id", "channel_id"),)


class SenderLease(Model):
    """Which replica sends a workspace's messages now: one at a time, so that its pace under
    Slack's limits holds whatever the number of replicas (a lapsed lease is taken over)."""

    team_id = fields.CharField(max_length=32, primary_key=True)
    owner = fields.CharField(max_length=96)
    lease_until = fields.DatetimeField()
    taken_over = fields.BooleanField(default=False)  # from another holder, its lease lapsed

    class Meta:
        table = "sender_leases"


class Pace(Model):
    """A rate limit every replica shares, kept as a generic cell rate: the instant (epoch
    seconds) the next call would find the bucket full, and whether the last call may go."""

    id = fields.IntField(primary_key=True)
    team_id = fields.CharField(max_length=32)
    key = fields.CharField(max_length=96)  # what it limits in the workspace: "api:<token id>"
    tat = fields.FloatField()
    ok = fields.BooleanField(default=True)

    class Meta:
        table = "paces"
        unique_together = (("team_id", "key"),)
