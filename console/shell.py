"""The console session: typed lines become the signed requests Slack would send, fed to the
real Bolt app in-process; what Hypobot sends back to (a fake) Slack is printed as text."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
import re
import secrets
import shlex
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bets.durations import parse_duration
from bets.keys import format_key, parse_key
from bets.reading import counted
from bot.blocks.text import escape
from bot.renderers import card_message
from bot.runtime import Runtime
from console import forms, render, saved
from console.fakeslack import FakeSlack, serve_fake_slack
from console.screen import Pressable, Screen
from console.signing import (
    FORM,
    JSON,
    block_action_body,
    event_body,
    message_event,
    sign,
    slash_command_body,
    view_submission_body,
)
from jobs.scheduler import Jobs
from ops.settings import Settings
from server.process import assemble
from storage import bets as bet_store
from storage import db
from storage.models import Bet, Board
from usecases import boards
from usecases.context import Actor

log = logging.getLogger("hypobot.console")

TEAM_ID = "TCONSOLE"
TEAM_DOMAIN = "console"
# Slack-shaped ids ([UC] + capitals and digits): Hypobot's blocks and grammar expect them.
USER_ID = "UYOU"
USER_NAME = "you"
CHANNEL_ID = "CGENERAL"
CHANNEL_NAME = "general"
BOT_TOKEN = "xoxb-console"
# The console signs what it feeds the app with a secret of its own, new each session.
SIGNING_SECRET = secrets.token_hex(16)
JOB_NAMES = ("nudges", "digests", "outbox")
SETTLE_TIMEOUT_S = 30
# Bolt runs a listener that acks early as a task with this name (slack_bolt AsyncioListenerRunner).
_BOLT_LISTENER_TASK = "run_ack_function_asynchronously"
_MENTION = re.compile(r"(?<![\w<@#])@([A-Za-z][\w.-]*)")
_CHANNEL = re.compile(r"(?<![\w<@#&])#([a-z][\w-]*)", re.IGNORECASE)

HELP = """\
Console commands (anything else you type goes to Hypobot the way Slack would send it):
  /hypothesis …            a slash command in #general; /hypothesis help lists them all
  1, 2, …                  press the button with that number on screen
  reply H-1 <text>         reply in H-1's thread (Hypobot records it as evidence)
  thread H-1               show H-1's card and its thread
  home                     open Hypobot's App Home tab
  board                    #general's board, as its canvas shows it (/hypothesis board
                           turns it on)
  jobs run nudges|digests|outbox [--at 2026-12-01T09:30Z]
                           one pass of a scheduled job, now or after moving the clock to --at
  now [+3d | 2026-12-01T09:30Z]
                           show the console's clock, or move it forward
  help                     this list
  quit                     leave (Ctrl-D works too)
In a form, Enter keeps the [default] or skips an optional field; `cancel` closes the form.
@name and #name in what you type become a person and a channel, as Slack would make them."""


class ConsoleError(Exception):
    """Why the console cannot start, in one line."""


def parse_moment(text: str) -> datetime | None:
    """ISO 8601 (`2026-12-01T09:30Z`, `2026-12-01`), read as UTC when it names no zone."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def clock_text(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%a %d %b %Y %H:%M} UTC"


class ConsoleClock:
    """Real time, moved forward by `now …` and `jobs run … --at` (never back: a bet must not
    change before it was created)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.offset = start - datetime.now(UTC) if start else timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def move_to(self, moment: datetime) -> None:
        self.offset = moment - datetime.now(UTC)


def console_settings(base: Settings, *, api_url: str) -> Settings:
    """`base` (DATABASE_URL, DEFAULT_TIMEZONE, …) pointed at the fake Slack, with console
    credentials: no real token or secret is needed, and none is ever used."""
    overrides: dict[str, Any] = {
        "slack_bot_token": SecretStr(BOT_TOKEN),
        "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_app_token": None,
        "slack_api_url": api_url,
        "hypobot_scheduler": "off",
        # One pretend workspace with one token, even where OAuth (any workspace) is set up.
        "slack_client_id": None,
        "slack_client_secret": None,
        # The fake Slack sets no limits (a test may ask it to, and a 429 still holds the
        # sender back): Slack's pace would only make each command wait in real time.
        "slack_workspace_posts_per_second": math.inf,
        "slack_channel_posts_per_second": math.inf,
        "slack_canvas_edits_per_minute": math.inf,
        "hypobot_board_every_s": 0.0,
    }
    fields = type(base).model_fields
    return base.model_copy(update={k: v for k, v in overrides.items() if k in fields})


class Console:
    """One console session. `start()`, then `handle(line)` per typed line, then `close()`."""

    def __init__(
        self,
        base: Settings,
        out: TextIO,
        *,
        color: bool = False,
        echo: bool = False,
        clock: ConsoleClock | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.base = base
        self.out = out
        self.paint = render.Paint(color)
        self.echo = echo
        self.clock = clock or ConsoleClock()
        # The pretend Slack and the files Hypobot attached, kept between sessions (None: not
        # kept, for a database that is not kept either).
        self.state_dir = state_dir or saved.state_dir(base.database_url)
        self.names = render.Names(
            users={USER_ID: USER_NAME, FakeSlack.bot_user_id: "Hypobot"},
            channels={CHANNEL_ID: CHANNEL_NAME},
        )
        self.directory = forms.Directory(user_id=self.user_id, channel_id=self.channel_id)
        self.screen = Screen(
            out,
            self.paint,
            self.names,
            home_channel=CHANNEL_ID,
            files_dir=saved.files_dir(self.state_dir),
        )
        self.form: forms.Form | None = None
        self._serial = itertools.count(1)
        self._kept_after = 0  # calls the fake had received when its workspace was last kept
        self._stack = AsyncExitStack()
        self.fake: FakeSlack
        self.app: AsyncApp
        self.runtime: Runtime
        self.jobs: Jobs

    # --- start and stop ------------------------------------------------------------------

    async def start(self) -> None:
        self.fake = await self._stack.enter_async_context(serve_fake_slack(TEAM_ID))
        settings = console_settings(self.base, api_url=self.fake.base_url)
        await db.connect(settings.database_url)
        self._stack.push_async_callback(db.disconnect)
        others = [team for team in await bet_store.team_ids() if team != TEAM_ID]
        if others:
            raise ConsoleError(
                f"{self.database} also holds workspace {', '.join(others)}: the console would "
                "deliver its queued messages to a pretend Slack. Give the console its own "
                "file, e.g. DATABASE_URL=sqlite:///tmp/hypobot-console.sqlite3 hypobot console"
            )
        self._restore_workspace()
        process = assemble(settings, clock=self.clock)
        self.app, self.runtime = process.app, process.runtime
        await self.runtime.warm_up()
        self.jobs = Jobs(self.runtime.sender, clock=self.clock, owner="console")
        earlier = await self._restore_cards()
        self.screen.attach(self.fake)
        self._banner(earlier)

    async def close(self) -> None:
        if hasattr(self, "runtime"):
            await self.runtime.sender.drain()
            await self.runtime.close()
            self._keep_workspace(changed=True)
        await self._stack.aclose()

    def _restore_workspace(self) -> None:
        """The pretend Slack as the last session left it, and the names people typed there."""
        try:
            saved.restore(self.fake, self.state_dir)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ConsoleError(
                f"cannot read the pretend Slack the last session left in {self.state_dir} "
                f"({type(error).__name__}: {error}); move that folder away to start afresh"
            ) from error
        self.fake.channel_names[CHANNEL_ID] = CHANNEL_NAME
        self.fake.team_names[TEAM_ID] = "Console"
        self.fake.user_fields[USER_ID] = {"name": USER_NAME, "real_name": "You"}
        self.names.channels.update(self.fake.channel_names)
        for user_id, fields in self.fake.user_fields.items():
            if fields.get("name"):
                self.names.users[user_id] = str(fields["name"])

    def _keep_workspace(self, *, changed: bool = False) -> None:
        """Keep the pretend Slack for the next session, after each line that reached it (so
        that a session that is killed loses nothing the database kept)."""
        if not changed and len(self.fake.calls) == self._kept_after:
            return
        self._kept_after = len(self.fake.calls)
        try:
            saved.keep(self.fake, self.state_dir)
        except OSError as error:
            self.note(f"⚠ The console could not keep its Slack in {self.state_dir} ({error}).")

    @property
    def database(self) -> str:
        """The SQLite file, or the server and database (never a password)."""
        url = urlsplit(db.normalise_url(self.base.database_url))
        if url.scheme == "sqlite":
            return url.path
        return f"{url.scheme}://{url.hostname}:{url.port or 5432}{url.path}"

    async def _restore_cards(self) -> int:
        """Cards of bets from earlier sessions that the pretend Slack lacks (it was not kept,
        say by an older console), put back in their channels so that they can be edited and
        replied to; Hypobot is a member wherever a card of its is."""
        now = self.clock()
        bets = await bet_store.all_bets(TEAM_ID)
        for bet in bets:
            if bet.card_ts:
                self.fake.members.add((TEAM_ID, bet.channel_id))
                if self.fake.message(bet.channel_id, bet.card_ts) is not None:
                    continue
                card = await card_message(TEAM_ID, bet.id, now)
                if card is None:
                    continue
                self.fake.add_message(
                    bet.channel_id,
                    card.payload["text"],
                    user=self.fake.bot_user_id,
                    ts=bet.card_ts,
                    bot_id=self.fake.bot_id,
                    blocks=card.payload["blocks"],
                )
        return len(bets)

    def _banner(self, earlier: int) -> None:
        p = self.paint
        self.say(f"{p.bold('Hypobot console')}: Hypobot without Slack, on {self.database}")
        self.say(
            f"You are {p.bold('@you')} in {p.bold('#general')}. Clock: {clock_text(self.clock())}."
        )
        if earlier:
            self.say(f"{earlier} bet(s) from earlier sessions: /hypothesis list all")
        self.say(
            "Try: /hypothesis new We believe <change> for <whom> will <outcome>. "
            "We'll know when <signal>"
        )
        self.say("help lists the console's own commands; /hypothesis help lists Hypobot's.")

    # --- the prompt ----------------------------------------------------------------------

    def prompt(self) -> str:
        field = self.form.current() if self.form else None
        if field is None:
            return "you> "
        extra = "" if not field.optional else " (optional)"
        default = field.default()
        if default is not None:
            extra += f" [{self._default_text(field, default)}]"
        return f"│ {field.label}{extra}: "

    def _default_text(self, field: forms.Field, default: Any) -> str:
        if field.kind == "users_select":
            return self.names.user(str(default))
        if field.kind in ("conversations_select", "channels_select"):
            return self.names.channel(str(default))
        if isinstance(default, dict):
            return render.plain(default.get("text"))
        return str(default)

    def say(self, text: str = "") -> None:
        self.screen.say(text)

    def note(self, text: str) -> None:
        self.screen.note(text)

    @property
    def buttons(self) -> list[Pressable | None]:
        return self.screen.buttons

    # --- one typed line ------------------------------------------------------------------

    async def handle(self, line: str) -> bool:
        """Carry out one typed line; False when the person asked to leave."""
        if self.echo:
            self.say(self.prompt() + line)
        try:
            if self.form is not None:
                await self._answer(line)
                return True
            return await self._command(line.strip())
        except Exception as error:  # the console must never show a traceback
            log.debug("console.failed", exc_info=error)
            self.note(f"⚠ The console could not do that ({type(error).__name__}: {error}).")
            return True
        finally:
            self._keep_workspace()

    async def _command(self, text: str) -> bool:
        if not text or text.startswith("#"):  # a comment, in a script
            return True
        word, _, rest = text.partition(" ")
        word = word.lower()
        if text.startswith("/"):
            await self._slash(word, rest.strip())
        elif text.isdigit():
            await self._press(int(text))
        elif word in ("quit", "exit", "bye"):
            return False
        elif word in ("help", "?"):
            self.say(HELP)
        elif word == "now":
            self._now(rest.strip())
        elif word == "reply":
            await self._reply(rest.strip())
        elif word == "thread":
            await self._thread(rest.strip())
        elif word == "home":
            await self._home()
        elif word == "board":
            await self._board()
        elif word == "jobs":
            await self._jobs(rest.strip())
        else:
            self.note(
                f"“{text}” isn't something the console knows. Type /hypothesis help for "
                "Hypobot's commands, help for the console's, or the number of a button."
            )
        return True

    def interrupted(self) -> None:
        """Ctrl-C at a prompt: close an open form, otherwise just say how to leave."""
        if self.form is not None:
            self.form = None
            self.note("└ Form closed without submitting.")
        else:
            self.note("(quit or Ctrl-D leaves the console)")

    def end_of_input(self) -> None:
        if self.form is not None:
            self.form = None
            self.note("└ Form closed without submitting.")

    # --- names people type -----------------------------------------------------------------

    def user_id(self, typed: str) -> str:
        name = typed.strip().lstrip("@").lower()
        if name in ("", "me", "you", "myself"):
            return USER_ID
        if name == "hypobot":
            return self.fake.bot_user_id
        for user_id, known in self.names.users.items():
            if known.lower() == name or user_id.lower() == name:
                return user_id
        user_id = "U" + (re.sub(r"[^A-Z0-9]", "", name.upper()) or "SOMEONE")
        self.names.users.setdefault(user_id, name)
        self.fake.user_fields.setdefault(user_id, {"name": name, "real_name": name})
        return user_id

    def channel_id(self, typed: str) -> str:
        name = typed.strip().lstrip("#").lower()
        for channel_id, known in self.names.channels.items():
            if known == name or channel_id.lower() == name:
                return channel_id
        channel_id = "C" + (re.sub(r"[^A-Z0-9]", "", name.upper()) or "OTHER")
        self.names.channels.setdefault(channel_id, name)
        self.fake.channel_names.setdefault(channel_id, name)
        return channel_id

    def slack_text(self, typed: str) -> str:
        """What Slack sends for typed text: escaped, with @name and #name made into mentions."""
        text = escape(typed)
        text = _MENTION.sub(lambda m: f"<@{self.user_id(m[1])}|{m[1]}>", text)
        return _CHANNEL.sub(lambda m: f"<#{self.channel_id(m[1])}|{m[1].lower()}>", text)

    # --- talking to the app ----------------------------------------------------------------

    def _next(self, prefix: str) -> str:
        return f"{prefix}{next(self._serial)}"

    async def _dispatch(self, body: str, content_type: str) -> BoltResponse:
        headers: dict[str, str | Sequence[str]] = {
            "Content-Type": content_type,
            **sign(body, secret=SIGNING_SECRET),
        }
        return await self.app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))

    async def _settle(self) -> None:
        """Wait for what listeners do after their ack, then send what the outbox holds."""
        try:
            async with asyncio.timeout(SETTLE_TIMEOUT_S):
                while True:
                    running = [
                        task
                        for task in asyncio.all_tasks()
                        if not task.done()
                        and _BOLT_LISTENER_TASK in getattr(task.get_coro(), "__qualname__", "")
                    ]
                    if running:
                        await asyncio.wait(running)
                        continue
                    await self.runtime.sender.drain()
                    await self.runtime.sender.deliver(now=self.clock())
                    break
        except TimeoutError:
            self.note("Hypobot is still working on that; its answer may show up later.")

    async def _after(self, response: BoltResponse | None = None) -> None:
        """Show the ack (when it says something), then everything sent to Slack since."""
        self.screen.begin()
        shown_before = self.screen.shown
        if response is not None:
            self._show_ack(response)
        await self._settle()
        opened = self.screen.show_calls()
        self.screen.keep_buttons()
        if opened is not None:
            self._open_form(opened)
        elif response is not None and self.screen.shown == shown_before:
            self.note("(Hypobot did not answer)")

    def _show_ack(self, response: BoltResponse) -> None:
        """A slash command's ack is its ephemeral answer (in the channel if it says so)."""
        if response.status >= 300:
            self.note(f"⚠ Hypobot answered HTTP {response.status}: {response.body[:200]}")
            return
        body = (response.body or "").strip()
        if not body:
            return
        if not body.startswith("{"):
            self.screen.ephemeral({"text": body}, CHANNEL_ID)
            return
        payload = json.loads(body)
        if payload.get("text") or payload.get("blocks"):
            if payload.get("response_type") == "in_channel":
                self.screen.top_level(payload, CHANNEL_ID, edited=False, origin=None)
            else:
                self.screen.ephemeral(payload, CHANNEL_ID)

    # --- slash commands, buttons, replies --------------------------------------------------

    async def _slash(self, command: str, rest: str) -> None:
        if command != "/hypothesis":
            self.note(
                f"{command} isn't installed here; Hypobot's command is /hypothesis "
                "(/hypothesis help lists everything)."
            )
            return
        body = slash_command_body(
            self.slack_text(rest),
            team_id=TEAM_ID,
            user_id=USER_ID,
            channel_id=CHANNEL_ID,
            trigger_id=self._next("trigger-"),
            response_url=self.fake.response_url(self._next("command-")),
            user_name=USER_NAME,
            team_domain=TEAM_DOMAIN,
            channel_name=CHANNEL_NAME,
        )
        await self._after(await self._dispatch(body, FORM))

    async def _press(self, number: int) -> None:
        if not self.buttons:
            self.note("There are no buttons on screen yet. Try /hypothesis list.")
            return
        if not 1 <= number <= len(self.buttons):
            self.note(
                f"There is no button {number}; the buttons on screen are 1–{len(self.buttons)}."
            )
            return
        pressed = self.buttons[number - 1]
        if pressed is None:
            self.note(
                f"Button {number} is gone: its message changed since. Look for it again above."
            )
            return
        button, origin = pressed.button, pressed.origin
        self.note(f"(you pressed {button.label})")
        key = self._next("click-")
        message = (
            self.screen.stored(origin.channel, origin.ts) if origin.ts and origin.channel else None
        )
        if origin.channel and origin.ts:
            self.fake.response_targets[key] = (origin.channel, origin.ts)
        container: dict[str, Any] | None = None
        if origin.view_id:
            container = {"type": "view", "view_id": origin.view_id}
        elif message is not None:
            container = {
                "type": "message",
                "message_ts": origin.ts,
                "channel_id": origin.channel,
                "is_ephemeral": False,
                **({"thread_ts": origin.thread_ts} if origin.thread_ts else {}),
            }
        body = block_action_body(
            button.action_id,
            button.value,
            team_id=TEAM_ID,
            user_id=USER_ID,
            channel_id=origin.channel,
            message_ts=origin.ts if message is not None else None,
            response_url=self.fake.response_url(key),
            trigger_id=self._next("trigger-"),
            container=container,
            block_id=button.block_id,
            user_name=USER_NAME,
            team_domain=TEAM_DOMAIN,
            message={k: v for k, v in (message or {}).items() if k != "ts"} or None,
            action={"text": button.element.get("text")},
        )
        await self._after(await self._dispatch(body, FORM))

    async def _card_of(self, key_text: str, usage: str) -> tuple[Bet, str] | None:
        """The bet `key_text` names and its card's ts (its thread), or None once explained."""
        number = parse_key(key_text)
        if number is None:
            self.note(usage)
            return None
        bet = await bet_store.bet_by_number(TEAM_ID, number)
        if bet is None:
            self.note(
                f"There is no {format_key(number)} here. /hypothesis list all shows every bet."
            )
            return None
        if not bet.card_ts:
            self.note(f"{format_key(number)}'s card isn't in the channel yet, so it has no thread.")
            return None
        return bet, bet.card_ts

    async def _reply(self, rest: str) -> None:
        usage = "Reply in a bet's thread like this: reply H-1 export tickets fell 35%"
        key_text, _, text = rest.partition(" ")
        if not text.strip():
            self.note(usage)
            return
        found = await self._card_of(key_text, usage)
        if found is None:
            return
        bet, card_ts = found
        typed = self.slack_text(text.strip())
        message = self.fake.add_message(bet.channel_id, typed, user=USER_ID, thread_ts=card_ts)
        self.screen.begin()
        self.screen.in_thread(bet.channel_id, card_ts, message)
        event = message_event(
            typed,
            channel=bet.channel_id,
            user=USER_ID,
            ts=message["ts"],
            thread_ts=card_ts,
            team=TEAM_ID,
        )
        body = event_body(event, team_id=TEAM_ID, event_time=int(time.time()))
        await self._after(await self._dispatch(body, JSON))

    async def _thread(self, rest: str) -> None:
        found = await self._card_of(rest.strip(), "Show a bet's thread like this: thread H-1")
        if found is None:
            return
        bet, card_ts = found
        self.screen.begin()
        for message in self.fake.messages.get(bet.channel_id, []):
            if message["ts"] == card_ts:
                self.screen.top_level(message, bet.channel_id, edited=False)
            elif message.get("thread_ts") == card_ts:
                self.screen.in_thread(bet.channel_id, card_ts, message)
        self.screen.keep_buttons()

    async def _board(self) -> None:
        """The board's canvas as the fake Slack holds it (delivered first: what Hypobot
        would have written by now)."""
        await self.runtime.sender.drain()
        await self.runtime.sender.deliver(now=self.clock())
        canvas = self.fake.channel_canvas(CHANNEL_ID, team_id=TEAM_ID)
        board = await boards.current(
            self.runtime.answers.context, Actor(TEAM_ID, USER_ID, CHANNEL_ID)
        )
        if isinstance(board, Board):
            canvas = board.canvas_id
        if canvas is None or canvas not in self.fake.canvases:
            self.note("#general has no board yet: /hypothesis board turns it on.")
            return
        if isinstance(board, Board) and not board.enabled:
            self.note("The board is off (/hypothesis board turns it on again); as it was last:")
        self.say(str(self.fake.canvases[canvas]["markdown"]).rstrip())

    async def _home(self) -> None:
        event = {
            "type": "app_home_opened",
            "user": USER_ID,
            "channel": "DHOME",
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        await self._after(await self._dispatch(event_body(event, team_id=TEAM_ID), JSON))

    # --- the clock and jobs ------------------------------------------------------------------

    def _move_clock(self, moment: datetime) -> bool:
        now = self.clock()
        if moment < now - timedelta(seconds=1):
            self.note(
                f"The console's clock already reads {clock_text(now)} and only moves forward "
                "(a bet must not change before it was made). Start the console with "
                "--now 2026-11-02T09:00Z to begin earlier."
            )
            return False
        self.clock.move_to(moment)
        return True

    def _now(self, rest: str) -> None:
        if rest:
            duration = parse_duration(rest.removeprefix("+"))
            moment = self.clock() + duration if duration else parse_moment(rest)
            if moment is None:
                self.note(f"“{rest}” isn't a time: try now +3d or now 2026-12-01T09:30Z.")
                return
            if not self._move_clock(moment):
                return
        ahead = self.clock.offset
        how = (
            "real time"
            if abs(ahead) < timedelta(minutes=1)
            else f"{'ahead of' if ahead > timedelta() else 'behind'} real time"
        )
        self.say(f"🕘 It is {clock_text(self.clock())} on the console's clock ({how}).")

    async def _jobs(self, rest: str) -> None:
        usage = (
            "Run a job like this: jobs run digests --at 2026-12-01T09:30Z "
            f"(jobs: {', '.join(JOB_NAMES)})"
        )
        try:
            words = shlex.split(rest.replace("--at=", "--at "))
        except ValueError:
            words = rest.split()
        if len(words) < 2 or words[0] != "run":
            self.note(usage)
            return
        name, options = words[1], words[2:]
        if name not in JOB_NAMES:
            self.note(f"There is no job “{name}”; jobs are: {', '.join(JOB_NAMES)}.")
            return
        if options and (options[0] != "--at" or len(options) != 2):
            self.note(usage)
            return
        if options:
            moment = parse_moment(options[1])
            if moment is None:
                self.note(f"--at {options[1]} is not ISO 8601; for example --at 2026-12-01T09:30Z")
                return
            if not self._move_clock(moment):
                return
        at = self.clock()
        self.note(f"🕘 Running {name} at {clock_text(at)}…")
        self.screen.begin()
        summary = await self.jobs.run(name, at)
        await self._after()
        self.note(f"└ {name}: {_summary_text(summary)}")

    # --- forms (modals) ----------------------------------------------------------------------

    def _open_form(self, view: dict[str, Any]) -> None:
        form = forms.Form.of(view)
        self.form = form
        self.say()
        self.say(f"┌ {self.paint.bold(form.title)} {self.paint.grey('(a form; cancel closes it)')}")
        if form.shown_blocks:
            shown = render.blocks(form.shown_blocks, self.names, self.paint)
            for line in render.indent(shown.lines, "│ "):
                self.say(line)
        self._introduce_field()
        if form.current() is None:
            self.note("│ (nothing to fill in)")

    def _introduce_field(self) -> None:
        """Before a field's prompt: its hint or placeholder, and its choices if it has them."""
        field = self.form.current() if self.form else None
        if field is None:
            return
        about = field.hint or (field.placeholder() if field.kind == "plain_text_input" else "")
        if about:
            self.say("│ " + self.paint.grey(about))
        if field.kind in forms.CHOICES:
            choices = [
                f"{self.paint.bold(f'[{i}]')} {render.plain(option.get('text'))}"
                for i, option in enumerate(field.options, 1)
            ]
            self.say("│ " + "  ".join(choices))

    async def _answer(self, line: str) -> None:
        form = self.form
        assert form is not None
        if line.strip().lower() == forms.CANCEL or line.startswith("/"):
            self.form = None
            self.note("└ Form closed without submitting.")
            if line.startswith("/"):  # in Slack a command can't be typed into a form either
                await self._command(line.strip())
            return
        field = form.current()
        if field is not None:
            answer = forms.read(field, line, self.directory)  # inputs arrive raw, unescaped
            if answer.state is None:
                self.say("│ " + self.paint.bold(f"⚠ {answer.problem}"))
                return
            form.take(answer.state)
        if form.current() is not None:
            self._introduce_field()
            return
        await self._submit(form)

    async def _submit(self, form: forms.Form) -> None:
        view = form.view
        body = view_submission_body(
            str(view.get("callback_id", "")),
            form.values(),
            private_metadata=str(view.get("private_metadata", "")),
            team_id=TEAM_ID,
            user_id=USER_ID,
            view_id=str(view.get("id", "V1")),
            user_name=USER_NAME,
            team_domain=TEAM_DOMAIN,
            trigger_id=self._next("trigger-"),
            opened=view,
        )
        response = await self._dispatch(body, FORM)
        body_text = (response.body or "").strip()
        answer = json.loads(body_text) if body_text.startswith("{") else {}
        action = answer.get("response_action")
        if response.status >= 300:
            self.form = None
            self.note(f"└ ⚠ Hypobot answered HTTP {response.status}; the form is closed.")
        elif action == "errors":
            errors = {str(k): str(v) for k, v in (answer.get("errors") or {}).items()}
            self._form_errors(form, errors)
            return
        elif action in ("update", "push") and isinstance(answer.get("view"), dict):
            self.form = None
            self._open_form({**answer["view"], "id": view.get("id")})
            return
        else:
            self.form = None
            self.say(f"└ {self.paint.grey(f'{form.submit_label}: sent.')}")
        await self._after()

    def _form_errors(self, form: forms.Form, errors: dict[str, str]) -> None:
        labels = {f.block_id: f.label for f in form.fields}
        for block_id, message in errors.items():
            label = labels.get(block_id, "Form")
            self.say("│ " + self.paint.bold(f"⚠ {label}: {message}"))
        form.ask_again(errors)
        if not form.queue:  # an error on no field we know: ask everything again
            form.queue = list(range(len(form.fields)))
        self._introduce_field()


# How a job's report reads: each figure's noun (counted: "1 bet", "2 bets"; none: the bare
# number) and the words after it. A figure not listed here is shown by its name.
_SUMMARY_WORDS: dict[str, tuple[str, str]] = {
    "posted": ("digest", "posted"),
    "quiet": ("channel", "with nothing to say"),
    "nudged": ("bet", "nudged"),
    "escalated": ("", "escalated"),
    "over_budget": ("", "held for a later day by the nudge budget"),
    "outside_hours": ("", "due outside working hours"),
    "snoozed": ("", "due but snoozed"),
    "owner_away": ("", "due while the owner is away"),
    "channels": ("channel", "checked"),
    "boards": ("board", "queued for the daily rewrite"),
    "sent": ("message", "sent"),
    "retried": ("", "to retry"),
    "failed": ("", "failed"),
    "deferred": ("", "deferred"),
}


def _summary_text(summary: dict[str, Any]) -> str:
    """A job's report in words: `1 digest posted · 2 messages sent`."""
    parts: list[str] = []
    for key, value in summary.items():
        if isinstance(value, dict):
            inner = _summary_text(value)
            if inner != "nothing to do":
                parts.append(inner)
            continue
        count = len(value) if isinstance(value, list) else value
        if count and key != "errors":
            noun, words = _SUMMARY_WORDS.get(key, ("", key))
            parts.append(f"{counted(count, noun) if noun else count} {words}")
    return " · ".join(parts) or "nothing to do"
