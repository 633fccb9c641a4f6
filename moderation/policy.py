"""The site's moderation policy: from scores and context to a status. Pure, no ORM."""

import re
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
    # True when the classifier's scores decided (not a ban, a listed word, pre-moderation,
    # personal data or the display name): only then can a second opinion change the outcome.
    by_score: bool = False


def fold(text: str) -> str:
    """The canonical form of text (``classifier.text.normalise_text``: case, accents,
    invisible characters, look-alike letters, spelt-out letters, leetspeak), with runs of one
    letter squeezed, so "Connard", "CONNARD", "cônnard", "c\u200bonnard" and "соnnаrd" match
    one listed word."""
    from moderation.classifier.text import normalise_text

    return _DOUBLE.sub(r"\1", normalise_text(text))


_DOUBLE = re.compile(r"([a-z])\1+")


@lru_cache(maxsize=256)
def _word_pattern(words: str) -> tuple[re.Pattern, dict[str, str]] | None:
    listed = {}
    for w in words.splitlines():
        if w.strip():
            listed.setdefault(fold(w.strip()), w.strip())
    listed.pop("", None)
    if not listed:
        return None
    entries = sorted(listed, key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(e) for e in entries) + r")(?!\w)"), listed


def find_word(words: str, body: str) -> str | None:
    """The first listed word or phrase (as the site listed it) that stands as a whole word
    in body, compared in their canonical forms; None if there is none."""
    found = _word_pattern(words)
    if found is None:
        return None
    pattern, listed = found
    match = pattern.search(fold(body))
    return listed[match.group(1)] if match else None


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
    personal_data: str = "",
    name_flagged: bool = False,
    new_author: bool = False,
) -> Verdict:
    """Rejections first (they hold in every mode), then holds, else publish.

    ``personal_data``: the kinds of personal data found in the body ("phone, address"), empty
    if none or if the site does not look for them; such a comment is held for a moderator."""
    if author_banned:
        return Verdict(REJECTED, reasons.AUTHOR_BANNED)
    if word := find_word(banned_words, body):
        return Verdict(REJECTED, reasons.BANNED_WORD, {"word": word})
    if spam >= thresholds.spam_reject:
        return _scored(REJECTED, reasons.SPAM_REJECT, spam, thresholds.spam_reject)
    if toxicity >= thresholds.toxicity_reject:
        return _scored(REJECTED, reasons.TOXICITY_REJECT, toxicity, thresholds.toxicity_reject, by_score=True)
    if personal_data:
        return Verdict(HELD, reasons.PERSONAL_DATA, {"kinds": personal_data})
    if premoderated:
        return Verdict(HELD, reasons.PREMODERATION)
    if new_author:  # the site's trust rule: a new author's first comments wait for a moderator
        return Verdict(HELD, reasons.NEW_AUTHOR)
    if word := find_word(suspect_words, body):
        return Verdict(HELD, reasons.SUSPECT_WORD, {"word": word})
    if spam >= thresholds.spam_hold:
        return _scored(HELD, reasons.SPAM_HOLD, spam, thresholds.spam_hold)
    if toxicity >= thresholds.toxicity_hold:
        return _scored(HELD, reasons.TOXICITY_HOLD, toxicity, thresholds.toxicity_hold, by_score=True)
    # A clean text under a toxic or spammy name: the name is what a reader would see.
    if name_flagged:
        return Verdict(HELD, reasons.DISPLAY_NAME)
    return Verdict(PUBLISHED, reasons.CLEAN, by_score=True)


def _scored(status: str, reason: str, value: float, threshold: float, *, by_score: bool = False) -> Verdict:
    # Stored unrounded: the trail shows them rounded, the simulator may reuse them.
    return Verdict(status, reason, {"score": round(value, 4), "threshold": threshold}, by_score)
