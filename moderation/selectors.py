"""Every non-trivial read: what readers see, what moderators review, the numbers."""

import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from moderation.errors import NotFound
from moderation.models import (
    Article,
    Author,
    Comment,
    ModerationEvent,
    RejectReason,
    Report,
    Site,
    WebhookEndpoint,
)

Status = Comment.Status

QUEUES = ("held", "reported", "received", "published", "approved", "rejected")


def first_by_sql(model, sql: str, *params):
    """The first row of a fixed SELECT as a model instance, or None.

    For the lookups every POST makes: the ORM spends more CPU building these statements
    than PostgreSQL spends answering them (bench/RESULTS.md, "POST path").
    """
    return next(iter(model.objects.raw(sql, params)), None)


_SITE_BY_KEY_HASH = f"SELECT * FROM {Site._meta.db_table} WHERE api_key_hash = %s"  # noqa: S608


def site_by_api_key_hash(key_hash: str) -> Site | None:
    # Still one query per request, so a revoked or rotated key stops working at once.
    return first_by_sql(Site, _SITE_BY_KEY_HASH, key_hash)


# The article and author lookups of every POST, as fixed statements too.
_ARTICLE_BY_EXTERNAL_ID = f"SELECT * FROM {Article._meta.db_table} WHERE site_id = %s AND external_id = %s"  # noqa: S608
_AUTHOR_BY_EXTERNAL_ID = f"SELECT * FROM {Author._meta.db_table} WHERE site_id = %s AND external_id = %s"  # noqa: S608


def article_for_site(*, site: Site, external_id: str) -> Article:
    article = first_by_sql(Article, _ARTICLE_BY_EXTERNAL_ID, site.pk, external_id)
    if article is None:
        raise NotFound(f"No article {external_id!r} on this site.")
    return article


def author_for_site(*, site: Site, external_id: str) -> Author | None:
    return first_by_sql(Author, _AUTHOR_BY_EXTERNAL_ID, site.pk, external_id)


def comment_for_site(*, site: Site, comment_id: int) -> Comment:
    comment = Comment.objects.select_related("article", "author").filter(pk=comment_id, site=site).first()
    if comment is None:
        raise NotFound(f"No comment {comment_id} on this site.")
    return comment


def visible_roots(*, article: Article) -> QuerySet[Comment]:
    """The top-level comments readers see under an article (the page is cut by the caller)."""
    return Comment.objects.filter(
        article=article, parent__isnull=True, status__in=Comment.VISIBLE
    ).select_related("author")


def visible_replies_query(*, roots: list[Comment]) -> QuerySet[Comment]:
    """The visible replies under the given roots, oldest first (one query)."""
    return (
        Comment.objects.filter(root__in=roots, status__in=Comment.VISIBLE)
        .select_related("author")
        .order_by("created_at", "id")
    )


def visible_replies(*, roots: list[Comment]) -> dict[int, list[Comment]]:
    """Every visible reply under the given roots, as parent id -> replies, oldest first.

    A reply whose parent is not visible is not shown either: its thread is cut there.
    """
    if not roots:
        return {}
    by_parent: dict[int, list[Comment]] = defaultdict(list)
    for reply in visible_replies_query(roots=roots):
        by_parent[reply.parent_id].append(reply)
    return by_parent


def can_moderate(user) -> bool:
    """Staff with the moderation permission: who may use the moderator API and workbench."""
    return bool(
        user
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and user.has_perm("moderation.moderate_comment")
    )


def moderator_sites(user) -> QuerySet[Site]:
    """The sites a moderator works on: all for a superuser, else the ones they are on."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Site.objects.none()
    if user.is_superuser:
        return Site.objects.all()
    return Site.objects.filter(moderators=user)


def can_manage_sites(user) -> bool:
    """Staff who may tune sites in the admin: superusers, and holders of manage_site or
    change_site, for the sites they moderate only (managed_sites)."""
    return bool(
        user
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and (
            user.is_superuser
            or user.has_perm("moderation.manage_site")
            or user.has_perm("moderation.change_site")
        )
    )


def managed_sites(user) -> QuerySet[Site]:
    """The sites ``user`` may tune: all for a superuser, their own for a site manager."""
    if not can_manage_sites(user):
        return Site.objects.none()
    return moderator_sites(user)


def site_moderators(user) -> QuerySet:
    """The moderators of the sites ``user`` moderates: the admin's "moderator" filter offers
    these and no one else (not another site's staff, not the superuser unless on a site)."""
    return (
        get_user_model()
        .objects.filter(moderated_sites__in=moderator_sites(user))
        .distinct()
        .order_by("username")
    )


def in_queue(comments: QuerySet[Comment], queue: str) -> QuerySet[Comment]:
    """The comments of one queue: a status, or "reported" (visible with open reports).

    Approved comments stay visible when readers report them (a moderator's approval stands),
    so their reports must reach a moderator here.
    """
    if queue == "reported":
        return comments.filter(status__in=Comment.VISIBLE, open_reports__gt=0)
    return comments.filter(status=queue)


def review_queue(*, user, queue: str) -> QuerySet[Comment]:
    comments = Comment.objects.filter(site__in=moderator_sites(user)).select_related(
        "site", "article", "author"
    )
    return in_queue(comments, queue)


def queue_counts(*, user) -> dict[str, int]:
    base = Comment.objects.filter(site__in=moderator_sites(user))
    counts = dict.fromkeys(QUEUES, 0)
    for row in base.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    counts["reported"] = in_queue(base, "reported").count()
    return counts


def comment_for_moderator(*, user, comment_id: int) -> Comment:
    comment = (
        Comment.objects.filter(pk=comment_id, site__in=moderator_sites(user))
        .select_related("site", "article", "author", "parent")
        .prefetch_related(
            Prefetch("classifications"),
            Prefetch("reports", queryset=Report.objects.order_by("created_at")),
            Prefetch(
                "events",
                queryset=ModerationEvent.objects.select_related("moderator").order_by("created_at", "id"),
            ),
        )
        .first()
    )
    if comment is None:
        raise NotFound(f"No comment {comment_id}.")
    return comment


def author_recent_comments(
    *, author: Author, exclude_id: int | None = None, limit: int = 10
) -> list[Comment]:
    comments = Comment.objects.filter(author=author).order_by("-created_at")
    if exclude_id is not None:
        comments = comments.exclude(pk=exclude_id)
    return list(comments[:limit])


def moderation_stats(*, user, days: int = 30, site_id: int | None = None) -> dict:
    """Counts per status, per day and status, and how long comments waited for a decision."""
    sites = moderator_sites(user)
    if site_id is not None:
        sites = sites.filter(pk=site_id)
    comments = Comment.objects.filter(site__in=sites)
    since = timezone.now() - timedelta(days=days)
    per_status = dict.fromkeys(Status.values, 0)
    for row in comments.values("status").annotate(n=Count("id")).order_by():
        per_status[row["status"]] = row["n"]
    per_day: dict[str, dict[str, int]] = defaultdict(
        lambda: {**dict.fromkeys(Status.values, 0), "classified": 0, "held_on_arrival": 0}
    )
    rows = (
        comments.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day", "status")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    for row in rows:
        per_day[row["day"].isoformat()][row["status"]] = row["n"]
    # The held rate is what the classifier sent to moderators when comments arrived: it
    # does not fall when a moderator later approves or rejects them.
    arrivals = (
        ModerationEvent.objects.filter(
            comment__site__in=sites, action=ModerationEvent.Action.CLASSIFY, created_at__gte=since
        )
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(classified=Count("id"), held=Count("id", filter=Q(to_status=Status.HELD)))
        .order_by()
    )
    for row in arrivals:
        counts = per_day[row["day"].isoformat()]
        counts["classified"] = row["classified"]
        counts["held_on_arrival"] = row["held"]
    classified_total = sum(counts["classified"] for counts in per_day.values())
    held_total = sum(counts["held_on_arrival"] for counts in per_day.values())
    waits = [
        (event.created_at - event.comment.created_at).total_seconds()
        for event in ModerationEvent.objects.filter(
            comment__site__in=sites,
            actor=ModerationEvent.Actor.MODERATOR,
            created_at__gte=since,
            action__in=[ModerationEvent.Action.APPROVE, ModerationEvent.Action.REJECT],
        )
        .select_related("comment")
        .only("created_at", "comment__created_at")[:50000]
    ]
    decided = per_status[Status.APPROVED] + per_status[Status.REJECTED]
    return {
        "per_status": per_status,
        "per_day": [{"day": day, **counts} for day, counts in sorted(per_day.items())],
        "held_rate": round(held_total / classified_total, 4) if classified_total else 0.0,
        "moderator_decisions": len(waits),
        "decided": decided,
        "time_to_decision_seconds": {
            "median": round(statistics.median(waits), 1) if waits else None,
            "p90": round(statistics.quantiles(waits, n=10)[-1], 1) if len(waits) >= 2 else None,
        },
        "days": days,
    }


# Reject reasons that say something about toxicity or spam; the others (off topic,
# personal data...) are not labels for either head.
_TOXIC_REASONS = {RejectReason.TOXIC, RejectReason.HATE, RejectReason.THREAT}


def decision_labels() -> Iterator[tuple[str, str, int | None, int | None]]:
    """Moderator decisions as training rows: (text, language, toxic, spam).

    Approved comments are neither toxic nor spam; rejected ones are labelled by the reason
    the moderator gave, and None means "no label for that head".
    """
    last_decisions = (
        ModerationEvent.objects.filter(
            actor=ModerationEvent.Actor.MODERATOR,
            action__in=[ModerationEvent.Action.APPROVE, ModerationEvent.Action.REJECT],
            comment__status=F("to_status"),
        )
        .select_related("comment")
        .order_by("comment_id", "-created_at", "-id")
    )
    seen: set[int] = set()
    for event in last_decisions.iterator(chunk_size=2000):
        if event.comment_id in seen:
            continue
        seen.add(event.comment_id)
        text, language = event.comment.body, event.comment.language or "other"
        if event.action == ModerationEvent.Action.APPROVE:
            yield text, language, 0, 0
        elif event.reason in _TOXIC_REASONS:
            yield text, language, 1, None
        elif event.reason == RejectReason.SPAM:
            yield text, language, None, 1


def webhook_endpoints_for_site(*, site: Site) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(site=site).order_by("id")
