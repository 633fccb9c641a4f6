"""Comments as the site sends them: store, enqueue, sweep."""

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from moderation.errors import ArticleClosed, Conflict, VigieError
from moderation.models import (
    Author,
    Comment,
    Site,
)
from moderation.selectors import article_and_author_for_site

log = logging.getLogger(__name__)
Status = Comment.Status


def comment_create(
    *,
    site: Site,
    article_external_id: str,
    author_external_id: str,
    author_name: str,
    body: str,
    parent_id: int | None = None,
    idempotency_key: str | None = None,
) -> tuple[Comment, bool]:
    """Store a reader's comment as `received` and queue it for classification on commit.

    Returns (comment, created). A retried request with the same Idempotency-Key returns the
    comment stored the first time instead of posting twice.
    """
    if idempotency_key:
        existing = _comment_by_idempotency_key(site, idempotency_key)
        if existing is not None:
            return _same_request_or_conflict(existing, article_external_id, author_external_id, body), False
    try:
        with transaction.atomic():
            comment = _comment_insert(
                site=site,
                article_external_id=article_external_id,
                author_external_id=author_external_id,
                author_name=author_name,
                body=body,
                parent_id=parent_id,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # Two concurrent retries with one key: the other one won, answer with its comment.
        existing = idempotency_key and _comment_by_idempotency_key(site, idempotency_key)
        if not existing:
            raise
        return _same_request_or_conflict(existing, article_external_id, author_external_id, body), False
    return comment, True


def _comment_insert(
    *,
    site: Site,
    article_external_id: str,
    author_external_id: str,
    author_name: str,
    body: str,
    parent_id: int | None,
    idempotency_key: str | None,
) -> Comment:
    article, author = article_and_author_for_site(
        site=site, article_external_id=article_external_id, author_external_id=author_external_id
    )
    article.site = site  # the caller's, already loaded (closes_at reads its default)
    if article.closed:
        raise ArticleClosed("This article is closed to new comments.")
    if article.is_closed():
        raise ArticleClosed(
            f"This article stopped taking comments on {article.closes_at.isoformat()} (close_after_days)."
        )
    parent = None
    if parent_id is not None:
        parent = Comment.objects.filter(pk=parent_id, article=article).first()
        if parent is None:
            raise VigieError(
                "The parent comment does not exist under this article.",
                fields={"parent_id": ["No such comment under this article."]},
            )
        if parent.deleted_at is not None:
            raise VigieError(
                "The parent comment was deleted by its author.",
                fields={"parent_id": ["This comment was deleted."]},
            )
        parent = _deepest_allowed(parent)
    if author is None:  # a new reader (get_or_create copes with two first posts at once)
        author, _ = Author.objects.get_or_create(
            site=site, external_id=author_external_id, defaults={"name": author_name}
        )
    # The name is the comment's; the author's current name changes only when a comment of
    # theirs is accepted (authors_accept_names), so a rejected post cannot rename older ones.
    comment = Comment.objects.create(
        site=site,
        article=article,
        author=author,
        author_name=author_name,
        parent=parent,
        root=(parent.root or parent) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        body=body,
        status=Status.RECEIVED,
        idempotency_key=idempotency_key or None,
    )
    transaction.on_commit(lambda: enqueue_classification([comment.pk]))
    return comment


def _deepest_allowed(parent: Comment) -> Comment:
    """The parent a reply attaches to: the one asked for, or its deepest ancestor from which a
    reply stays within VIGIE_MAX_REPLY_DEPTH (one query per level above it, only for a
    thread already deeper than the setting: a new one never is)."""
    while parent.depth >= settings.VIGIE_MAX_REPLY_DEPTH and parent.parent_id is not None:
        parent = Comment.objects.get(pk=parent.parent_id)
    return parent


def _comment_by_idempotency_key(site: Site, key: str) -> Comment | None:
    return Comment.objects.select_related("article", "author").filter(site=site, idempotency_key=key).first()


def _same_request_or_conflict(
    comment: Comment, article_external_id: str, author_external_id: str, body: str
) -> Comment:
    same = (
        comment.article.external_id == article_external_id
        and comment.author.external_id == author_external_id
        and comment.body == body
    )
    if not same:
        raise Conflict(
            "This Idempotency-Key was already used for a different comment.",
            code="idempotency_key_reused",
        )
    return comment


def enqueue_classification(comment_ids: Sequence[int]) -> bool:
    """Send the classification task; a broker outage is logged, not raised.

    The comment is already committed as `received`, so the periodic sweep picks it up
    once the broker is back: the site's request must not fail because Redis is down.
    """
    from moderation.tasks import classify_comment

    try:
        for comment_id in comment_ids:
            classify_comment.delay(comment_id)
    except Exception:  # noqa: BLE001 - any broker error; the sweep is the safety net
        log.warning("broker unavailable, %d comment(s) left for the sweep", len(comment_ids), exc_info=True)
        return False
    return True


def sweep_waiting(status: str, enqueue, *, since: str, what: str,
                  older_than_seconds: int | None = None, limit: int = 5000) -> int:
    """Re-enqueue the comments in ``status`` whose ``since`` date is older than the sweep's
    age (a lost task, a broker outage); the oldest first, ``limit`` at most."""
    age = older_than_seconds if older_than_seconds is not None else settings.VIGIE_SWEEP_AFTER_SECONDS
    cutoff = timezone.now() - timedelta(seconds=age)
    ids = list(
        Comment.objects.filter(status=status, **{f"{since}__lt": cutoff})
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    if ids and enqueue(ids):
        log.info("sweep re-enqueued %d comment(s) %s", len(ids), what)
        return len(ids)
    return 0


def comments_sweep_received(*, older_than_seconds: int | None = None, limit: int = 5000) -> int:
    """Re-enqueue comments that waited in `received` too long (lost task, broker outage)."""
    return sweep_waiting(Status.RECEIVED, enqueue_classification, since="created_at",
                         what="waiting for classification",
                         older_than_seconds=older_than_seconds, limit=limit)
