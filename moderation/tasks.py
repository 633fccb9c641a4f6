"""Celery tasks: thin, they take ids, and the services do the work."""

import logging

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from moderation import services

log = logging.getLogger(__name__)

# The pipeline's tasks (both stages, for comments and for edits): acknowledged after they
# ran, redelivered if their worker dies, retried with backoff while the database is away.
PIPELINE_TASK = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (DatabaseError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 60,  # well under the broker's visibility timeout
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(**PIPELINE_TASK)
def classify_comment(comment_id: int) -> int:
    """Classify this comment, and others waiting beside it, in one model call.

    Idempotent: a comment already classified is skipped, so a redelivered or duplicate
    task does nothing. A missing or corrupt model raises ModelError: the task fails loudly,
    the comment stays `received`, and the sweep retries it once a good model is in place.
    """
    return services.comments_classify(comment_ids=[comment_id])


@shared_task(**PIPELINE_TASK)
def second_opinion(comment_ids: list[int]) -> int:
    """The encoder stage for comments the fast model was unsure of (routed to the encoder
    queue, settings.VIGIE_ENCODER_QUEUE). Idempotent like classify_comment: a comment no
    longer `screening` is skipped."""
    return services.comments_second_opinion(comment_ids=comment_ids)


@shared_task(**PIPELINE_TASK)
def classify_revision(revision_id: int) -> int:
    """Moderate an author's edit (the fast stage). Idempotent: a decided revision is skipped."""
    return services.revisions_classify(revision_ids=[revision_id])


@shared_task(**PIPELINE_TASK)
def revision_second_opinion(revision_ids: list[int]) -> int:
    """The encoder stage for edits (routed to the encoder queue, like second_opinion)."""
    return services.revisions_second_opinion(revision_ids=revision_ids)


@shared_task(acks_late=True, ignore_result=True)
def purge_expired() -> dict:
    """Daily (Celery beat): the sites' retention rules (`manage.py purge_expired` by hand)."""
    return services.personal_data_purge_expired()


@shared_task(acks_late=True, ignore_result=True)
def sweep_received() -> int:
    """Periodic safety net (Celery beat): re-enqueue comments and edits stuck at either stage."""
    return (
        services.comments_sweep_received() + services.comments_sweep_screening() + services.revisions_sweep()
    )


@shared_task(**{**PIPELINE_TASK, "ignore_result": True, "max_retries": 5})
def deliver_webhook(delivery_id: int) -> str:
    """One attempt at one webhook delivery. Idempotent: a delivered or claimed one is skipped.

    A failed HTTP call is not a task retry: the service schedules the next attempt in the
    database (next_attempt_at) and the sweep sends it when due, whatever the broker lost.
    """
    return services.webhook_deliver(delivery_id=delivery_id)


@shared_task(**{**PIPELINE_TASK, "ignore_result": True, "max_retries": 5})
def expand_webhook_batch(batch_id: int) -> int:
    """Make the deliveries of a batch of verdicts' events (off the classifier's queue)."""
    return services.webhook_batch_expand(batch_id=batch_id)


@shared_task(acks_late=True, ignore_result=True)
def sweep_webhooks() -> int:
    """Periodic (Celery beat): enqueue webhook retries that are due and deliveries a task lost."""
    return services.webhooks_sweep()
