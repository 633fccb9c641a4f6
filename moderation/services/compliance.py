"""The Digital Services Act's side of moderation: notices (art. 16), statements of reasons
(art. 17) and appeals (art. 20).

Notices and appeals are decided through the moderators' usual actions on the comment
(services.comments_bulk_decide calls ``decisions_settle`` in its transaction): rejecting a
noticed comment upholds its notices, approving it rejects them; approving an appealed
comment upholds the appeal (the comment is restored), rejecting it dismisses the appeal.
The moderator who made the contested decision may not decide the appeal.

Statements are not stored: ``statement_for`` builds one from the trail (the restricting
event, its classification, the notice or appeal) with the templates below, in the site's
language or the one asked for, so a statement always says what the record says.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from moderation.errors import Conflict, Forbidden, NotFound
from moderation.models import (
    Appeal,
    Classification,
    Comment,
    ModerationEvent,
    Notice,
    RejectReason,
    Site,
    WebhookEventType,
)
from moderation.reason_codes import WORD_IN_REASON, reason_code
from moderation.services.webhooks import webhook_event_record

log = logging.getLogger(__name__)
Status = Comment.Status

# Art. 20: an appeal can be lodged for at least six months after the decision.
APPEAL_WINDOW = timedelta(days=183)
RESTRICTED = (Status.HELD, Status.REJECTED)


# --- notices -------------------------------------------------------------------------------------


def notice_create(
    *,
    site: Site,
    comment_id: int,
    ground: str,
    explanation: str,
    notifier_name: str = "",
    notifier_email: str = "",
) -> Notice:
    """Someone says a comment is illegal: the notice waits in the `notices` queue.

    A comment already removed has nothing left to restrict: its notice is recorded as
    upheld at once (and the notifier told through the webhook).
    """
    with transaction.atomic():
        comment = Comment.objects.select_for_update(of=("self",)).filter(pk=comment_id, site=site).first()
        if comment is None:
            raise NotFound(f"No comment {comment_id} on this site.")
        now = timezone.now()
        notice = Notice.objects.create(
            site=site,
            comment=comment,
            ground=ground,
            explanation=explanation,
            notifier_name=notifier_name,
            notifier_email=notifier_email,
        )
        ModerationEvent.objects.create(
            comment=comment,
            actor=ModerationEvent.Actor.NOTIFIER,
            action=ModerationEvent.Action.NOTICE,
            from_status=comment.status,
            to_status=comment.status,
            reason=ground,
            note=f"notice {notice.pk}",
        )
        if comment.status == Status.REJECTED:
            _notices_close([notice], Notice.Status.UPHELD, None, now)
    return notice


def _notices_close(notices, status: str, moderator, now) -> None:
    for notice in notices:
        notice.status, notice.decided_at, notice.decided_by = status, now, moderator
        notice.save(update_fields=["status", "decided_at", "decided_by"])
        webhook_event_record(
            site=notice.site,
            type=WebhookEventType.NOTICE_DECIDED,
            data={
                "notice_id": notice.pk,
                "comment_id": notice.comment_id,
                "ground": notice.ground,
                "outcome": notice.status,
                "notifier": {"name": notice.notifier_name, "email": notice.notifier_email},
                "decided_at": now.isoformat(),
            },
        )


# --- appeals -------------------------------------------------------------------------------------


def restriction_event(comment: Comment) -> ModerationEvent | None:
    """The event that put a held or rejected comment where it is (None if it is not restricted)."""
    if comment.status not in RESTRICTED:
        return None
    return (
        ModerationEvent.objects.filter(comment=comment, to_status=comment.status)
        .exclude(from_status=comment.status)
        .order_by("-created_at", "-id")
        .first()
    )


def appeal_create(*, site: Site, comment_id: int, text: str) -> Appeal:
    """The author contests the restriction of their comment (the site calls for them)."""
    with transaction.atomic():
        comment = Comment.objects.select_for_update(of=("self",)).filter(pk=comment_id, site=site).first()
        if comment is None:
            raise NotFound(f"No comment {comment_id} on this site.")
        contested = restriction_event(comment)
        if contested is None:
            raise Conflict(
                "Nobody restricted this comment: there is nothing to appeal.", code="not_restricted"
            )
        if timezone.now() - contested.created_at > APPEAL_WINDOW:
            raise Conflict("The decision is more than six months old.", code="appeal_window_closed")
        if Appeal.objects.filter(comment=comment, status=Appeal.Status.OPEN).exists():
            raise Conflict("An appeal on this comment is already open.", code="appeal_open")
        if Appeal.objects.filter(comment=comment, contested_event=contested).exists():
            raise Conflict("This decision was already reviewed on appeal.", code="already_appealed")
        try:
            with transaction.atomic():
                appeal = Appeal.objects.create(
                    site=site,
                    comment=comment,
                    text=text,
                    contested_event=contested,
                    contested_by=contested.moderator
                    if contested.actor == ModerationEvent.Actor.MODERATOR
                    else None,
                )
        except IntegrityError:  # a second appeal at the same instant
            raise Conflict("An appeal on this comment is already open.", code="appeal_open") from None
        ModerationEvent.objects.create(
            comment=comment,
            actor=ModerationEvent.Actor.AUTHOR,
            action=ModerationEvent.Action.APPEAL,
            from_status=comment.status,
            to_status=comment.status,
            note=f"appeal {appeal.pk}",
        )
    return appeal


# --- decisions: called by comments_bulk_decide inside its transaction -----------------------------


def decisions_check(*, comments: list[Comment], moderator) -> set[int]:
    """Refuse a decision on an appeal by the moderator who made the contested decision.

    Returns the ids of the comments with an open appeal (they may be rejected again).
    """
    open_appeals = list(
        Appeal.objects.filter(comment__in=comments, status=Appeal.Status.OPEN).values_list(
            "comment_id", "contested_by_id"
        )
    )
    own = sorted(cid for cid, by in open_appeals if by is not None and by == moderator.pk)
    if own:
        raise Forbidden(
            f"You made the decision contested on comment(s) {own}: another moderator decides the appeal.",
            fields={"ids": [f"Appeal against your own decision: {own}"]},
            code="own_decision_appealed",
        )
    return {cid for cid, _ in open_appeals}


def decisions_settle(*, comment: Comment, to_status: str, moderator, now) -> None:
    """Close the notices and the open appeal a moderator's decision on the comment answers."""
    if to_status not in (Status.APPROVED, Status.REJECTED):
        return
    notices = list(Notice.objects.select_related("site").filter(comment=comment, status=Notice.Status.OPEN))
    if notices:
        outcome = Notice.Status.UPHELD if to_status == Status.REJECTED else Notice.Status.REJECTED
        _notices_close(notices, outcome, moderator, now)
    appeal = Appeal.objects.filter(comment=comment, status=Appeal.Status.OPEN).first()
    if appeal is not None:
        appeal.status = Appeal.Status.UPHELD if to_status == Status.APPROVED else Appeal.Status.DISMISSED
        appeal.decided_at, appeal.decided_by = now, moderator
        appeal.save(update_fields=["status", "decided_at", "decided_by"])
        webhook_event_record(
            site=comment.site,
            type=WebhookEventType.APPEAL_DECIDED,
            data={
                "appeal_id": appeal.pk,
                "comment_id": comment.pk,
                "outcome": appeal.status,
                "status": to_status,
                "statement": statement_for(comment, at=now),
            },
        )


# --- statements of reasons -----------------------------------------------------------------------

# What was found, per reason code: the moderators' RejectReason, the policy's reasons (as
# codes, or as the sentences older rows hold), the readers', the trust rules', a notice's.
REASON_LABELS = {
    RejectReason.TOXIC: _("toxic or insulting remarks"),
    RejectReason.HATE: _("hate speech"),
    RejectReason.THREAT: _("a threat"),
    RejectReason.SPAM: _("spam or advertising"),
    RejectReason.OFF_TOPIC: _("remarks off the article's topic"),
    RejectReason.PERSONAL_DATA: _("personal data about someone"),
    RejectReason.OTHER: _("a breach of the participation charter"),
    "author_banned": _("the author is banned from the site's comments"),
    "banned_word": _("a word the site does not publish"),
    "suspect_word": _("a word the site has checked by a moderator"),
    "toxicity": _("language the automatic classifier found likely to be toxic"),
    "premoderation": _(
        "pre-moderation: every comment on this article or by this author waits for a moderator"
    ),
    "reports": _("reports from several readers"),
    "notice": _("a notice of illegal content"),
    "name": _("the name shown with the comment"),
    "new_author": _("a new author's first comments are checked by a moderator"),
    "reject_rate": _("too many of the author's recent comments were rejected"),
}
DECISION_LABELS = {
    "rejected": _("removed"),
    "held": _("withheld pending review"),
    "restored": _("restored on appeal"),
    "confirmed": _("removal confirmed on appeal"),
}


def _words(event: ModerationEvent, classification: Classification | None, code: str) -> list[str]:
    """The words that drove the decision: the listed word, else the classifier's n-grams."""
    params = getattr(event, "reason_params", None) or {}
    if params.get("word"):
        return [str(params["word"])]
    if match := WORD_IN_REASON.match(event.reason or ""):
        return [match.group(1)]
    if classification is None or not classification.explanation:
        return []
    head = "spam" if code == "spam" else "toxicity"
    items = sorted(
        (i for i in classification.explanation.get(head) or [] if isinstance(i, dict) and i.get("ngram")),
        key=lambda i: -float(i.get("weight") or 0),
    )
    words: list[str] = []
    for item in items:
        if item["ngram"] not in words:
            words.append(str(item["ngram"]))
        if len(words) == 5:
            break
    return words


def statement_for(comment: Comment, *, language: str | None = None, at=None) -> dict | None:
    """The statement of reasons for a comment's restriction, or None if it needs none.

    Every rejection has one; a hold has one once it lasts longer than the site's
    ``statement_after_hours``; a comment restored or confirmed on appeal has the appeal's.
    ``{"text": ..., "fields": {...}}``, in ``language`` (else the site's).
    """
    site = comment.site
    now = at or timezone.now()
    # comment.appeals: the moderator detail prefetches them; elsewhere it is one query.
    decided = [a for a in comment.appeals.all() if a.status != Appeal.Status.OPEN and a.decided_at]
    appeal = max(decided, key=lambda a: a.decided_at, default=None)
    event = restriction_event(comment)
    if comment.status in Comment.VISIBLE:
        if appeal is None or appeal.status != Appeal.Status.UPHELD:
            return None
        event, decision = appeal.contested_event, "restored"
    elif event is None:
        return None
    elif comment.status == Status.HELD:
        if now - event.created_at < timedelta(hours=site.statement_after_hours):
            return None
        decision = "held"
    elif (
        appeal is not None
        and appeal.status == Appeal.Status.DISMISSED
        and appeal.contested_event_id == event.pk
    ):
        decision = "confirmed"
    else:
        decision = "rejected"
    if event is None:  # the contested event was deleted: say what we still know
        return None
    notice = (
        Notice.objects.filter(comment=comment, status=Notice.Status.UPHELD).order_by("-decided_at").first()
        if decision in ("rejected", "confirmed")
        else None
    )
    code = (
        "notice"
        if notice is not None and event.reason in ("", RejectReason.OTHER)
        else reason_code(event.reason)
    )
    classification = comment.classifications.order_by("-created_at", "-id").first()
    words = _words(event, classification, code)
    automated = event.actor != ModerationEvent.Actor.MODERATOR
    decided_at = appeal.decided_at if decision in ("restored", "confirmed") else event.created_at
    appeal_until = event.created_at + APPEAL_WINDOW
    with translation.override(language or site.language or "fr"):
        fields = {
            "comment_id": comment.pk,
            "decision": decision,
            "decision_label": str(DECISION_LABELS[decision]),
            "decided_at": decided_at.isoformat(),
            "reason": code,
            "reason_label": str(REASON_LABELS.get(code, REASON_LABELS[RejectReason.OTHER])),
            "facts": {"reason": code, "words": words, "detail": event.reason},
            "automated": automated,
            "ground": (
                {"kind": "law", "notice_ground": notice.ground, "text": str(notice.get_ground_display())}
                if notice is not None
                else {"kind": "charter", "notice_ground": None, "text": site.charter_clause}
            ),
            "redress": {
                "appeal_until": appeal_until.date().isoformat() if decision in ("rejected", "held") else None,
                "appeal_path": f"/api/v1/comments/{comment.pk}/appeals"
                if decision in ("rejected", "held")
                else None,
            },
            "appeal": (
                {"id": appeal.pk, "status": appeal.status, "decided_at": appeal.decided_at.isoformat()}
                if decision in ("restored", "confirmed")
                else None
            ),
            "language": translation.get_language(),
        }
        text = _statement_text(comment, fields, decided_at, appeal_until)
    return {"text": text, "fields": fields}


def _statement_text(comment: Comment, fields: dict, decided_at, appeal_until) -> str:
    date = date_format(timezone.localtime(decided_at), "DATE_FORMAT")
    decision = fields["decision"]
    sentences = [
        {
            "rejected": gettext("Decision: your comment #%(id)s was removed on %(date)s."),
            "held": gettext(
                "Decision: your comment #%(id)s has been withheld from publication since %(date)s, "
                "pending a moderator's review."
            ),
            "restored": gettext("Decision: on appeal, your comment #%(id)s was restored on %(date)s."),
            "confirmed": gettext(
                "Decision: on appeal, the removal of your comment #%(id)s was confirmed on %(date)s."
            ),
        }[decision]
        % {"id": comment.pk, "date": date}
    ]
    if decision == "restored":
        sentences.append(
            gettext("The earlier decision rested on: %(reason)s.") % {"reason": fields["reason_label"]}
        )
        sentences.append(gettext("Your comment is visible again; nothing more is needed."))
        return " ".join(sentences)
    sentences.append(gettext("Facts: %(reason)s.") % {"reason": fields["reason_label"]})
    if fields["facts"]["words"]:
        quoted = ", ".join(f"« {w} »" for w in fields["facts"]["words"])
        sentences.append(gettext("Words in question: %(words)s.") % {"words": quoted})
    sentences.append(
        gettext("This decision was taken by automated means.")
        if fields["automated"]
        else gettext("This decision was taken by a moderator.")
    )
    ground = fields["ground"]
    if ground["kind"] == "law":
        sentences.append(
            gettext(
                "Ground: a notice of illegal content (%(ground)s), under the law that applies to the site."
            )
            % {"ground": ground["text"]}
        )
    else:
        sentences.append(
            gettext("Ground: the site's participation charter. %(clause)s") % {"clause": ground["text"]}
        )
    if decision == "confirmed":
        sentences.append(
            gettext(
                "Redress: this decision was reviewed on appeal by another moderator; you may still turn "
                "to an out-of-court dispute settlement body or to the courts."
            )
        )
    else:
        until = date_format(timezone.localtime(appeal_until), "DATE_FORMAT")
        sentences.append(
            gettext(
                "Redress: you may appeal until %(date)s; another moderator will review the decision. You may "
                "also turn to an out-of-court dispute settlement body or to the courts."
            )
            % {"date": until}
        )
    return " ".join(sentences)
