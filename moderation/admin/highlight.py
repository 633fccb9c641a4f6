"""The words that drove a score, highlighted in the escaped comment body."""

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from moderation.models import (
    Classification,
    Comment,
)

# The explanation lists every n-gram that pushed a score up, however little. Only the ones
# that matter are highlighted: a head scored at least SCORE_FLOOR, and an n-gram adding at
# least WEIGHT_FLOOR to its logit (a clean comment then shows no highlight at all).
SCORE_FLOOR = 0.25
WEIGHT_FLOOR = 0.5


def explanation_spans(
    body: str, explanation: dict | None, scores: dict[str, float] | None = None
) -> list[tuple[int, int, list[str], list[str]]]:
    """The explanation's n-gram spans merged where they overlap: (start, end, heads, ngrams).

    Offsets come from the classifier; anything out of the body's range is ignored rather than
    trusted.
    """
    spans = []
    for head in ("toxicity", "spam", "personal_data"):
        # Personal data found is shown whatever the scores (it is why the comment was held).
        if head != "personal_data" and scores is not None and (scores.get(head) or 0.0) < SCORE_FLOOR:
            continue
        for item in (explanation or {}).get(head) or []:
            try:
                start, end = int(item["start"]), int(item["end"])
                weight = float(item.get("weight", WEIGHT_FLOOR))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
            if 0 <= start < end <= len(body) and weight >= WEIGHT_FLOOR:
                spans.append((start, end, head, str(item.get("ngram", body[start:end]))))
    spans.sort()
    merged: list[list] = []
    for start, end, head, ngram in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            if head not in last[2]:
                last[2].append(head)
            if ngram not in last[3]:
                last[3].append(ngram)
        else:
            merged.append([start, end, [head], [ngram]])
    return [tuple(m) for m in merged]


def highlight(body: str, explanation: dict | None, scores: dict[str, float] | None = None) -> SafeString:
    """The body, escaped, with the n-grams that drove a score in <mark> elements."""
    parts, position = [], 0
    for start, end, heads, ngrams in explanation_spans(body, explanation, scores):
        parts.append(escape(body[position:start]))
        parts.append(
            format_html(
                '<mark class="vigie-ngram {}" title="{}">{}</mark>',
                " ".join(f"vigie-{h}" for h in heads),
                ", ".join(ngrams),
                body[start:end],
            )
        )
        position = end
    parts.append(escape(body[position:]))
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped


def latest_classification(comment: Comment) -> Classification | None:
    classifications = list(comment.classifications.all())
    return max(classifications, key=lambda c: (c.created_at, c.pk)) if classifications else None


def top_words(explanation: dict | None, scores: dict[str, float] | None, limit: int = 3) -> list[str]:
    """The few n-grams that pushed the scores most (those ``highlight`` marks), strongest first."""
    weighted: dict[str, float] = {}
    for head in ("toxicity", "spam"):
        if scores is not None and (scores.get(head) or 0.0) < SCORE_FLOOR:
            continue
        for item in (explanation or {}).get(head) or []:
            try:
                ngram, weight = str(item["ngram"]).strip(), float(item.get("weight", WEIGHT_FLOOR))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
            if ngram and weight >= WEIGHT_FLOOR:
                weighted[ngram] = max(weighted.get(ngram, 0.0), weight)
    return sorted(weighted, key=lambda n: -weighted[n])[:limit]
