"""GET /healthz: 200 when comments flow, 503 when a part is down, no worker beats, or
comments pile up as `received`; anonymous callers see the status only, staff the details."""

import json
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from moderation import health, heartbeat
from moderation.models import Comment
from tests.conftest import free_port, stack_env, start_web, start_worker, stop, wait_until
from tests.test_faults import OwnRedis
from tests.tiny_model import corrupt_model, write_tiny_model


@pytest.fixture
def good_model(settings, tmp_path):
    settings.VIGIE_MODEL_PATH = str(write_tiny_model(tmp_path / "model", version="health-1"))


@pytest.fixture
def worker_alive(db):
    heartbeat.beat(["celery"])
    yield
    from django.core.cache import cache

    cache.delete(heartbeat.KEY.format(queue="celery"))


@pytest.fixture
def staff_api(db):
    user = User.objects.create_user("ops", password="ops-pass-1234", is_staff=True)
    client = APIClient()
    client.force_login(user)
    return client


def test_it_answers_200_with_the_status_only_to_an_anonymous_caller(anonymous_api, good_model, worker_alive):
    response = anonymous_api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_it_wants_an_encoder_worker_only_when_the_model_asks_a_second_opinion(staff_api, worker_alive):
    # The shipped model has a second opinion: a fast worker alone is not enough.
    from django.core.cache import cache

    response = staff_api.get("/healthz")
    assert response.status_code == 503
    assert "encoder" in response.json()["checks"]["workers"]["error"]
    heartbeat.beat(["encoder"])
    try:
        assert staff_api.get("/healthz").status_code == 200
    finally:
        cache.delete(heartbeat.KEY.format(queue="encoder"))


def test_it_shows_staff_every_check(staff_api, good_model, worker_alive):
    response = staff_api.get("/healthz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"]["ok"] and checks["broker"]["ok"]
    assert checks["model"] == {"ok": True, "version": "health-1"}
    assert checks["workers"]["ok"] and checks["workers"]["celery"]["last_heartbeat_age_seconds"] < 5
    backlog = checks["backlog"]
    assert (backlog["ok"], backlog["max_age_seconds"], backlog["oldest_received_age_seconds"]) == (
        True,
        120,
        None,
    )


@pytest.mark.parametrize("kind", ["missing", "corrupt"])
def test_it_answers_503_for_a_missing_or_corrupt_model_naming_it_to_staff_only(
    anonymous_api, staff_api, worker_alive, settings, tmp_path, kind
):
    path = tmp_path / "no-model" if kind == "missing" else corrupt_model(tmp_path / "bad")
    settings.VIGIE_MODEL_PATH = str(path)
    anonymous = anonymous_api.get("/healthz")
    assert anonymous.status_code == 503
    assert anonymous.json() == {"status": "unavailable"}
    assert str(tmp_path) not in anonymous.content.decode()

    checks = staff_api.get("/healthz").json()["checks"]
    assert checks["model"]["ok"] is False
    assert ("does not exist" if kind == "missing" else "corrupt") in checks["model"]["error"]
    assert checks["database"]["ok"] and checks["broker"]["ok"]


def test_it_answers_503_when_the_database_is_down(
    anonymous_api, staff_api, good_model, worker_alive, monkeypatch
):
    class DeadConnection:
        vendor = "postgresql"

        def cursor(self):
            raise OperationalError("could not connect to server")

    monkeypatch.setattr(health, "connection", DeadConnection())
    anonymous = anonymous_api.get("/healthz")
    assert (anonymous.status_code, anonymous.json()) == (503, {"status": "unavailable"})
    assert "postgresql" not in anonymous.content.decode()
    checks = staff_api.get("/healthz").json()["checks"]
    assert checks["database"] == {"ok": False, "error": "OperationalError"}


def test_it_answers_503_when_no_worker_has_ever_beaten(anonymous_api, staff_api, good_model, db):
    # Failed before: /healthz answered 200 with no worker at all.
    assert anonymous_api.get("/healthz").status_code == 503
    workers = staff_api.get("/healthz").json()["checks"]["workers"]
    assert workers["ok"] is False and workers["celery"] == {"last_heartbeat_age_seconds": None}
    assert "no worker of queue 'celery'" in workers["error"]


def test_it_answers_503_when_the_last_heartbeat_is_too_old(
    anonymous_api, good_model, db, settings, monkeypatch
):
    settings.VIGIE_HEALTH_MAX_HEARTBEAT_AGE = 10
    heartbeat.beat(["celery"])
    assert anonymous_api.get("/healthz").status_code == 200
    later = time.time() + 11
    monkeypatch.setattr(health.time, "time", lambda: later)
    assert anonymous_api.get("/healthz").status_code == 503


def test_it_answers_503_when_a_comment_waited_too_long_in_received(
    anonymous_api, staff_api, good_model, worker_alive, make_comment, settings
):
    # Failed before: comments piling up as `received` left /healthz at 200.
    comment = make_comment()  # tasks are eager here, but nothing classifies without on_commit
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.RECEIVED
    assert anonymous_api.get("/healthz").status_code == 200  # a fresh one is normal traffic

    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(seconds=121))
    assert anonymous_api.get("/healthz").status_code == 503
    backlog = staff_api.get("/healthz").json()["checks"]["backlog"]
    assert backlog["ok"] is False and backlog["oldest_received_age_seconds"] >= 121
    assert "waited" in backlog["error"]

    settings.VIGIE_HEALTH_MAX_RECEIVED_AGE = 600
    assert anonymous_api.get("/healthz").status_code == 200


def get_health(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_with_redis_a_live_worker_keeps_it_200_and_a_redis_outage_makes_it_503_until_it_is_back(
    postgres, tmp_path
):
    redis = OwnRedis(tmp_path)
    redis.start()
    env = stack_env(redis.url, VIGIE_MODEL_PATH=write_tiny_model(tmp_path / "model"))
    port = free_port()
    web = start_web(env, port=port, log_dir=tmp_path)
    url = f"http://127.0.0.1:{port}/healthz"
    worker = None
    try:
        status, body = get_health(url)
        assert (status, body) == (503, {"status": "unavailable"})  # no worker yet
        worker = start_worker(env, name="hb", log_dir=tmp_path)
        wait_until(lambda: get_health(url)[0] == 200, timeout=60, message="the worker's first heartbeat")

        redis.stop()
        started = time.monotonic()
        status, body = get_health(url)
        assert time.monotonic() - started < 3  # an orchestrator's probe must not hang
        assert (status, body) == (503, {"status": "unavailable"})

        redis.start()  # empty: the worker reconnects and beats again
        wait_until(lambda: get_health(url)[0] == 200, timeout=40, message="healthy again")
    finally:
        stop(web)
        if worker:
            stop(worker)
        redis.stop()
