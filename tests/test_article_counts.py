"""Article counts and closing by age: `comment_count`, `GET /articles?ids=`, `close_after_days`."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from moderation import services
from moderation.models import Article, Comment, Site
from tests.conftest import set_status
from tests.test_api_site import assert_error, post_comment

S = Comment.Status


def age(article: Article, days: float) -> None:
    Article.objects.filter(pk=article.pk).update(created_at=timezone.now() - timedelta(days=days))


# --- comment_count ---------------------------------------------------------------------------


def test_an_article_shows_its_visible_comment_count(site_api, make_comment):
    published = set_status(make_comment("Un avis."), S.PUBLISHED)
    set_status(make_comment("Une réponse.", parent=published, author="r2"), S.APPROVED)
    set_status(make_comment("Retenu.", author="r3"), S.HELD)
    set_status(make_comment("Rejeté.", author="r4"), S.REJECTED)
    make_comment("Pas encore classé.", author="r5")  # received
    response = site_api.get("/api/v1/articles/art-1")
    assert response.status_code == 200
    assert response.json()["comment_count"] == 2
    # The PUT answers with the same shape, count included.
    response = site_api.put("/api/v1/articles/art-1", {"title": "Nouveau titre"}, format="json")
    assert response.status_code == 200
    assert response.json()["comment_count"] == 2


def test_another_sites_article_has_no_count(other_site_api, article):
    assert_error(other_site_api.get("/api/v1/articles/art-1"), 404, "not_found")


# --- GET /articles?ids= ----------------------------------------------------------------------


def test_it_counts_many_articles_in_one_query(site_api, site, other_site, make_comment):
    second, _ = services.article_upsert(site=site, external_id="art-2")
    services.article_upsert(site=site, external_id="art-3")
    services.article_upsert(site=other_site, external_id="art-4")  # not ours: left out
    set_status(make_comment("Un."), S.PUBLISHED)
    set_status(make_comment("Deux.", author="r2"), S.PUBLISHED)
    set_status(make_comment("Trois.", author="r3", art=second), S.APPROVED)
    set_status(make_comment("Retenu.", author="r4", art=second), S.HELD)
    with CaptureQueriesContext(connection) as queries:
        response = site_api.get("/api/v1/articles", {"ids": "art-3,art-1,nope,art-4,art-2,art-1"})
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {"id": "art-3", "comment_count": 0},
            {"id": "art-1", "comment_count": 2},
            {"id": "art-2", "comment_count": 1},
        ]
    }
    counted = [q["sql"] for q in queries if "moderation_article" in q["sql"]]
    assert len(counted) == 1, counted


def test_it_takes_up_to_100_ids(site_api, article):
    ids = ",".join(["art-1", *(f"a{i}" for i in range(99))])
    response = site_api.get("/api/v1/articles", {"ids": ids})
    assert response.status_code == 200
    assert response.json()["results"] == [{"id": "art-1", "comment_count": 0}]


@pytest.mark.parametrize(
    "ids",
    [None, "", ",".join(f"a{i}" for i in range(101)), "a,,b", "x" * 201, "bad\x07id"],
)
def test_it_refuses_a_bad_list_of_ids(site_api, ids):
    params = {} if ids is None else {"ids": ids}
    error = assert_error(site_api.get("/api/v1/articles", params), 400, "invalid")
    assert set(error["fields"]) <= {"ids", "external_id"}


def test_counts_need_a_key(anonymous_api, db):
    assert_error(anonymous_api.get("/api/v1/articles", {"ids": "a"}), 401, "not_authenticated")


# --- close_after_days ------------------------------------------------------------------------


def test_an_article_closes_after_its_own_number_of_days(site_api, site, article):
    response = site_api.put("/api/v1/articles/art-1", {"close_after_days": 3}, format="json")
    assert response.status_code == 200
    assert response.json()["close_after_days"] == 3
    age(article, 2.9)
    assert post_comment(site_api).status_code == 202
    age(article, 3.01)
    error = assert_error(post_comment(site_api, body="Trop tard."), 409, "article_closed")
    assert "close_after_days" in error["message"]
    assert Comment.objects.count() == 1
    closes_at = site_api.get("/api/v1/articles/art-1").json()["closes_at"]
    assert closes_at is not None


def test_the_sites_default_applies_unless_the_article_sets_its_own(site_api, site, article):
    Site.objects.filter(pk=site.pk).update(close_after_days=7)
    age(article, 8)
    assert_error(post_comment(site_api), 409, "article_closed")
    # The article extends its own window; null goes back to the site's.
    assert site_api.put("/api/v1/articles/art-1", {"close_after_days": 30}, format="json").status_code == 200
    assert post_comment(site_api).status_code == 202
    response = site_api.put("/api/v1/articles/art-1", {"close_after_days": None}, format="json")
    assert response.json()["close_after_days"] is None
    assert_error(post_comment(site_api, body="Encore ?"), 409, "article_closed")
    assert Comment.objects.count() == 1


def test_without_a_setting_an_article_never_closes_by_age(site_api, article):
    age(article, 3000)
    assert site_api.get("/api/v1/articles/art-1").json()["closes_at"] is None
    assert post_comment(site_api).status_code == 202


@pytest.mark.parametrize("days", [0, -1, 3651, "soon", 2.5])
def test_it_refuses_a_bad_close_after_days(site_api, article, days):
    response = site_api.put("/api/v1/articles/art-1", {"close_after_days": days}, format="json")
    assert "close_after_days" in assert_error(response, 400, "invalid")["fields"]
    assert Article.objects.get(pk=article.pk).close_after_days is None
