"""Conditional requests on the readers' pages: the ETag moves exactly when what readers see does.

The list's ETag is the article's visible version (services.articles_visible_bump, called in
the transaction of every change readers can see); If-None-Match with it is a 304 with an
empty body, answered after the key and article lookups and nothing else.
"""

import pytest

from moderation import services
from moderation.models import Article, Comment, Revision
from tests.conftest import classify_now
from tests.tiny_model import write_tiny_model

S = Comment.Status
LIST = "/api/v1/articles/art-1/comments"


@pytest.fixture(autouse=True)
def tiny_model(settings, tmp_path):
    # "connard" is rejected at once; the site's suspect word "douteux" holds a comment.
    path = write_tiny_model(tmp_path / "model", version="cache-1", toxic_words=("connard",))
    settings.VIGIE_MODEL_PATH = str(path)


@pytest.fixture
def suspect_site(site):
    site.suspect_words = "douteux"
    site.save(update_fields=["suspect_words"])
    return site


def etag_of(api, url=LIST):
    response = api.get(url)
    assert response.status_code == 200, response.content
    return response["ETag"]


def post(make_comment, body, author="reader-1", parent=None):
    comment = make_comment(body, author=author, parent=parent, classify=True)
    return comment


def test_it_answers_a_weak_etag_private_to_the_reader_by_default(site_api, make_comment):
    post(make_comment, "Merci pour cet article.")
    response = site_api.get(LIST)
    assert response.status_code == 200
    assert response["ETag"].startswith('W/"')
    assert response["Cache-Control"] == "private, max-age=0, must-revalidate"
    assert "Authorization" in response["Vary"]


def test_if_none_match_gives_304_with_an_empty_body_without_reading_the_page(
    site_api, make_comment, django_assert_num_queries
):
    post(make_comment, "Merci pour cet article.")
    etag = etag_of(site_api)
    with django_assert_num_queries(1):  # the key and the article together: no comment is read
        response = site_api.get(LIST, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "private, max-age=0, must-revalidate"
    # The strong form of the same tag, a list, and "*" match too; another tag does not.
    assert site_api.get(LIST, HTTP_IF_NONE_MATCH=etag[2:]).status_code == 304
    assert site_api.get(LIST, HTTP_IF_NONE_MATCH=f'"x", {etag}').status_code == 304
    assert site_api.get(LIST, HTTP_IF_NONE_MATCH="*").status_code == 304
    assert site_api.get(LIST, HTTP_IF_NONE_MATCH='W/"other"').status_code == 200


def test_each_page_and_order_has_its_own_etag(site_api, make_comment):
    for i in range(3):
        post(make_comment, f"Commentaire {i}", author=f"r{i}")
    first = site_api.get(LIST + "?page_size=2").json()
    tags = {etag_of(site_api, LIST + "?page_size=2"), etag_of(site_api, first["next"])}
    tags.add(etag_of(site_api, LIST + "?order=newest"))
    assert len(tags) == 3


def test_the_etag_changes_when_a_comment_is_published(site_api, make_comment):
    before = etag_of(site_api)
    comment = post(make_comment, "Très bon article.")
    assert comment.status == S.PUBLISHED
    after = etag_of(site_api)
    assert after != before
    assert site_api.get(LIST, HTTP_IF_NONE_MATCH=before).status_code == 200


def test_a_held_or_rejected_comment_arriving_does_not_change_it(site_api, suspect_site, make_comment):
    post(make_comment, "Un premier avis.")
    before = etag_of(site_api)
    assert post(make_comment, "Un avis douteux.", author="r2").status == S.HELD
    assert post(make_comment, "Espèce de connard.", author="r3").status == S.REJECTED
    received = make_comment("Pas encore classé.", author="r4")  # received: not visible yet
    assert received.status == S.RECEIVED
    assert etag_of(site_api) == before
    assert site_api.get(LIST, HTTP_IF_NONE_MATCH=before).status_code == 304


def test_it_changes_when_a_held_comment_is_approved_but_not_when_a_published_one_is(
    site_api, moderator_api, suspect_site, make_comment
):
    held = post(make_comment, "Un avis douteux.")
    published = post(make_comment, "Un avis clair.", author="r2")
    before = etag_of(site_api)
    assert moderator_api.post(f"/api/v1/moderation/comments/{held.pk}/approve").status_code == 200
    approved = etag_of(site_api)
    assert approved != before
    # published -> approved: readers see the same comment, the same page.
    assert moderator_api.post(f"/api/v1/moderation/comments/{published.pk}/approve").status_code == 200
    assert etag_of(site_api) == approved


def test_it_changes_when_a_visible_comment_is_rejected_not_when_a_held_one_is(
    site_api, moderator_api, suspect_site, make_comment
):
    published = post(make_comment, "Un avis clair.")
    held = post(make_comment, "Un avis douteux.", author="r2")
    before = etag_of(site_api)
    assert moderator_api.post(f"/api/v1/moderation/comments/{held.pk}/reject").status_code == 200
    assert etag_of(site_api) == before
    response = moderator_api.post(
        f"/api/v1/moderation/comments/{published.pk}/reject", {"reason": "toxic"}, format="json"
    )
    assert response.status_code == 200
    after = etag_of(site_api)
    assert after != before
    assert published.pk not in [c["id"] for c in site_api.get(LIST).json()["results"]]


def test_it_changes_when_reports_hold_a_comment_and_when_they_are_dismissed(
    site_api, moderator_api, make_comment
):
    comment = post(make_comment, "Un avis clair.")
    before = etag_of(site_api)
    for reader in ("a", "b", "c"):
        response = site_api.post(
            f"/api/v1/comments/{comment.pk}/reports",
            {"reason": "abuse", "reporter_id": f"reader-{reader}"},
            format="json",
            HTTP_X_READER_IP=f"192.0.2.{ord(reader)}",
        )
        assert response.status_code == 201, response.content
    comment.refresh_from_db()
    assert comment.status == S.HELD
    held = etag_of(site_api)
    assert held != before
    assert moderator_api.post(f"/api/v1/moderation/comments/{comment.pk}/dismiss_reports").status_code == 200
    assert etag_of(site_api) not in (before, held)


def test_it_changes_when_the_author_edits_or_deletes_a_visible_comment(site_api, make_comment):
    comment = post(make_comment, "Un avis clair.")
    before = etag_of(site_api)
    url = f"/api/v1/comments/{comment.pk}"
    assert site_api.patch(url, {"body": "Un avis plus clair."}, format="json").status_code == 202
    services.revisions_classify(
        revision_ids=list(Revision.objects.filter(comment=comment).values_list("pk", flat=True))
    )
    edited = etag_of(site_api)
    assert edited != before
    assert site_api.get(LIST).json()["results"][0]["body"] == "Un avis plus clair."
    assert site_api.delete(url).status_code == 204
    assert etag_of(site_api) not in (before, edited)
    assert site_api.get(LIST).json()["results"] == []


def test_it_changes_when_an_author_is_erased(site_api, make_comment):
    post(make_comment, "Un avis clair.", author="camille")
    before = etag_of(site_api)
    assert site_api.delete("/api/v1/authors/camille").status_code == 204
    assert etag_of(site_api) != before


def test_a_reply_published_changes_the_page_of_its_thread(site_api, make_comment):
    root = post(make_comment, "Un avis clair.")
    before = etag_of(site_api)
    post(make_comment, "Je réponds.", author="r2", parent=root)
    assert etag_of(site_api) != before


def test_a_bump_is_rolled_back_with_the_change_that_failed(site_api, moderator_api, make_comment, article):
    published = post(make_comment, "Un avis clair.")
    before = Article.objects.get(pk=article.pk).visible_version
    # Approve a visible comment and a missing one: all or nothing, so nothing.
    response = moderator_api.post(
        "/api/v1/moderation/comments/bulk", {"ids": [published.pk, 10**9], "action": "reject"}, format="json"
    )
    assert response.status_code == 404
    assert Article.objects.get(pk=article.pk).visible_version == before


def test_a_site_can_let_shared_caches_keep_the_list(site_api, site, make_comment):
    post(make_comment, "Un avis clair.")
    site.public_cache_seconds = 30
    site.save(update_fields=["public_cache_seconds"])
    response = site_api.get(LIST)
    assert response["Cache-Control"] == "public, max-age=30"
    assert "Authorization" in response["Vary"]
    again = site_api.get(LIST, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again["Cache-Control"] == "public, max-age=30"


def test_bad_input_is_still_a_400_with_a_matching_etag(site_api, make_comment):
    post(make_comment, "Un avis clair.")
    response = site_api.get(LIST + "?order=sideways", HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"order": ["Not a valid choice."]}


def test_another_site_gets_a_404_not_a_304(other_site_api, site_api, make_comment):
    post(make_comment, "Un avis clair.")
    assert other_site_api.get(LIST, HTTP_IF_NONE_MATCH="*").status_code == 404


def test_two_sites_with_the_same_article_id_each_get_their_own_page_and_etag(
    other_site, other_site_api, site_api, make_comment
):
    # The article is looked up with the key, in the key's site: one site's tag is not the other's.
    post(make_comment, "Un avis clair.")
    services.article_upsert(site=other_site, external_id="art-1", title="Autre")
    mine, theirs = etag_of(site_api), etag_of(other_site_api)
    assert mine != theirs
    assert other_site_api.get(LIST).json()["results"] == []
    assert other_site_api.get(LIST, HTTP_IF_NONE_MATCH=mine).status_code == 200
    assert site_api.get(LIST, HTTP_IF_NONE_MATCH=mine).status_code == 304


def test_a_revoked_key_gets_a_401_not_a_304(site_api, site, make_comment):
    post(make_comment, "Un avis clair.")
    etag = etag_of(site_api)
    site.is_active = False
    site.save(update_fields=["is_active"])
    assert site_api.get(LIST, HTTP_IF_NONE_MATCH=etag).status_code == 401


def test_an_article_id_with_a_nul_is_a_400(site_api, make_comment):
    response = site_api.get("/api/v1/articles/art%00-1/comments", HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


# --- GET /comments/{id} ------------------------------------------------------------------


def test_the_comment_answers_304_until_its_status_changes(site_api, make_comment, django_assert_num_queries):
    comment = make_comment("Très bon article.")
    url = f"/api/v1/comments/{comment.pk}"
    first = site_api.get(url)
    assert first.json()["status"] == "received"
    etag = first["ETag"]
    assert first["Cache-Control"] == "private, max-age=0, must-revalidate"
    with django_assert_num_queries(3):  # the key, the comment, its pending edit: no statement built
        unchanged = site_api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    classify_now([comment.pk])
    changed = site_api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["status"] == "published"
    assert changed["ETag"] != etag


def test_the_comment_etag_follows_the_statement_language(site_api, moderator_api, make_comment):
    comment = post(make_comment, "Un avis clair.")
    moderator_api.post(f"/api/v1/moderation/comments/{comment.pk}/reject", {"reason": "toxic"}, format="json")
    url = f"/api/v1/comments/{comment.pk}"
    french = site_api.get(url)
    english = site_api.get(url, HTTP_ACCEPT_LANGUAGE="en", HTTP_IF_NONE_MATCH=french["ETag"])
    assert english.status_code == 200
    assert english.json()["statement"]["text"] != french.json()["statement"]["text"]


def test_a_held_comment_is_never_answered_304(site_api, suspect_site, make_comment):
    # Its statement of reasons appears once it has been held long enough, with no write.
    held = post(make_comment, "Un avis douteux.")
    response = site_api.get(f"/api/v1/comments/{held.pk}")
    assert response.status_code == 200
    assert "ETag" not in response
    assert response["Cache-Control"] == "private, max-age=0, must-revalidate"
    assert site_api.get(f"/api/v1/comments/{held.pk}", HTTP_IF_NONE_MATCH="*").status_code == 200
