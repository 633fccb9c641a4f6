"""The site API: what a newsroom's server calls with its API key."""

import pytest

from moderation import services
from moderation.models import Article, Author, Comment, Report
from tests.conftest import set_status

S = Comment.Status


def post_comment(api, article_id="art-1", body="Très bon article.", author=None, **extra):
    payload = {"author": author or {"id": "u1", "name": "Camille"}, "body": body, **extra}
    return api.post(f"/api/v1/articles/{article_id}/comments", payload, format="json")


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]


# --- articles --------------------------------------------------------------------------------


def test_it_creates_then_updates_an_article(site_api, site):
    response = site_api.put(
        "/api/v1/articles/a-42",
        {"url": "https://www.example.fr/a-42", "title": "Budget 2027", "language": "fr"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["moderation_mode"] == "post"
    response = site_api.put(
        "/api/v1/articles/a-42", {"closed": True, "moderation_mode": "pre"}, format="json"
    )
    assert response.status_code == 200
    article = Article.objects.get(site=site, external_id="a-42")
    assert (article.title, article.closed, article.moderation_mode) == ("Budget 2027", True, "pre")


@pytest.mark.parametrize(
    "payload",
    [
        {"moderation_mode": "sometimes"},
        {"url": "not a url"},
        {"closed": "perhaps"},
        {"title": "x" * 301},
        {"colour": "blue"},
        ["not", "an", "object"],
    ],
)
def test_it_refuses_a_bad_article(site_api, payload):
    assert_error(site_api.put("/api/v1/articles/a-1", payload, format="json"), 400, "invalid")
    assert not Article.objects.exists()


# --- posting ---------------------------------------------------------------------------------


def test_it_accepts_a_comment_and_stores_it_before_answering(site_api, article):
    response = post_comment(site_api, body="Merci pour cet éclairage.")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "received"
    comment = Comment.objects.get(pk=body["id"])
    assert (comment.body, comment.author.name, comment.article_id) == (
        "Merci pour cet éclairage.",
        "Camille",
        article.pk,
    )


def test_a_posted_comment_is_classified_on_commit(site_api, article, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_comment(site_api, body="Article intéressant, bien documenté.")
    assert len(callbacks) == 1
    assert Comment.objects.get(pk=response.json()["id"]).status == S.PUBLISHED


def test_it_keeps_html_verbatim_and_returns_it_only_as_json(site_api, article):
    body = '<script>alert("x")</script> <b>gras</b>'
    response = post_comment(site_api, body=body)
    assert response.status_code == 202
    assert response["Content-Type"] == "application/json"
    assert Comment.objects.get().body == body


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"author": {"id": "u1", "name": "C"}, "body": ""}, "body"),
        ({"author": {"id": "u1", "name": "C"}, "body": "   \n "}, "body"),
        ({"author": {"id": "u1", "name": "C"}, "body": "x" * 5001}, "body"),
        ({"author": {"id": "u1", "name": "C"}, "body": 42}, "body"),
        ({"author": {"id": "u1", "name": "C"}, "body": ["a"]}, "body"),
        ({"author": {"id": "u1", "name": "C"}, "body": "nul\x00byte"}, "body"),
        ({"author": {"id": "u1", "name": "C"}, "body": "bell\x07"}, "body"),
        ({"author": {"id": "u1"}, "body": "ok"}, "author"),
        ({"author": "u1", "body": "ok"}, "author"),
        ({"author": {"id": "", "name": "C"}, "body": "ok"}, "author"),
        ({"author": {"id": "u" * 201, "name": "C"}, "body": "ok"}, "author"),
        ({"author": {"id": "u1", "name": "C", "email": "x@y"}, "body": "ok"}, "author"),
        ({"author": {"id": "u1", "name": "C"}, "body": "ok", "status": "published"}, "status"),
        ({"author": {"id": "u1", "name": "C"}, "body": "ok", "parent_id": "abc"}, "parent_id"),
        ({"body": "ok"}, "author"),
    ],
)
def test_it_refuses_bad_comment_input_and_stores_nothing(site_api, article, payload, field):
    response = site_api.post("/api/v1/articles/art-1/comments", payload, format="json")
    error = assert_error(response, 400, "invalid")
    assert field in error["fields"]
    assert not Comment.objects.exists()
    assert not Author.objects.exists()


def test_it_refuses_malformed_json(site_api, article):
    response = site_api.post("/api/v1/articles/art-1/comments", '{"body": ', content_type="application/json")
    assert_error(response, 400, "malformed")


def test_it_refuses_invalid_utf8(site_api, article):
    response = site_api.post(
        "/api/v1/articles/art-1/comments", b'{"body": "\xff\xfe"}', content_type="application/json"
    )
    assert_error(response, 400)
    assert not Comment.objects.exists()


def test_it_refuses_a_non_json_body(site_api, article):
    response = site_api.post(
        "/api/v1/articles/art-1/comments", "body=x", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 415, "unsupported_media_type")


def test_it_refuses_an_oversized_request(site_api, article):
    response = post_comment(site_api, body="x" * 70_000)
    assert_error(response, 413, "request_too_large")
    assert not Comment.objects.exists()


def test_it_refuses_a_parent_from_another_article(site_api, site, article, make_comment):
    services.article_upsert(site=site, external_id="art-2")
    elsewhere = make_comment(art=Article.objects.get(external_id="art-2"))
    response = post_comment(site_api, parent_id=elsewhere.pk)
    assert "parent_id" in assert_error(response, 400)["fields"]
    assert Comment.objects.count() == 1


def test_it_refuses_a_closed_or_unknown_article(site_api, site, article):
    assert_error(post_comment(site_api, article_id="nope"), 404, "not_found")
    services.article_upsert(site=site, external_id="art-1", closed=True)
    assert_error(post_comment(site_api), 409, "article_closed")
    assert not Comment.objects.exists()


def test_an_idempotent_retry_posts_once(site_api, article):
    first = site_api.post(
        "/api/v1/articles/art-1/comments",
        {"author": {"id": "u1", "name": "C"}, "body": "Une fois"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="req-123",
    )
    again = site_api.post(
        "/api/v1/articles/art-1/comments",
        {"author": {"id": "u1", "name": "C"}, "body": "Une fois"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="req-123",
    )
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["id"] == again.json()["id"]
    assert Comment.objects.count() == 1
    reused = site_api.post(
        "/api/v1/articles/art-1/comments",
        {"author": {"id": "u1", "name": "C"}, "body": "Autre"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="req-123",
    )
    assert_error(reused, 409, "idempotency_key_reused")


# --- authentication and isolation ---------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Api-Key ", "Api-Key wrong", "Bearer abc", "Token abc"])
def test_it_refuses_a_missing_or_wrong_key(anonymous_api, article, header):
    if header:
        anonymous_api.credentials(HTTP_AUTHORIZATION=header)
    response = post_comment(anonymous_api)
    assert_error(response, 401)
    assert not Comment.objects.exists()


def test_it_refuses_a_revoked_key(site_api, site, article):
    site.is_active = False
    site.save()
    assert_error(post_comment(site_api), 401)


def test_it_refuses_a_rotated_key(site_api, site, article):
    services.site_rotate_key(site=site)
    assert_error(post_comment(site_api), 401)


def test_another_sites_key_sees_nothing_of_this_site(other_site_api, article, make_comment):
    comment = set_status(make_comment(), S.PUBLISHED)
    assert_error(post_comment(other_site_api), 404)
    assert_error(other_site_api.get("/api/v1/articles/art-1/comments"), 404)
    assert_error(other_site_api.get(f"/api/v1/comments/{comment.pk}"), 404)
    assert_error(
        other_site_api.post(f"/api/v1/comments/{comment.pk}/reports", {"reason": "spam"}, format="json"), 404
    )
    assert Comment.objects.count() == 1
    assert not Report.objects.exists()


def test_site_keys_do_not_reach_the_moderator_api(site_api):
    assert_error(site_api.get("/api/v1/moderation/comments?queue=held"), 401)


def test_api_keys_are_stored_hashed(site, site_key):
    assert site_key not in (site.api_key_hash, site.api_key_prefix)
    assert len(site.api_key_hash) == 64


# --- reading -------------------------------------------------------------------------------


def test_readers_see_only_visible_comments_threaded(site_api, make_comment):
    top = set_status(make_comment("visible top"), S.PUBLISHED)
    set_status(make_comment("held top"), S.HELD)
    set_status(make_comment("rejected top"), S.REJECTED)
    make_comment("still received")
    reply = set_status(make_comment("approved reply", parent=top), S.APPROVED)
    set_status(make_comment("held reply", parent=top), S.HELD)
    set_status(make_comment("reply to reply", parent=reply), S.PUBLISHED)
    response = site_api.get("/api/v1/articles/art-1/comments")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [c["body"] for c in results] == ["visible top"]
    replies = results[0]["replies"]
    assert [c["body"] for c in replies] == ["approved reply"]
    assert [c["body"] for c in replies[0]["replies"]] == ["reply to reply"]
    assert "status" not in results[0]


def test_the_visible_list_is_cursor_paginated(site_api, make_comment):
    for i in range(7):
        set_status(make_comment(f"c{i}"), S.PUBLISHED)
    seen, url = [], "/api/v1/articles/art-1/comments?page_size=3"
    while url:
        page = site_api.get(url).json()
        seen += [c["body"] for c in page["results"]]
        url = page["next"]
    assert seen == [f"c{i}" for i in range(7)]
    newest = site_api.get("/api/v1/articles/art-1/comments?page_size=2&order=newest").json()
    assert [c["body"] for c in newest["results"]] == ["c6", "c5"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("page_size=0", 400),
        ("page_size=1000", 400),
        ("page_size=x", 400),
        ("order=random", 400),
        ("cursor=zzz", 404),
    ],
)
def test_it_refuses_bad_paging(site_api, article, query, status):
    assert_error(site_api.get(f"/api/v1/articles/art-1/comments?{query}"), status)


def test_the_visible_list_does_not_grow_queries_with_comments(
    site_api, make_comment, django_assert_max_num_queries
):
    for i in range(10):
        top = set_status(make_comment(f"t{i}", author=f"a{i}"), S.PUBLISHED)
        set_status(make_comment(f"r{i}", parent=top, author=f"b{i}"), S.PUBLISHED)
    with django_assert_max_num_queries(3):  # key and article, roots page, replies (one on PostgreSQL)
        response = site_api.get("/api/v1/articles/art-1/comments")
    assert len(response.json()["results"]) == 10


def test_an_author_sees_their_own_comment_status(site_api, make_comment):
    comment = set_status(make_comment(), S.HELD)
    body = site_api.get(f"/api/v1/comments/{comment.pk}").json()
    assert (body["status"], body["visible"]) == ("held", False)
    assert_error(site_api.get("/api/v1/comments/999999"), 404)


# --- reports -------------------------------------------------------------------------------


def test_a_reader_reports_a_visible_comment(site_api, make_comment):
    comment = set_status(make_comment(), S.PUBLISHED)
    response = site_api.post(
        f"/api/v1/comments/{comment.pk}/reports",
        {"reason": "abuse", "text": "insultant", "reporter_id": "r-9"},
        format="json",
    )
    assert response.status_code == 201
    report = Report.objects.get()
    assert (report.reason, report.reporter_id) == ("abuse", "r-9")
    again = site_api.post(
        f"/api/v1/comments/{comment.pk}/reports", {"reason": "abuse", "reporter_id": "r-9"}, format="json"
    )
    assert_error(again, 409, "already_reported")


def test_it_refuses_an_unknown_report_reason_or_a_hidden_comment(site_api, make_comment):
    comment = set_status(make_comment(), S.PUBLISHED)
    bad = site_api.post(f"/api/v1/comments/{comment.pk}/reports", {"reason": "boring"}, format="json")
    assert "reason" in assert_error(bad, 400)["fields"]
    held = set_status(make_comment("held"), S.HELD)
    assert_error(site_api.post(f"/api/v1/comments/{held.pk}/reports", {"reason": "spam"}, format="json"), 404)
    assert not Report.objects.exists()


def test_the_schema_and_docs_are_served(anonymous_api, db):
    schema = anonymous_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/articles/{external_id}/comments" in paths
    assert "/api/v1/moderation/comments/bulk" in paths
    assert anonymous_api.get("/api/docs/").status_code == 200


@pytest.mark.parametrize("external_id", ["x" * 201, "bad%07id", "nul%00id"])
def test_it_refuses_a_bad_article_id(site_api, external_id):
    assert_error(site_api.put(f"/api/v1/articles/{external_id}", {}, format="json"), 400)
    assert not Article.objects.exists()
