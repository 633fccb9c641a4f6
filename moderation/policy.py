"""The site's moderation policy: from scores and context to a status. Pure, no ORM."""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

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
    reason: str


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
) -> Verdict:
    """Rejections first (they hold in every mode), then holds, else publish."""
    if author_banned:
        return Verdict(REJECTED, "author banned")
    if word := find_word(banned_words, body):
        return Verdict(REJECTED, f"banned word: {word}")
    if toxicity >= thresholds.toxicity_reject:
        return Verdict(REJECTED, f"toxicity {toxicity:.2f} >= {thresholds.toxicity_reject:.2f}")
    if spam >= thresholds.spam_reject:
        return Verdict(REJECTED, f"spam {spam:.2f} >= {thresholds.spam_reject:.2f}")
    if premoderated:
        return Verdict(HELD, "pre-moderation")
    if word := find_word(suspect_words, body):
        return Verdict(HELD, f"suspect word: {word}")
    if toxicity >= thresholds.toxicity_hold:
        return Verdict(HELD, f"toxicity {toxicity:.2f} >= {thresholds.toxicity_hold:.2f}")
    if spam >= thresholds.spam_hold:
        return Verdict(HELD, f"spam {spam:.2f} >= {thresholds.spam_hold:.2f}")
    return Verdict(PUBLISHED, "clean")
