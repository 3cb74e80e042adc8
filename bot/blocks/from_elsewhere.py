"""What Hypobot posts in a bet's thread when evidence arrives from elsewhere (the HTTP API, a
workflow step): "📎 from <source>"."""

from __future__ import annotations

from typing import Any

from bets.evidence import EvidenceFacts
from bets.keys import format_key
from bets.metrics import BetFacts
from bot.blocks.card import MAX_NOTE_SHOWN, VERDICT_EMOJI, shown
from bot.blocks.text import MAX_FALLBACK_TEXT, escape, link, section, truncate


def evidence_message(bet: BetFacts, evidence: EvidenceFacts, source: str) -> dict[str, Any]:
    """chat.postMessage arguments: "📎 from <source>", the verdict, the words and the link
    (every part that came from the caller escaped)."""
    key = format_key(bet.number)
    verdict = evidence.verdict
    head = f"📎 from *{escape(source)}* · {VERDICT_EMOJI[verdict]} *{verdict}* on *{key}*"
    lines = [head]
    if evidence.text.strip():
        lines.append(shown(evidence.text, MAX_NOTE_SHOWN))
    if evidence.link:
        lines.append(f"🔗 {link(evidence.link)}")
    text = truncate(f"📎 from {escape(source)}: {verdict} evidence on {key}", MAX_FALLBACK_TEXT)
    return {"text": text, "blocks": [section("\n".join(lines))]}
