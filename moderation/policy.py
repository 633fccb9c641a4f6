"""The site's moderation policy: from scores and context to a status. Pure, no ORM."""

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from moderation import reasons

RECEIVED, PUBLISHED, HELD, APPROVED, REJECTED = "received", "published", "held", "approved", "rejected"


@dataclass(frozen=True)
class Thresholds:
    toxicity_hold: float
    toxicity_reject: float
    spam_hold: float
    spam_reject: float


@dataclass(frozen=True)
class Verdict:
    status: str
    # A code from moderation.reasons and what goes with it, rendered in the reader's language.
    reason: str
    params: dict = field(default_factory=dict)


def fold(text: str) -> str:
    """Lower-case without accents, so "Connard", "CONNARD" and "cônnard" match one word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=256)
def _word_pattern(words: str) -> re.Pattern | None:
    entries = sorted({fold(w.strip()) for w in words.splitlines() if w.strip()}, key=len, reverse=True)
    if not entries:
        return None
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(e) for e in entries) + r")(?!\w)")


def find_word(words: str, body: str) -> str | None:
    """The first listed word or phrase that stands as a whole word in body, if any."""
    pattern = _word_pattern(words)
    if pattern is None:
        return None
    match = pattern.search(fold(body))
    return match.group(1) if match else None


def decide(
    *,
    toxicity: float,
    spam: float,
    thresholds: Thresholds,
    premoderated: bool,
    author_banned: bool,
    banned_words: str = "",
    suspect_words: str = "",
    body: str = "",
    new_author: bool = False,
) -> Verdict:
    """Rejections first (they hold in every mode), then holds, else publish."""
    if author_banned:
        return Verdict(REJECTED, reasons.AUTHOR_BANNED)
    if word := find_word(banned_words, body):
        return Verdict(REJECTED, reasons.BANNED_WORD, {"word": word})
    if toxicity >= thresholds.toxicity_reject:
        return _scored(REJECTED, reasons.TOXICITY_REJECT, toxicity, thresholds.toxicity_reject)
    if spam >= thresholds.spam_reject:
        return _scored(REJECTED, reasons.SPAM_REJECT, spam, thresholds.spam_reject)
    if premoderated:
        return Verdict(HELD, reasons.PREMODERATION)
    if new_author:  # the site's trust rule: a new author's first comments wait for a moderator
        return Verdict(HELD, reasons.NEW_AUTHOR)
    if word := find_word(suspect_words, body):
        return Verdict(HELD, reasons.SUSPECT_WORD, {"word": word})
    if toxicity >= thresholds.toxicity_hold:
        return _scored(HELD, reasons.TOXICITY_HOLD, toxicity, thresholds.toxicity_hold)
    if spam >= thresholds.spam_hold:
        return _scored(HELD, reasons.SPAM_HOLD, spam, thresholds.spam_hold)
    return Verdict(PUBLISHED, reasons.CLEAN)


def _scored(status: str, reason: str, value: float, threshold: float) -> Verdict:
    # Stored unrounded: the trail shows them rounded, the simulator may reuse them.
    return Verdict(status, reason, {"score": round(value, 4), "threshold": threshold})
