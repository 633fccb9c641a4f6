"""The moderators' queues, from rows to JSON, without serializers (the readers' list is
built the same way, from rows, by selectors.thread_forest).

A page is 50 comments with their sites, articles and authors: a ModelSerializer and the
model instances behind it cost several times the query (bench/reads.py). queue_item is one
plain function of a row of selectors.QUEUE_ROW_FIELDS that answers exactly what the schema's
serializers.QueueItemOutput answers (tests/test_shapes.py): add a field to both.
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
            "close_after_days": row["article__close_after_days"],
            "section": row["article__section"],
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
