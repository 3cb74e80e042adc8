"""Slack's mrkdwn and Block Kit as terminal text: what `hypobot console` prints.

Pure functions from Slack's JSON to lines; buttons come back as data for the console to number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

Json = dict[str, Any]

_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_CODE_BLOCK = re.compile(r"```\n?(.*?)\n?```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_TOKEN = re.compile(r"<([^<>\n]*)>")
_HOLE = re.compile("\ue000(\\d+)\ue001")


def _styled(mark: str) -> re.Pattern[str]:
    """`*bold*`, `_italic_`, `~strike~` as Slack reads them: flush against their words."""
    m = re.escape(mark)
    return re.compile(rf"(?<![\w{m}]){m}(?=\S)([^{m}\n]+?)(?<=\S){m}(?![\w{m}])")


_BOLD, _ITALIC, _STRIKE = _styled("*"), _styled("_"), _styled("~")
DIVIDER = "─" * 40


def unescape(text: str) -> str:
    return _ENTITY.sub(lambda match: _ENTITIES[match[1]], text)


class Paint:
    """ANSI styles when writing to a terminal, nothing otherwise (pipes, files, NO_COLOR)."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def _sgr(self, text: str, on: str, off: str) -> str:
        return f"\x1b[{on}m{text}\x1b[{off}m" if self.color and text else text

    def bold(self, text: str) -> str:
        return self._sgr(text, "1", "22")

    def italic(self, text: str) -> str:
        return self._sgr(text, "3", "23")

    def strike(self, text: str) -> str:
        return self._sgr(text, "9", "29")

    def grey(self, text: str) -> str:
        return self._sgr(text, "90", "39")

    def code(self, text: str) -> str:
        """Code in cyan; without colour it keeps its backticks, so commands stand out."""
        return self._sgr(text, "36", "39") if self.color else f"`{text}`"

    def link(self, text: str) -> str:
        return self._sgr(text, "4", "24")

    def style(self, text: str, style: str | None) -> str:
        """A button label in its Block Kit style: primary green, danger red."""
        colour = {"primary": "32", "danger": "31"}.get(style or "")
        return self._sgr(text, colour, "39") if colour else text


@dataclass
class Names:
    """Who `<@U…>` and `<#C…>` are, as the console shows them."""

    users: dict[str, str] = field(default_factory=dict)  # user id -> name
    channels: dict[str, str] = field(default_factory=dict)  # channel id -> name

    def user(self, user_id: str, label: str = "") -> str:
        return "@" + (self.users.get(user_id) or label.lstrip("@") or user_id)

    def channel(self, channel_id: str, label: str = "") -> str:
        return "#" + (self.channels.get(channel_id) or label.lstrip("#") or channel_id.lower())


def _control(inner: str, names: Names, paint: Paint) -> str:
    """One `<…>` sequence: a mention, a channel, a special mention, a date or a link."""
    target, _, label = inner.partition("|")
    label = unescape(label)
    if target.startswith("@"):
        return paint.bold(names.user(target[1:], label))
    if target.startswith("#"):
        return paint.bold(names.channel(target[1:], label))
    if target.startswith("!"):
        word = target[1:].split("^", 1)[0]
        if word in ("here", "channel", "everyone"):
            return paint.bold("@" + word)
        return label or word
    url = unescape(target)
    if not label or label == url or label == url.removeprefix("mailto:"):
        return paint.link(url.removeprefix("mailto:"))
    return f"{paint.link(label)} {paint.grey(f'({url})')}"


def mrkdwn(text: str, names: Names, paint: Paint) -> str:
    """Slack mrkdwn as terminal text: styles, code, mentions, channels, links, quotes."""
    holes: list[str] = []

    def hole(rendered: str) -> str:
        holes.append(rendered)
        return f"\ue000{len(holes) - 1}\ue001"

    text = _CODE_BLOCK.sub(
        lambda m: hole("\n".join(paint.code(line) for line in unescape(m[1]).split("\n"))), text
    )
    text = _CODE.sub(lambda m: hole(paint.code(unescape(m[1]))), text)
    text = _TOKEN.sub(lambda m: hole(_control(m[1], names, paint)), text)
    text = _BOLD.sub(lambda m: paint.bold(m[1]), text)
    text = _ITALIC.sub(lambda m: paint.italic(m[1]), text)
    text = _STRIKE.sub(lambda m: paint.strike(m[1]), text)
    # A quote is a literal ">" opening a line; an escaped one (&gt;) is just text.
    lines = [
        unescape("│ " + line[1:].lstrip() if line.startswith(">") else line)
        for line in text.split("\n")
    ]
    text = "\n".join(lines)
    while _HOLE.search(text):  # a link's label may itself hold code
        text = _HOLE.sub(lambda m: holes[int(m[1])], text)
    return text


def text_object(obj: Any, names: Names, paint: Paint) -> str:
    """A Block Kit text object (mrkdwn or plain_text), or a bare string."""
    if isinstance(obj, str):
        return mrkdwn(obj, names, paint)
    if not isinstance(obj, dict):
        return ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn(str(obj.get("text", "")), names, paint)
    return plain(obj)


def plain(obj: Any) -> str:
    """A plain_text object's words (Slack shows &lt; &gt; &amp; there as < > &)."""
    return unescape(str(obj.get("text", ""))) if isinstance(obj, dict) else str(obj or "")


@dataclass(frozen=True)
class Button:
    """A button as shown: its label and what pressing it sends."""

    label: str
    action_id: str
    value: str
    block_id: str
    element: Json  # the button element as Slack sent it


@dataclass
class Rendered:
    lines: list[str] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)


class BlockPrinter:
    """Blocks to lines; buttons are numbered from `first` on, in the order they appear."""

    def __init__(self, names: Names, paint: Paint, first: int = 1) -> None:
        self.names = names
        self.paint = paint
        self.first = first
        self.out = Rendered()

    def text(self, obj: Any) -> str:
        return text_object(obj, self.names, self.paint)

    def add(self, text: str) -> None:
        self.out.lines += text.split("\n")

    def button_row(self, elements: list[Json], block_id: str) -> None:
        shown: list[str] = []
        for element in elements:
            if element.get("type") != "button":
                what = self.text(element.get("placeholder")) or element.get("type", "control")
                shown.append(self.paint.grey(f"[{what}: not in the console]"))
                continue
            label = self.text(element.get("text"))
            number = self.first + len(self.out.buttons)
            self.out.buttons.append(
                Button(
                    label=label,
                    action_id=str(element.get("action_id", "")),
                    value=str(element.get("value", "")),
                    block_id=block_id,
                    element=element,
                )
            )
            shown.append(
                f"{self.paint.bold(f'[{number}]')} {self.paint.style(label, element.get('style'))}"
            )
        self.add("  ".join(shown))

    def block(self, block: Json) -> None:
        kind = block.get("type")
        render = self._renderers.get(str(kind))
        if render is None:
            self.add(self.paint.grey(f"[{kind} block]"))
        else:
            render(self, block)

    def _section(self, block: Json) -> None:
        if block.get("text"):
            self.add(self.text(block["text"]))
        for item in block.get("fields") or []:
            self.add(" ".join(line for line in self.text(item).split("\n") if line.strip()))
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            if accessory.get("type") == "image":
                self._image(accessory)
            else:
                self.button_row([accessory], str(block.get("block_id", "")))

    def _header(self, block: Json) -> None:
        self.add(self.paint.bold(self.text(block.get("text"))))

    def _context(self, block: Json) -> None:
        parts = []
        for element in block.get("elements") or []:
            if element.get("type") == "image":
                parts.append(f"[{element.get('alt_text', 'image')}]")
            else:
                parts.append(self.text(element))
        self.add(self.paint.grey(" · ".join(parts)))

    def _divider(self, block: Json) -> None:
        self.add(self.paint.grey(DIVIDER))

    def _actions(self, block: Json) -> None:
        self.button_row(list(block.get("elements") or []), str(block.get("block_id", "")))

    def _image(self, block: Json) -> None:
        url = block.get("image_url") or (block.get("slack_file") or {}).get("url", "")
        self.add(f"🖼  {block.get('alt_text', 'image')} {self.paint.grey(f'({url})')}".rstrip())

    def _rich_text(self, block: Json) -> None:
        self.add("".join(_rich_text_of(element) for element in block.get("elements") or []))

    def _input(self, block: Json) -> None:
        self.add(f"{self.text(block.get('label'))}: …")

    _renderers: ClassVar[dict[str, Callable[[BlockPrinter, Json], None]]] = {
        "section": _section,
        "header": _header,
        "context": _context,
        "divider": _divider,
        "actions": _actions,
        "image": _image,
        "rich_text": _rich_text,
        "input": _input,
    }


def _rich_text_of(element: Json) -> str:
    if element.get("type") == "text":
        return str(element.get("text", ""))
    if element.get("type") == "link":
        return str(element.get("text") or element.get("url", ""))
    return "".join(_rich_text_of(child) for child in element.get("elements") or [])


def message(message: Json, names: Names, paint: Paint, *, first: int = 1) -> Rendered:
    """A message's blocks as lines (its fallback `text` when it has none)."""
    printer = BlockPrinter(names, paint, first)
    blocks = message.get("blocks") or []
    if blocks:
        for block in blocks:
            printer.block(block)
    else:
        printer.add(mrkdwn(str(message.get("text") or ""), names, paint))
    return printer.out


def blocks(items: list[Json], names: Names, paint: Paint, *, first: int = 1) -> Rendered:
    return message({"blocks": items}, names, paint, first=first)


def indent(lines: list[str], prefix: str) -> list[str]:
    return [prefix + line if line else prefix.rstrip() for line in lines]
