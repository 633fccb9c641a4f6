"""Every write Vigie makes. Views, admin actions, tasks and commands only call these.

Each function takes keyword-only arguments, runs in one transaction, and writes a
ModerationEvent for each status change in that same transaction.
"""

import logging
import secrets
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from moderation import policy
from moderation.errors import ArticleClosed, Conflict, InvalidTransition, NotFound, VigieError
from moderation.models import (
    Article,
    Author,
    Classification,
    Comment,
    ModerationEvent,
    ModerationMode,
    Report,
    Site,
    hash_api_key,
)
from moderation.selectors import article_for_site, author_for_site, moderator_sites

log = logging.getLogger(__name__)
Status = Comment.Status


# --- sites and articles ---------------------------------------------------------------------


def site_create(*, name: str, moderation_mode: str = ModerationMode.POST) -> tuple[Site, str]:
    """Create a site; the API key is returned once and only its hash is kept."""
    key = _new_api_key()
    site = Site.objects.create(
        name=name,
        api_key_hash=hash_api_key(key),
        api_key_prefix=key[:12],
        default_moderation_mode=moderation_mode,
    )
    return site, key


def site_rotate_key(*, site: Site) -> str:
    key = _new_api_key()
    Site.objects.filter(pk=site.pk).update(api_key_hash=hash_api_key(key), api_key_prefix=key[:12])
    return key


def _new_api_key() -> str:
    return "vg_" + secrets.token_urlsafe(32)


def article_upsert(
    *,
    site: Site,
    external_id: str,
    url: str | None = None,
    title: str | None = None,
    language: str | None = None,
    moderation_mode: str | None = None,
    closed: bool | None = None,
) -> tuple[Article, bool]:
    """Create or update an article; fields left out keep their value (or the default)."""
    fields = {
        "url": url,
        "title": title,
        "language": language,
        "moderation_mode": moderation_mode,
        "closed": closed,
    }
    given = {k: v for k, v in fields.items() if v is not None}
    with transaction.atomic():
        article, created = Article.objects.select_for_update().get_or_create(
            site=site,
            external_id=external_id,
            defaults={"moderation_mode": site.default_moderation_mode, **given},
        )
        if not created and given:
            for name, value in given.items():
                setattr(article, name, value)
            article.save(update_fields=[*given, "updated_at"])
    return article, created


# --- comments from the site -----------------------------------------------------------------


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


# --- classification -------------------------------------------------------------------------


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
    classifications, events = [], []
    rejected_by_author: Counter = Counter()
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
                note=f"model {model.version}",
                created_at=now,
            )
        )
    _update_classified(comments)
    Classification.objects.bulk_create(classifications)
    ModerationEvent.objects.bulk_create(events)
    if rejected_by_author:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {Author._meta.db_table} SET rejected_count = rejected_count + %s WHERE id = %s",  # noqa: S608
                [(count, author_id) for author_id, count in sorted(rejected_by_author.items())],
            )


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


# --- moderator decisions ----------------------------------------------------------------------


def comment_approve(*, comment_id: int, moderator, reason: str = "", note: str = "") -> Comment:
    return comments_bulk_decide(
        comment_ids=[comment_id], action="approve", moderator=moderator, reason=reason, note=note
    )[0]


def comment_reject(*, comment_id: int, moderator, reason: str = "", note: str = "") -> Comment:
    return comments_bulk_decide(
        comment_ids=[comment_id], action="reject", moderator=moderator, reason=reason, note=note
    )[0]


_ACTION_STATUS = {
    "approve": (Status.APPROVED, ModerationEvent.Action.APPROVE),
    "reject": (Status.REJECTED, ModerationEvent.Action.REJECT),
    "hold": (Status.HELD, ModerationEvent.Action.HOLD),
}


def comments_bulk_decide(
    *, comment_ids: Sequence[int], action: str, moderator, reason: str = "", note: str = ""
) -> list[Comment]:
    """Apply one moderator decision to every comment, or to none of them.

    Every comment must exist within the moderator's sites and be allowed to make the move;
    otherwise nothing is changed and the error names the offending ids.
    """

    if action not in _ACTION_STATUS:
        raise VigieError(f"Unknown action {action!r}.", fields={"action": ["Unknown action."]})
    to_status, event_action = _ACTION_STATUS[action]
    ids = list(dict.fromkeys(comment_ids))
    now = timezone.now()
    with transaction.atomic():
        comments = list(
            Comment.objects.select_for_update(of=("self",))
            .select_related("author")
            .filter(pk__in=ids, site__in=moderator_sites(moderator))
            .order_by("pk")
        )
        found = {c.pk for c in comments}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"No comment(s) {missing}.", fields={"ids": [f"Not found: {missing}"]})
        refused = [c.pk for c in comments if to_status not in Comment.TRANSITIONS[c.status]]
        if refused:
            raise InvalidTransition(
                f"Cannot {action} comment(s) {refused} from their current status.",
                fields={"ids": [f"Cannot {action}: {refused}"]},
            )
        for comment in comments:
            _transition(comment, to_status, event_action, moderator, reason, note, now)
    return comments


def _transition(comment, to_status, event_action, moderator, reason, note, now) -> None:
    from_status = comment.status
    comment.status = to_status
    comment.updated_at = now
    update = {"status": to_status, "updated_at": now}
    if to_status in (Status.APPROVED, Status.REJECTED):
        comment.decided_at = now
        comment.open_reports = 0
        update.update(decided_at=now, open_reports=0)
        Report.objects.filter(comment=comment, resolved_at__isnull=True).update(resolved_at=now)
    Comment.objects.filter(pk=comment.pk).update(**update)
    _count_author_decision(comment.author_id, from_status, to_status)
    ModerationEvent.objects.create(
        comment=comment,
        actor=ModerationEvent.Actor.MODERATOR,
        moderator=moderator,
        action=event_action,
        from_status=from_status,
        to_status=to_status,
        reason=reason[:200],
        note=note,
    )


def _count_author_decision(author_id: int, from_status: str, to_status: str) -> None:
    changes = {}
    for status, field, sign in (
        (Status.APPROVED, "approved_count", 1),
        (Status.REJECTED, "rejected_count", 1),
    ):
        if to_status == status:
            changes[field] = F(field) + sign
        elif from_status == status:
            changes[field] = Greatest(F(field) - sign, 0)
    if changes:
        Author.objects.filter(pk=author_id).update(**changes)


# --- reader reports ---------------------------------------------------------------------------


def report_create(
    *, site: Site, comment_id: int, reason: str, text: str = "", reporter_id: str = ""
) -> Report:
    """A reader's report. Enough open reports on a published comment hold it for review."""
    with transaction.atomic():
        comment = (
            Comment.objects.select_for_update(of=("self",))
            .filter(pk=comment_id, site=site, status__in=Comment.VISIBLE)
            .first()
        )
        if comment is None:
            raise NotFound(f"No visible comment {comment_id} on this site.")
        if reporter_id and Report.objects.filter(comment=comment, reporter_id=reporter_id).exists():
            raise Conflict("This reader already reported this comment.", code="already_reported")
        report = Report.objects.create(comment=comment, reason=reason, text=text, reporter_id=reporter_id)
        comment.open_reports = F("open_reports") + 1
        comment.save(update_fields=["open_reports"])
        comment.refresh_from_db(fields=["open_reports"])
        if comment.status == Status.PUBLISHED and comment.open_reports >= site.reports_to_hold:
            Comment.objects.filter(pk=comment.pk).update(status=Status.HELD, updated_at=timezone.now())
            ModerationEvent.objects.create(
                comment=comment,
                actor=ModerationEvent.Actor.READERS,
                action=ModerationEvent.Action.HOLD,
                from_status=Status.PUBLISHED,
                to_status=Status.HELD,
                reason=f"{comment.open_reports} reader reports",
            )
    return report


# --- authors ----------------------------------------------------------------------------------

AUTHOR_ACTIONS = {
    "ban": (Author.Status.BANNED, ModerationEvent.Action.BAN),
    "premoderate": (Author.Status.PREMODERATED, ModerationEvent.Action.PREMODERATE),
    "restore": (Author.Status.NORMAL, ModerationEvent.Action.RESTORE),
}


def author_set_status(*, author_id: int, action: str, moderator, reason: str = "", note: str = "") -> Author:
    """Ban, pre-moderate or restore an author; applies to the comments they post next."""

    new_status, event_action = AUTHOR_ACTIONS[action]
    with transaction.atomic():
        author = (
            Author.objects.select_for_update()
            .filter(pk=author_id, site__in=moderator_sites(moderator))
            .first()
        )
        if author is None:
            raise NotFound(f"No author {author_id}.")
        old_status = author.status
        author.status = new_status
        author.save(update_fields=["status"])
        ModerationEvent.objects.create(
            author=author,
            actor=ModerationEvent.Actor.MODERATOR,
            moderator=moderator,
            action=event_action,
            from_status=old_status,
            to_status=new_status,
            reason=reason[:200],
            note=note,
        )
    return author


def author_ban(*, author_id: int, moderator, reason: str = "", note: str = "") -> Author:
    return author_set_status(author_id=author_id, action="ban", moderator=moderator, reason=reason, note=note)


def author_premoderate(*, author_id: int, moderator, reason: str = "", note: str = "") -> Author:
    return author_set_status(
        author_id=author_id, action="premoderate", moderator=moderator, reason=reason, note=note
    )


def author_restore(*, author_id: int, moderator, reason: str = "", note: str = "") -> Author:
    return author_set_status(
        author_id=author_id, action="restore", moderator=moderator, reason=reason, note=note
    )
