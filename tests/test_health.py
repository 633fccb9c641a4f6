"""GET /healthz: database, broker and model state, 200 or 503, for orchestrators."""

import json
import time
import urllib.error
import urllib.request

import pytest
from django.db import OperationalError

from moderation import health
from tests.conftest import free_port, stack_env, start_web, stop, wait_until
from tests.test_faults import OwnRedis
from tests.tiny_model import corrupt_model, write_tiny_model


@pytest.fixture
def good_model(settings, tmp_path):
    settings.VIGIE_MODEL_PATH = str(write_tiny_model(tmp_path / "model", version="health-1"))


def test_it_answers_200_when_everything_is_up(anonymous_api, db, good_model):
    response = anonymous_api.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert body["model"] == {"ok": True, "version": "health-1"}


@pytest.mark.parametrize("kind", ["missing", "corrupt"])
def test_it_answers_503_naming_a_missing_or_corrupt_model(anonymous_api, db, settings, tmp_path, kind):
    path = tmp_path / "no-model" if kind == "missing" else corrupt_model(tmp_path / "bad")
    settings.VIGIE_MODEL_PATH = str(path)
    response = anonymous_api.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False
    assert body["model"]["ok"] is False
    assert ("does not exist" if kind == "missing" else "corrupt") in body["model"]["error"]
    assert body["database"]["ok"] and body["broker"]["ok"]


def test_it_answers_503_naming_the_database_when_it_is_down(anonymous_api, db, good_model, monkeypatch):
    class DeadConnection:
        vendor = "postgresql"

        def cursor(self):
            raise OperationalError("could not connect to server")

    monkeypatch.setattr(health, "connection", DeadConnection())
    response = anonymous_api.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == {"ok": False, "error": "OperationalError"}
    assert body["model"]["ok"] and body["broker"]["ok"]


def get_health(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_answers_503_naming_the_broker_while_redis_is_down_and_200_once_it_is_back(postgres, tmp_path):
    redis = OwnRedis(tmp_path)
    redis.start()
    env = stack_env(redis.url, VIGIE_MODEL_PATH=write_tiny_model(tmp_path / "model"))
    port = free_port()
    web = start_web(env, port=port, log_dir=tmp_path)
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        status, body = get_health(url)
        assert (status, body["ok"]) == (200, True), body
        assert body["broker"]["transport"] == "redis"

        redis.stop()
        started = time.monotonic()
        status, body = get_health(url)
        assert time.monotonic() - started < 3  # an orchestrator's probe must not hang
        assert status == 503
        assert body["broker"]["ok"] is False
        assert body["database"]["ok"] and body["model"]["ok"]

        redis.start()
        wait_until(lambda: get_health(url)[0] == 200, timeout=20, message="healthy again")
    finally:
        stop(web)
        redis.stop()
