"""GET /healthz: database, broker and model state for orchestrators (200 or 503)."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from moderation import services


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
            return {"ok": True, "transport": conn.transport_cls}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}


def _model() -> dict:
    try:
        model = services.get_model()
        return {"ok": True, "version": model.version}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": str(exc)[:300]}


@require_GET
def healthz(request):
    checks = {"database": _database(), "broker": _broker(), "model": _model()}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"ok": healthy, **checks}, status=200 if healthy else 503)
