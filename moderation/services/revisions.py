"""The author's edits and deletions (the site calls on their behalf), and edits' moderation.

An edit is a Revision, moderated again as a new comment is (the fast model, and the
encoder's second opinion when the fast one is unsure) while the comment keeps showing the
text readers already see. Its verdict then applies to the comment: published, the new text
replaces the old one; held or rejected, the comment takes that status with the new text and
leaves the visible list (a moderator decides on the new text, the old one stays in the
revisions). A deletion erases the text and the name and leaves a tombstone in the thread.
"""

import difflib
import logging
import re
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from moderation.errors import ArticleClosed, Conflict, NotFound
from moderation.models import (
    Article,
    Author,
    Classification,
    Comment,
    ModerationEvent,
    Revision,
    Site,
    WebhookEventType,
)
from moderation.services.authors import authors_accept_names
from moderation.services.classification import (
    _explanation,
    _name_scores,
    _verdict,
    get_model,
)
from moderation.services.compliance import statement_for
from moderation.services.reports import queue_priority
from moderation.services.visibility import articles_visible_bump
from moderation.services.webhooks import COMMENT_STATUS_EVENTS, webhook_comment_data, webhook_event_record

log = logging.getLogger(__name__)
Status = Comment.Status
RStatus = Revision.Status


def _visible_changed(article: Article | int) -> None:
    """What readers see under this article changed (an edit shown, a comment hidden or deleted).

    Called in the transaction of the change: the article's ETag moves on.
    """
    articles_visible_bump(article if isinstance(article, int) else article.pk)


def _locked_comment(*, site: Site, comment_id: int) -> Comment:
    comment = (
        Comment.objects.select_for_update(of=("self",))
        .select_related("site", "article", "author")
        .filter(pk=comment_id, site=site)
        .first()
    )
    if comment is None:
        raise NotFound(f"No comment {comment_id} on this site.")
    return comment


def _supersede_waiting(comment: Comment) -> None:
    # An edit still being moderated when a newer one (or the deletion) comes is never decided.
    Revision.objects.filter(comment=comment, status__in=Revision.WAITING).update(status=RStatus.SUPERSEDED)


def comment_edit(*, site: Site, comment_id: int, body: str) -> tuple[Comment, Revision]:
    """The author's new text: kept as a revision and moderated again (on commit).

    Refused (409) for a deleted comment (``comment_deleted``), one still waiting for its first
    verdict (``comment_not_decided``), a rejected one (``comment_rejected``: rewording is not
    a way round a rejection; the author may appeal), under a closed article (``article_closed``)
    and after the site's edit window (``edit_window_closed``). An edit still being moderated
    is superseded by a newer one.
    """
    now = timezone.now()
    with transaction.atomic():
        comment = _locked_comment(site=site, comment_id=comment_id)
        if comment.deleted_at is not None:
            raise Conflict("This comment was deleted: it cannot be edited.", code="comment_deleted")
        if now > comment.created_at + timedelta(minutes=site.edit_window_minutes):
            raise Conflict(
                f"Comments can be edited for {site.edit_window_minutes} minutes after posting.",
                code="edit_window_closed",
            )
        if comment.status in Comment.WAITING:
            raise Conflict(
                "This comment is still being moderated: edit it once it is decided.",
                code="comment_not_decided",
            )
        if comment.status == Status.REJECTED:
            raise Conflict("A rejected comment cannot be edited.", code="comment_rejected")
        if comment.article.closed:
            raise ArticleClosed("This article is closed to comments: they cannot be edited.")
        _supersede_waiting(comment)
        last = Revision.objects.filter(comment=comment).aggregate(n=Max("number"))["n"]
        if last is None:  # the first edit: keep the text as posted, with its verdict
            Revision.objects.create(
                comment=comment,
                number=1,
                body=comment.body,
                status=comment.status,
                toxicity=comment.toxicity,
                spam=comment.spam,
                created_at=comment.created_at,
                decided_at=comment.decided_at or comment.updated_at,
            )
            last = 1
        revision = Revision.objects.create(
            comment=comment, number=last + 1, body=body, status=RStatus.RECEIVED, created_at=now
        )
        ModerationEvent.objects.create(
            comment=comment,
            actor=ModerationEvent.Actor.AUTHOR,
            action=ModerationEvent.Action.EDIT,
            reason_params={"revision": revision.number},
        )
        webhook_event_record(
            site=site,
            type=WebhookEventType.COMMENT_EDITED,
            data=webhook_comment_data(comment, revision=revision.number, revision_status=RStatus.RECEIVED),
        )
        transaction.on_commit(lambda: enqueue_revision_classification([revision.pk]))
    comment.pending_edit = Status.RECEIVED
    return comment, revision


def comment_delete(*, site: Site, comment_id: int) -> Comment:
    """The author deletes their comment: text and name erased (revisions' texts too), the
    row kept as a tombstone so that its replies keep their place. A second delete is 404."""
    now = timezone.now()
    with transaction.atomic():
        comment = _locked_comment(site=site, comment_id=comment_id)
        if comment.deleted_at is not None:
            raise NotFound(f"No comment {comment_id} on this site: it was deleted.")
        was_visible = comment.is_visible
        _supersede_waiting(comment)
        Revision.objects.filter(comment=comment).update(body="")
        comment.body, comment.author_name, comment.deleted_at, comment.updated_at = "", "", now, now
        Comment.objects.filter(pk=comment.pk).update(body="", author_name="", deleted_at=now, updated_at=now)
        ModerationEvent.objects.create(
            comment=comment,
            actor=ModerationEvent.Actor.AUTHOR,
            action=ModerationEvent.Action.DELETE,
            from_status=comment.status,
            to_status=comment.status,
        )
        webhook_event_record(
            site=site, type=WebhookEventType.COMMENT_DELETED, data=webhook_comment_data(comment, deleted=True)
        )
        if was_visible:
            _visible_changed(comment.article)
    return comment


def enqueue_revision_classification(revision_ids: Sequence[int]) -> bool:
    """Send the edit's classification task; a broker outage is left to the sweep."""
    from moderation.tasks import classify_revision

    try:
        for revision_id in revision_ids:
            classify_revision.delay(revision_id)
    except Exception:  # noqa: BLE001 - any broker error; the sweep is the safety net
        log.warning("broker unavailable, %d edit(s) left for the sweep", len(revision_ids), exc_info=True)
        return False
    return True


def enqueue_revision_second_opinion(revision_ids: Sequence[int]) -> bool:
    from moderation.tasks import revision_second_opinion

    try:
        revision_second_opinion.delay(list(revision_ids))
    except Exception:  # noqa: BLE001 - any broker error; the sweep is the safety net
        log.warning("broker unavailable, %d screened edit(s) left for the sweep", len(revision_ids))
        return False
    return True


def _claim_revisions(status: str, revision_ids: Sequence[int]) -> list[Revision]:
    """Lock the waiting revisions (and their comments): a second worker skips them."""
    revisions = list(
        Revision.objects.filter(pk__in=list(revision_ids), status=status)
        .order_by("pk")
        .select_for_update(skip_locked=True, of=("self",))
    )
    if not revisions:
        return []
    comments = {
        c.pk: c
        for c in Comment.objects.filter(pk__in=[r.comment_id for r in revisions])
        .select_related("site", "article", "author")
        .order_by("pk")
        .select_for_update(of=("self",))
    }
    for revision in revisions:
        revision.comment = comments[revision.comment_id]
    return revisions


def revisions_classify(*, revision_ids: Sequence[int]) -> int:
    """The fast stage for edits: decide what the model is sure of, hand the rest to the encoder."""
    model = get_model()
    with transaction.atomic():
        revisions = _claim_revisions(RStatus.RECEIVED, revision_ids)
        if not revisions:
            return 0
        scores = model.score([r.body for r in revisions], explain=False)
        screen = []
        for revision, score in zip(revisions, scores, strict=True):
            verdict, name = _revision_verdict(model, revision, score)
            if verdict.by_score and model.needs_second_opinion(score.toxicity):
                revision.status = RStatus.SCREENING
                revision.toxicity, revision.spam = score.toxicity, score.spam
                revision.save(update_fields=["status", "toxicity", "spam"])
                screen.append(revision.pk)
            else:
                _apply(model, revision, score, name, verdict)
        if screen:
            transaction.on_commit(lambda: enqueue_revision_second_opinion(screen))
    return len(revisions)


def revisions_second_opinion(*, revision_ids: Sequence[int]) -> int:
    """The encoder stage for edits the fast model was unsure of: the one verdict."""
    model = get_model()
    with transaction.atomic():
        revisions = _claim_revisions(RStatus.SCREENING, revision_ids)
        if not revisions:
            return 0
        bodies = [r.body for r in revisions]
        fast = model.score(bodies, explain=False)
        scores = model.second_opinion(bodies, fast) if model.has_second_opinion else fast
        for revision, score in zip(revisions, scores, strict=True):
            verdict, name = _revision_verdict(model, revision, score)
            _apply(model, revision, score, name, verdict)
    return len(revisions)


def revisions_sweep(*, older_than_seconds: int | None = None, limit: int = 1000) -> int:
    """Re-enqueue edits whose task was lost (broker outage), at either stage."""
    age = older_than_seconds if older_than_seconds is not None else settings.VIGIE_SWEEP_AFTER_SECONDS
    cutoff = timezone.now() - timedelta(seconds=age)
    waiting = Revision.objects.filter(status__in=Revision.WAITING, created_at__lt=cutoff)
    waiting = waiting.order_by("created_at")
    sent = 0
    for status, enqueue in (
        (RStatus.RECEIVED, enqueue_revision_classification),
        (RStatus.SCREENING, enqueue_revision_second_opinion),
    ):
        ids = list(waiting.filter(status=status).values_list("pk", flat=True)[:limit])
        if ids and enqueue(ids):
            sent += len(ids)
    return sent


def _revision_verdict(model, revision: Revision, score):
    """The site's policy on the new text, as for a new comment (the comment's own rules:
    article mode, author status, word lists, personal data, the display name posted)."""
    comment = revision.comment
    original = comment.body
    comment.body = revision.body
    # The personal data found is cached on the comment: find it in the new text, and keep
    # it for the explanation _apply writes with the new text.
    comment.__dict__.pop("_personal_data_found", None)
    try:
        [name] = _name_scores(model, [comment])
        verdict = _verdict(comment, score, name, model, set())
    finally:
        comment.body = original
    return verdict, name


def _apply(model, revision: Revision, score, name, verdict) -> None:
    """The revision's verdict on its comment, with its event and webhook, in this transaction."""
    comment = revision.comment
    now = timezone.now()
    from_status = comment.status
    to_status = verdict.status
    if comment.deleted_at is not None or from_status not in (Status.PUBLISHED, Status.APPROVED, Status.HELD):
        # Deleted, or decided otherwise meanwhile (a moderator rejected it): nothing to show.
        revision.status = RStatus.SUPERSEDED
        revision.save(update_fields=["status"])
        return
    if to_status == Status.PUBLISHED and from_status == Status.APPROVED:
        to_status = Status.APPROVED  # an approved comment edited cleanly stays approved
    revision.status = to_status
    revision.toxicity, revision.spam = score.toxicity, score.spam
    revision.reason = verdict.reason[:200]
    revision.model_version = model.version
    revision.decided_at = now
    revision.save(update_fields=["status", "toxicity", "spam", "reason", "model_version", "decided_at"])
    comment.body = revision.body
    comment.status = to_status
    comment.toxicity, comment.spam = score.toxicity, score.spam
    comment.priority = queue_priority(comment, comment.site)
    comment.edited_at = comment.updated_at = now
    if to_status == Status.REJECTED:
        comment.decided_at = now
    Comment.objects.filter(pk=comment.pk).update(
        body=comment.body,
        status=to_status,
        toxicity=comment.toxicity,
        spam=comment.spam,
        priority=comment.priority,
        edited_at=now,
        updated_at=now,
        decided_at=comment.decided_at,
    )
    labels = {
        **score.labels,
        "display_name_toxicity": round(name.toxicity, 6),
        "display_name_spam": round(name.spam, 6),
    }
    Classification.objects.create(
        comment=comment,
        model_version=model.version,
        toxicity=score.toxicity,
        spam=score.spam,
        language=score.language,
        labels=labels,
        explanation=_explanation(model, comment, score, name) if to_status != Status.PUBLISHED else {},
    )
    ModerationEvent.objects.create(
        comment=comment,
        actor=ModerationEvent.Actor.CLASSIFIER,
        action=ModerationEvent.Action.REVISE,
        from_status=from_status,
        to_status=to_status,
        reason=verdict.reason[:200],
        reason_params={**verdict.params, "model": model.version, "revision": revision.number},
    )
    if to_status == Status.REJECTED:
        Author.objects.filter(pk=comment.author_id).update(rejected_count=F("rejected_count") + 1)
    if to_status in (Status.PUBLISHED, Status.APPROVED):
        authors_accept_names([comment])
    if to_status != from_status and to_status in COMMENT_STATUS_EVENTS:
        extra = {"statement": statement_for(comment)} if to_status == Status.REJECTED else {}
        webhook_event_record(
            site=comment.site,
            type=COMMENT_STATUS_EVENTS[to_status],
            data=webhook_comment_data(
                comment,
                reason=verdict.reason[:200],
                actor=ModerationEvent.Actor.CLASSIFIER,
                revision=revision.number,
                **extra,
            ),
        )
    if from_status in Comment.VISIBLE:  # the text readers see changed, or the comment left
        _visible_changed(comment.article_id)


def revision_settle(*, comment: Comment, to_status: str, now) -> None:
    """A moderator's decision on a held edit decides that revision (the latest) too."""
    latest = Revision.objects.filter(comment=comment).order_by("-number").first()
    if latest is not None and latest.status == RStatus.HELD:
        Revision.objects.filter(pk=latest.pk).update(status=to_status, decided_at=now)


_WORDS = re.compile(r"\s+|[^\s]+")


def revision_diffs(revisions: Sequence[Revision]) -> list[list[list[str]]]:
    """Each revision against the one before, word by word: [[op, text], ...], op one of
    "=", "-" (removed), "+" (added). The first revision is all "=" (the text as posted)."""
    diffs, before = [], None
    for revision in revisions:
        words = _WORDS.findall(revision.body)
        if before is None:
            diffs.append([["=", revision.body]] if revision.body else [])
        else:
            ops = []
            matcher = difflib.SequenceMatcher(a=before, b=words, autojunk=False)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes():
                if tag == "equal":
                    ops.append(["=", "".join(words[j1:j2])])
                    continue
                if i2 > i1:
                    ops.append(["-", "".join(before[i1:i2])])
                if j2 > j1:
                    ops.append(["+", "".join(words[j1:j2])])
            diffs.append(ops)
        before = words
    return diffs
