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
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
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
                Comment.objects.filter(pk__in=[clean["id"], rude["id"]])
                .exclude(status__in=Comment.WAITING)
                .count()
                == 2
            ),
            timeout=60,
            message="both comments classified by the worker",
        )
        assert final
        assert Comment.objects.get(pk=clean["id"]).status == "published"
        assert Comment.objects.get(pk=rude["id"]).status in ("held", "rejected")
        assert Classification.objects.filter(comment_id__in=[clean["id"], rude["id"]]).count() == 2
        # One verdict each (the rude one may have passed through the second opinion first).
        assert (
            ModerationEvent.objects.filter(comment_id__in=[clean["id"], rude["id"]])
            .exclude(to_status="screening")
            .count()
            == 2
        )
        _, listing = http("GET", f"{base}/articles/a1/comments", key)
        assert [c["id"] for c in listing["results"]] == [clean["id"]]
    finally:
        stop(web)
        stop(worker)
    assert "classify_comment" in (tmp_path / "e2e.log").read_text()


def test_fast_and_encoder_workers_split_the_cascade_between_their_queues(postgres, queue_url, tmp_path):
    """Production's shape: fast workers (-Q celery) and encoder workers (-Q encoder) apart."""
    from moderation.classifier import load_model
    from tests.test_cascade import wide_band_model

    site, key = services.site_create(name="Cascade")
    model_dir = wide_band_model(tmp_path / "model")
    model = load_model(model_dir)
    unsure_body = "T'es vraiment un abruti, ton avis ne vaut rien."
    [fast] = model.score([unsure_body], explain=False)
    assert model.needs_second_opinion(fast.toxicity)
    env = stack_env(queue_url, VIGIE_MODEL_PATH=model_dir)
    port = free_port()
    web = start_web(env, port=port, log_dir=tmp_path)
    fast_worker = start_worker(env, name="fast", log_dir=tmp_path, queues="celery")
    encoder_worker = start_worker(env, name="encoder", log_dir=tmp_path, queues="encoder")
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        http("PUT", f"{base}/articles/a1", key, {"title": "Article", "language": "fr"})
        ids = []
        for n, body in enumerate([unsure_body, "Très bon article, merci.", unsure_body + " Vraiment."]):
            _, posted = http(
                "POST",
                f"{base}/articles/a1/comments",
                key,
                {"author": {"id": f"u{n}", "name": "Lecteur"}, "body": body},
            )
            ids.append(posted["id"])
        wait_until(
            lambda: not Comment.objects.filter(pk__in=ids, status__in=Comment.WAITING).exists(),
            timeout=90,
            message="every comment decided by the two kinds of worker",
        )
        screened = set(
            ModerationEvent.objects.filter(comment_id__in=ids, to_status="screening").values_list(
                "comment_id", flat=True
            )
        )
        assert ids[0] in screened and ids[1] not in screened
        for comment_id in ids:  # decided once
            assert (
                ModerationEvent.objects.filter(comment_id=comment_id).exclude(to_status="screening").count()
                == 1
            )
    finally:
        stop(web)
        stop(fast_worker)
        stop(encoder_worker)
    fast_log, encoder_log = (tmp_path / "fast.log").read_text(), (tmp_path / "encoder.log").read_text()
    assert "Task moderation.tasks.second_opinion[" not in fast_log
    assert "Task moderation.tasks.classify_comment[" in fast_log
    assert "Task moderation.tasks.second_opinion[" in encoder_log
    assert "Task moderation.tasks.classify_comment[" not in encoder_log
