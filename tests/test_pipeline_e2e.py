"""End to end through the real parts: HTTP POST -> gunicorn -> Redis -> a Celery worker process."""

import json
import urllib.request

import pytest

from moderation import services
from moderation.models import Classification, Comment, ModerationEvent
from tests.conftest import free_port, stack_env, start_web, start_worker, stop, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def http(method, url, key, payload=None):
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url,
        data=data,
        method=method,
        headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        return response.status, json.loads(response.read())


def test_it_classifies_posted_comments_through_redis_and_a_worker(postgres, queue_url, tmp_path):
    site, key = services.site_create(name="E2E")
    env = stack_env(queue_url)
    port = free_port()
    web = start_web(env, port=port, log_dir=tmp_path)
    worker = start_worker(env, name="e2e", log_dir=tmp_path)
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        status, _ = http("PUT", f"{base}/articles/a1", key, {"title": "Article", "language": "fr"})
        assert status == 201
        status, clean = http(
            "POST",
            f"{base}/articles/a1/comments",
            key,
            {
                "author": {"id": "u1", "name": "Camille"},
                "body": "Merci pour cet article passionnant et bien écrit.",
            },
        )
        assert (status, clean["status"]) == (202, "received")
        _, rude = http(
            "POST",
            f"{base}/articles/a1/comments",
            key,
            {
                "author": {"id": "u2", "name": "Troll"},
                "body": "Ferme ta gueule espèce de connard, t'es qu'un abruti",
            },
        )
        final = wait_until(
            lambda: (
                Comment.objects.filter(pk__in=[clean["id"], rude["id"]]).exclude(status="received").count()
                == 2
            ),
            timeout=60,
            message="both comments classified by the worker",
        )
        assert final
        assert Comment.objects.get(pk=clean["id"]).status == "published"
        assert Comment.objects.get(pk=rude["id"]).status in ("held", "rejected")
        assert Classification.objects.filter(comment_id__in=[clean["id"], rude["id"]]).count() == 2
        assert ModerationEvent.objects.filter(comment_id__in=[clean["id"], rude["id"]]).count() == 2
        _, listing = http("GET", f"{base}/articles/a1/comments", key)
        assert [c["id"] for c in listing["results"]] == [clean["id"]]
    finally:
        stop(web)
        stop(worker)
    assert "classify_comment" in (tmp_path / "e2e.log").read_text()
