"""The production supervisor configuration (deploy/supervisord.conf), started for real.

supervisord runs web (gunicorn), worker and beat against this run's PostgreSQL and a
redis-server of the test's own, which the test kills three times under a load of comments
posted through gunicorn. After each outage the worker is running again (reconnected, or
restarted by supervisord) and beating, and every comment ends in one final state.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from moderation import services
from moderation.models import Comment
from tests.conftest import ROOT, free_port, stack_env, stop, wait_until
from tests.processes import spawn
from tests.test_faults import OwnRedis, all_final, http, one_verdict_each
from tests.tiny_model import write_tiny_model

CONF = ROOT / "deploy" / "supervisord.conf"
PROGRAMS = ("beat", "web", "worker")


def ctl(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(CONF), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.stdout


def status(env: dict) -> dict[str, tuple[str, int | None]]:
    """{program: (state, pid)} as supervisorctl reports them."""
    found = {}
    for line in ctl(env, "status").splitlines():
        match = re.match(r"(\w+)\s+(\w+)(?:\s+pid (\d+))?", line)
        if match:
            found[match[1]] = (match[2], int(match[3]) if match[3] else None)
    return found


def all_running(env: dict) -> bool:
    states = status(env)
    return all(states.get(name, ("",))[0] == "RUNNING" for name in PROGRAMS)


def healthy(base: str) -> bool:
    try:
        return http("GET", f"{base}/healthz", timeout=3)[0] == 200
    except OSError:
        return False


class Load:
    """Comments posted through gunicorn by a few threads, one author each, until stopped."""

    def __init__(self, url: str, key: str, *, limit: int, threads: int = 3):
        self.url, self.key, self.limit = url, key, limit
        self.ids: list[int] = []
        self.failures: list = []
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.sent = 0
        self.threads = [threading.Thread(target=self.post, daemon=True) for _ in range(threads)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.done.set()
        for thread in self.threads:
            thread.join(timeout=20)

    def post(self):
        while not self.done.is_set():
            with self.lock:
                if self.sent >= self.limit:
                    return
                n = self.sent
                self.sent += 1
            payload = {"author": {"id": f"r{n}", "name": f"R{n}"}, "body": f"Commentaire numéro {n}, merci."}
            try:
                code, body = http("POST", self.url, self.key, payload)
            except OSError as exc:
                code, body = None, repr(exc)
            with self.lock:
                if code == 202:
                    self.ids.append(body["id"])
                else:
                    self.failures.append((code, body))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_under_supervisord_the_worker_survives_three_redis_outages_under_load(postgres, tmp_path):
    started = time.monotonic()
    redis = OwnRedis(tmp_path)
    redis.start()
    var = tmp_path / "var"
    var.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = stack_env(
        redis.url,
        VIGIE_VAR_DIR=var,
        VIGIE_MODEL_PATH=write_tiny_model(tmp_path / "model"),
        VIGIE_BIND=f"127.0.0.1:{port}",
        VIGIE_WEB_WORKERS=2,
        VIGIE_SWEEP_INTERVAL=2,
        VIGIE_SWEEP_AFTER_SECONDS=3,
        VIGIE_BROKER_VISIBILITY_TIMEOUT=10,
        VIGIE_BROKER_RESTORE_INTERVAL=2,
        VIGIE_HEALTH_MAX_HEARTBEAT_AGE=8,
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    )
    site, key = services.site_create(name="Supervisé")
    services.article_upsert(site=site, external_id="a1", title="Article")
    supervisord = spawn(
        [sys.executable, "-m", "supervisor.supervisord", "-c", str(CONF)],
        env=env,
        log_path=tmp_path / "sd.log",
    )
    load = None
    try:
        wait_until(lambda: all_running(env), timeout=90, message="web, worker and beat RUNNING")
        # Bounded generously: on a quiet machine the worker is ready in ~10 s.
        wait_until(lambda: healthy(base), timeout=120, message="/healthz 200 (the worker beats)")
        load = Load(f"{base}/api/v1/articles/a1/comments", key, limit=1000)
        load.start()
        loaded = time.monotonic()
        pids = [status(env)["worker"][1]]
        for outage in range(3):
            time.sleep(1.5)
            redis.stop()  # SIGKILL: connections drop mid-command, as when Redis crashes
            if outage == 1:  # and the worker dies of it, as kombu's race made it do
                os.kill(pids[-1], signal.SIGKILL)
            time.sleep(2)
            assert not healthy(base)
            redis.start()
            wait_until(
                lambda: healthy(base),
                timeout=90 if outage == 1 else 30,  # a new worker loads Django and the model first
                message=f"the worker back after outage {outage + 1}",
            )
            # /healthz can be back (the new worker beats) before supervisord's startsecs has
            # passed and it calls the worker RUNNING.
            wait_until(lambda: status(env)["worker"][0] == "RUNNING", timeout=30, message="worker RUNNING")
            state, pid = status(env)["worker"]
            assert (pid != pids[-1]) if outage == 1 else True  # supervisord started a new one
            pids.append(pid)
        load.stop()
        posted = load.ids
        print(
            f"{len(posted)} comments posted in {time.monotonic() - loaded:.0f} s "
            f"(ready after {loaded - started:.0f} s), worker pids across outages: {pids}"
        )
        assert len(posted) >= 100, (len(posted), load.failures[:5])
        # Redis down must not fail a POST: the comment is stored, the sweep queues it later.
        assert not load.failures, load.failures[:5]
        wait_until(
            lambda: all_final(posted),
            timeout=60,
            message="every comment in a final state",
            progress=lambda: print("waiting:", Comment.objects.filter(status="received").count()),
        )
        one_verdict_each(posted)
        print(f"all final {time.monotonic() - started:.0f} s after the start")
        assert all_running(env)
    finally:
        if load:
            load.stop()
        ctl(env, "shutdown")
        try:
            supervisord.wait(timeout=60)
        finally:
            stop(supervisord)
            redis.stop()
    # Each program's output is kept by supervisord, in VIGIE_VAR_DIR.
    assert "ready." in (var / "worker.log").read_text()
    assert "Unrecoverable error" not in (var / "worker.log").read_text()
    assert (var / "web.log").exists() and (var / "beat.log").exists()
    assert not [p for p in pids if p and _alive(p)]  # nothing left behind after shutdown
    assert "exited: worker (terminated by SIGKILL" in (var / "supervisord.log").read_text()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
