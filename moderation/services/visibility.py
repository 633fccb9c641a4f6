"""What readers see under an article changed: the article's `visible_version` moves on.

The readers' list (and GET /comments/{id}) answer with a weak ETag made of that counter, and
``If-None-Match`` with it gets a 304 without the page being built. So every service that
changes what a reader can see (a comment published, approved, rejected or held after being
visible, restored, its text edited, deleted) calls ``articles_visible_bump``
in its own transaction; nothing else does (a held comment arriving changes nothing for readers).

    from moderation import services
    services.articles_visible_bump(comment.article_id)            # one article
    services.articles_visible_bump(article_ids=[a.pk, b.pk])      # several, one UPDATE
"""

from collections.abc import Iterable

from django.db.models import F

from moderation.models import Article, Comment


def articles_visible_bump(article_id: int | None = None, *, article_ids: Iterable[int] = ()) -> int:
    """Move the visible version of these articles on (one UPDATE); returns the rows bumped.

    Call it inside the transaction of the change, so that a reader never sees the new ETag
    with the old page or the reverse. (PostgreSQL's primary-key scan of the sorted id list
    takes the rows in id order: two batches bumping the same articles wait, no deadlock.)
    """
    ids = sorted({*article_ids, *([article_id] if article_id is not None else [])})
    if not ids:
        return 0
    return Article.objects.filter(pk__in=ids).update(visible_version=F("visible_version") + 1)


def visibility_changes(from_status: str, to_status: str) -> bool:
    """Does a move between these statuses change what readers see? (In or out of the list;
    published -> approved does not: readers see the same comment.)"""
    return (from_status in Comment.VISIBLE) != (to_status in Comment.VISIBLE)
