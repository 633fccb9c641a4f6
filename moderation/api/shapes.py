"""The readers' list and the moderators' queues, from rows to JSON, without serializers.

A page of these is 50 to 150 comments: DRF serializers (and the model instances behind them)
cost several times the queries (bench/reads.py). Each shape is one plain function of a row
of the selector's fields (selectors.VISIBLE_ROW_FIELDS, selectors.QUEUE_ROW_FIELDS) that
answers exactly what the serializer documented in the schema answers
(serializers.VisibleCommentOutput, serializers.QueueItemOutput): add a field to both.
"""

from datetime import datetime, tzinfo

from django.utils import timezone


def iso(value: datetime | None, tz: tzinfo) -> str | None:
    """A datetime as DRF's DateTimeField writes it: in the current time zone, "Z" for UTC."""
    if value is None:
        return None
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _float(value) -> float | None:
    return None if value is None else float(value)


def visible_comment(row: dict, tz: tzinfo, replies: list[dict]) -> dict:
    """One comment of the readers' thread (VisibleCommentOutput), its replies already shaped."""
    return {
        "id": row["id"],
        "parent_id": row["parent_id"],
        "author": {"id": row["author__external_id"], "name": row["author__name"]},
        "body": row["body"],
        "created_at": iso(row["created_at"], tz),
        "replies": replies,
    }


def visible_threads(roots: list[dict], replies_by_parent: dict[int, list[dict]]) -> list[dict]:
    """A page of roots with their visible replies nested under their parents, oldest first.

    A reply whose parent is not visible is not shown either: its thread is cut there (it
    hangs under no shaped comment). No recursion, so no thread depth exhausts the stack.
    """
    tz = timezone.get_current_timezone()
    shaped = {row["id"]: visible_comment(row, tz, []) for row in roots}
    for rows in replies_by_parent.values():
        for row in rows:
            shaped[row["id"]] = visible_comment(row, tz, [])
    for parent_id, rows in replies_by_parent.items():
        parent = shaped.get(parent_id)
        if parent is not None:
            parent["replies"] = [shaped[row["id"]] for row in rows]
    return [shaped[row["id"]] for row in roots]


def comment_status(comment) -> dict:
    """A comment as its site sees it (CommentStatusOutput): every POST answers with one.

    From the instance the service returns (its article and author loaded with it).
    """
    tz = timezone.get_current_timezone()
    return {
        "id": comment.pk,
        "article_id": comment.article.external_id,
        "parent_id": comment.parent_id,
        "author": {"id": comment.author.external_id, "name": comment.author.name},
        "body": comment.body,
        "status": str(comment.site_status),
        "visible": comment.is_visible,
        "created_at": iso(comment.created_at, tz),
        "updated_at": iso(comment.updated_at, tz),
    }


def comment_detail(comment, statement: dict | None) -> dict:
    """GET /comments/{id} (CommentDetailOutput): the comment and its statement of reasons."""
    return {**comment_status(comment), "statement": statement}


def queue_item(row: dict, tz: tzinfo) -> dict:
    """One comment of a moderator's queue (QueueItemOutput)."""
    return {
        "id": row["id"],
        "site": row["site__name"],
        "article": {
            "id": row["article__external_id"],
            "url": row["article__url"],
            "title": row["article__title"],
            "language": row["article__language"],
            "moderation_mode": row["article__moderation_mode"],
            "closed": row["article__closed"],
            "created_at": iso(row["article__created_at"], tz),
            "updated_at": iso(row["article__updated_at"], tz),
        },
        "author": {
            "id": row["author__id"],
            "external_id": row["author__external_id"],
            "name": row["author__name"],
            "status": row["author__status"],
            "approved_count": row["author__approved_count"],
            "rejected_count": row["author__rejected_count"],
        },
        "parent_id": row["parent_id"],
        "body": row["body"],
        "status": row["status"],
        "language": row["language"],
        "toxicity": _float(row["toxicity"]),
        "spam": _float(row["spam"]),
        "priority": float(row["priority"]),
        "open_reports": row["open_reports"],
        "report_weight": float(row["report_weight"]),
        "created_at": iso(row["created_at"], tz),
        "decided_at": iso(row["decided_at"], tz),
    }


def queue_items(rows: list[dict]) -> list[dict]:
    tz = timezone.get_current_timezone()
    return [queue_item(row, tz) for row in rows]
