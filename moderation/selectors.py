"""Every non-trivial read: what readers see, what moderators review, the numbers."""

import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from moderation.errors import NotFound
from moderation.models import (
    Appeal,
    Article,
    Author,
    AuthorNote,
    Comment,
    ModerationEvent,
    Notice,
    RejectReason,
    Report,
    Site,
    WebhookEndpoint,
)
from moderation.reason_codes import reason_code

Status = Comment.Status

QUEUES = ("held", "reported", "received", "published", "approved", "rejected", "notices", "appeals")


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


# The readers' list as rows (values()), not model instances: building a Comment and its
# Author for each of a page's 100-odd comments cost more than the queries (bench/reads.py).
# moderation.api.shapes.visible_comment turns one row into the JSON; add a column here and
# there together.
VISIBLE_ROW_FIELDS = ("id", "parent_id", "body", "created_at", "author__external_id", "author__name")


def visible_root_rows(*, article: Article) -> QuerySet:
    """visible_roots as rows of VISIBLE_ROW_FIELDS (the page is cut by the caller)."""
    return Comment.objects.filter(article=article, parent__isnull=True, status__in=Comment.VISIBLE).values(
        *VISIBLE_ROW_FIELDS
    )


def visible_reply_rows(*, root_ids: list[int]) -> dict[int, list[dict]]:
    """visible_replies as rows: parent id -> its visible replies, oldest first (one query)."""
    if not root_ids:
        return {}
    by_parent: dict[int, list[dict]] = defaultdict(list)
    for row in visible_reply_rows_query(root_ids=root_ids):
        by_parent[row["parent_id"]].append(row)
    return by_parent


def visible_reply_rows_query(*, root_ids: list[int]) -> QuerySet:
    return (
        Comment.objects.filter(root_id__in=root_ids, status__in=Comment.VISIBLE)
        .order_by("created_at", "id")
        .values(*VISIBLE_ROW_FIELDS)
    )


def can_moderate(user) -> bool:
    """Staff with the moderation permission: who may use the moderator API and workbench."""
    if not (user and getattr(user, "is_authenticated", False) and user.is_active and user.is_staff):
        return False
    if user.is_superuser or hasattr(user, "_perm_cache"):  # Django's answer is at hand
        return user.has_perm("moderation.moderate_comment")
    # One EXISTS instead of has_perm's two queries loading every permission of the user and
    # of their groups (each moderator API request is a new user object: bench/reads.py).
    cached = getattr(user, "_vigie_can_moderate", None)
    if cached is None:
        cached = user._vigie_can_moderate = (
            Permission.objects.filter(codename="moderate_comment", content_type__app_label="moderation")
            .filter(Q(user=user) | Q(group__user=user))
            .exists()
        )
    return cached


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
    if queue == "received":  # waiting for either stage of the classifier
        return comments.filter(status__in=Comment.WAITING)
    if queue == "notices":  # a notice of illegal content waits for a decision
        return comments.filter(
            Exists(Notice.objects.filter(comment=OuterRef("pk"), status=Notice.Status.OPEN))
        )
    if queue == "appeals":  # the author contests a restriction
        return comments.filter(
            Exists(Appeal.objects.filter(comment=OuterRef("pk"), status=Appeal.Status.OPEN))
        )
    return comments.filter(status=queue)


def review_queue(*, user, queue: str) -> QuerySet[Comment]:
    comments = Comment.objects.filter(site__in=moderator_sites(user)).select_related(
        "site", "article", "author"
    )
    return in_queue(comments, queue)


# A queue page as rows: moderation.api.shapes.queue_item turns one into the JSON.
QUEUE_ROW_FIELDS = (
    "id",
    "parent_id",
    "body",
    "status",
    "language",
    "toxicity",
    "spam",
    "priority",
    "open_reports",
    "report_weight",
    "created_at",
    "decided_at",
    "site__name",
    "article__external_id",
    "article__url",
    "article__title",
    "article__language",
    "article__moderation_mode",
    "article__closed",
    "article__created_at",
    "article__updated_at",
    "author__id",
    "author__external_id",
    "author__name",
    "author__status",
    "author__approved_count",
    "author__rejected_count",
)


def review_queue_rows(*, user, queue: str) -> QuerySet:
    """review_queue as rows of QUEUE_ROW_FIELDS, with its sites, articles and authors joined."""
    comments = Comment.objects.filter(site__in=moderator_sites(user))
    return in_queue(comments, queue).values(*QUEUE_ROW_FIELDS)


def queue_counts(*, user) -> dict[str, int]:
    base = Comment.objects.filter(site__in=moderator_sites(user))
    counts = dict.fromkeys(QUEUES, 0)
    for row in base.values("status").annotate(n=Count("id")).order_by():
        queue = "received" if row["status"] == Status.SCREENING else row["status"]
        counts[queue] += row["n"]
    for queue in ("reported", "notices", "appeals"):
        counts[queue] = in_queue(base, queue).count()
    return counts


def comment_for_moderator(*, user, comment_id: int) -> Comment:
    comment = (
        Comment.objects.filter(pk=comment_id, site__in=moderator_sites(user))
        .select_related("site", "article", "author", "parent")
        .prefetch_related(
            Prefetch("classifications"),
            Prefetch("reports", queryset=Report.objects.order_by("created_at")),
            Prefetch("notices", queryset=Notice.objects.order_by("received_at")),
            Prefetch(
                "appeals", queryset=Appeal.objects.select_related("contested_by").order_by("created_at")
            ),
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


def comments_by_new_authors(comments: list[Comment]) -> set[int]:
    """The ones among these comments posted within their author's first N (N: the site's rule)."""
    ruled = {c.pk: c.site.premoderate_first_comments for c in comments if c.site.premoderate_first_comments}
    if not ruled:
        return set()
    earlier = (
        Comment.objects.filter(author=OuterRef("author_id"), pk__lt=OuterRef("pk"))
        .order_by()
        .values("author")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = (
        Comment.objects.filter(pk__in=list(ruled))
        .annotate(earlier=Coalesce(Subquery(earlier), 0))
        .values_list("pk", "earlier")
    )
    return {pk for pk, n in rows if n < ruled[pk]}


def author_for_moderator(*, user, author_id: int) -> Author:
    author = Author.objects.filter(pk=author_id, site__in=moderator_sites(user)).first()
    if author is None:
        raise NotFound(f"No author {author_id}.")
    return author


def author_notes(*, author: Author, limit: int = 20) -> list:
    return list(
        AuthorNote.objects.filter(author=author).select_related("moderator").order_by("-created_at")[:limit]
    )


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


def transparency_report(*, user, date_from, date_to) -> dict:
    """What the DSA asks a host to publish (art. 15, 24), per site, over [date_from, date_to].

    Notices by ground and outcome; restrictions (holds and rejections) by reason and by who
    made them (automated: the classifier, the readers, the trust rules; human: moderators);
    moderators' approvals; median time from a comment's arrival to a moderator's decision and
    from a notice to its decision; appeals by outcome, reversals being the upheld ones.
    """
    start = timezone.make_aware(datetime.combine(date_from, time.min))
    end = timezone.make_aware(datetime.combine(date_to + timedelta(days=1), time.min))
    sites = list(moderator_sites(user).order_by("name"))
    report = {"from": date_from.isoformat(), "to": date_to.isoformat(), "sites": []}
    for site in sites:
        report["sites"].append(_site_transparency(site, start, end))
    return report


def _median_seconds(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _site_transparency(site: Site, start, end) -> dict:
    notices = Notice.objects.filter(site=site, received_at__gte=start, received_at__lt=end)
    by_ground = {ground: dict.fromkeys(Notice.Status.values, 0) for ground in Notice.Ground.values}
    for row in notices.values("ground", "status").annotate(n=Count("id")).order_by():
        by_ground[row["ground"]][row["status"]] = row["n"]
    decided_notices = notices.filter(decided_at__isnull=False).values_list("received_at", "decided_at")
    notice_waits = [(decided - received).total_seconds() for received, decided in decided_notices]
    events = ModerationEvent.objects.filter(comment__site=site, created_at__gte=start, created_at__lt=end)
    # A move into held or rejected; a confirmation on appeal (rejected -> rejected) is not a new one.
    restrictions = events.filter(to_status__in=[Status.HELD, Status.REJECTED]).exclude(
        from_status=F("to_status")
    )
    by_reason: dict[str, dict[str, int]] = defaultdict(lambda: {"automated": 0, "human": 0})
    totals = {"automated": 0, "human": 0}
    per_status = {Status.HELD: 0, Status.REJECTED: 0}
    for actor, reason, to_status in restrictions.values_list("actor", "reason", "to_status").iterator():
        who = "human" if actor == ModerationEvent.Actor.MODERATOR else "automated"
        by_reason[reason_code(reason)][who] += 1
        totals[who] += 1
        per_status[to_status] += 1
    moderator_decisions = events.filter(
        actor=ModerationEvent.Actor.MODERATOR,
        action__in=[ModerationEvent.Action.APPROVE, ModerationEvent.Action.REJECT],
    )
    decision_waits = [
        (decided - arrived).total_seconds()
        for decided, arrived in moderator_decisions.values_list("created_at", "comment__created_at")[:100000]
    ]
    appeals = Appeal.objects.filter(site=site, created_at__gte=start, created_at__lt=end)
    appeal_counts = dict.fromkeys(Appeal.Status.values, 0)
    for row in appeals.values("status").annotate(n=Count("id")).order_by():
        appeal_counts[row["status"]] = row["n"]
    return {
        "site_id": site.pk,
        "site": site.name,
        "notices": {"total": notices.count(), "by_ground": by_ground},
        "notices_median_time_to_decision_seconds": _median_seconds(notice_waits),
        "restrictions": {
            "total": totals["automated"] + totals["human"],
            "held": per_status[Status.HELD],
            "rejected": per_status[Status.REJECTED],
            **totals,
            "by_reason": dict(sorted(by_reason.items())),
        },
        "moderator_approvals": moderator_decisions.filter(action=ModerationEvent.Action.APPROVE).count(),
        "moderator_rejections": moderator_decisions.filter(action=ModerationEvent.Action.REJECT).count(),
        "median_time_to_decision_seconds": _median_seconds(decision_waits),
        "appeals": {
            "total": sum(appeal_counts.values()),
            **appeal_counts,
            "reversals": appeal_counts[Appeal.Status.UPHELD],
        },
    }


TRANSPARENCY_CSV_COLUMNS = ("site", "section", "key", "outcome", "count")


def transparency_rows(report: dict) -> Iterator[tuple]:
    """The report as flat rows (site, section, key, outcome, value) for a CSV."""
    for site in report["sites"]:
        name = site["site"]
        for ground, outcomes in site["notices"]["by_ground"].items():
            for outcome, n in outcomes.items():
                yield name, "notices", ground, outcome, n
        median = site["notices_median_time_to_decision_seconds"]
        yield name, "notices", "median_time_to_decision_seconds", "", median
        for reason, who in site["restrictions"]["by_reason"].items():
            for kind, n in who.items():
                yield name, "restrictions", reason, kind, n
        for key in ("held", "rejected", "automated", "human", "total"):
            yield name, "restrictions", key, "", site["restrictions"][key]
        yield name, "decisions", "moderator_approvals", "", site["moderator_approvals"]
        yield name, "decisions", "moderator_rejections", "", site["moderator_rejections"]
        median = site["median_time_to_decision_seconds"]
        yield name, "decisions", "median_time_to_decision_seconds", "", median
        for key in ("total", *Appeal.Status.values, "reversals"):
            yield name, "appeals", key, "", site["appeals"][key]


def oldest_waiting_ages() -> dict[str, float | None]:
    """Seconds the oldest comment has waited at each classification stage (None: nothing waits).

    The stages: `received` (the fast model's; partial index comment_waiting) and, where the
    cascade's second-opinion status exists, the encoder's.
    """
    stages = [Status.RECEIVED, *([Status.SCREENING] if hasattr(Status, "SCREENING") else [])]
    now = timezone.now()
    ages = {}
    for stage in stages:
        oldest = Comment.objects.filter(status=stage).order_by("created_at").values_list("created_at")[:1]
        created = next(iter(oldest), (None,))[0]
        ages[str(stage)] = None if created is None else (now - created).total_seconds()
    return ages
