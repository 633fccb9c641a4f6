"""The newsroom's server side of the demo page: it forwards the reader's requests to Vigie.

Nothing here touches the ORM for comments: every read and write is an HTTP call to the site
API with the demo site's key, which stays on this side. The reader is a random id kept in a
signed cookie, as a newsroom would use its own login.
"""

import json
import logging
import os
import secrets
import urllib.error
import urllib.request
from urllib.parse import quote, urlencode

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

log = logging.getLogger(__name__)

ARTICLE_ID = "demo-velo-paris-2030"
ARTICLE = {
    "url": "https://www.example.fr/societe/velo-paris-2030",
    "title": "Vélo : Paris veut doubler ses pistes cyclables d'ici 2030",
    "language": "fr",
    "moderation_mode": "post",
}
READER_COOKIE = "vigie_demo_reader"
TIMEOUT_SECONDS = 10
REPORT_REASONS = [
    ("abuse", "Insulte ou propos injurieux"),
    ("hate", "Discours de haine"),
    ("harassment", "Harcèlement"),
    ("spam", "Spam ou publicité"),
    ("misinformation", "Fausse information"),
    ("personal_data", "Données personnelles"),
    ("off_topic", "Hors sujet"),
    ("other", "Autre"),
]
# Articles already declared to Vigie by this process (the PUT is idempotent anyway).
_declared: set[str] = set()


class DemoNotConfigured(Exception):
    pass


def site_key() -> str:
    key = os.environ.get("VIGIE_DEMO_SITE_KEY", "").strip()
    if key:
        return key
    key_file = settings.VAR_DIR / "demo-site-key"
    if key_file.exists():
        return key_file.read_text().strip()
    raise DemoNotConfigured("no demo site key: run `manage.py serve` or set VIGIE_DEMO_SITE_KEY")


def api_base(request: HttpRequest) -> str:
    configured = os.environ.get("VIGIE_DEMO_API_BASE", "").strip()
    if configured:
        return configured.rstrip("/")
    return f"{request.scheme}://{request.get_host()}/api/v1"


def call_vigie(
    method: str, url: str, *, key: str, payload: dict | None = None, headers: dict | None = None
) -> tuple[int, dict]:
    """One request to Vigie's site API: (status, JSON body). The edge that tests replace."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - our own http(s) base
    request.add_header("Authorization", f"Api-Key {key}")
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        return exc.code, body
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        log.warning("demo: Vigie unreachable at %s: %s", url, exc)
        return 503, {"error": {"code": "unavailable", "message": "Vigie ne répond pas."}}


def _vigie(request: HttpRequest, method: str, path: str, payload: dict | None = None, headers=None):
    return call_vigie(method, api_base(request) + path, key=site_key(), payload=payload, headers=headers)


def _reader_id(request: HttpRequest) -> str | None:
    return request.get_signed_cookie(READER_COOKIE, default=None, salt="vigie-demo")


def _declare_article(request: HttpRequest) -> None:
    base = api_base(request)
    if base in _declared:
        return
    status, body = _vigie(request, "PUT", f"/articles/{quote(ARTICLE_ID)}", ARTICLE)
    if status not in (200, 201):
        raise DemoNotConfigured(f"the article could not be declared: {status} {body}")
    _declared.add(base)


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"message": message}}, status=status)


def _forwarded_error(status: int, body: dict) -> JsonResponse:
    message = (body.get("error") or {}).get("message") or "Erreur inattendue."
    return JsonResponse(
        {"error": {"message": message, "fields": (body.get("error") or {}).get("fields", {})}}, status=status
    )


# --- views ------------------------------------------------------------------------------------


@ensure_csrf_cookie
@require_GET
def article_page(request: HttpRequest):
    problem = None
    try:
        _declare_article(request)
    except DemoNotConfigured as exc:
        problem = str(exc)
    response = render(
        request,
        "demo/article.html",
        {"article": ARTICLE, "problem": problem, "report_reasons": REPORT_REASONS},
        status=503 if problem else 200,
    )
    if _reader_id(request) is None:
        response.set_signed_cookie(
            READER_COOKIE,
            "lecteur-" + secrets.token_hex(6),
            salt="vigie-demo",
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
        )
    return response


@require_http_methods(["GET", "POST"])
def comments(request: HttpRequest):
    try:
        if request.method == "GET":
            return _list_comments(request)
        return _post_comment(request)
    except DemoNotConfigured as exc:
        return _error(str(exc), 503)


def _list_comments(request: HttpRequest) -> JsonResponse:
    query = {"page_size": 50, "order": "oldest"}
    cursor = request.GET.get("cursor", "")
    if cursor:
        query["cursor"] = cursor[:500]
    status, body = _vigie(request, "GET", f"/articles/{quote(ARTICLE_ID)}/comments?{urlencode(query)}")
    if status != 200:
        return _forwarded_error(status, body)
    return JsonResponse(
        {"comments": body.get("results", []), "more": bool(body.get("next")), "reader": _reader_id(request)}
    )


def _post_comment(request: HttpRequest) -> JsonResponse:
    reader = _reader_id(request)
    if reader is None:
        return _error("Rechargez la page pour commenter.", 400)
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return _error("Requête illisible.", 400)
    if not isinstance(data, dict):
        return _error("Requête illisible.", 400)
    payload = {
        "author": {"id": reader, "name": str(data.get("name", "")).strip()[:100] or "Lecteur anonyme"},
        "body": str(data.get("body", "")),
    }
    if data.get("parent_id"):
        payload["parent_id"] = data["parent_id"]
    headers = {"X-Reader-IP": request.META.get("REMOTE_ADDR", "")}
    idempotency_key = str(data.get("idempotency_key", ""))[:200]
    if idempotency_key:
        headers["Idempotency-Key"] = f"{reader}:{idempotency_key}"
    _declare_article(request)
    status, body = _vigie(request, "POST", f"/articles/{quote(ARTICLE_ID)}/comments", payload, headers)
    if status != 202:
        return _forwarded_error(status, body)
    return JsonResponse(_own_status(body), status=202)


def _own_status(comment: dict) -> dict:
    return {"id": comment["id"], "status": comment["status"], "visible": comment["visible"]}


@require_GET
def comment_status(request: HttpRequest, comment_id: int):
    """A reader may follow their own comment's status, not anyone else's."""
    try:
        status, body = _vigie(request, "GET", f"/comments/{comment_id}")
    except DemoNotConfigured as exc:
        return _error(str(exc), 503)
    reader = _reader_id(request)
    if status != 200 or reader is None or (body.get("author") or {}).get("id") != reader:
        return _error("Commentaire introuvable.", 404)
    return JsonResponse(_own_status(body))


@require_POST
def comment_report(request: HttpRequest, comment_id: int):
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return _error("Requête illisible.", 400)
    reason = data.get("reason") if isinstance(data, dict) else None
    if reason not in dict(REPORT_REASONS):
        return _error("Choisissez un motif de signalement.", 400)
    reader = _reader_id(request)
    # Without its cookie the reader cannot be told apart from anyone: an anonymous report,
    # recorded for the moderators but never counted towards holding the comment.
    payload = {"reason": reason, "reporter_id": reader} if reader else {"reason": reason, "anonymous": True}
    try:
        headers = {"X-Reader-IP": request.META.get("REMOTE_ADDR", "")}
        status, body = _vigie(request, "POST", f"/comments/{comment_id}/reports", payload, headers)
    except DemoNotConfigured as exc:
        return _error(str(exc), 503)
    if status == 409:
        return JsonResponse({"reported": True, "message": "Vous avez déjà signalé ce commentaire."})
    if status != 201:
        return _forwarded_error(status, body)
    return JsonResponse({"reported": True, "message": "Merci, votre signalement a été transmis."}, status=201)
