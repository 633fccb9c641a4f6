"""Author status: ban, pre-moderate, restore."""

import logging

from django.db import transaction

from moderation.errors import NotFound
from moderation.models import (
    Author,
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
