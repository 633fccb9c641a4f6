"""Readers' reports, and how far each reader's reports are trusted.

A report counts only from an identified reader the site did not mark anonymous, once per
comment, with that reader's weight; the weights of a comment's open reports add up to
``Comment.report_weight``, which holds a published comment at the site's ``reports_to_hold``
and orders the queues. Moderators' decisions move the weights: a rejection upholds the
open reports, an approval or a dismissal dismisses them.
"""

import logging
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from moderation import reasons
from moderation.errors import Conflict, NotFound
from moderation.models import (
    Comment,
    ModerationEvent,
    Report,
    Reporter,
    Site,
    WebhookEventType,
)
from moderation.selectors import moderator_sites
from moderation.services.visibility import articles_visible_bump, visibility_changes
from moderation.services.webhooks import COMMENT_STATUS_EVENTS, webhook_comment_data, webhook_event_record

log = logging.getLogger(__name__)
Status = Comment.Status
Outcome = Report.Outcome

# Sums of weights like 0.5 + 0.5 + ... are compared with an integer threshold.
_EPSILON = 1e-6


def queue_priority(comment: Comment, site: Site) -> float:
    """The held and reported queues' order: the scores, plus the reports' weight.

    A comment that readers' reports hold weighs at least 1 more than any score, so it comes
    before the classifier's holds (a reader-held comment was visible and may be legitimate
    speech hidden by a few readers): heaviest reports first.
    """
    scores = max(comment.toxicity or 0.0, comment.spam or 0.0)
    return round(scores + comment.report_weight / max(site.reports_to_hold, 1), 6)


def report_create(
    *,
    site: Site,
    comment_id: int,
    reason: str,
    text: str = "",
    reporter_id: str = "",
    anonymous: bool = False,
) -> Report:
    """A reader's report. Enough weight of open reports on a published comment holds it."""
    with transaction.atomic():
        comment = (
            Comment.objects.select_for_update(of=("self",))
            .select_related("article", "author")
            .filter(pk=comment_id, site=site, status__in=Comment.VISIBLE)
            .first()
        )
        if comment is None:
            raise NotFound(f"No visible comment {comment_id} on this site.")
        if reporter_id and Report.objects.filter(comment=comment, reporter_id=reporter_id).exists():
            raise Conflict("This reader already reported this comment.", code="already_reported")
        reader = None
        if reporter_id and not anonymous:
            reader, _ = Reporter.objects.get_or_create(site=site, reporter_id=reporter_id)
        report = Report.objects.create(
            comment=comment,
            reason=reason,
            text=text,
            reporter_id=reporter_id,
            anonymous=reader is None,
            reader=reader,
            weight=reader.weight if reader else 0.0,
        )
        # The row is locked: plain arithmetic is safe.
        comment.open_reports += 1
        comment.report_weight = round(comment.report_weight + report.weight, 6)
        comment.priority = queue_priority(comment, site)
        update = ["open_reports", "report_weight", "priority"]
        held = comment.status == Status.PUBLISHED and comment.report_weight + _EPSILON >= site.reports_to_hold
        if held:
            comment.status = Status.HELD
            comment.updated_at = timezone.now()
            update += ["status", "updated_at"]
        comment.save(update_fields=update)
        if held:
            articles_visible_bump(comment.article_id)  # gone from the readers' list
            reason = reasons.REPORTS
            ModerationEvent.objects.create(
                comment=comment,
                actor=ModerationEvent.Actor.READERS,
                action=ModerationEvent.Action.HOLD,
                from_status=Status.PUBLISHED,
                to_status=Status.HELD,
                reason=reason,
                reason_params={"count": comment.open_reports, "weight": comment.report_weight},
            )
            webhook_event_record(
                site=site,
                type=WebhookEventType.COMMENT_HELD,
                data=webhook_comment_data(comment, reason=reason, actor=ModerationEvent.Actor.READERS),
            )
        webhook_event_record(
            site=site,
            type=WebhookEventType.REPORT_CREATED,
            data=webhook_comment_data(
                comment, reason=report.reason, report_id=report.pk, open_reports=comment.open_reports
            ),
        )
    return report


def reports_resolve(*, comment: Comment, outcome: str, now) -> int:
    """Close a comment's open reports with an outcome and move their reporters' weights.

    The caller holds the comment's row lock and resets its own counters. Returns how many
    reports were closed.
    """
    open_reports = list(
        Report.objects.filter(comment=comment, resolved_at__isnull=True).values_list("pk", "reader_id")
    )
    if not open_reports:
        return 0
    Report.objects.filter(pk__in=[pk for pk, _ in open_reports]).update(resolved_at=now, outcome=outcome)
    reader_ids = sorted({reader for _, reader in open_reports if reader is not None})
    # In id order, so two moderators' decisions never lock the same reporters crosswise.
    for reader in Reporter.objects.select_for_update().filter(pk__in=reader_ids).order_by("pk"):
        if outcome == Outcome.UPHELD:
            reader.upheld_count += 1
        else:
            reader.dismissed_count += 1
        reader.weight = Reporter.weight_for(upheld=reader.upheld_count, dismissed=reader.dismissed_count)
        reader.save(update_fields=["upheld_count", "dismissed_count", "weight"])
    return len(open_reports)


def comment_dismiss_reports(*, comment_id: int, moderator, note: str = "") -> Comment:
    return comments_dismiss_reports(comment_ids=[comment_id], moderator=moderator, note=note)[0]


def comments_dismiss_reports(*, comment_ids: Sequence[int], moderator, note: str = "") -> list[Comment]:
    """A moderator finds the reports unfounded: the comment stays (or is again) visible.

    The open reports close as dismissed and weigh less next time; a comment that the
    readers' reports held is published again. All the comments or none.
    """
    ids = list(dict.fromkeys(comment_ids))
    now = timezone.now()
    with transaction.atomic():
        comments = list(
            Comment.objects.select_for_update(of=("self",))
            .select_related("site", "article", "author")
            .filter(pk__in=ids, site__in=moderator_sites(moderator))
            .order_by("pk")
        )
        missing = sorted(set(ids) - {c.pk for c in comments})
        if missing:
            raise NotFound(f"No comment(s) {missing}.", fields={"ids": [f"Not found: {missing}"]})
        quiet = [c.pk for c in comments if c.open_reports == 0]
        if quiet:
            raise Conflict(
                f"No open report on comment(s) {quiet}.",
                fields={"ids": [f"No open report: {quiet}"]},
                code="no_open_reports",
            )
        for comment in comments:
            from_status = comment.status
            if from_status == Status.HELD and _held_by_readers(comment):
                comment.status = Status.PUBLISHED
            reports_resolve(comment=comment, outcome=Outcome.DISMISSED, now=now)
            comment.open_reports = 0
            comment.report_weight = 0.0
            comment.priority = queue_priority(comment, comment.site)
            comment.updated_at = now
            comment.save(update_fields=["status", "open_reports", "report_weight", "priority", "updated_at"])
            if visibility_changes(from_status, comment.status):  # back in the readers' list
                articles_visible_bump(comment.article_id)
            if comment.status != from_status:
                webhook_event_record(
                    site=comment.site,
                    type=COMMENT_STATUS_EVENTS[comment.status],
                    data=webhook_comment_data(
                        comment, reason="reports dismissed", actor=ModerationEvent.Actor.MODERATOR
                    ),
                )
            ModerationEvent.objects.create(
                comment=comment,
                actor=ModerationEvent.Actor.MODERATOR,
                moderator=moderator,
                action=ModerationEvent.Action.DISMISS_REPORTS,
                from_status=from_status,
                to_status=comment.status,
                note=note,
            )
    return comments


def _held_by_readers(comment: Comment) -> bool:
    last_hold = (
        ModerationEvent.objects.filter(comment=comment, to_status=Status.HELD)
        .order_by("-created_at", "-id")
        .first()
    )
    return last_hold is not None and last_hold.actor == ModerationEvent.Actor.READERS
