"""Hostile input and access, beyond what test_api_site / test_api_moderation cover.

HTML escaping in the admin pages is tested by tests/test_admin.py; here text is checked to
come back verbatim and only ever as JSON from the API.
"""

import json

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from moderation import services
from moderation.models import Article, Author, Comment
from tests.conftest import set_status
from tests.test_api_site import assert_error

S = Comment.Status
COMMENTS = "/api/v1/articles/art-1/comments"


def raw_post(api, raw: bytes, path: str = COMMENTS):
    return api.post(path, raw, content_type="application/json")


# --- bad input: a 4xx in the error shape, nothing stored ------------------------------------------


@pytest.mark.parametrize(
    ("name", "raw", "code"),
    [
        ("deeply nested", b'{"author": ' + b"[" * 20_000 + b"]" * 20_000 + b', "body": "x"}', "malformed"),
        ("lone surrogate", b'{"author": {"id": "u1", "name": "C"}, "body": "a\\ud800b"}', "invalid"),
        ("NaN", b'{"author": {"id": "u1", "name": "C"}, "body": "x", "parent_id": NaN}', "malformed"),
        ("byte order mark", b'\xef\xbb\xbf{"author": {"id": "u1", "name": "C"}, "body": "x"}', "malformed"),
        ("latin-1", '{"author": {"id": "u1", "name": "C"}, "body": "café"}'.encode("latin-1"), "malformed"),
        ("null", b"null", "invalid"),
        ("empty", b"", "invalid"),
        (
            "lone surrogate in the author id",
            b'{"author": {"id": "a\\ud800", "name": "C"}, "body": "x"}',
            "invalid",
        ),
        ("NUL in the author id", b'{"author": {"id": "u\\u0000", "name": "C"}, "body": "x"}', "invalid"),
        (
            "parent as a boolean",
            b'{"author": {"id": "u1", "name": "C"}, "body": "x", "parent_id": true}',
            "invalid",
        ),
        (
            "parent too large",
            b'{"author": {"id": "u1", "name": "C"}, "body": "x", "parent_id": 1e30}',
            "invalid",
        ),
    ],
)
def test_it_refuses_hostile_json_and_stores_nothing(site_api, article, name, raw, code):
    assert_error(raw_post(site_api, raw), 400, code)
    assert not Comment.objects.exists()
    assert not Author.objects.exists()


@pytest.mark.parametrize("method", ["get", "post", "put"])
def test_it_refuses_a_nul_in_the_url_instead_of_failing_in_the_database(site_api, article, method):
    payload = {"author": {"id": "u1", "name": "C"}, "body": "x"} if method == "post" else {"title": "t"}
    path = "/api/v1/articles/a%00b" + ("/comments" if method != "put" else "")
    response = getattr(site_api, method)(path, payload, format="json")
    assert_error(response, 400)
    assert not Comment.objects.exists()
    assert Article.objects.count() == 1


def test_a_hostile_reader_ip_header_does_not_break_the_limits(site_api, article):
    for ip in ("\udcff", "1" * 5000, "a\x00b"):
        response = site_api.post(
            COMMENTS, {"author": {"id": "u1", "name": "C"}, "body": "x"}, format="json", HTTP_X_READER_IP=ip
        )
        assert response.status_code == 202


def test_the_body_limit_is_inclusive(site_api, article):
    payload = {"author": {"id": "u1", "name": "C"}, "body": "é" * 5000}
    assert site_api.post(COMMENTS, payload, format="json").status_code == 202
    payload["body"] += "é"
    assert "body" in assert_error(site_api.post(COMMENTS, payload, format="json"), 400)["fields"]
    assert Comment.objects.count() == 1


def test_an_idempotency_key_with_control_characters_is_refused(site_api, article):
    response = site_api.post(
        COMMENTS,
        {"author": {"id": "u1", "name": "C"}, "body": "x"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="a\x07b",
    )
    assert_error(response, 400)
    assert not Comment.objects.exists()


# --- text is kept verbatim and only ever returned as JSON ---------------------------------------

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)> & \u202eevil"


def test_html_comes_back_verbatim_as_json_to_the_site_and_the_moderator(
    site_api, moderator_api, make_comment
):
    published = set_status(make_comment(HOSTILE), S.PUBLISHED)
    held = set_status(make_comment(HOSTILE, author="r2"), S.HELD)
    for response in (
        site_api.get(COMMENTS),
        site_api.get(f"/api/v1/comments/{published.pk}"),
        moderator_api.get(f"/api/v1/moderation/comments/{held.pk}"),
        moderator_api.get("/api/v1/moderation/comments?queue=held"),
    ):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert HOSTILE in json.dumps(response.json(), ensure_ascii=False)


def test_an_error_that_names_the_input_is_json_too(site_api, db):
    response = site_api.get("/api/v1/articles/%3Cscript%3Ealert(1)%3C%2Fscript%3E/comments")
    assert_error(response, 404)
    assert response["Content-Type"] == "application/json"


# --- keys and isolation --------------------------------------------------------------------------


def test_an_unknown_and_a_revoked_key_get_the_same_answer(anonymous_api, site, site_key, article):
    anonymous_api.credentials(HTTP_AUTHORIZATION="Api-Key vg_not-a-key")
    unknown = anonymous_api.get(COMMENTS)
    site.is_active = False
    site.save()
    anonymous_api.credentials(HTTP_AUTHORIZATION=f"Api-Key {site_key}")
    revoked = anonymous_api.get(COMMENTS)
    assert_error(unknown, 401)
    assert unknown.json() == revoked.json()  # no oracle telling a revoked key from a guess
    assert unknown["WWW-Authenticate"].startswith("Api-Key")


def test_another_site_writing_the_same_article_id_gets_its_own_article(
    other_site_api, site, other_site, article
):
    response = other_site_api.put(
        "/api/v1/articles/art-1", {"title": "Piraté", "closed": True}, format="json"
    )
    assert response.status_code == 201  # a new article, on the other site
    article.refresh_from_db()
    assert (article.title, article.closed) == ("Réforme des retraites", False)
    assert Article.objects.get(site=other_site, external_id="art-1").title == "Piraté"


def test_another_sites_key_cannot_read_this_sites_article(other_site_api, article):
    assert_error(other_site_api.get("/api/v1/articles/art-1"), 404)


def test_the_key_is_never_stored_nor_returned(site_api, site, site_key, article, make_comment):
    set_status(make_comment(), S.PUBLISHED)
    for response in (site_api.get(COMMENTS), site_api.get("/api/v1/articles/art-1")):
        assert site_key not in response.content.decode()
    stored = [str(v) for v in type(site).objects.filter(pk=site.pk).values().get().values()]
    assert not any(site_key in value for value in stored)
    rotated = services.site_rotate_key(site=site)
    assert rotated != site_key


# --- readers and moderators ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.RECEIVED, S.HELD, S.REJECTED])
def test_readers_never_see_a_hidden_comment_nor_its_replies(site_api, make_comment, status):
    hidden = set_status(make_comment("caché"), status)
    set_status(make_comment("réponse visible", parent=hidden, author="r2"), S.PUBLISHED)
    visible = set_status(make_comment("visible", author="r3"), S.PUBLISHED)
    results = site_api.get(COMMENTS).json()["results"]
    assert [c["id"] for c in results] == [visible.pk]
    assert "caché" not in str(results) and "réponse visible" not in str(results)


def test_a_token_of_a_non_staff_user_is_refused(held_comment):
    user = User.objects.create_user("lecteur", password="lecteur-pass-1234")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert_error(client.get("/api/v1/moderation/comments?queue=held"), 403)
    assert_error(
        client.post(f"/api/v1/moderation/comments/{held_comment.pk}/approve", {}, format="json"), 403
    )
    held_comment.refresh_from_db()
    assert held_comment.status == S.HELD


@pytest.fixture
def held_comment(make_comment):
    return set_status(make_comment("à revoir"), S.HELD)


def test_the_admin_refuses_a_non_staff_user(client, stranger):
    client.force_login(stranger)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_admin_login_needs_the_csrf_token(db, moderator):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "modo", "password": "modo-pass-1234"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


# --- inputs that used to answer 500 (issue 13, item 5) --------------------------------------------


@pytest.mark.parametrize(
    "cursor",
    [
        "cD1hYmM=",  # base64 of "p=abc": a position that is not an id
        "cD0lMDA=",  # "p=%00": a NUL position
        "bz0tMSZwPTE=",  # "o=-1&p=1": a negative offset
        "bz05OTk5OTk5OTk5OTk5OTk5OTk5OTk=",  # an offset no page can reach
        "cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk=",  # a position above 2^63
        "%%%",
    ],
)
def test_a_tampered_cursor_is_never_a_500(site_api, moderator_api, make_comment, cursor):
    set_status(make_comment(), S.PUBLISHED)
    set_status(make_comment("retenu", author="r2"), S.HELD)
    for api, path in (
        (site_api, COMMENTS),
        (moderator_api, "/api/v1/moderation/comments?queue=held"),
        (moderator_api, "/api/v1/moderation/comments?queue=held&ordering=oldest"),
    ):
        separator = "&" if "?" in path else "?"
        response = api.get(f"{path}{separator}cursor={cursor}")
        # An empty page for a cursor past the end is fine too; a 4xx is in the error shape.
        assert response.status_code in (200, 404), (path, response.content)
        if response.status_code == 404:
            assert_error(response, 404, "not_found")


@pytest.mark.parametrize("value", ["²", "١٢", "１０", " 5", "5.0", "-1", "0", "9" * 30])
def test_a_number_parameter_that_is_not_ascii_digits_is_a_400(site_api, moderator_api, article, value):
    assert_error(site_api.get(COMMENTS, {"page_size": value}), 400)
    assert_error(moderator_api.get("/api/v1/moderation/comments", {"queue": "held", "page_size": value}), 400)
    assert_error(moderator_api.get("/api/v1/moderation/stats", {"days": value}), 400)


@pytest.mark.parametrize("value", ["²", str(2**63), str(2**64 + 1), "-" + str(2**63 + 1)])
def test_an_id_filter_out_of_range_is_a_400(moderator_api, make_comment, value):
    set_status(make_comment("retenu"), S.HELD)
    for name in ("author", "site"):
        response = moderator_api.get("/api/v1/moderation/comments", {"queue": "held", name: value})
        assert_error(response, 400)
    assert_error(moderator_api.get("/api/v1/moderation/stats", {"site": value}), 400)


@pytest.fixture
def admin_modo(client, moderator):
    client.force_login(moderator)
    return client


def test_a_nul_in_the_admins_decision_note_is_a_400_and_decides_nothing(admin_modo, held_comment):
    response = admin_modo.post(
        f"/admin/moderation/comment/{held_comment.pk}/decide/", {"action": "approve", "note": "a\x00b"}
    )
    assert_error(response, 400, "invalid")
    held_comment.refresh_from_db()
    assert held_comment.status == S.HELD


def test_a_nul_in_an_author_actions_reason_is_a_400_and_changes_nothing(
    admin_modo, moderator_api, held_comment
):
    response = admin_modo.post(
        f"/admin/moderation/comment/author/{held_comment.author_id}/ban/", {"reason": "spam\x00"}
    )
    assert_error(response, 400, "invalid")
    api = moderator_api.post(
        f"/api/v1/moderation/authors/{held_comment.author_id}/ban", {"reason": "spam\x00"}, format="json"
    )
    assert_error(api, 400, "invalid")
    assert Author.objects.get(pk=held_comment.author_id).status == Author.Status.NORMAL


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "C", "body": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
        b'{"reason": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_001,
    ],
)
def test_nested_json_posted_to_the_demo_is_a_400_in_the_error_shape(
    client, site_key, make_comment, raw, monkeypatch
):
    monkeypatch.setenv("VIGIE_DEMO_SITE_KEY", site_key)
    published = set_status(make_comment(), S.PUBLISHED)
    client.get("/demo/")
    for path in ("/demo/comments", f"/demo/comments/{published.pk}/report"):
        response = client.post(path, raw, content_type="application/json")
        assert_error(response, 400)
    assert Comment.objects.count() == 1
