"""Personal data's way out (GDPR): an author's erasure, and the retention purge.

The export is a read: ``selectors.author_export``. Both writes here keep the audit trail's
ids and decisions (who decided what, when, from which status to which) and remove what
identifies or quotes a person.
"""

import re
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from moderation.errors import NotFound
from moderation.models import (
    Appeal,
    Author,
    AuthorNote,
    Classification,
    Comment,
    ModerationEvent,
    Report,
    Reporter,
    Site,
)
from moderation.services.visibility import articles_visible_bump

# Event details that quote a text (a listed word found in the body, a name): dropped from
# reason_params on erasure and purge; the numbers (scores, thresholds, counts) stay.
QUOTING_PARAMS = ("word", "name", "kinds")


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def authors_erase(*, site: Site, external_id: str) -> Author:
    """Erase one author of this site (GDPR art. 17). Raises NotFound for an unknown author.

    WHAT IS BLANKED (keep this list in step with the models):
      - Comment.body and Comment.idempotency_key of every comment they wrote, and
        Comment.author_name where that field exists; Comment.deleted_at is set where it
        exists (the thread keeps a tombstone);
      - Revision rows of those comments (model from the edits work): their bodies, where the
        model exists;
      - Classification.explanation of those comments (it quotes the words) and ``labels``;
      - ModerationEvent.note, a reason in a moderator's own words (codes stay) and the quoting
        reason_params of every event about the author or their comments (actor, action,
        statuses, reason code, moderator and dates stay);
      - Report.text of reports on their comments; Report.reporter_id and text of the reports
        they made (matched by their id as a reporter on this site), and their Reporter row;
      - Appeal.text of their appeals; AuthorNote rows about them (deleted);
      - Author.name blanked, Author.external_id replaced by a random ``erased-...`` id (so the
        site's id no longer leads here: a second erase or an export is a 404), erased_at set.
    KEPT: the rows and their ids, statuses, scores, decisions and dates, so that the thread's
    shape, the statistics and the transparency report stay right; notices about their comments
    (the notifier's record, DSA); webhook payloads already sent (they carry the site's own ids).
    """
    now = timezone.now()
    with transaction.atomic():
        author = (
            Author.objects.select_for_update()
            .filter(site=site, external_id=external_id, erased_at__isnull=True)
            .first()
        )
        if author is None:
            raise NotFound(f"No author {external_id!r} on this site.")
        comments = Comment.objects.filter(author=author)
        # Their visible comments become tombstones: those articles' lists change (ETag).
        articles_visible_bump(
            article_ids=set(comments.filter(status__in=Comment.VISIBLE).values_list("article_id", flat=True))
        )
        # The idempotency key may carry the site's reader id (the demo's does).
        blank = {"body": "", "idempotency_key": None, "updated_at": now}
        if _has_field(Comment, "author_name"):
            blank["author_name"] = ""
        if _has_field(Comment, "deleted_at"):
            blank["deleted_at"] = now
        comments.update(**blank)
        _erase_revisions(comments)
        Classification.objects.filter(comment__in=comments).update(explanation={}, labels={})
        _erase_event_details(ModerationEvent.objects.filter(Q(author=author) | Q(comment__in=comments)))
        Report.objects.filter(comment__in=comments).update(text="")
        Report.objects.filter(comment__site=site, reporter_id=external_id).update(reporter_id="", text="")
        Reporter.objects.filter(site=site, reporter_id=external_id).delete()
        Appeal.objects.filter(comment__in=comments).update(text="")
        AuthorNote.objects.filter(author=author).delete()
        author.name = ""
        author.external_id = f"erased-{secrets.token_hex(12)}"
        author.erased_at = now
        author.save(update_fields=["name", "external_id", "erased_at"])
    return author


def _erase_revisions(comments) -> None:
    from django.apps import apps

    try:
        revision = apps.get_model("moderation", "Revision")
    except LookupError:  # the edits work adds the model
        return
    revision.objects.filter(comment__in=comments).update(body="")


_CODE = re.compile(r"[a-z][a-z0-9_]*")


def _erase_event_details(events) -> None:
    for event in events.only("id", "note", "reason", "reason_params"):
        params = {k: v for k, v in (event.reason_params or {}).items() if k not in QUOTING_PARAMS}
        # A reason code stays (it is the decision); a moderator's own words may quote or name.
        reason = event.reason if _CODE.fullmatch(event.reason or "") else ""
        if (event.note, event.reason, event.reason_params) != ("", reason, params):
            ModerationEvent.objects.filter(pk=event.pk).update(note="", reason=reason, reason_params=params)


def personal_data_purge_expired(*, now=None) -> dict[str, int]:
    """The retention rule of every site that set one (Site.retention_days): the bodies of
    comments rejected more than N days ago (last changed then: the rejection; with their
    explanations and quoting event details), and the reporter ids of reports made more than N
    days ago (a Reporter row goes with the last report naming it). Idempotent."""
    now = now or timezone.now()
    counts = {"comments": 0, "reports": 0}
    for site in Site.objects.filter(retention_days__isnull=False):
        cutoff = now - timedelta(days=site.retention_days)
        with transaction.atomic():
            expired = Comment.objects.filter(
                site=site, status=Comment.Status.REJECTED, updated_at__lt=cutoff
            ).exclude(body="")
            ids = list(expired.values_list("pk", flat=True))
            if ids:
                Comment.objects.filter(pk__in=ids).update(body="")
                Classification.objects.filter(comment_id__in=ids).update(explanation={})
                _erase_event_details(ModerationEvent.objects.filter(comment_id__in=ids))
                _erase_revisions(Comment.objects.filter(pk__in=ids))
            counts["comments"] += len(ids)
            counts["reports"] += (
                Report.objects.filter(comment__site=site, created_at__lt=cutoff)
                .exclude(reporter_id="")
                .update(reporter_id="")
            )
            # A reporter's trust record outlives each report only while a report names them.
            Reporter.objects.filter(site=site, created_at__lt=cutoff).exclude(
                Exists(Report.objects.filter(comment__site=site, reporter_id=OuterRef("reporter_id")))
            ).delete()
    return counts
