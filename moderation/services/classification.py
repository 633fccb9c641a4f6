"""The classifier's verdicts: claim a batch, score it, apply the site's policy."""

import logging
from collections import Counter
from collections.abc import Sequence

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from moderation import policy
from moderation.models import (
    Author,
    Classification,
    Comment,
    ModerationEvent,
    ModerationMode,
    Site,
)
from moderation.selectors import comments_by_new_authors
from moderation.services.authors import authors_apply_reject_rate
from moderation.services.webhooks import COMMENT_STATUS_EVENTS, webhook_comment_data, webhook_events_record

log = logging.getLogger(__name__)
Status = Comment.Status


def get_model():
    """The classifier model of this process (loaded once, then cached)."""
    from moderation.classifier import load_model

    return load_model(settings.VIGIE_MODEL_PATH)


def site_thresholds(site: Site, model) -> policy.Thresholds:
    defaults = model.thresholds
    return policy.Thresholds(
        toxicity_hold=_pick(site.toxicity_hold, defaults["toxicity_hold"]),
        toxicity_reject=_pick(site.toxicity_reject, defaults["toxicity_reject"]),
        spam_hold=_pick(site.spam_hold, defaults["spam_hold"]),
        spam_reject=_pick(site.spam_reject, defaults["spam_reject"]),
    )


def _pick(value: float | None, default: float) -> float:
    return default if value is None else value


def comments_classify(*, comment_ids: Sequence[int], batch_size: int | None = None) -> int:
    """Classify the given comments, and other waiting ones up to batch_size, in one go.

    The claim is a row lock taken in the same transaction that writes the verdicts
    (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's IMMEDIATE transactions serialise
    writers): a second worker skips locked rows, a comment no longer `received` is left
    alone, and a worker killed half-way rolls back, so the redelivered task starts over.
    Returns how many comments this call classified.
    """
    batch_size = batch_size or settings.VIGIE_CLASSIFY_BATCH
    model = get_model()
    with transaction.atomic():
        waiting = Comment.objects.filter(status=Status.RECEIVED).select_related("site", "article", "author")
        claimed = list(
            waiting.filter(pk__in=list(comment_ids)[:batch_size])
            .order_by("pk")
            .select_for_update(skip_locked=True, of=("self",))
        )
        room = batch_size - len(claimed)
        if room > 0:
            claimed += list(
                waiting.exclude(pk__in=[c.pk for c in claimed])
                .order_by("created_at")
                .select_for_update(skip_locked=True, of=("self",))[:room]
            )
        if not claimed:
            return 0
        # Explanations cost twice the scoring itself: _write_verdicts explains only the
        # comments a moderator will review; explanation_of() explains others on demand.
        scores = model.score([c.body for c in claimed], explain=False)
        # The verdict's time is when it is written, not when the claim began.
        _write_verdicts(claimed, scores, model, timezone.now())
    return len(claimed)


def _write_verdicts(comments: list[Comment], scores: list, model, now) -> None:
    classifications, events, webhooks = [], [], []
    rejected_by_author: Counter = Counter()
    new_authors = comments_by_new_authors(comments)  # the sites' first-comments trust rule
    for comment, score in zip(comments, scores, strict=True):
        site, article, author = comment.site, comment.article, comment.author
        verdict = policy.decide(
            toxicity=score.toxicity,
            spam=score.spam,
            thresholds=site_thresholds(site, model),
            premoderated=(
                article.moderation_mode == ModerationMode.PRE or author.status == Author.Status.PREMODERATED
            ),
            author_banned=author.status == Author.Status.BANNED,
            banned_words=site.banned_words,
            suspect_words=site.suspect_words,
            body=comment.body,
            new_author=comment.pk in new_authors,
        )
        comment.status = verdict.status
        comment.language = score.language
        comment.toxicity = score.toxicity
        comment.spam = score.spam
        comment.priority = max(score.toxicity, score.spam)
        comment.updated_at = now
        if verdict.status == Status.REJECTED:
            comment.decided_at = now
            rejected_by_author[author.pk] += 1
        classifications.append(
            Classification(
                comment=comment,
                model_version=model.version,
                toxicity=score.toxicity,
                spam=score.spam,
                language=score.language,
                labels=score.labels,
                explanation=model.explain(comment.body) if verdict.status != Status.PUBLISHED else {},
                created_at=now,
            )
        )
        events.append(
            ModerationEvent(
                comment=comment,
                actor=ModerationEvent.Actor.CLASSIFIER,
                action=ModerationEvent.Action.CLASSIFY,
                from_status=Status.RECEIVED,
                to_status=verdict.status,
                reason=verdict.reason[:200],
                reason_params={**verdict.params, "model": model.version},
                created_at=now,
            )
        )
        if verdict.status in COMMENT_STATUS_EVENTS:  # a status sites are told about
            webhooks.append(
                (
                    site,
                    COMMENT_STATUS_EVENTS[verdict.status],
                    webhook_comment_data(
                        comment, reason=verdict.reason[:200], actor=ModerationEvent.Actor.CLASSIFIER
                    ),
                )
            )
    _update_classified(comments)
    Classification.objects.bulk_create(classifications)
    ModerationEvent.objects.bulk_create(events)
    webhook_events_record(webhooks)
    if rejected_by_author:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {Author._meta.db_table} SET rejected_count = rejected_count + %s WHERE id = %s",  # noqa: S608
                [(count, author_id) for author_id, count in sorted(rejected_by_author.items())],
            )
        # The sites' reject-rate trust rule, for the authors of sites that set one.
        ruled = {c.author_id for c in comments if c.site.premoderate_reject_rate is not None}
        authors_apply_reject_rate(author_ids=sorted(ruled & set(rejected_by_author)))


def explanation_of(classification: Classification, body: str) -> dict:
    """The n-grams behind a classification's scores, computed now if the worker skipped them.

    Published comments are not explained when classified (nobody reviews most of them);
    a moderator who opens one, e.g. once readers report it, gets the same explanation the
    worker would have stored, as long as the model that scored it is still the one loaded.
    """
    from moderation.classifier import ModelError

    if classification.explanation:
        return classification.explanation
    try:
        model = get_model()
    except ModelError:  # a read must not fail because the model is missing
        return {}
    if model.version != classification.model_version:
        return {}
    return model.explain(body)


_CLASSIFIED_FIELDS = ("status", "language", "toxicity", "spam", "priority", "updated_at", "decided_at")


def _update_classified(comments: list[Comment]) -> None:
    """Write a batch's verdicts with one prepared UPDATE sent for every row (executemany).

    Django's bulk_update builds a CASE expression per field and row, which cost more than
    scoring the batch; psycopg sends executemany in one pipeline, SQLite runs it in C. The
    rows are locked by the claim, and `status = received` keeps the write conditional anyway.
    """
    fields = [Comment._meta.get_field(name) for name in _CLASSIFIED_FIELDS]
    assignments = ", ".join(f"{f.column} = %s" for f in fields)
    sql = (
        f"UPDATE {Comment._meta.db_table} SET {assignments} "  # noqa: S608 - names from the model
        f"WHERE id = %s AND status = %s"
    )
    rows = [
        (*(f.get_db_prep_save(getattr(c, f.attname), connection) for f in fields), c.pk, Status.RECEIVED)
        for c in comments
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
        if cursor.rowcount not in (-1, len(rows)):
            # Cannot happen while the claim holds the rows; if it did, roll the batch back
            # (the task retries) rather than write a second verdict for a comment.
            raise DatabaseError(f"classified {cursor.rowcount} of {len(rows)} claimed comments")
