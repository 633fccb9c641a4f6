"""GET /healthz for orchestrators and load balancers: 200 when comments flow, 503 when not.

Not only "is every part up": a worker must have beaten recently (moderation/heartbeat.py)
and no comment may have waited in `received` longer than VIGIE_HEALTH_MAX_RECEIVED_AGE,
since a Vigie whose worker died answers every POST and classifies nothing. Anonymous
callers get the status alone; which check failed and why (database vendor, model path
errors) is for staff, logged in through the admin.
"""

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from moderation import heartbeat, selectors, services


def worker_queues() -> list[str]:
    """The queues that must have a live worker: the fast stage's (Celery's default) and the
    encoder's (VIGIE_ENCODER_QUEUE) when the loaded model has a second opinion to ask."""
    from moderation.classifier import ModelError

    try:
        cascade = services.get_model().has_second_opinion
    except ModelError:  # the model check says so; the fast queue is still required
        cascade = False
    encoder = getattr(settings, "VIGIE_ENCODER_QUEUE", None)
    return ["celery", *([encoder] if encoder and cascade else [])]


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - any failure is "down", reported as such
        return {"ok": False, "error": type(exc).__name__}


def _broker() -> dict:
    from project.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
            return {"ok": True, "transport": conn.transport.driver_type}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}


def _model() -> dict:
    try:
        model = services.get_model()
        return {"ok": True, "version": model.version}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": str(exc)[:300]}


def _workers() -> dict:
    limit = settings.VIGIE_HEALTH_MAX_HEARTBEAT_AGE
    result = {"ok": True}
    for queue in worker_queues():
        try:
            last = heartbeat.last_beat(queue)
        except Exception as exc:  # noqa: BLE001 - the cache is down: no worker can be seen
            return {"ok": False, "error": type(exc).__name__}
        age = None if last is None else round(max(0.0, time.time() - last), 1)
        result[queue] = {"last_heartbeat_age_seconds": age}
        if age is None or age > limit:
            result["ok"] = False
            result["error"] = f"no worker of queue {queue!r} has beaten in the last {limit} s"
    return result


def _backlog() -> dict:
    """The oldest comment still waiting for the classifier, against the allowed age."""
    limit = settings.VIGIE_HEALTH_MAX_RECEIVED_AGE
    try:
        ages = selectors.oldest_waiting_ages()
    except Exception as exc:  # noqa: BLE001 - reported by the database check already
        return {"ok": False, "error": type(exc).__name__}
    result = {"ok": True, "max_age_seconds": limit}
    for stage, age in ages.items():
        result[f"oldest_{stage}_age_seconds"] = None if age is None else round(age, 1)
        if age is not None and age > limit:
            result["ok"] = False
            result["error"] = f"a comment has waited {age:.0f} s in {stage!r} (limit {limit} s)"
    return result


@never_cache
@require_GET
def healthz(request):
    checks = {
        "database": _database(),
        "broker": _broker(),
        "model": _model(),
        "workers": _workers(),
        "backlog": _backlog(),
    }
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    user = getattr(request, "user", None)
    if user is not None and user.is_active and user.is_staff:
        body["checks"] = checks
    return JsonResponse(body, status=200 if healthy else 503)
