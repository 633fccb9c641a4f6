"""Readers' reports."""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from moderation.errors import Conflict, NotFound
from moderation.models import (
    Comment,
    ModerationEvent,
    Report,
    Site,
    WebhookEventType,
)
from moderation.services.webhooks import webhook_comment_data, webhook_event_record

log = logging.getLogger(__name__)
Status = Comment.Status


def report_create(
    *, site: Site, comment_id: int, reason: str, text: str = "", reporter_id: str = ""
) -> Report:
    """A reader's report. Enough open reports on a published comment hold it for review."""
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
            comment.status = Status.HELD
            webhook_event_record(
                site=site,
                type=WebhookEventType.COMMENT_HELD,
                data=webhook_comment_data(
                    comment,
                    reason=f"{comment.open_reports} reader reports",
                    actor=ModerationEvent.Actor.READERS,
                ),
            )
        webhook_event_record(
            site=site,
            type=WebhookEventType.REPORT_CREATED,
            data=webhook_comment_data(
                comment, reason=report.reason, report_id=report.pk, open_reports=comment.open_reports
            ),
        )
    return report
