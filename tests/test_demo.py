"""The reader's demo page (/demo/): the newsroom's server, which talks to Vigie only over HTTP.

The HTTP edge (``call_vigie``) is routed into Vigie's real API through DRF's test client, so
these tests cover the demo and the API together without a server; test_browser.py runs the
same page against a real gunicorn.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from django.test import Client
from rest_framework.test import APIClient

from moderation import services
from moderation.demo import views
from moderation.models import Article, Comment, Report
from tests.conftest import free_port, set_status


@pytest.fixture
def vigie_calls(monkeypatch, site_key):
    """Every call the demo makes to Vigie, served by the real API in-process."""
    monkeypatch.setenv("VIGIE_DEMO_SITE_KEY", site_key)
    monkeypatch.delenv("VIGIE_DEMO_API_BASE", raising=False)
    monkeypatch.setattr(views, "_declared", set())
    api = APIClient()
    calls = []

    def call(method, url, *, key, payload=None, headers=None):
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        calls.append((method, url, key))
        extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in (headers or {}).items()}
        response = api.generic(
            method,
            path,
            data=json.dumps(payload) if payload is not None else "",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Api-Key {key}",
            **extra,
        )
        return response.status_code, response.json()

    monkeypatch.setattr(views, "call_vigie", call)
    return calls


@pytest.fixture
def reader(client, vigie_calls):
    """A reader who opened the page (and so holds the reader cookie)."""
    assert client.get("/demo/").status_code == 200
    return client


@pytest.fixture
def demo_article(site, vigie_calls):
    article, _ = services.article_upsert(site=site, external_id=views.ARTICLE_ID, title="Vélo")
    return article


def reader_id(client) -> str:
    return client.get("/demo/comments").json()["reader"]


def test_it_shows_the_article_and_declares_it_to_vigie(client, site, site_key, vigie_calls):
    response = client.get("/demo/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Commentaires" in html
    assert views.ARTICLE["title"].replace("'", "&#x27;") in html
    assert site_key not in html
    assert Article.objects.filter(site=site, external_id=views.ARTICLE_ID, language="fr").exists()
    assert vigie_calls[0][:2] == ("PUT", f"http://testserver/api/v1/articles/{views.ARTICLE_ID}")
    assert views.READER_COOKIE in response.cookies


def test_it_posts_a_readers_comment_through_the_api(reader, site):
    response = reader.post(
        "/demo/comments",
        {"name": "Camille", "body": "Enfin des pistes protégées !", "idempotency_key": "k-1"},
        content_type="application/json",
    )

    assert response.status_code == 202
    assert response.json()["status"] == "received"
    comment = Comment.objects.get(pk=response.json()["id"])
    assert (comment.site, comment.body, comment.author.name) == (
        site,
        "Enfin des pistes protégées !",
        "Camille",
    )
    assert comment.author.external_id == reader_id(reader)


def test_it_posts_a_reply_under_its_parent(reader, demo_article, make_comment):
    parent = set_status(make_comment("Bonne nouvelle.", art=demo_article), Comment.Status.PUBLISHED)

    response = reader.post(
        "/demo/comments",
        {"name": "Léa", "body": "Tout à fait.", "parent_id": parent.pk},
        content_type="application/json",
    )

    assert response.status_code == 202
    assert Comment.objects.get(pk=response.json()["id"]).parent == parent


def test_it_lists_visible_comments_threaded(reader, demo_article, make_comment):
    root = set_status(make_comment("Bonne nouvelle.", art=demo_article), Comment.Status.PUBLISHED)
    reply = set_status(make_comment("D'accord.", art=demo_article, parent=root), Comment.Status.APPROVED)
    set_status(make_comment("Espèce d'idiot.", art=demo_article), Comment.Status.HELD)

    response = reader.get("/demo/comments")

    assert response.status_code == 200
    comments = response.json()["comments"]
    assert [c["id"] for c in comments] == [root.pk]
    assert [r["id"] for r in comments[0]["replies"]] == [reply.pk]


def test_it_tells_a_reader_the_status_of_their_own_comment_only(reader):
    posted = reader.post(
        "/demo/comments", {"name": "Camille", "body": "Un avis."}, content_type="application/json"
    )
    comment_id = posted.json()["id"]
    set_status(Comment.objects.get(pk=comment_id), Comment.Status.HELD)
    someone_else = Client()
    someone_else.get("/demo/")

    own = reader.get(f"/demo/comments/{comment_id}")
    other = someone_else.get(f"/demo/comments/{comment_id}")

    assert own.status_code == 200
    assert own.json() == {"id": comment_id, "status": "held", "visible": False}
    assert other.status_code == 404


def test_it_forwards_a_report_once(reader, demo_article, make_comment):
    comment = set_status(make_comment("Achetez mes montres !", art=demo_article), Comment.Status.PUBLISHED)

    first = reader.post(
        f"/demo/comments/{comment.pk}/report", {"reason": "spam"}, content_type="application/json"
    )
    again = reader.post(
        f"/demo/comments/{comment.pk}/report", {"reason": "spam"}, content_type="application/json"
    )

    assert first.status_code == 201
    assert again.status_code == 200
    report = Report.objects.get(comment=comment)
    assert (report.reason, report.reporter_id) == ("spam", reader_id(reader))


def test_a_reader_without_the_cookie_reports_anonymously(client, vigie_calls, demo_article, make_comment):
    # Failed before the fix: "" went through as a reporter id, and three such reports held.
    comment = set_status(make_comment("Un avis.", art=demo_article), Comment.Status.PUBLISHED)
    for _ in range(3):
        client.cookies.clear()
        response = client.post(
            f"/demo/comments/{comment.pk}/report", {"reason": "abuse"}, content_type="application/json"
        )
        assert response.status_code == 201

    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert [r.anonymous for r in Report.objects.filter(comment=comment)] == [True, True, True]


def test_it_refuses_an_unknown_report_reason(reader, demo_article, make_comment):
    comment = set_status(make_comment("Bof.", art=demo_article), Comment.Status.PUBLISHED)

    response = reader.post(
        f"/demo/comments/{comment.pk}/report", {"reason": "boring"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert not Report.objects.exists()


def test_it_passes_on_the_apis_validation_errors(reader):
    response = reader.post(
        "/demo/comments", {"name": "Camille", "body": "   "}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["body"]
    assert not Comment.objects.exists()


def test_it_asks_a_reader_without_the_cookie_to_reload(client, vigie_calls):
    response = client.post(
        "/demo/comments", {"name": "X", "body": "Bonjour"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert not Comment.objects.exists()


def test_it_says_so_when_the_demo_has_no_site_key(client, settings, tmp_path, monkeypatch, db):
    monkeypatch.delenv("VIGIE_DEMO_SITE_KEY", raising=False)
    settings.VAR_DIR = tmp_path

    response = client.get("/demo/")

    assert response.status_code == 503
    assert "manage.py serve" in response.content.decode()


# --- the HTTP edge itself ----------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers["Content-Length"])
        self.seen.append((self.path, self.headers["Authorization"], json.loads(self.rfile.read(length))))
        body = json.dumps({"error": {"code": "conflict", "message": "déjà"}}).encode()
        self.send_response(409)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_it_calls_vigie_over_http_with_the_site_key():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}/api/v1"
        status, body = views.call_vigie(
            "POST", base + "/comments/3/reports", key="vg_k", payload={"reason": "x"}
        )
    finally:
        server.shutdown()
    assert (status, body["error"]["code"]) == (409, "conflict")
    assert _Recorder.seen == [("/api/v1/comments/3/reports", "Api-Key vg_k", {"reason": "x"})]


def test_it_answers_503_when_vigie_is_unreachable():
    status, body = views.call_vigie("GET", f"http://127.0.0.1:{free_port()}/api/v1/comments/1", key="k")

    assert status == 503
    assert body["error"]["code"] == "unavailable"
