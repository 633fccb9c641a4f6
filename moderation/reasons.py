"""Why something happened to a comment, stored as a code and shown in the reader's language.

The policy, the report service and the moderators write a short code in
``ModerationEvent.reason`` (``toxicity_hold``, ``banned_word``, ``toxic``...) and the numbers
or words that go with it in ``ModerationEvent.reason_params``; the admin and the API render
them with gettext when they are read, so a French desk reads French and an English browser
English. Rows written before the codes existed hold English sentences ("toxicity 0.84 >=
0.70"): ``parse_legacy`` reads them back into a code so they are translated too. Anything
else (a moderator's free text) is shown as it was written.
"""

import re

from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy, ngettext

AUTHOR_BANNED = "author_banned"
BANNED_WORD = "banned_word"
SUSPECT_WORD = "suspect_word"
TOXICITY_REJECT = "toxicity_reject"
TOXICITY_HOLD = "toxicity_hold"
SPAM_REJECT = "spam_reject"
SPAM_HOLD = "spam_hold"
PREMODERATION = "premoderation"
CLEAN = "clean"
REPORTS = "reports"
DISPLAY_NAME = "display_name"
SECOND_OPINION = "second_opinion"
# Held for exposing someone's phone number, e-mail, IBAN or address (params: "kinds"); shown
# with the moderators' own "personal data" label.
PERSONAL_DATA = "personal_data"
# The sites' trust rules (Site.premoderate_first_comments, Site.premoderate_reject_rate).
NEW_AUTHOR = "new_author"
REJECT_RATE = "reject_rate"

# Codes whose params are a score and the threshold it reached.
_SCORED = {
    TOXICITY_REJECT: gettext_lazy("toxicity %(score)s ≥ %(threshold)s (reject threshold)"),
    TOXICITY_HOLD: gettext_lazy("toxicity %(score)s ≥ %(threshold)s (hold threshold)"),
    SPAM_REJECT: gettext_lazy("spam %(score)s ≥ %(threshold)s (reject threshold)"),
    SPAM_HOLD: gettext_lazy("spam %(score)s ≥ %(threshold)s (hold threshold)"),
    # Rows from before the codes do not say which threshold was reached.
    "toxicity_over": gettext_lazy("toxicity %(score)s ≥ %(threshold)s"),
    "spam_over": gettext_lazy("spam %(score)s ≥ %(threshold)s"),
    # The fast model was unsure (its score in the band): the encoder's opinion is asked.
    SECOND_OPINION: gettext_lazy("toxicity %(score)s between %(threshold)s: second opinion asked"),
}
_PLAIN = {
    AUTHOR_BANNED: gettext_lazy("the author is banned"),
    PREMODERATION: gettext_lazy("pre-moderation (article or author)"),
    CLEAN: gettext_lazy("nothing to hold"),
    DISPLAY_NAME: gettext_lazy("the display name (toxic or spam)"),
    NEW_AUTHOR: gettext_lazy("a new author's first comments wait for a moderator"),
    REJECT_RATE: gettext_lazy("too many of the author's recent comments were rejected"),
}
_WORDS = {
    BANNED_WORD: gettext_lazy("banned word: %(word)s"),
    SUSPECT_WORD: gettext_lazy("suspect word: %(word)s"),
}
# A moderator's rejection reasons (models.RejectReason), repeated here so this module stays
# import-free of the models; tests check the two lists agree.
MODERATOR_REASONS = {
    "toxic": gettext_lazy("toxic or insulting"),
    "hate": gettext_lazy("hate speech"),
    "threat": gettext_lazy("threat"),
    "spam": gettext_lazy("spam or advertising"),
    "off_topic": gettext_lazy("off topic"),
    "personal_data": gettext_lazy("personal data"),
    "other": gettext_lazy("other"),
}

# The model's sub-labels (Classification.labels), by name.
LABEL_NAMES = {
    "identity_hate": gettext_lazy("identity hate"),
    "threat": gettext_lazy("threat"),
    "insult": gettext_lazy("insult"),
    "obscene": gettext_lazy("obscene"),
    "severe_toxic": gettext_lazy("severe toxicity"),
    "toxicity_fast": gettext_lazy("toxicity, fast model"),
    "toxicity_encoder": gettext_lazy("toxicity, encoder"),
    "display_name_toxicity": gettext_lazy("display name: toxicity"),
    "display_name_spam": gettext_lazy("display name: spam"),
}

_LEGACY = [
    (re.compile(r"^(toxicity|spam) ([\d.]+) >= ([\d.]+)$"), "scored"),
    (re.compile(r"^(banned|suspect) word: (.+)$"), "word"),
    (re.compile(r"^(\d+) reader reports?(?:, weight ([\d.]+))?$"), "reports"),
]
_LEGACY_PLAIN = {"author banned": AUTHOR_BANNED, "pre-moderation": PREMODERATION, "clean": CLEAN}


def rounded(value: float, places: int) -> str:
    """A number rounded (Django's number_format alone truncates: 0.879 -> "0,87")."""
    return number_format(round(value, places), places)


def score(value: float | None) -> str:
    """Every score the workbench shows: two decimals in the reader's format (0,88 / 0.88)."""
    if value is None:
        return "–"
    return rounded(value, 2)


def parse_legacy(reason: str) -> tuple[str, dict]:
    """A reason written as an English sentence before the codes, as (code, params)."""
    if reason in _LEGACY_PLAIN:
        return _LEGACY_PLAIN[reason], {}
    for pattern, kind in _LEGACY:
        match = pattern.match(reason)
        if not match:
            continue
        if kind == "scored":
            head, value, threshold = match.groups()
            return f"{head}_over", {"score": float(value), "threshold": float(threshold)}
        if kind == "word":
            return f"{match.group(1)}_word", {"word": match.group(2)}
        params = {"count": int(match.group(1))}
        if match.group(2):
            params["weight"] = float(match.group(2))
        return REPORTS, params
    return reason, {}


def describe(reason: str, params: dict | None = None) -> str:
    """The reason as a sentence in the active language ('' stays '')."""
    params = params or {}
    if not params:
        reason, params = parse_legacy(reason)
    try:
        if reason in _SCORED:
            threshold = params["threshold"]
            return _SCORED[reason] % {
                "score": score(float(params["score"])),
                # The band's two edges, or one threshold.
                "threshold": " – ".join(score(float(t)) for t in threshold)
                if isinstance(threshold, list)
                else score(float(threshold)),
            }
        if reason in _WORDS:
            return _WORDS[reason] % {"word": params["word"]}
        if reason == REPORTS:
            text = _reports(int(params["count"]))
            weight = params.get("weight")
            if weight is not None and abs(float(weight) - int(params["count"])) > 1e-6:
                # Reporters whose reports moderators dismissed weigh less than one.
                text = gettext("%(reports)s, weight %(weight)s") % {
                    "reports": text,
                    "weight": rounded(float(weight), 1),
                }
            return text
    except (KeyError, TypeError, ValueError):
        return reason
    if reason in _PLAIN:
        return str(_PLAIN[reason])
    if reason in MODERATOR_REASONS:
        return str(MODERATOR_REASONS[reason])
    return reason


def _reports(count: int) -> str:
    return ngettext("%(count)d reader report", "%(count)d reader reports", count) % {"count": count}


def describe_note(note: str, params: dict | None = None) -> str:
    """The classifier's note names the model; moderators' notes are their own words."""
    params = params or {}
    version = params.get("model")
    if version is None and note.startswith("model "):
        version = note.removeprefix("model ")
    elif version is None:
        return note
    return gettext("model %(version)s") % {"version": version}


def describe_labels(labels: dict | None) -> str:
    """Sub-label scores, named and rounded: "identity hate 0,12"."""
    parts = []
    for name, value in sorted((labels or {}).items()):
        try:
            parts.append(f"{LABEL_NAMES.get(name, name)} {score(float(value))}")
        except (TypeError, ValueError):
            continue
    return " · ".join(parts)
