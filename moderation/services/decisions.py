"""Moderators' decisions on comments, one or many at once, all or nothing."""

import logging
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from moderation.errors import InvalidTransition, NotFound, VigieError
from moderation.models import (
    Author,
    Comment,
    ModerationEvent,
    Report,
)
from moderation.selectors import moderator_sites
from moderation.services.authors import authors_accept_names, authors_apply_reject_rate
from moderation.services.compliance import decisions_check, decisions_settle, statement_for
from moderation.services.reports import reports_resolve
from moderation.services.revisions import revision_settle
from moderation.services.visibility import articles_visible_bump, visibility_changes
from moderation.services.webhooks import COMMENT_STATUS_EVENTS, webhook_comment_data, webhook_event_record

log = logging.getLogger(__name__)
Status = Comment.Status


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
            .select_related("author", "article", "site")
            .filter(pk__in=ids, site__in=moderator_sites(moderator))
            .order_by("pk")
        )
        found = {c.pk for c in comments}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"No comment(s) {missing}.", fields={"ids": [f"Not found: {missing}"]})
        # 403 for the moderator whose decision is appealed; an appealed rejection may be confirmed.
        appealed = decisions_check(comments=comments, moderator=moderator)
        refused = [
            c.pk
            for c in comments
            if to_status not in Comment.TRANSITIONS[c.status]
            and not (c.pk in appealed and to_status == c.status)
        ]
        if refused:
            raise InvalidTransition(
                f"Cannot {action} comment(s) {refused} from their current status.",
                fields={"ids": [f"Cannot {action}: {refused}"]},
            )
        # Approved from held, rejected after being visible, restored on appeal: readers see it.
        articles_visible_bump(
            article_ids={c.article_id for c in comments if visibility_changes(c.status, to_status)}
        )
        for comment in comments:
            _transition(comment, to_status, event_action, moderator, reason, note, now)
            decisions_settle(comment=comment, to_status=to_status, moderator=moderator, now=now)
        if to_status == Status.REJECTED:
            authors_apply_reject_rate(author_ids=sorted({c.author_id for c in comments}))
    return comments


def _transition(comment, to_status, event_action, moderator, reason, note, now) -> None:
    from_status = comment.status
    comment.status = to_status
    comment.updated_at = now
    update = {"status": to_status, "updated_at": now}
    if to_status in (Status.APPROVED, Status.REJECTED):
        comment.decided_at = now
        comment.open_reports = 0
        comment.report_weight = 0.0
        # Without reports the queue order is the scores alone again.
        comment.priority = max(comment.toxicity or 0.0, comment.spam or 0.0)
        update.update(decided_at=now, open_reports=0, report_weight=0.0, priority=comment.priority)
        # A rejection upholds the readers' reports; an approval says they were unfounded.
        outcome = Report.Outcome.UPHELD if to_status == Status.REJECTED else Report.Outcome.DISMISSED
        reports_resolve(comment=comment, outcome=outcome, now=now)
    Comment.objects.filter(pk=comment.pk).update(**update)
    if to_status == Status.APPROVED:
        authors_accept_names([comment])
    if to_status in (Status.APPROVED, Status.REJECTED):
        revision_settle(comment=comment, to_status=to_status, now=now)
    if from_status != to_status:  # an appeal dismissed confirms a rejection: counted once
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
    if to_status in COMMENT_STATUS_EVENTS:
        webhook_event_record(
            site=comment.site,
            type=COMMENT_STATUS_EVENTS[to_status],
            data=webhook_comment_data(
                comment,
                reason=reason[:200],
                actor=ModerationEvent.Actor.MODERATOR,
                # The statement of reasons the site passes on to the author (DSA art. 17).
                **({"statement": statement_for(comment)} if to_status == Status.REJECTED else {}),
            ),
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
