"""Author status: ban, pre-moderate, restore."""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Exists, Q
from django.utils import timezone

from moderation import reasons
from moderation.errors import NotFound
from moderation.models import (
    Author,
    AuthorNote,
    Comment,
    ModerationEvent,
    WebhookEventType,
)
from moderation.selectors import moderator_sites
from moderation.services.webhooks import webhook_event_record

log = logging.getLogger(__name__)
Status = Comment.Status


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
            Author.objects.select_for_update(of=("self",))
            .select_related("site")
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
        webhook_event_record(
            site=author.site,
            type=WebhookEventType.AUTHOR_STATUS_CHANGED,
            data={
                "author_id": author.external_id,
                "status": new_status,
                "previous_status": old_status,
                "reason": reason[:200],
            },
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


# The trust rule on rejections looks at the last 30 days, and at no fewer than 3 comments:
# one rejection out of one is not a pattern.
REJECT_RATE_WINDOW = timedelta(days=30)
REJECT_RATE_MIN_COMMENTS = 3


def authors_apply_reject_rate(*, author_ids) -> list[Author]:
    """Pre-moderate the authors whose share of rejected comments passed their site's rate.

    Called where comments get rejected (the classifier's batch, the moderators' decisions),
    in their transaction. Only authors in the normal status move; a ban or an earlier
    pre-moderation stays as it is.
    """
    if not author_ids:
        return []
    with transaction.atomic():
        authors = {
            a.pk: a
            for a in Author.objects.select_related("site").filter(
                pk__in=list(author_ids),
                status=Author.Status.NORMAL,
                site__premoderate_reject_rate__isnull=False,
            )
        }
        if not authors:
            return []
        rows = (
            Comment.objects.filter(
                author_id__in=list(authors), created_at__gte=timezone.now() - REJECT_RATE_WINDOW
            )
            .exclude(status=Status.RECEIVED)
            .values("author_id")
            .annotate(total=Count("id"), rejected=Count("id", filter=Q(status=Status.REJECTED)))
            .order_by()
        )
        moved = []
        for row in rows:
            author = authors[row["author_id"]]
            total, rejected = row["total"], row["rejected"]
            if total < REJECT_RATE_MIN_COMMENTS or rejected / total <= author.site.premoderate_reject_rate:
                continue
            if not Author.objects.filter(pk=author.pk, status=Author.Status.NORMAL).update(
                status=Author.Status.PREMODERATED
            ):
                continue
            author.status = Author.Status.PREMODERATED
            ModerationEvent.objects.create(
                author=author,
                actor=ModerationEvent.Actor.SYSTEM,
                action=ModerationEvent.Action.PREMODERATE,
                from_status=Author.Status.NORMAL,
                to_status=Author.Status.PREMODERATED,
                reason=reasons.REJECT_RATE,
                note=f"{rejected} of {total} comments rejected over 30 days "
                f"(site rate {author.site.premoderate_reject_rate:g})",
            )
            webhook_event_record(
                site=author.site,
                type=WebhookEventType.AUTHOR_STATUS_CHANGED,
                data={
                    "author_id": author.external_id,
                    "status": Author.Status.PREMODERATED,
                    "previous_status": Author.Status.NORMAL,
                    "reason": reasons.REJECT_RATE,
                },
            )
            moved.append(author)
    return moved


def author_note_add(*, author_id: int, moderator, text: str) -> AuthorNote:
    """A moderator's note on an author, shown beside their comments in the workbench."""
    with transaction.atomic():
        author = Author.objects.filter(pk=author_id, site__in=moderator_sites(moderator)).first()
        if author is None:
            raise NotFound(f"No author {author_id}.")
        note = AuthorNote.objects.create(author=author, moderator=moderator, text=text)
        ModerationEvent.objects.create(
            author=author,
            actor=ModerationEvent.Actor.MODERATOR,
            moderator=moderator,
            action=ModerationEvent.Action.NOTE,
            note=text,
        )
    return note


def authors_accept_names(comments) -> None:
    """An accepted comment's display name becomes its author's current name.

    Only acceptance renames an author: a held or rejected post under an insulting name
    leaves the name shown on the author's other comments alone (each keeps its own).
    Called in the transaction of the verdict or the approval.
    """
    latest: dict[int, Comment] = {}
    for comment in comments:
        if not comment.author_name or comment.author.name == comment.author_name:
            continue
        if comment.author_id not in latest or comment.pk > latest[comment.author_id].pk:
            latest[comment.author_id] = comment
    for author_id, comment in sorted(latest.items()):
        # An older comment approved late does not bring back a name its author has left.
        newer = Comment.objects.filter(author_id=author_id, pk__gt=comment.pk, status__in=Comment.VISIBLE)
        renamed = (
            Author.objects.filter(pk=author_id)
            .exclude(name=comment.author_name)
            .exclude(Exists(newer))
            .update(name=comment.author_name)
        )
        if renamed:
            comment.author.name = comment.author_name
