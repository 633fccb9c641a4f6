"""The reader's demo page (/demo/): the newsroom's server, which talks to Vigie's site API.

By default the demo calls the API's views in process (no socket), so these tests cover the
demo and the API together; with VIGIE_DEMO_API_BASE it calls that base over HTTP (tested
against a recording server); test_browser.py runs the page against a real gunicorn.
"""

import importlib
import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.urls import clear_url_caches

from moderation import services
from moderation.demo import views
from moderation.models import Article, Comment, Report
from tests.conftest import free_port, set_status, stack_env, start_web, stop


@pytest.fixture
def vigie_calls(monkeypatch, settings, site_key):
    """Every call the demo makes to Vigie (method, path, key), answered by the API in process."""
    monkeypatch.setenv("VIGIE_DEMO_SITE_KEY", site_key)
    settings.VIGIE_DEMO_API_BASE = None
    monkeypatch.setattr(views, "_declared", set())
    calls = []
    real = views.call_vigie

    def call(method, path, *, key, payload=None, headers=None):
        calls.append((method, path, key))
        return real(method, path, key=key, payload=payload, headers=headers)

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
    assert vigie_calls[0] == ("PUT", f"/articles/{views.ARTICLE_ID}", site_key)
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


def test_it_says_so_when_its_key_goes_away_after_the_article_was_declared(
    client, settings, tmp_path, monkeypatch, vigie_calls
):
    # Failed before: the process remembered the article as declared and answered 200 with
    # no key at all (test_it_says_so_when_the_demo_has_no_site_key failed after any test
    # that had opened the page, in one pytest process).
    assert client.get("/demo/").status_code == 200
    monkeypatch.delenv("VIGIE_DEMO_SITE_KEY")
    settings.VAR_DIR = tmp_path

    response = client.get("/demo/")

    assert response.status_code == 503
    assert "manage.py serve" in response.content.decode()


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
        length = int(self.headers.get("Content-Length") or 0)
        self.seen.append(
            (self.path, self.headers["Authorization"], json.loads(self.rfile.read(length) or b"{}"))
        )
        body = json.dumps({"error": {"code": "conflict", "message": "déjà"}}).encode()
        self.send_response(409)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST  # noqa: N815

    def log_message(self, *args):
        pass


def test_it_calls_vigie_over_http_with_the_site_key():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}/api/v1"
        status, body = views.http_call(
            "POST", base + "/comments/3/reports", key="vg_k", payload={"reason": "x"}
        )
    finally:
        server.shutdown()
    assert (status, body["error"]["code"]) == (409, "conflict")
    assert _Recorder.seen == [("/api/v1/comments/3/reports", "Api-Key vg_k", {"reason": "x"})]


def test_it_answers_503_when_vigie_is_unreachable():
    status, body = views.http_call("GET", f"http://127.0.0.1:{free_port()}/api/v1/comments/1", key="k")

    assert status == 503
    assert body["error"]["code"] == "unavailable"


@pytest.fixture
def recorder():
    """A listener on 127.0.0.1 that records what it is sent (and answers 409)."""
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def test_it_calls_the_configured_base_over_http(client, settings, site_key, monkeypatch, recorder, db):
    monkeypatch.setenv("VIGIE_DEMO_SITE_KEY", site_key)
    settings.VIGIE_DEMO_API_BASE = f"http://127.0.0.1:{recorder}/api/v1/"

    response = client.post("/demo/comments/3/report", {"reason": "spam"}, content_type="application/json")

    assert response.status_code == 200  # Vigie (the recorder) said 409: already reported
    assert _Recorder.seen == [
        ("/api/v1/comments/3/reports", f"Api-Key {site_key}", {"reason": "spam", "anonymous": True})
    ]


def test_a_forged_host_never_makes_vigie_send_the_key_anywhere(client, settings, vigie_calls, site, recorder):
    """Failed before the fix: the demo called http://<Host>/api/v1 with the site key."""
    settings.ALLOWED_HOSTS = ["*"]
    forged = {"HTTP_HOST": f"127.0.0.1:{recorder}"}

    page = client.get("/demo/", **forged)
    posted = client.post(
        "/demo/comments", {"name": "C", "body": "Bonjour."}, content_type="application/json", **forged
    )
    listed = client.get("/demo/comments", **forged)

    assert (page.status_code, posted.status_code, listed.status_code) == (200, 202, 200)
    assert _Recorder.seen == []
    assert Comment.objects.get(pk=posted.json()["id"]).site == site


@pytest.fixture
def demo_unmounted(settings):
    import project.urls

    settings.VIGIE_DEMO = False
    importlib.reload(project.urls)
    clear_url_caches()
    yield
    settings.VIGIE_DEMO = True
    importlib.reload(project.urls)
    clear_url_caches()


def test_there_is_no_demo_without_vigie_demo(client, demo_unmounted, vigie_calls):
    """Failed before the fix: /demo/ was always mounted."""
    for path in ("/demo/", "/demo/comments"):
        assert client.get(path).status_code == 404
    assert client.post("/demo/comments", {"body": "x"}, content_type="application/json").status_code == 404
    assert vigie_calls == []


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_four_readers_at_once_do_not_deadlock_one_sync_worker(postgres, queue_url, site_key, tmp_path):
    """Failed before the fix: each request waited on a call back into the only worker (503s)."""
    env = stack_env(queue_url, VIGIE_DEMO="1", VIGIE_DEMO_SITE_KEY=site_key)
    env.pop("VIGIE_DEMO_API_BASE", None)
    port = free_port()
    web = start_web(env, port=port, log_dir=tmp_path, workers=1)  # one sync worker, the default class
    base = f"http://127.0.0.1:{port}/demo/"

    def read(_):
        with urllib.request.urlopen(base + "comments", timeout=30) as response:  # noqa: S310 - local
            return response.status, json.loads(response.read())

    try:
        with urllib.request.urlopen(base, timeout=30) as response:  # noqa: S310 - local
            assert response.status == 200
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(read, range(4)))
    finally:
        stop(web)
    assert [status for status, _ in answers] == [200] * 4
    assert all(body["comments"] == [] for _, body in answers)
