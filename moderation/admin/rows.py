"""What a queue row says at a glance: why the comment waits, who wrote it, how old it is.

``attach`` reads the extra facts for one page of the list in a few queries
(``selectors.queue_page_context``); the cells below render them, escaped, in the reader's
language. The change page's decision panel shows the same "why" line.
"""

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext

from moderation import reasons, selectors
from moderation.admin.highlight import top_words
from moderation.models import Comment

# A reason that is not the classifier's or the readers' own (a moderator's) is not "why it waits".
_CHIP = '<span class="vigie-why vigie-why-{}">{}</span>'


def attach(comments: list[Comment]) -> None:
    """Give each comment of the page its ``vigie_row`` (see selectors.queue_page_context)."""
    context = selectors.queue_page_context(comments)
    for comment in comments:
        comment.vigie_row = context[comment.pk]


def _row(comment: Comment) -> dict:
    if not hasattr(comment, "vigie_row"):
        attach([comment])
    return comment.vigie_row


def why_items(comment: Comment) -> list[tuple[str, str]]:
    """(kind, sentence) for each reason a moderator should see: the classifier's or the
    trust rules' reason with the words that drove the score, the readers' reports, an open
    notice or appeal, a second opinion asked."""
    row = _row(comment)
    items = []
    if row["reason"]:
        text = reasons.describe(row["reason"], row["reason_params"])
        words = top_words(row["explanation"], row["scores"])
        if words and row["reason"] in _SCORE_REASONS:
            text = gettext("%(reason)s: %(words)s") % {
                "reason": text,
                "words": ", ".join(f"« {w} »" for w in words),
            }
        items.append((_kind(row["reason"]), text))
    if comment.open_reports and row["reason"] != reasons.REPORTS:
        items.append(
            (
                "reports",
                ngettext("%(count)d open report", "%(count)d open reports", comment.open_reports)
                % {"count": comment.open_reports},
            )
        )
    if row["notice"]:
        items.append(("notice", gettext("notice of illegal content")))
    if row["appeal"]:
        items.append(("appeal", gettext("the author contests the decision")))
    if row["second_opinion"]:
        items.append(("second", gettext("second opinion asked (encoder)")))
    return items


_SCORE_REASONS = {
    reasons.TOXICITY_HOLD,
    reasons.TOXICITY_REJECT,
    reasons.SPAM_HOLD,
    reasons.SPAM_REJECT,
    reasons.SECOND_OPINION,
    "toxicity_over",
    "spam_over",
}


def _kind(reason: str) -> str:
    if reason in _SCORE_REASONS:
        return "score"
    if reason in (reasons.BANNED_WORD, reasons.SUSPECT_WORD):
        return "word"
    if reason in (reasons.PREMODERATION, reasons.NEW_AUTHOR, reasons.REJECT_RATE):
        return "trust"
    if reason == reasons.REPORTS:
        return "reports"
    return "other"


def why_cell(comment: Comment) -> SafeString:
    items = why_items(comment)
    if not items:
        return mark_safe('<span class="vigie-muted">–</span>')  # a constant, nothing to escape
    return format_html_join("", _CHIP, items)


def record_text(record: dict[str, int]) -> str:
    """ "3 publiés · 1 retenu · 2 rejetés": the author's comments on the site."""
    return " · ".join(
        [
            ngettext("%(n)d published", "%(n)d published", record["published"]) % {"n": record["published"]},
            ngettext("%(n)d held", "%(n)d held", record["held"]) % {"n": record["held"]},
            ngettext("%(n)d rejected", "%(n)d rejected", record["rejected"]) % {"n": record["rejected"]},
        ]
    )


def author_cell(comment: Comment, author_url: str) -> SafeString:
    author = comment.author
    status = "" if author.status == author.Status.NORMAL else author.get_status_display()
    return format_html(
        '<a href="{}" class="vigie-author-name">{}</a>{}<br><span class="vigie-record">{}</span>',
        author_url,
        comment.author_name or author.name,  # the name it was posted under
        format_html(' <span class="vigie-status vigie-author-{}">{}</span>', author.status, status)
        if status
        else "",
        record_text(_row(comment)["record"]),
    )


def age_cell(comment: Comment) -> SafeString:
    return format_html(
        '<span class="vigie-age" title="{}">{}</span>',
        timezone.localtime(comment.created_at).strftime("%d/%m/%Y %H:%M"),
        timesince(comment.created_at, depth=1),
    )


def body_cell(comment: Comment, url: str, shown: int = 240) -> SafeString:
    """The whole text: clamped to a few lines (all of it on hover), and for a long one an
    "expand" that opens it in place."""
    body = comment.body
    if len(body) <= shown:
        return format_html('<a href="{}" class="vigie-text" title="{}">{}</a>', url, body, body)
    return format_html(
        '<a href="{}" class="vigie-text" title="{}">{}…</a>'
        '<details class="vigie-expand"><summary>{}</summary><div class="vigie-full">{}</div></details>',
        url,
        body,
        body[:shown].rstrip(),
        gettext("whole text (%(n)d characters)") % {"n": len(body)},
        body,
    )


def article_cell(comment: Comment) -> SafeString:
    title = comment.article.title or comment.article.external_id
    return format_html('<span class="vigie-ellipsis" title="{}">{}</span>', title, title)


def score_cell(comment: Comment) -> SafeString:
    """One score (the queue's order: the higher of toxicity and spam, plus the reports'
    weight), with both heads in its tooltip."""
    return format_html(
        '<span class="vigie-score-cell" title="{}">{}</span>',
        gettext("toxicity %(toxicity)s · spam %(spam)s")
        % {"toxicity": reasons.score(comment.toxicity), "spam": reasons.score(comment.spam)},
        reasons.score(comment.priority),
    )
