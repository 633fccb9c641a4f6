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
from moderation.selectors import article_for_site, author_for_site
from moderation.services.visibility import articles_visible_bump_for_author

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
    article = article_for_site(site=site, external_id=article_external_id)
    if article.closed:
        raise ArticleClosed("This article is closed to new comments.")
    parent = None
    if parent_id is not None:
        parent = Comment.objects.filter(pk=parent_id, article=article).first()
        if parent is None:
            raise VigieError(
                "The parent comment does not exist under this article.",
                fields={"parent_id": ["No such comment under this article."]},
            )
    author, created = author_for_site(site=site, external_id=author_external_id), False
    if author is None:  # a new reader (get_or_create copes with two first posts at once)
        author, created = Author.objects.get_or_create(
            site=site, external_id=author_external_id, defaults={"name": author_name}
        )
    if not created and author.name != author_name:
        Author.objects.filter(pk=author.pk).update(name=author_name)
        # Readers see the author's name on their visible comments: those lists changed.
        articles_visible_bump_for_author(author_id=author.pk)
    comment = Comment.objects.create(
        site=site,
        article=article,
        author=author,
        parent=parent,
        root=(parent.root or parent) if parent else None,
        body=body,
        status=Status.RECEIVED,
        idempotency_key=idempotency_key or None,
    )
    transaction.on_commit(lambda: enqueue_classification([comment.pk]))
    return comment


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


def comments_sweep_received(*, older_than_seconds: int | None = None, limit: int = 5000) -> int:
    """Re-enqueue comments that waited in `received` too long (lost task, broker outage)."""
    age = older_than_seconds if older_than_seconds is not None else settings.VIGIE_SWEEP_AFTER_SECONDS
    cutoff = timezone.now() - timedelta(seconds=age)
    ids = list(
        Comment.objects.filter(status=Status.RECEIVED, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    if ids and enqueue_classification(ids):
        log.info("sweep re-enqueued %d waiting comment(s)", len(ids))
        return len(ids)
    return 0
