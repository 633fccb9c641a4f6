"""Posting limits per site key, per author and per reader IP: 429 with Retry-After, in the
error shape, nothing stored, and one count shared by every web process through Redis."""

import json
import urllib.error
import urllib.request

import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from moderation import services
from moderation.models import Comment, Report
from tests.conftest import free_port, set_status, stack_env, start_web, stop
from tests.test_api_site import assert_error

UNLIMITED = "100000/min"


@pytest.fixture
def rates(monkeypatch):
    """Set the throttle rates for one test (DRF reads them into the throttle classes at import)."""
    cache.clear()  # the file cache outlives a test

    def set_rates(**scopes):
        for scope in ("site", "author", "ip", "report"):
            monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, scopes.get(scope, UNLIMITED))

    yield set_rates
    cache.clear()


def post(api, author="u1", ip=None, article="art-1"):
    extra = {"HTTP_X_READER_IP": ip} if ip else {}
    return api.post(
        f"/api/v1/articles/{article}/comments",
        {"author": {"id": author, "name": author}, "body": "Encore un commentaire."},
        format="json",
        **extra,
    )


def assert_throttled(response) -> int:
    assert_error(response, 429, "throttled")
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    return retry_after


def test_it_limits_posting_per_author(site_api, article, rates):
    rates(author="3/min")
    for _ in range(3):
        assert post(site_api, author="bavard").status_code == 202
    assert_throttled(post(site_api, author="bavard"))
    assert Comment.objects.filter(author__external_id="bavard").count() == 3
    assert post(site_api, author="discret").status_code == 202


def test_it_limits_posting_per_site_key_and_not_other_sites(
    site_api, other_site_api, other_site, article, rates
):
    services.article_upsert(site=other_site, external_id="art-1")
    rates(site="4/min")
    for i in range(4):
        assert post(site_api, author=f"r{i}").status_code == 202
    assert_throttled(post(site_api, author="r9"))
    assert Comment.objects.filter(site=article.site).count() == 4
    assert post(other_site_api, author="r9").status_code == 202


def test_it_limits_posting_per_reader_ip(site_api, article, rates):
    rates(ip="2/min")
    assert post(site_api, author="a", ip="203.0.113.7").status_code == 202
    assert post(site_api, author="b", ip="203.0.113.7").status_code == 202
    assert_throttled(post(site_api, author="c", ip="203.0.113.7"))
    assert post(site_api, author="c", ip="198.51.100.2").status_code == 202
    assert Comment.objects.count() == 3


def test_an_author_id_is_counted_within_its_own_site(site_api, other_site_api, other_site, article, rates):
    services.article_upsert(site=other_site, external_id="art-1")
    rates(author="1/min")
    assert post(site_api, author="same-id").status_code == 202
    assert_throttled(post(site_api, author="same-id"))
    assert post(other_site_api, author="same-id").status_code == 202


def test_it_limits_reports_per_site(site_api, make_comment, rates):
    rates(report="2/min")
    comment = set_status(make_comment(), Comment.Status.PUBLISHED)
    for reporter in ("r1", "r2"):
        response = site_api.post(
            f"/api/v1/comments/{comment.pk}/reports",
            {"reason": "spam", "reporter_id": reporter},
            format="json",
        )
        assert response.status_code == 201
    response = site_api.post(
        f"/api/v1/comments/{comment.pk}/reports", {"reason": "spam", "reporter_id": "r3"}, format="json"
    )
    assert_throttled(response)
    assert Report.objects.count() == 2


def test_reading_is_not_limited_by_the_posting_limits(site_api, article, rates):
    rates(author="1/min", ip="1/min")
    assert post(site_api, author="a", ip="203.0.113.7").status_code == 202
    for _ in range(3):
        assert site_api.get("/api/v1/articles/art-1/comments").status_code == 200


def test_a_revalidation_answered_304_is_not_counted_against_the_site(site_api, article, rates):
    # It costs the key's lookup and nothing more, what a 429 would cost; a full page counts.
    rates(site="2/min")
    page = site_api.get("/api/v1/articles/art-1/comments")
    assert page.status_code == 200
    for _ in range(5):
        response = site_api.get("/api/v1/articles/art-1/comments", HTTP_IF_NONE_MATCH=page["ETag"])
        assert response.status_code == 304
    stale = site_api.get("/api/v1/articles/art-1/comments", HTTP_IF_NONE_MATCH='W/"stale"')
    assert stale.status_code == 200  # counted: the second of two
    assert_throttled(site_api.get("/api/v1/articles/art-1/comments"))


# --- across processes ---------------------------------------------------------------------------


def http_post(base: str, key: str, author: str):
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{base}/api/v1/articles/a1/comments",
        data=json.dumps({"author": {"id": author, "name": author}, "body": "Bonjour"}).encode(),
        method="POST",
        headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_web_processes_share_one_count_through_redis(postgres, queue_url, tmp_path):
    """Each process alone has seen 2 of the author's 4 allowed posts: only a shared count
    (django-redis on REDIS_URL) refuses the fifth and the sixth."""
    site, key = services.site_create(name="Limites")
    services.article_upsert(site=site, external_id="a1")
    env = stack_env(queue_url, VIGIE_RATE_AUTHOR="4/min", VIGIE_RATE_SITE=UNLIMITED, VIGIE_RATE_IP=UNLIMITED)
    webs, bases = [], []
    try:
        for name in ("one", "two"):
            port = free_port()
            (tmp_path / name).mkdir()
            webs.append(start_web(env, port=port, log_dir=tmp_path / name))
            bases.append(f"http://127.0.0.1:{port}")
        one, two = bases
        statuses = [http_post(base, key, "u1")[0] for base in (one, two, one, two)]
        assert statuses == [202, 202, 202, 202]
        for base in (one, two):
            status, headers, body = http_post(base, key, "u1")
            assert status == 429
            assert body["error"]["code"] == "throttled"
            assert 1 <= int(headers["Retry-After"]) <= 60
        assert http_post(two, key, "u2")[0] == 202
    finally:
        for web in webs:
            stop(web)
    assert Comment.objects.filter(author__external_id="u1").count() == 4


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_on_two_web_processes_never_exceed_the_limit(postgres, queue_url, tmp_path):
    """40 posts by one author at once, spread over two gunicorn processes of two workers
    each: exactly the 15 allowed are stored. A read-modify-write count would let more in."""
    from concurrent.futures import ThreadPoolExecutor

    site, key = services.site_create(name="Course")
    services.article_upsert(site=site, external_id="a1")
    env = stack_env(queue_url, VIGIE_RATE_AUTHOR="15/min", VIGIE_RATE_SITE=UNLIMITED, VIGIE_RATE_IP=UNLIMITED)
    webs, bases = [], []
    try:
        for name in ("one", "two"):
            port = free_port()
            (tmp_path / name).mkdir()
            webs.append(start_web(env, port=port, log_dir=tmp_path / name, workers=2))
            bases.append(f"http://127.0.0.1:{port}")
        with ThreadPoolExecutor(max_workers=40) as pool:
            statuses = list(pool.map(lambda i: http_post(bases[i % 2], key, "rafale")[0], range(40)))
    finally:
        for web in webs:
            stop(web)
    assert sorted(set(statuses)) == [202, 429]
    assert statuses.count(202) == 15
    assert Comment.objects.filter(author__external_id="rafale").count() == 15
