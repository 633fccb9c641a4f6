"""The classifier's verdicts: claim a batch, score it, apply the site's policy."""

import logging
from collections import Counter
from collections.abc import Sequence

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from moderation import policy, reasons
from moderation.models import (
    Article,
    Author,
    Classification,
    Comment,
    ModerationEvent,
    ModerationMode,
    SectionPolicy,
    Site,
)
from moderation.selectors import comments_by_new_authors
from moderation.services.authors import authors_accept_names, authors_apply_reject_rate
from moderation.services.visibility import articles_visible_bump
from moderation.services.webhooks import COMMENT_STATUS_EVENTS, webhook_comment_data, webhook_events_record

log = logging.getLogger(__name__)
Status = Comment.Status


def get_model():
    """The classifier model of this process (loaded once, then cached)."""
    from moderation.classifier import load_model

    return load_model(settings.VIGIE_MODEL_PATH)


def site_thresholds(
    site: Site, model, language: str | None = None, section: SectionPolicy | None = None
) -> policy.Thresholds:
    """The article's section's thresholds; where it set none, the site's; where the site set
    none, the model's for the comment's language."""
    defaults = model.thresholds_for(language) if language else model.thresholds

    def pick(name: str) -> float:
        own = getattr(section, name) if section is not None else None
        return _pick(own if own is not None else getattr(site, name), defaults[name])

    return policy.Thresholds(
        toxicity_hold=pick("toxicity_hold"),
        toxicity_reject=pick("toxicity_reject"),
        spam_hold=pick("spam_hold"),
        spam_reject=pick("spam_reject"),
    )


def section_policies(comments: Sequence[Comment]) -> dict[tuple[int, str], SectionPolicy]:
    """The section thresholds of these comments' articles, by (site id, section): one query."""
    sections = {(c.site_id, c.article.section) for c in comments if c.article.section}
    if not sections:
        return {}
    found = SectionPolicy.objects.filter(
        site_id__in={site for site, _ in sections}, section__in={section for _, section in sections}
    )
    return {(p.site_id, p.section): p for p in found}


def _pick(value: float | None, default: float) -> float:
    return default if value is None else value


def _claim(status: str, comment_ids: Sequence[int], batch_size: int) -> list[Comment]:
    """Lock up to batch_size comments in ``status``: the given ids first, then the oldest.

    `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite's IMMEDIATE transactions serialise
    writers): a second worker skips locked rows, and a comment no longer in ``status`` is
    left alone. The caller writes the verdicts in the same transaction.
    """
    waiting = Comment.objects.filter(status=status).select_related("site", "article", "author")
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
    return claimed


def comments_classify(*, comment_ids: Sequence[int], batch_size: int | None = None) -> int:
    """The fast stage: classify the given comments, and other waiting ones up to batch_size.

    The fast model scores every comment. What it is sure of is decided here; a comment
    whose toxicity falls in the model's band (and whose fate hangs on that score) is marked
    `screening` with its fast scores and handed to the encoder queue, decided once there.
    A worker killed half-way rolls back, so the redelivered task starts over. Returns how
    many comments this call claimed.
    """
    model = get_model()
    with transaction.atomic():
        claimed = _claim(Status.RECEIVED, comment_ids, batch_size or settings.VIGIE_CLASSIFY_BATCH)
        if not claimed:
            return 0
        # Explanations cost twice the scoring itself: _write_verdicts explains only the
        # comments a moderator will review; explanation_of() explains others on demand.
        scores = model.score([c.body for c in claimed], explain=False)
        names = _name_scores(model, claimed)
        new_authors = comments_by_new_authors(claimed)  # the sites' first-comments trust rule
        sections = section_policies(claimed)
        decide, screen = [], []
        for comment, score, name in zip(claimed, scores, names, strict=True):
            verdict = _verdict(comment, score, name, model, new_authors, sections)
            unsure = verdict.by_score and model.needs_second_opinion(score.toxicity)
            (screen if unsure else decide).append((comment, score, name, verdict))
        # The verdict's time is when it is written, not when the claim began.
        now = timezone.now()
        if decide:
            _write_verdicts(decide, model, now, from_status=Status.RECEIVED)
        if screen:
            _write_screening(screen, model, now)
            ids = [comment.pk for comment, *_ in screen]
            transaction.on_commit(lambda: enqueue_second_opinion(ids))
    return len(claimed)


def comments_second_opinion(*, comment_ids: Sequence[int], batch_size: int | None = None) -> int:
    """The encoder stage: the final verdict of comments the fast model was unsure of.

    Claims `screening` comments as the fast stage claims `received` ones, scores them
    again with the fast model (the same model a moment later gives the same scores), asks
    the encoder, combines, and writes the one verdict. Returns how many it decided.
    """
    model = get_model()
    with transaction.atomic():
        claimed = _claim(Status.SCREENING, comment_ids, batch_size or settings.VIGIE_SECOND_OPINION_BATCH)
        if not claimed:
            return 0
        bodies = [c.body for c in claimed]
        fast = model.score(bodies, explain=False)
        # A model without a second opinion (it changed under a waiting comment): the fast
        # score decides.
        scores = model.second_opinion(bodies, fast) if model.has_second_opinion else fast
        names = _name_scores(model, claimed)
        new_authors = comments_by_new_authors(claimed)
        sections = section_policies(claimed)
        decided = [
            (comment, score, name, _verdict(comment, score, name, model, new_authors, sections))
            for comment, score, name in zip(claimed, scores, names, strict=True)
        ]
        _write_verdicts(decided, model, timezone.now(), from_status=Status.SCREENING)
    return len(claimed)


def enqueue_second_opinion(comment_ids: Sequence[int]) -> bool:
    """Send the encoder stage's task; a broker outage is logged (the sweep resends)."""
    from moderation.tasks import second_opinion

    try:
        for start in range(0, len(comment_ids), settings.VIGIE_SECOND_OPINION_BATCH):
            second_opinion.delay(list(comment_ids[start : start + settings.VIGIE_SECOND_OPINION_BATCH]))
    except Exception:  # noqa: BLE001 - any broker error; the sweep is the safety net
        log.warning("broker unavailable, %d screened comment(s) left for the sweep", len(comment_ids))
        return False
    return True


def comments_sweep_screening(*, older_than_seconds: int | None = None, limit: int = 5000) -> int:
    """Re-enqueue comments that waited for the second opinion too long."""
    from moderation.services.comments import sweep_waiting

    return sweep_waiting(Status.SCREENING, enqueue_second_opinion, since="updated_at",
                         what="waiting for the second opinion",
                         older_than_seconds=older_than_seconds, limit=limit)


# Display names repeat (one reader, many comments): each distinct name is scored once per
# model and process.
_NAME_CACHE: dict[tuple[str, str], object] = {}
_NAME_CACHE_MAX = 20000


def display_name(comment: Comment) -> str:
    """The name this comment was posted under."""
    return getattr(comment, "author_name", "") or comment.author.name


def _name_scores(model, comments: list[Comment]) -> list:
    names = [display_name(c) for c in comments]
    missing = list(dict.fromkeys(n for n in names if (model.version, n) not in _NAME_CACHE))
    if missing:
        if len(_NAME_CACHE) + len(missing) > _NAME_CACHE_MAX:
            _NAME_CACHE.clear()
        for name, score in zip(missing, model.score(missing, explain=False), strict=True):
            _NAME_CACHE[(model.version, name)] = score
    return [_NAME_CACHE[(model.version, n)] for n in names]


def _personal_data(comment: Comment) -> list:
    """The personal data in the comment's body (once per comment: the verdict and the
    explanation both ask)."""
    from moderation.classifier import personal

    found = getattr(comment, "_personal_data_found", None)
    if found is None:
        found = personal.find(comment.body) if comment.site.detect_personal_data else []
        comment._personal_data_found = found
    return found


def _verdict(
    comment: Comment, score, name, model, new_authors: set, sections: dict | None = None
) -> policy.Verdict:
    site, article, author = comment.site, comment.article, comment.author
    section = (sections or {}).get((site.pk, article.section))
    thresholds = site_thresholds(site, model, score.language, section)
    found = _personal_data(comment)
    return policy.decide(
        toxicity=score.toxicity,
        spam=score.spam,
        thresholds=thresholds,
        premoderated=(
            article.moderation_mode == ModerationMode.PRE or author.status == Author.Status.PREMODERATED
        ),
        author_banned=author.status == Author.Status.BANNED,
        banned_words=site.banned_words,
        suspect_words=site.suspect_words,
        body=comment.body,
        personal_data=", ".join(dict.fromkeys(f.kind for f in found)),
        new_author=comment.pk in new_authors,
        name_flagged=name.toxicity >= thresholds.toxicity_hold or name.spam >= thresholds.spam_hold,
    )


def _write_screening(batch: list, model, now) -> None:
    """Fast scores on the comments, status `screening`, one event each: same transaction."""
    comments = []
    for comment, score, _name, _verdict in batch:
        comment.status = Status.SCREENING
        comment.language = score.language
        comment.toxicity = score.toxicity
        comment.spam = score.spam
        comment.priority = max(score.toxicity, score.spam)
        comment.updated_at = now
        comments.append(comment)
    _update_classified(comments, from_status=Status.RECEIVED)
    ModerationEvent.objects.bulk_create(
        ModerationEvent(
            comment=comment,
            actor=ModerationEvent.Actor.CLASSIFIER,
            action=ModerationEvent.Action.CLASSIFY,
            from_status=Status.RECEIVED,
            to_status=Status.SCREENING,
            reason=reasons.SECOND_OPINION,
            reason_params={
                "score": round(comment.toxicity, 4),
                "threshold": [model.second["band"]["low"], model.second["band"]["high"]],
                "model": model.version,
            },
            note=f"model {model.version}",
            created_at=now,
        )
        for comment in comments
    )


def _explanation(model, comment: Comment, score, name) -> dict:
    from moderation.classifier import personal

    explanation = model.explain(comment.body)
    if found := _personal_data(comment):
        explanation["personal_data"] = personal.explanation(found)
    if "toxicity_encoder" in score.labels:
        from moderation.classifier import Scores

        fast = Scores(toxicity=score.labels["toxicity_fast"], spam=score.spam, language=score.language)
        explanation["encoder"] = model.explain_encoder(comment.body, fast, score.toxicity, None)
    if name.toxicity >= 0.5 or name.spam >= 0.5:
        explanation["display_name"] = {
            "name": display_name(comment),
            "toxicity": round(name.toxicity, 4),
            "spam": round(name.spam, 4),
        }
    return explanation


def _write_verdicts(batch: list, model, now, *, from_status: str) -> None:
    classifications, events, webhooks = [], [], []
    rejected_by_author: Counter = Counter()
    comments = []
    for comment, score, name, verdict in batch:
        author = comment.author
        comment.status = verdict.status
        comment.language = score.language
        comment.toxicity = score.toxicity
        comment.spam = score.spam
        comment.priority = max(score.toxicity, score.spam)
        comment.updated_at = now
        comments.append(comment)
        if verdict.status == Status.REJECTED:
            comment.decided_at = now
            rejected_by_author[author.pk] += 1
        labels = dict(score.labels)
        labels["display_name_toxicity"] = round(name.toxicity, 6)
        labels["display_name_spam"] = round(name.spam, 6)
        classifications.append(
            Classification(
                comment=comment,
                model_version=model.version,
                toxicity=score.toxicity,
                spam=score.spam,
                language=score.language,
                labels=labels,
                explanation=(
                    _explanation(model, comment, score, name) if verdict.status != Status.PUBLISHED else {}
                ),
                created_at=now,
            )
        )
        events.append(
            ModerationEvent(
                comment=comment,
                actor=ModerationEvent.Actor.CLASSIFIER,
                action=ModerationEvent.Action.CLASSIFY,
                from_status=from_status,
                to_status=verdict.status,
                reason=verdict.reason[:200],
                reason_params={**verdict.params, "model": model.version},
                created_at=now,
            )
        )
        if verdict.status in COMMENT_STATUS_EVENTS:  # a status sites are told about
            webhooks.append(
                (
                    comment.site,
                    COMMENT_STATUS_EVENTS[verdict.status],
                    webhook_comment_data(
                        comment, reason=verdict.reason[:200], actor=ModerationEvent.Actor.CLASSIFIER
                    ),
                )
            )
    _update_classified(comments, from_status=from_status)
    authors_accept_names([c for c in comments if c.status == Status.PUBLISHED])
    # Published verdicts add to what readers see (a held or rejected arrival does not).
    articles_visible_bump(article_ids={c.article_id for c in comments if c.status in Comment.VISIBLE})
    Classification.objects.bulk_create(classifications)
    ModerationEvent.objects.bulk_create(events)
    webhook_events_record(webhooks)
    if rejected_by_author:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {Author._meta.db_table} SET rejected_count = rejected_count + %s WHERE id = %s",  # noqa: S608
                [(count, author_id) for author_id, count in sorted(rejected_by_author.items())],
            )
        # The sites' reject-rate trust rule, for the authors of sites that set one.
        ruled = {c.author_id for c in comments if c.site.premoderate_reject_rate is not None}
        authors_apply_reject_rate(author_ids=sorted(ruled & set(rejected_by_author)))


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


def _update_classified(comments: list[Comment], *, from_status: str) -> None:
    """Write a batch's verdicts with one prepared UPDATE sent for every row (executemany).

    Django's bulk_update builds a CASE expression per field and row, which cost more than
    scoring the batch; psycopg sends executemany in one pipeline, SQLite runs it in C. The
    rows are locked by the claim, and `status = from_status` keeps the write conditional anyway.
    """
    fields = [Comment._meta.get_field(name) for name in _CLASSIFIED_FIELDS]
    assignments = ", ".join(f"{f.column} = %s" for f in fields)
    sql = (
        f"UPDATE {Comment._meta.db_table} SET {assignments} "  # noqa: S608 - names from the model
        f"WHERE id = %s AND status = %s"
    )
    rows = [
        (*(f.get_db_prep_save(getattr(c, f.attname), connection) for f in fields), c.pk, from_status)
        for c in comments
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
        if cursor.rowcount not in (-1, len(rows)):
            # Cannot happen while the claim holds the rows; if it did, roll the batch back
            # (the task retries) rather than write a second verdict for a comment.
            raise DatabaseError(f"classified {cursor.rowcount} of {len(rows)} claimed comments")


def comment_check(
    *,
    site: Site,
    body: str,
    author_external_id: str | None = None,
    author_name: str = "",
    article_external_id: str | None = None,
) -> dict:
    """What the pipeline would decide for this comment if it were posted now (the "nudge").

    The same path as a posted comment: the fast model, the encoder's second opinion when the
    fast score is in the band and the scores decide, the site's thresholds, word lists and
    trust rules, the article's and the author's moderation. Stores nothing, enqueues nothing
    (an unsaved Comment goes through `_verdict`). Raises NotFound for an unknown article,
    ArticleClosed for one that takes no comments.
    """
    from moderation.errors import ArticleClosed
    from moderation.selectors import article_for_site, author_for_site

    if article_external_id:
        article = article_for_site(site=site, external_id=article_external_id)
        article.site = site
        if article.is_closed():
            raise ArticleClosed("This article is closed to new comments.")
    else:  # the site's defaults, as for a new article
        article = Article(site=site, moderation_mode=site.default_moderation_mode)
    author = author_for_site(site=site, external_id=author_external_id) if author_external_id else None
    earlier = Comment.objects.filter(author=author).count() if author is not None else 0
    if author is None:
        author = Author(site=site, external_id=author_external_id or "", name=author_name)
    comment = Comment(site=site, article=article, author=author, body=body)
    comment.author_name = author_name or author.name
    model = get_model()
    score = model.score([body], explain=False)[0]
    name = _name_scores(model, [comment])[0] if comment.author_name else _NO_NAME
    new_authors = {None} if earlier < site.premoderate_first_comments else set()
    verdict = _verdict(comment, score, name, model, new_authors)
    method = "fast"
    if verdict.by_score and model.needs_second_opinion(score.toxicity):
        score = model.second_opinion([body], [score])[0]
        verdict = _verdict(comment, score, name, model, new_authors)
        method = "cascade"
    return {
        "toxicity": round(score.toxicity, 4),
        "spam": round(score.spam, 4),
        "would_be": verdict.status,
        "reasons": []
        if verdict.status == Status.PUBLISHED
        else [{"code": verdict.reason, "message": reasons.describe(verdict.reason, verdict.params)}],
        "spans": _check_spans(model, comment, score, site_thresholds(site, model, score.language))
        if verdict.status != Status.PUBLISHED
        else [],
        "method": method,
        "model": model.version,
    }


class _Unflagged:
    toxicity = spam = 0.0


_NO_NAME = _Unflagged()


def _check_spans(model, comment: Comment, score, thresholds: policy.Thresholds) -> list[dict]:
    """The words a reader could reword: those that pushed a score past its hold threshold,
    and any personal data; offsets index the body as sent."""
    from moderation.classifier import personal

    explanation = model.explain(comment.body)
    over = {
        "toxicity": score.toxicity >= thresholds.toxicity_hold,
        "spam": score.spam >= thresholds.spam_hold,
    }
    spans = [
        {"start": item["start"], "end": item["end"], "text": item["ngram"], "label": head}
        for head, items in explanation.items()
        if over.get(head)
        for item in items
        if item.get("weight", 0) > 0
    ]
    spans += [
        {"start": f.start, "end": f.end, "text": f.text, "label": f"personal_data:{f.kind}"}
        for f in (personal.find(comment.body) if comment.site.detect_personal_data else [])
    ]
    return sorted(spans, key=lambda s: (s["start"], s["end"]))
