"""Block Kit primitives, Slack's limits, and escape(): the one door user text passes through.

Every builder here takes Slack text: user strings already through escape(), our own markup
(`<@U1>`, links) as is. Nothing below escapes on its own, so nothing is escaped twice.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

Block = dict[str, Any]

# Slack's limits (https://docs.slack.dev/reference/block-kit), as slack_sdk.models checks them.
MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
# Slack documents no separate limit for a context element; stay well inside a text object's.
MAX_CONTEXT_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_ACTIONS_ELEMENTS = 25
MAX_OPTION_TEXT = 75
MAX_LABEL = 2000
MAX_HINT = 2000
MAX_PLACEHOLDER = 150
MAX_VIEW_TITLE = 24
MAX_VIEW_BUTTON = 24  # submit and close
MAX_PRIVATE_METADATA = 3000
MAX_FALLBACK_TEXT = 4000  # a message's `text`: Slack truncates past 40,000; keep it short
MAX_LINK_URL = 2000  # longer URLs are shown as text rather than risk a broken link

ELLIPSIS = "…"

_ENTITIES = ("&amp;", "&lt;", "&gt;")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,31}$")
_URL_UNSAFE = {"|": "%7C", "<": "%3C", ">": "%3E", " ": "%20", "\n": "%0A", "\t": "%09"}
# Characters that belong to the grapheme before them: cutting before one breaks an emoji.
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f", "\u20e3"}


def escape(text: str) -> str:
    """Make user text inert in mrkdwn: `<!channel>` and `<url|label>` show as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _extends_previous(char: str) -> bool:
    code = ord(char)
    return (
        char in _JOINERS
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag sequences (subdivision flags)
        or 0xDC00 <= code <= 0xDFFF  # low surrogate left by a surrogate-escaped decode
        or unicodedata.category(char) in ("Mn", "Me")
    )


def _is_regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _safe_cut(text: str, cut: int) -> int:
    """Move `cut` left until it splits no entity, no markup token and no grapheme."""
    amp = text.rfind("&", max(0, cut - 4), cut)
    if amp != -1 and text.startswith(_ENTITIES, amp) and text.index(";", amp) >= cut:
        cut = amp
    opening = text.rfind("<", 0, cut)
    if opening != -1 and text.rfind(">", opening, cut) == -1 and text.find(">", cut) != -1:
        cut = opening  # inside `<@U1>` or `<url|label>`, which our own builders wrote
    while 0 < cut < len(text) and (_extends_previous(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    if 0 < cut < len(text) and _is_regional(text[cut]):
        run = cut
        while run > 0 and _is_regional(text[run - 1]):
            run -= 1
        cut -= (cut - run) % 2  # keep flags (pairs of regional indicators) whole
    return cut


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, the "…" included, cut where nothing breaks."""
    if len(text) <= limit:
        return text
    if limit < 1:
        return ""
    return text[: _safe_cut(text, limit - 1)].rstrip() + ELLIPSIS


def user(user_id: str) -> str:
    """A mention, `<@U123>`; anything that is not a user id is shown as escaped text."""
    return f"<@{user_id}>" if _USER_ID.match(user_id) else escape(user_id)


def is_web_url(url: str) -> bool:
    """An http(s) URL with a host, short enough to link safely."""
    parts = urlsplit(url.strip())
    return (
        parts.scheme.lower() in ("http", "https")
        and bool(parts.netloc)
        and len(url) <= MAX_LINK_URL
    )


def link(url: str, label: str | None = None) -> str:
    """`<url|label>` for http(s) URLs (label escaped here); any other URL as escaped text."""
    url = url.strip()
    if not is_web_url(url):
        return escape(url)
    safe_url = "".join(_URL_UNSAFE.get(char, char) for char in url)
    return f"<{safe_url}|{escape(label)}>" if label else f"<{safe_url}>"


def plain(text: str) -> Block:
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(truncate(text, MAX_SECTION_TEXT))}


def context(*texts: str) -> Block:
    """Small grey text, one element per text; empty texts are left out."""
    elements = [mrkdwn(truncate(text, MAX_CONTEXT_TEXT)) for text in texts if text]
    if not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
        raise ValueError(f"a context block takes 1 to {MAX_CONTEXT_ELEMENTS} texts")
    return {"type": "context", "elements": elements}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(truncate(text, MAX_HEADER_TEXT))}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    """A button; ids and values are ours, so an oversized one is a bug, not something to cut."""
    if len(action_id) > MAX_ACTION_ID or len(value) > MAX_BUTTON_VALUE:
        raise ValueError(f"button {action_id!r}: action_id or value over Slack's limit")
    if style not in (None, "primary", "danger"):
        raise ValueError(f"button style must be primary or danger, not {style!r}")
    element: Block = {
        "type": "button",
        "text": plain(truncate(text, MAX_BUTTON_TEXT)),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def actions(*buttons: Block) -> Block:
    if not buttons or len(buttons) > MAX_ACTIONS_ELEMENTS:
        raise ValueError(f"an actions block takes 1 to {MAX_ACTIONS_ELEMENTS} elements")
    return {"type": "actions", "elements": list(buttons)}


def cap_blocks(
    blocks: list[Block], *, limit: int = MAX_BLOCKS_MESSAGE, more: str, extra: int = 0
) -> list[Block]:
    """At most `limit` blocks; when cut, the last says `more`, where `{n}` is the count cut
    (plus `extra`: items left out before there were blocks for them)."""
    if len(blocks) <= limit:
        return list(blocks)
    kept = blocks[: limit - 1]
    return [*kept, context(more.replace("{n}", str(len(blocks) - len(kept) + extra)))]
