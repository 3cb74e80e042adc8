"""What Hypobot sent to the fake Slack, printed: channel messages with their threads,
ephemeral answers, the App Home tab and files; and the numbers that press the buttons shown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from console import render
from console.fakeslack import Call, FakeSlack

# Methods whose refusal a person would notice in Slack (a message that never appeared).
_VISIBLE = frozenset(
    {
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "views.open",
        "views.push",
        "views.update",
        "views.publish",
        "files.completeUploadExternal",
        "response_url",
    }
)


@dataclass(frozen=True)
class Origin:
    """Where a button was shown: a channel message, an ephemeral message, or a view."""

    channel: str | None = None
    ts: str | None = None  # a stored message's ts (None: ephemeral)
    thread_ts: str | None = None
    view_id: str | None = None


@dataclass(frozen=True)
class Pressable:
    button: render.Button
    origin: Origin


class Screen:
    """Prints to `out`; `begin()` before each answer, `show_calls()` once it has arrived."""

    def __init__(
        self,
        out: TextIO,
        paint: render.Paint,
        names: render.Names,
        *,
        home_channel: str,
        files_dir: Path,
    ) -> None:
        self.out = out
        self.paint = paint
        self.names = names
        self.home_channel = home_channel  # where an answer with no channel of its own shows
        self.files_dir = files_dir
        self.fake: FakeSlack
        # The buttons on screen by number; None where the message was redrawn without it.
        self.buttons: list[Pressable | None] = []
        self.shown = 0  # messages printed so far
        self._batch: list[Pressable] = []
        self._thread_shown: tuple[str, str] | None = None
        self._seen = 0  # calls to the fake Slack shown so far

    def attach(self, fake: FakeSlack) -> None:
        """Show what reaches `fake` from now on."""
        self.fake = fake
        self._seen = len(fake.calls)

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def note(self, text: str) -> None:
        """The console speaking (not Hypobot): grey."""
        self.say(self.paint.grey(text))

    def begin(self) -> None:
        """A new answer: its buttons are numbered from 1, its first thread gets a heading."""
        self._batch = []
        self._thread_shown = None

    def show_calls(self) -> dict[str, Any] | None:
        """Print the new calls Hypobot made to Slack; the last modal it opened, if any."""
        opened = None
        calls = self.fake.calls[self._seen :]
        self._seen = len(self.fake.calls)
        for call in calls:
            result = call.result or {}
            if call.method in _VISIBLE and not result.get("ok"):
                self.note(f"⚠ Slack refused {call.method}: {result.get('error', call.status)}")
                continue
            opened = self._show_call(call, result) or opened
        return opened

    def _show_call(self, call: Call, result: dict[str, Any]) -> dict[str, Any] | None:
        method, params = call.method, call.params
        if method == "chat.postMessage":
            message = result["message"]
            self.show_message(result["channel"], message, edited=False)
        elif method == "chat.update":
            self.show_message(result["channel"], result["message"], edited=True)
        elif method == "chat.postEphemeral":
            self.ephemeral(params, params.get("channel"))
        elif method == "response_url":
            self._response_url(params)
        elif method in ("views.open", "views.push", "views.update"):
            return dict(result["view"])
        elif method == "views.publish":
            self._home_view(result["view"])
        elif method == "files.completeUploadExternal":
            self._files(params, result)
        return None

    def stored(self, channel: str | None, ts: str | None) -> dict[str, Any] | None:
        return self.fake.message(channel, ts) if channel and ts else None

    def show_message(self, channel: str, message: dict[str, Any], *, edited: bool) -> None:
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            self.in_thread(channel, thread_ts, message, edited=edited)
        else:
            self.top_level(message, channel, edited=edited)

    def _who(self, message: dict[str, Any]) -> str:
        if message.get("bot_id") or not message.get("user"):
            return "Hypobot"
        return self.names.user(str(message["user"])).lstrip("@")

    def keep_buttons(self) -> None:
        """The buttons just shown are the ones numbers press now (older ones stay otherwise)."""
        if self._batch:
            self.buttons = [pressable for pressable in self._batch]

    def _rendered(self, message: dict[str, Any], origin: Origin | None) -> render.Rendered:
        shown = render.message(message, self.names, self.paint, first=len(self._batch) + 1)
        if origin is not None and origin.ts:  # redrawn: its old buttons are gone
            self.buttons = [
                b if b is None or b.origin.ts != origin.ts else None for b in self.buttons
            ]
        if origin is not None:
            self._batch += [Pressable(button, origin) for button in shown.buttons]
        return shown

    def _print(self, head: str, shown: render.Rendered, indent: str) -> None:
        self.shown += 1
        lines = shown.lines
        if len(lines) == 1 and not shown.buttons:
            self.say(f"{head} {lines[0]}")
        else:
            self.say(head)
            for line in render.indent(lines, indent):
                self.say(line)

    def top_level(
        self,
        message: dict[str, Any],
        channel: str,
        *,
        edited: bool,
        origin: Origin | None = None,
    ) -> None:
        ts = message.get("ts")
        origin = origin if origin is not None or not ts else Origin(channel, ts)
        shown = self._rendered(message, origin)
        mark = " (edited)" if edited else ""
        head = f"{self.names.channel(channel)} · {self.paint.bold(self._who(message))}{mark}:"
        self.say()
        self._print(head, shown, "  ")
        self._thread_shown = (channel, ts) if ts else None

    def in_thread(
        self, channel: str, thread_ts: str, message: dict[str, Any], *, edited: bool = False
    ) -> None:
        if self._thread_shown != (channel, thread_ts):
            parent = self.stored(channel, thread_ts) or {}
            about = render.mrkdwn(str(parent.get("text") or "a message"), self.names, self.paint)
            self.say()
            self.say(f"{self.names.channel(channel)} · in the thread of {about.splitlines()[0]}")
            self._thread_shown = (channel, thread_ts)
        shown = self._rendered(message, Origin(channel, message["ts"], thread_ts))
        mark = " (edited)" if edited else ""
        self._print(f"  ↳ {self.paint.bold(self._who(message))}{mark}:", shown, "      ")

    def ephemeral(self, payload: dict[str, Any], channel: str | None) -> None:
        shown = self._rendered(payload, Origin(channel=channel))
        self.say()
        self._print(f"{self.paint.bold('Hypobot')} {self.paint.grey('(only you)')}:", shown, "  ")
        self._thread_shown = None

    def _response_url(self, params: dict[str, Any]) -> None:
        target = self.fake.response_targets.get(str(params.get("_key")))
        if target and params.get("delete_original"):
            self.note("(Hypobot removed its message)")
        elif target and params.get("replace_original"):
            replaced = self.stored(*target)
            if replaced is not None:
                self.show_message(target[0], replaced, edited=True)
        elif params.get("response_type") == "in_channel":
            self.top_level(
                params, self.home_channel, edited=False, origin=Origin(self.home_channel)
            )
        else:
            self.ephemeral(params, target[0] if target else self.home_channel)

    def _home_view(self, view: dict[str, Any]) -> None:
        shown = self._rendered({"blocks": view.get("blocks", [])}, Origin(view_id=view["id"]))
        self.say()
        self._print(f"{self.paint.bold('Hypobot')} · App Home:", shown, "  ")

    def _files(self, params: dict[str, Any], result: dict[str, Any]) -> None:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        for file in result.get("files", []):
            data = self.fake.uploads.get(file["id"], b"")
            path = self.files_dir / f"{file['id']}-{Path(file['name']).name}"
            path.write_bytes(data)
            where = "in the thread" if params.get("thread_ts") else "in the channel"
            self.say(f"  📎 Hypobot attached {file['title']} {where}: saved to {path}")
