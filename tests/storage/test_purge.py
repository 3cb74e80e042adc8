"""`hypobot purge --team T`: one workspace's rows go, all at once, and only after confirmation."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from tortoise import Tortoise

from bets.evidence import Verdict
from console.purge import REFUSED, purge_workspace
from storage import bets, claims, shared
from storage import boards as board_store
from storage import installations as installation_store
from storage import purge as store
from storage.installations import InstalledBot, TokenCipher
from storage.models import ApiRequest, ApiToken
from tests.stored import evidence, stored_bet

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}


async def a_workspace_with_everything(team_id: str) -> None:
    """A row in every table that carries team_id."""
    bet = await stored_bet(
        team_id, now=NOW, title="Export", hypothesis="We believe export for admins will cut tickets"
    )
    await evidence(team_id, bet.id, Verdict.SUPPORTS, "fewer tickets", now=NOW)
    await bets.set_away(team_id, "U1", NOW + timedelta(days=3), now=NOW)
    token = await ApiToken.create(
        team_id=team_id, name="ci", token_hash=f"hash-{team_id}", created_at=NOW
    )
    await ApiRequest.create(
        team_id=team_id,
        idempotency_key="k1",
        token_id=token.id,
        method="POST",
        path="/api/v1/bets/H-1/evidence",
        status=201,
        created_at=NOW,
    )
    await claims.take(
        "digest", [(f"{team_id}:C1", "2026-11-02")], team_id=team_id, owner="test", now=NOW
    )
    installed = InstalledBot(
        team_id=team_id,
        bot_token=f"xoxb-{team_id}",
        bot_id="B1",
        bot_user_id="UBOT",
        installed_at=NOW,
    )
    await installation_store.save(installed, TokenCipher(Fernet.generate_key().decode()), now=NOW)
    await shared.lease(team_id, "a-replica", now=NOW, length=timedelta(seconds=30))
    await shared.take(team_id, f"api:{token.id}", now=NOW.timestamp(), rate=1.0, burst=2)
    await board_store.turned_on(
        team_id, "C1", canvas_id=f"F{team_id}", channel_canvas=True, owner_id="U1", now=NOW
    )


class Terminal(io.StringIO):
    """stdin at a terminal, holding what the person will type."""

    def isatty(self) -> bool:
        return True


async def test_purge_covers_every_table_that_carries_a_team_id(database: str) -> None:
    purged = {model for _, model in store.TEAM_TABLES}
    with_team = {
        model for model in Tortoise.apps["models"].values() if "team_id" in model._meta.fields_map
    }
    assert with_team == purged


async def test_purge_deletes_exactly_one_workspace_and_leaves_the_other(database: str) -> None:
    await a_workspace_with_everything("T1")
    await a_workspace_with_everything("T2")
    before = await store.counts("T2")
    assert all(before.values()), before

    deleted = await store.purge("T1")

    assert deleted == before  # the same shape of data, all of it
    assert not any((await store.counts("T1")).values())
    assert await store.counts("T2") == before


async def test_purge_asks_for_the_team_id_and_deletes_when_it_is_typed(database: str) -> None:
    await a_workspace_with_everything("T1")
    out, err = io.StringIO(), io.StringIO()

    code = await purge_workspace("T1", yes=False, stdin=Terminal("T1\n"), out=out, err=err)

    assert code == 0, err.getvalue()
    assert "bets" in out.getvalue() and "Type the team id (T1)" in out.getvalue()
    assert not any((await store.counts("T1")).values())


async def test_purge_with_another_answer_deletes_nothing(database: str) -> None:
    await a_workspace_with_everything("T1")
    before = await store.counts("T1")
    out, err = io.StringIO(), io.StringIO()

    code = await purge_workspace("T1", yes=False, stdin=Terminal("T2\n"), out=out, err=err)

    assert code == REFUSED
    assert "not purged" in err.getvalue()
    assert await store.counts("T1") == before


async def test_purge_of_a_workspace_with_no_rows_says_which_exist(database: str) -> None:
    await a_workspace_with_everything("T1")
    out = io.StringIO()

    code = await purge_workspace("T9", yes=True, stdin=io.StringIO(), out=out, err=io.StringIO())

    assert code == 0
    assert "nothing is kept for workspace T9 (workspaces: T1)" in out.getvalue()


def hypobot_purge(database: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", "purge", *args],
        env={**CLEAN_ENV, "DATABASE_URL": database},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_purge_without_yes_on_a_pipe_refuses_with_exit_2_and_deletes_nothing(
    database: str,
) -> None:
    await a_workspace_with_everything("T1")
    before = await store.counts("T1")

    result = hypobot_purge(database, "--team", "T1")

    assert result.returncode == 2, result.stderr
    assert "--yes" in result.stderr
    assert "bets" in result.stdout  # it still shows what a purge would delete
    assert await store.counts("T1") == before


async def test_purge_with_yes_deletes_without_asking(database: str) -> None:
    await a_workspace_with_everything("T1")
    await a_workspace_with_everything("T2")

    result = hypobot_purge(database, "--team", "T1", "--yes")

    assert result.returncode == 0, result.stderr
    assert "purged workspace T1" in result.stdout
    assert not any((await store.counts("T1")).values())
    assert all((await store.counts("T2")).values())
