"""POST /api/v1/check, the pre-submit "nudge": the pipeline's verdict on a draft, nothing stored."""

import pytest
from django.core.cache import cache
from django.db import connections
from rest_framework.throttling import SimpleRateThrottle

from moderation import services
from moderation.models import (
    Article,
    Author,
    Classification,
    Comment,
    ModerationEvent,
    Site,
    WebhookDelivery,
)
from tests.conftest import classify_now
from tests.test_api_site import assert_error, post_comment

CLEAN = "Merci pour cet article clair et bien documenté."
INSULT = "Ferme-la, espèce de connard, tu n'es qu'un imbécile."


def check(api, body, headers=None, **fields):
    return api.post("/api/v1/check", {"body": body, **fields}, format="json", **(headers or {}))


def rows() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Article, Author, Comment, Classification, ModerationEvent, WebhookDelivery)
    }


def test_a_clean_draft_would_be_published(site_api, article):
    response = check(site_api, CLEAN, author={"id": "u1", "name": "Camille"}, article_id="art-1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["would_be"] == "published"
    assert (body["reasons"], body["spans"]) == ([], [])
    assert 0 <= body["toxicity"] < 0.3 and 0 <= body["spam"] <= 1
    assert body["method"] in ("fast", "cascade")


def test_an_insult_would_be_held_with_the_words_to_reword(site_api, site, article):
    Site.objects.filter(pk=site.pk).update(toxicity_hold=0.5, toxicity_reject=1.0)
    response = check(site_api, INSULT, {"HTTP_ACCEPT_LANGUAGE": "fr"}, article_id="art-1")
    body = response.json()
    assert body["would_be"] == "held"
    assert [r["code"] for r in body["reasons"]] == ["toxicity_hold"]
    assert "seuil" in body["reasons"][0]["message"]  # French by default
    english = check(site_api, INSULT, {"HTTP_ACCEPT_LANGUAGE": "en"}, article_id="art-1").json()
    assert "threshold" in english["reasons"][0]["message"]
    words = {INSULT[s["start"] : s["end"]] for s in body["spans"]}
    assert "connard" in words
    assert all(INSULT[s["start"] : s["end"]] == s["text"] for s in body["spans"])


def test_the_check_says_what_posting_then_decides(site_api, site, article, make_comment):
    """Same code path: the verdict of the check is the pipeline's verdict on the same text."""
    Site.objects.filter(pk=site.pk).update(toxicity_hold=0.5, toxicity_reject=0.95)
    texts = [
        CLEAN,
        INSULT,
        "Je ne suis pas d'accord avec vous, c'est nul.",
        "Achetez sur www.promo-pas-cher.biz !!!",
    ]
    for k, text in enumerate(texts):
        predicted = check(
            site_api, text, author={"id": f"r{k}", "name": "Lecteur"}, article_id="art-1"
        ).json()
        comment = make_comment(text, author=f"r{k}")
        classify_now([comment.pk])
        comment.refresh_from_db()
        assert comment.status == predicted["would_be"], (text, predicted)


def test_the_sites_word_lists_and_the_articles_mode_count(site_api, site, article):
    Site.objects.filter(pk=site.pk).update(banned_words="saperlipopette", suspect_words="bigre")
    assert check(site_api, "Saperlipopette, quel article !").json()["would_be"] == "rejected"
    body = check(site_api, "Bigre, quel article !").json()
    assert (body["would_be"], body["reasons"][0]["code"]) == ("held", "suspect_word")
    services.article_upsert(site=site, external_id="art-1", moderation_mode="pre")
    assert check(site_api, CLEAN, article_id="art-1").json()["would_be"] == "held"
    assert check(site_api, CLEAN).json()["would_be"] == "published"  # no article: the site's default


def test_the_authors_status_counts(site_api, site, article, make_comment):
    make_comment("Un premier avis.", author="banni")
    Author.objects.filter(site=site, external_id="banni").update(status=Author.Status.BANNED)
    body = check(site_api, CLEAN, author={"id": "banni", "name": "Banni"}).json()
    assert (body["would_be"], body["reasons"][0]["code"]) == ("rejected", "author_banned")
    # The site's first-comments rule: a reader never seen before would wait.
    Site.objects.filter(pk=site.pk).update(premoderate_first_comments=1)
    assert check(site_api, CLEAN, author={"id": "nouveau", "name": "N"}).json()["would_be"] == "held"


def test_it_stores_nothing_and_enqueues_nothing(site_api, site, article, django_capture_on_commit_callbacks):
    Site.objects.filter(pk=site.pk).update(toxicity_hold=0.5, toxicity_reject=1.0)
    before = rows()
    with django_capture_on_commit_callbacks() as callbacks:
        for text in (CLEAN, INSULT):
            assert (
                check(
                    site_api, text, author={"id": "nouveau", "name": "Nina"}, article_id="art-1"
                ).status_code
                == 200
            )
    assert rows() == before
    assert callbacks == []  # every task and webhook is sent from an on_commit callback
    # The same text posted: a row and a classification task to send (the test can tell).
    with django_capture_on_commit_callbacks() as callbacks:
        assert post_comment(site_api, body=INSULT).status_code == 202
    assert rows()["Comment"] == before["Comment"] + 1
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "body"),
        ({"body": "   "}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"body": 42}, "body"),
        ({"body": "ok\x00"}, "body"),
        ({"body": "ok", "author": {"name": "sans id"}}, "author"),
        ({"body": "ok", "article_id": "x" * 201}, "article_id"),
        ({"body": "ok", "colour": "blue"}, "colour"),
    ],
)
def test_it_refuses_a_bad_draft(site_api, payload, field):
    error = assert_error(site_api.post("/api/v1/check", payload, format="json"), 400, "invalid")
    assert field in error["fields"]


def test_an_unknown_closed_or_other_sites_article_is_refused(site_api, other_site_api, site, article):
    assert_error(check(other_site_api, CLEAN, article_id="art-1"), 404, "not_found")
    assert_error(check(site_api, CLEAN, article_id="nope"), 404, "not_found")
    services.article_upsert(site=site, external_id="art-1", closed=True)
    assert_error(check(site_api, CLEAN, article_id="art-1"), 409, "article_closed")


def test_it_needs_a_key(anonymous_api, db):
    assert_error(check(anonymous_api, CLEAN), 401, "not_authenticated")


def test_it_is_rate_limited_per_reader(site_api, article, monkeypatch):
    cache.clear()
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "check_author", "2/min")
    author = {"id": "pressé", "name": "P"}
    assert check(site_api, CLEAN, author=author).status_code == 200
    assert check(site_api, CLEAN, author=author).status_code == 200
    response = check(site_api, CLEAN, author=author)
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    assert check(site_api, CLEAN, author={"id": "autre", "name": "A"}).status_code == 200
    # Its own budget: posting is not used up by the checks.
    assert post_comment(site_api, author=author).status_code == 202
    cache.clear()


# --- the demo widget -------------------------------------------------------------------------


@pytest.fixture
def demo(client, site_key, monkeypatch, settings):
    from moderation.demo import views

    monkeypatch.setenv("VIGIE_DEMO_SITE_KEY", site_key)
    settings.VIGIE_DEMO_API_BASE = None
    monkeypatch.setattr(views, "_declared", set())
    assert client.get("/demo/").status_code == 200  # the reader's cookie
    return client


def test_the_demo_checks_a_draft_through_the_api(demo, db):
    before = Comment.objects.count()
    response = demo.post("/demo/check", {"name": "Nina", "body": INSULT}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["would_be"] in ("held", "rejected")
    assert set(response.json()) == {"would_be", "spans"}
    assert demo.post("/demo/check", {"body": CLEAN}, content_type="application/json").json()["would_be"] == (
        "published"
    )
    assert Comment.objects.count() == before
    assert demo.post("/demo/check", b"\xff", content_type="application/json").status_code == 400
    response = demo.post("/demo/check", {"body": ""}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_reader_is_warned_before_posting_a_comment_that_would_be_held(live_server, site_key, monkeypatch):
    from pathlib import Path

    from moderation.demo import views

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip(f"needs Debian's Chromium at {chromium}")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("VIGIE_DEMO_SITE_KEY", site_key)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setattr(views, "_declared", set())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        page = browser.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{live_server.url}/demo/")
        page.fill("#author-name", "Nina")
        page.fill("#comment-body", INSULT)
        page.click("#comment-form button[type=submit]")
        warning = page.locator(".nudge")
        warning.wait_for()
        assert "Votre commentaire risque d'être retenu : voulez-vous le reformuler ?" in warning.inner_text()
        assert "connard" in warning.inner_text()
        # Rewording posts nothing.
        page.click(".nudge .reword")
        assert page.locator(".nudge").count() == 0
        assert Comment.objects.count() == 0
        # A clean text goes straight through, without a warning.
        page.fill("#comment-body", CLEAN)
        page.click("#comment-form button[type=submit]")
        page.locator(".notice.pending").wait_for()
        assert page.locator(".nudge").count() == 0
        assert list(Comment.objects.values_list("body", flat=True)) == [CLEAN]
        browser.close()
        # Inside Playwright's sync API the ORM ran on another connection: close it, or the
        # test database cannot be dropped.
        connections.close_all()
