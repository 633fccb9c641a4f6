"""Webhooks: a site's endpoints, the outbox of deliveries, and sending them.

The outbox: ``webhook_event_record`` writes one WebhookDelivery per subscribed endpoint in
the transaction of the change it reports, so the event exists exactly when the change does
(a rollback takes both away; Redis or the receiver being down only delays it). After commit
a Celery task sends it; the beat sweep re-sends what falls due (retries, with exponential
backoff and jitter, for VIGIE_WEBHOOK_RETRY_HOURS) and what a lost task left behind.

Sending follows Standard Webhooks (the ``standardwebhooks`` package signs): headers
``webhook-id`` (the delivery's message id, the same on every retry), ``webhook-timestamp``
and ``webhook-signature``. Each attempt is logged. A delivery is claimed by a row lock
before it is sent and a delivered one is never claimed again, so an event is not sent twice.
"""

import base64
import http.client
import ipaddress
import json
import logging
import random
import secrets
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from moderation.errors import NotFound, VigieError
from moderation.models import (
    Comment,
    Site,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventBatch,
    WebhookEventType,
)

log = logging.getLogger(__name__)
Delivery = WebhookDelivery.Status

MAX_URL_LENGTH = 2000
EVENT_TYPES = frozenset(WebhookEventType.values)
# The event each comment status reports when a comment reaches it.
COMMENT_STATUS_EVENTS = {
    Comment.Status.PUBLISHED: WebhookEventType.COMMENT_PUBLISHED,
    Comment.Status.HELD: WebhookEventType.COMMENT_HELD,
    Comment.Status.REJECTED: WebhookEventType.COMMENT_REJECTED,
    Comment.Status.APPROVED: WebhookEventType.COMMENT_APPROVED,
}
# Retries: 10 s, 20 s, 40 s ... doubling up to 2 h between attempts (about 20 attempts in
# 24 h), each delay drawn from its upper half so that receivers coming back are not hit
# by every sender at once.
BACKOFF_FIRST_SECONDS = 10
BACKOFF_MAX_SECONDS = 2 * 3600
EXCERPT_CHARS = 200
USER_AGENT = "Vigie-Webhooks/1.0"


# --- endpoints ------------------------------------------------------------------------------


def webhook_endpoint_create(*, site: Site, url: str, events: Sequence[str]) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its secret, which is shown to the site only here."""
    url = url.strip()
    check_webhook_url(url)
    unknown = sorted(set(events) - EVENT_TYPES)
    if unknown or not events:
        raise VigieError(
            "Unknown or missing event types.",
            fields={"events": [f"Unknown event type: {name}" for name in unknown] or ["At least one event."]},
        )
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    with transaction.atomic():
        # Locks the site row so that two concurrent creations cannot both pass the limit.
        Site.objects.select_for_update().filter(pk=site.pk).first()
        if WebhookEndpoint.objects.filter(site=site).count() >= settings.VIGIE_WEBHOOKS_PER_SITE:
            raise VigieError(
                f"A site may have at most {settings.VIGIE_WEBHOOKS_PER_SITE} webhook endpoints.",
                code="too_many_webhooks",
                fields={"url": ["Limit reached: delete an endpoint first."]},
            )
        endpoint = WebhookEndpoint.objects.create(
            site=site, url=url, events=sorted(set(events)), secret=secret
        )
    return endpoint, secret


def webhook_endpoint_delete(*, site: Site, endpoint_id: int) -> None:
    """Delete a site's endpoint and its pending deliveries; another site's id is not found."""
    with transaction.atomic():
        deleted, _ = WebhookEndpoint.objects.filter(pk=endpoint_id, site=site).delete()
    if not deleted:
        raise NotFound(f"No webhook {endpoint_id} on this site.")


def webhook_endpoint_enable(*, endpoint_id: int) -> None:
    """Turn a disabled endpoint back on (a moderator, once the site has fixed its receiver)."""
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(disabled_at=None, failing_since=None)


def check_webhook_url(url: str) -> None:
    """Only http(s) URLs whose host resolves to public addresses (every one of them).

    A receiver on loopback or a private network would let a site make Vigie call its own
    neighbours (SSRF); VIGIE_WEBHOOK_ALLOW_PRIVATE=1 allows it, for tests and one machine.
    """

    def refuse(message: str):
        raise VigieError(message, fields={"url": [message]}, code="invalid_url")

    if len(url) > MAX_URL_LENGTH:
        refuse(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if not url.isprintable() or any(c.isspace() for c in url):
        refuse("The URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        refuse("Not a valid URL.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        refuse("Only http:// and https:// URLs are accepted.")
    if parts.username is not None or parts.password is not None:
        refuse("Credentials in the URL are not accepted: verify the signature instead.")
    problem = address_problem(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    if problem:
        refuse(problem)


def address_problem(host: str, port: int) -> str | None:
    """Why Vigie must not call this host, or None. Checked again before every attempt,
    since what a name resolves to can change after it was registered."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return f"The host {host!r} cannot be resolved."
    if settings.VIGIE_WEBHOOK_ALLOW_PRIVATE:
        return None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            return f"The host {host!r} resolves to a non-public address ({address})."
    return None


# --- the outbox -----------------------------------------------------------------------------


def webhook_comment_data(comment: Comment, *, reason: str = "", **extra) -> dict:
    """A comment event's ``data``: ids the site knows (its article and author ids) and the status."""
    return {
        "comment_id": comment.pk,
        "article_id": comment.article.external_id,
        "author_id": comment.author.external_id,
        "parent_id": comment.parent_id,
        "status": comment.status,
        "reason": reason,
        **extra,
    }


def webhook_event_record(*, site: Site, type: str, data: dict) -> None:  # noqa: A002 - the agreed name
    """Record one event for the site's endpoints that subscribed to it. Call it inside the
    transaction of the change: the delivery rows commit (or roll back) with it."""
    webhook_events_record([(site, type, data)])


def webhook_events_record(events: Iterable[tuple[Site, str, dict]]) -> None:
    """Record many events at once (a batch of verdicts): one query for the endpoints, one insert.

    A site without endpoints costs that one indexed query and nothing else. One event is
    written as its deliveries; several as one WebhookEventBatch row, which a webhook worker
    expands into deliveries after commit: the batch's transaction stays as short as it was.
    """
    events = list(events)
    if not events:
        return
    for _, type_, _ in events:
        if type_ not in EVENT_TYPES:
            raise ValueError(f"unknown webhook event type {type_!r}")
    endpoints = defaultdict(list)
    for endpoint in WebhookEndpoint.objects.filter(
        site_id__in={site.pk for site, _, _ in events}, disabled_at__isnull=True
    ).only("id", "site_id", "events"):
        endpoints[endpoint.site_id].append(endpoint)
    if not endpoints:
        return
    subscribed = []
    for site, type_, data in events:
        endpoint_ids = [e.pk for e in endpoints.get(site.pk, ()) if type_ in e.events]
        if endpoint_ids:
            subscribed.append((type_, data, endpoint_ids))
    if not subscribed:
        return
    now = timezone.now()
    if len(subscribed) == 1:
        ids = _deliveries_create(subscribed, happened_at=now)
        transaction.on_commit(lambda: enqueue_deliveries(ids))
        return
    batch = WebhookEventBatch.objects.create(
        events=[{"type": t, "data": d, "endpoints": e} for t, d, e in subscribed], created_at=now
    )
    transaction.on_commit(lambda: enqueue_batch(batch.pk))


def _deliveries_create(events: list[tuple[str, dict, list[int]]], *, happened_at) -> list[int]:
    """One delivery per event and endpoint, each body serialised once for all its retries."""
    now = timezone.now()
    stamp = happened_at.isoformat().replace("+00:00", "Z")
    straggler = now + timedelta(seconds=settings.VIGIE_SWEEP_AFTER_SECONDS)
    retry_until = now + timedelta(hours=settings.VIGIE_WEBHOOK_RETRY_HOURS)
    rows = []
    for type_, data, endpoint_ids in events:
        body = json.dumps(
            {"type": type_, "timestamp": stamp, "data": data},
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        rows += [
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event_type=type_,
                message_id=f"msg_{uuid.uuid4().hex}",
                body=body,
                next_attempt_at=straggler,
                retry_until=retry_until,
                created_at=happened_at,
            )
            for endpoint_id in endpoint_ids
        ]
    return [row.pk for row in WebhookDelivery.objects.bulk_create(rows)]


def webhook_batch_expand(*, batch_id: int) -> int:
    """Turn a batch of events into its deliveries (once: the batch row goes with it).

    Endpoints deleted or disabled since the change get nothing. Returns the deliveries made.
    """
    with transaction.atomic():
        batch = WebhookEventBatch.objects.select_for_update(skip_locked=True).filter(pk=batch_id).first()
        if batch is None:  # expanded already, or being expanded by another worker
            return 0
        wanted = {endpoint_id for event in batch.events for endpoint_id in event["endpoints"]}
        alive = set(
            WebhookEndpoint.objects.filter(pk__in=wanted, disabled_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        events = [
            (event["type"], event["data"], [i for i in event["endpoints"] if i in alive])
            for event in batch.events
        ]
        ids = _deliveries_create(events, happened_at=batch.created_at)
        batch.delete()
        transaction.on_commit(lambda: enqueue_deliveries(ids))
    return len(ids)


def enqueue_batch(batch_id: int) -> bool:
    from moderation.tasks import expand_webhook_batch

    try:
        expand_webhook_batch.delay(batch_id)
    except Exception:  # noqa: BLE001 - any broker error; the sweep expands it
        log.warning("broker unavailable, webhook batch %s left for the sweep", batch_id, exc_info=True)
        return False
    return True


def enqueue_deliveries(delivery_ids: Sequence[int]) -> bool:
    """Send the delivery tasks after commit; a broker outage is logged, the sweep sends them."""
    from moderation.tasks import deliver_webhook

    try:
        for delivery_id in delivery_ids:
            deliver_webhook.delay(delivery_id)
    except Exception:  # noqa: BLE001 - any broker error; the sweep is the safety net
        log.warning("broker unavailable, %d webhook(s) left for the sweep", len(delivery_ids), exc_info=True)
        return False
    return True


def webhooks_sweep(*, limit: int = 1000) -> int:
    """Enqueue the pending deliveries that are due: retries, and those whose task was lost;
    first expand the batches of events whose task was lost.

    Each row enqueued is pushed VIGIE_SWEEP_AFTER_SECONDS ahead, so that a backlog is not
    enqueued again at every sweep while its tasks wait in the queue.
    """
    from moderation.tasks import deliver_webhook

    now = timezone.now()
    late = now - timedelta(seconds=settings.VIGIE_SWEEP_AFTER_SECONDS)
    for batch_id in (
        WebhookEventBatch.objects.filter(created_at__lte=late)
        .order_by("created_at")
        .values_list("pk", flat=True)[:100]
    ):
        webhook_batch_expand(batch_id=batch_id)  # their deliveries are enqueued on commit
    ids = list(
        WebhookDelivery.objects.filter(
            status=Delivery.PENDING, next_attempt_at__lte=now, endpoint__disabled_at__isnull=True
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = []
    try:
        for delivery_id in ids:
            deliver_webhook.delay(delivery_id)
            sent.append(delivery_id)
    except Exception:  # noqa: BLE001 - broker down: the next sweep tries again
        log.warning("broker unavailable, webhook sweep stopped after %d", len(sent), exc_info=True)
    if sent:
        WebhookDelivery.objects.filter(pk__in=sent, status=Delivery.PENDING).update(
            next_attempt_at=now + timedelta(seconds=settings.VIGIE_SWEEP_AFTER_SECONDS)
        )
        log.info("webhook sweep re-enqueued %d delivery(ies)", len(sent))
    return len(sent)


def webhooks_redeliver(*, delivery_ids: Sequence[int]) -> int:
    """Send these deliveries again (a moderator's admin action), with a fresh retry window.

    A disabled endpoint is enabled again: asking for a redelivery says the receiver is back.
    """
    now = timezone.now()
    ids = list(delivery_ids)
    with transaction.atomic():
        endpoint_ids = set(WebhookDelivery.objects.filter(pk__in=ids).values_list("endpoint_id", flat=True))
        WebhookEndpoint.objects.filter(pk__in=endpoint_ids, disabled_at__isnull=False).update(
            disabled_at=None, failing_since=None
        )
        count = WebhookDelivery.objects.filter(pk__in=ids).update(
            status=Delivery.PENDING,
            delivered_at=None,
            next_attempt_at=now + timedelta(seconds=settings.VIGIE_SWEEP_AFTER_SECONDS),
            retry_until=now + timedelta(hours=settings.VIGIE_WEBHOOK_RETRY_HOURS),
            locked_until=None,
        )
        transaction.on_commit(lambda: enqueue_deliveries(ids))
    return count


# --- sending --------------------------------------------------------------------------------


def webhook_deliver(*, delivery_id: int) -> str:
    """One attempt at one delivery, if it is still pending and no other worker holds it.

    Returns what happened: "delivered", "retry", "failed" or "skipped".
    """
    delivery = _claim(delivery_id)
    if delivery is None:
        return "skipped"
    started = timezone.now()
    clock = time.monotonic()
    status_code, excerpt, error = _send(delivery, started)
    duration_ms = round((time.monotonic() - clock) * 1000)
    return _record(delivery, started, status_code, duration_ms, error, excerpt)


def _lease() -> timedelta:
    # Longer than a task may live (Celery kills it at the hard time limit), so two workers
    # never hold one delivery at once; past it, a worker that died mid-call has let go.
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 30)


def _claim(delivery_id: int) -> WebhookDelivery | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id, status=Delivery.PENDING)
            .first()
        )
        if delivery is None or delivery.endpoint.disabled_at is not None:
            return None
        if delivery.locked_until is not None and delivery.locked_until > now:
            return None
        delivery.attempts += 1
        delivery.locked_until = now + _lease()
        delivery.save(update_fields=["attempts", "locked_until"])
    return delivery


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx is the receiver's answer, not an address to follow


# No proxies from the environment, no redirects: the request goes where the site said.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


def _send(delivery: WebhookDelivery, now) -> tuple[int | None, str, str]:
    """POST the body, signed now. Returns (status code or None, response excerpt, error)."""
    endpoint = delivery.endpoint
    parts = urlsplit(endpoint.url)
    problem = address_problem(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    if problem:
        return None, "", problem
    signature = Webhook(endpoint.secret).sign(msg_id=delivery.message_id, timestamp=now, data=delivery.body)
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked at registration
        endpoint.url,
        data=delivery.body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        },
    )
    try:
        with _opener.open(request, timeout=settings.VIGIE_WEBHOOK_TIMEOUT) as response:
            return response.status, _excerpt(response), ""
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, _excerpt(exc), ""
    except (OSError, ValueError, http.client.HTTPException) as exc:  # refused, timed out, TLS, a bad answer
        reason = getattr(exc, "reason", exc)
        return None, "", f"{type(exc).__name__}: {reason}"[:300]


def _excerpt(response) -> str:
    try:
        return response.read(EXCERPT_CHARS).decode("utf-8", "replace")[:EXCERPT_CHARS]
    except OSError:
        return ""


def _backoff(attempts: int) -> timedelta:
    delay = min(BACKOFF_FIRST_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS)
    return timedelta(seconds=delay / 2 + random.uniform(0, delay / 2))


def _record(delivery, started, status_code, duration_ms, error, excerpt) -> str:
    ok = status_code is not None and 200 <= status_code < 300
    if not ok and not error:
        error = f"HTTP {status_code}"
    now = timezone.now()
    window = timedelta(hours=settings.VIGIE_WEBHOOK_RETRY_HOURS)
    with transaction.atomic():
        current = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery.pk)
            .first()
        )
        if current is None:  # the site deleted the endpoint meanwhile
            return "skipped"
        WebhookAttempt.objects.create(
            delivery=current,
            started_at=started,
            status_code=status_code,
            duration_ms=duration_ms,
            error=error[:300],
            response_excerpt=excerpt,
        )
        endpoint = current.endpoint
        current.locked_until = None
        if ok:
            current.status = Delivery.DELIVERED
            current.delivered_at = now
            current.next_attempt_at = None
            outcome = "delivered"
            if endpoint.failing_since is not None:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        else:
            if now >= current.retry_until:
                current.status = Delivery.FAILED
                current.next_attempt_at = None
                outcome = "failed"
            else:
                current.next_attempt_at = now + _backoff(current.attempts)
                outcome = "retry"
            if endpoint.failing_since is None:
                WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
                    failing_since=started
                )
            elif endpoint.disabled_at is None and endpoint.failing_since <= now - window:
                _disable(endpoint, now)
                if current.status == Delivery.PENDING:
                    current.status = Delivery.FAILED
                    current.next_attempt_at = None
                    outcome = "failed"
        current.save(update_fields=["status", "delivered_at", "next_attempt_at", "locked_until"])
    log.info(
        "webhook %s to endpoint %s: %s (%s, %d ms, attempt %d)",
        current.message_id,
        endpoint.pk,
        outcome,
        status_code or error,
        duration_ms,
        current.attempts,
    )
    return outcome


def _disable(endpoint: WebhookEndpoint, now) -> None:
    """Stop sending to an endpoint that has failed for the whole retry window.

    Its pending deliveries become failed: a moderator can redeliver them from the admin
    once the site's receiver works, which enables the endpoint again.
    """
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_at=now)
    WebhookDelivery.objects.filter(endpoint=endpoint, status=Delivery.PENDING).update(
        status=Delivery.FAILED, next_attempt_at=None, locked_until=None
    )
    log.warning(
        "webhook endpoint %s (%s) disabled: failing since %s",
        endpoint.pk,
        endpoint.url,
        endpoint.failing_since,
    )
