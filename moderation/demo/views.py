"""The newsroom's server side of the demo page: it forwards the reader's requests to Vigie.

Nothing here touches the ORM for comments: every read and write is a call to the site API
with the demo site's key, which stays on this side: in process by default, over HTTP to
VIGIE_DEMO_API_BASE when set. The reader is a random id kept in a signed cookie, as a
newsroom would use its own login. Mounted only with VIGIE_DEMO=1 (``manage.py serve``).
"""

import io
import json
import logging
import os
import secrets
import urllib.error
import urllib.request
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from moderation.api.errors import json_error
from moderation.proxy import client_ip

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
_declared: set[tuple[str, str]] = set()


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


def call_vigie(
    method: str, path: str, *, key: str, payload: dict | None = None, headers: dict | None = None
) -> tuple[int, dict]:
    """One request to Vigie's site API (``path`` under /api/v1): (status, JSON body).

    With VIGIE_DEMO_API_BASE set, over HTTP to that base. Otherwise in this process: the
    API's own view answers, with its authentication, validation and limits, but no socket.
    Calling this server back over HTTP at the request's Host tied up a worker per request
    (four readers froze four sync workers) and, with a forged Host, sent the key elsewhere.
    """
    base = settings.VIGIE_DEMO_API_BASE
    if base:
        return http_call(method, base.rstrip("/") + path, key=key, payload=payload, headers=headers)
    return _in_process(method, path, key=key, payload=payload, headers=headers)


def _in_process(method: str, path: str, *, key: str, payload: dict | None, headers: dict | None):
    path, _, query = path.partition("?")
    data = b"" if payload is None else json.dumps(payload).encode()
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": "/api/v1" + path,
        "QUERY_STRING": query,
        # Only ever used to write the API's own `next` links, which the demo never follows.
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data),
        "CONTENT_LENGTH": str(len(data)),
        "CONTENT_TYPE": "application/json",
        "HTTP_AUTHORIZATION": f"Api-Key {key}",
        "HTTP_ACCEPT": "application/json",
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    try:
        match = resolve(environ["PATH_INFO"])
    except Resolver404:
        return 404, {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
    response = match.func(WSGIRequest(environ), *match.args, **match.kwargs)
    if hasattr(response, "render"):
        response.render()
    return response.status_code, json.loads(response.content or b"{}")


def http_call(
    method: str, url: str, *, key: str, payload: dict | None = None, headers: dict | None = None
) -> tuple[int, dict]:
    """One request to Vigie's site API over HTTP, at the configured base URL."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the configured http(s) base
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


def _vigie(method: str, path: str, payload: dict | None = None, headers=None):
    return call_vigie(method, path, key=site_key(), payload=payload, headers=headers)


def _reader_id(request: HttpRequest) -> str | None:
    return request.get_signed_cookie(READER_COOKIE, default=None, salt="vigie-demo")


def _declare_article() -> None:
    # Per API base and key: without a key the demo says so, whatever was declared before
    # (the article used to be remembered by base alone, so a process that had once declared
    # it answered 200 with no key at all), and a rotated key declares it again.
    done = (settings.VIGIE_DEMO_API_BASE or "in-process", site_key())
    if done in _declared:
        return
    status, body = _vigie("PUT", f"/articles/{quote(ARTICLE_ID)}", ARTICLE)
    if status not in (200, 201):
        raise DemoNotConfigured(f"the article could not be declared: {status} {body}")
    _declared.add(done)


def _error(message: str, status: int, code: str = "invalid") -> JsonResponse:
    return json_error(status, code, message)


def _forwarded_error(status: int, body: dict) -> JsonResponse:
    error = body.get("error") or {}
    return json_error(
        status,
        error.get("code") or "error",
        error.get("message") or "Erreur inattendue.",
        error.get("fields"),
    )


def _json_body(request: HttpRequest) -> dict | None:
    """The posted JSON object, or None: not JSON, not an object, or nested too deeply to parse."""
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


# --- views ------------------------------------------------------------------------------------


@ensure_csrf_cookie
@require_GET
def article_page(request: HttpRequest):
    problem = None
    try:
        _declare_article()
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
        return _error(str(exc), 503, "unavailable")


def _list_comments(request: HttpRequest) -> JsonResponse:
    query = {"page_size": 50, "order": "oldest"}
    cursor = request.GET.get("cursor", "")
    if cursor:
        query["cursor"] = cursor[:500]
    status, body = _vigie("GET", f"/articles/{quote(ARTICLE_ID)}/comments?{urlencode(query)}")
    if status != 200:
        return _forwarded_error(status, body)
    return JsonResponse(
        {"comments": body.get("results", []), "more": bool(body.get("next")), "reader": _reader_id(request)}
    )


def _post_comment(request: HttpRequest) -> JsonResponse:
    reader = _reader_id(request)
    if reader is None:
        return _error("Rechargez la page pour commenter.", 400)
    data = _json_body(request)
    if data is None:
        return _error("Requête illisible.", 400, "malformed")
    name = data.get("name")
    payload = {
        "author": {
            "id": reader,
            "name": (name.strip()[:100] if isinstance(name, str) else "") or "Lecteur anonyme",
        },
        # Not a string: passed on as it came, for the API to refuse in its own words.
        "body": data.get("body", ""),
    }
    if data.get("parent_id"):
        payload["parent_id"] = data["parent_id"]
    headers = {"X-Reader-IP": client_ip(request)}
    idempotency_key = str(data.get("idempotency_key", ""))[:200]
    if idempotency_key:
        headers["Idempotency-Key"] = f"{reader}:{idempotency_key}"
    _declare_article()
    status, body = _vigie("POST", f"/articles/{quote(ARTICLE_ID)}/comments", payload, headers)
    if status != 202:
        return _forwarded_error(status, body)
    return JsonResponse(_own_status(body), status=202)


@require_POST
def comment_check(request: HttpRequest) -> JsonResponse:
    """The pre-submit check (POST /api/v1/check) for the reader's draft: would it be held?"""
    data = _json_body(request)
    if data is None:
        return _error("Requête illisible.", 400, "malformed")
    reader = _reader_id(request)
    name = data.get("name")
    payload = {"body": data.get("body", ""), "article_id": ARTICLE_ID}
    if reader:
        payload["author"] = {"id": reader, "name": name.strip()[:100] if isinstance(name, str) else ""}
    try:
        _declare_article()
        status, body = _vigie("POST", "/check", payload, {"X-Reader-IP": client_ip(request)})
    except DemoNotConfigured as exc:
        return _error(str(exc), 503, "unavailable")
    if status != 200:
        return _forwarded_error(status, body)
    # What the widget needs to warn the reader; the scores stay on the server's side.
    return JsonResponse({"would_be": body["would_be"], "spans": body["spans"]})


def _own_status(comment: dict) -> dict:
    return {"id": comment["id"], "status": comment["status"], "visible": comment["visible"]}


@require_GET
def comment_status(request: HttpRequest, comment_id: int):
    """A reader may follow their own comment's status, not anyone else's."""
    try:
        status, body = _vigie("GET", f"/comments/{comment_id}")
    except DemoNotConfigured as exc:
        return _error(str(exc), 503, "unavailable")
    reader = _reader_id(request)
    if status != 200 or reader is None or (body.get("author") or {}).get("id") != reader:
        return _error("Commentaire introuvable.", 404, "not_found")
    return JsonResponse(_own_status(body))


@require_POST
def comment_report(request: HttpRequest, comment_id: int):
    data = _json_body(request)
    if data is None:
        return _error("Requête illisible.", 400, "malformed")
    reason = data.get("reason")
    if not isinstance(reason, str) or reason not in dict(REPORT_REASONS):
        return _error("Choisissez un motif de signalement.", 400)
    reader = _reader_id(request)
    # Without its cookie the reader cannot be told apart from anyone: an anonymous report,
    # recorded for the moderators but never counted towards holding the comment.
    payload = {"reason": reason, "reporter_id": reader} if reader else {"reason": reason, "anonymous": True}
    try:
        headers = {"X-Reader-IP": request.META.get("REMOTE_ADDR", "")}
        status, body = _vigie("POST", f"/comments/{comment_id}/reports", payload, headers)
    except DemoNotConfigured as exc:
        return _error(str(exc), 503, "unavailable")
    if status == 409:
        return JsonResponse({"reported": True, "message": "Vous avez déjà signalé ce commentaire."})
    if status != 201:
        return _forwarded_error(status, body)
    return JsonResponse({"reported": True, "message": "Merci, votre signalement a été transmis."}, status=201)
