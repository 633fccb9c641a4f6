"""`manage.py serve`: one machine, supervised processes, a stable demo key, a clear busy port."""

import contextlib
import json
import os
import re
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from moderation.management.commands import serve
from moderation.models import Site
from tests.conftest import ROOT, free_port, stop, wait_until
from tests.processes import spawn
from tests.tiny_model import write_tiny_model

FINAL = {"published", "held", "rejected"}


# --- the port --------------------------------------------------------------------------------


@pytest.fixture
def busy_port():
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "port {port} busy: try --port {free}"),
        ("fr", "le port {port} est occupé : essayez --port {free}"),
    ],
)
def test_it_names_a_free_port_when_its_port_is_busy(busy_port, language, message):
    free = serve.next_free_port("127.0.0.1", busy_port)
    with translation.override(language), pytest.raises(CommandError) as raised:
        call_command("serve", port=busy_port, stdout=StringIO())
    assert str(raised.value) == message.format(port=busy_port, free=free)


# --- the demo accounts -----------------------------------------------------------------------


def test_the_demo_key_is_the_same_from_one_start_to_the_next(db, settings, tmp_path):
    # Failed before: every start rotated the key, breaking whatever used the previous one.
    settings.VAR_DIR = tmp_path
    site, first_key, password = serve.demo_credentials()
    _, second_key, same_password = serve.demo_credentials()
    assert second_key == first_key and same_password == password
    site.refresh_from_db()
    assert site.api_key_hash == serve.hash_api_key(first_key)
    assert first_key not in site.api_key_hash  # only its hash is stored
    assert (tmp_path / "demo-site-key").read_text() == first_key
    assert (tmp_path / "demo-site-key").stat().st_mode & 0o777 == 0o600
    assert site.moderators.filter(username=serve.DEMO_MODERATOR, is_staff=True).exists()


def test_a_demo_key_that_no_longer_matches_is_replaced(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    site, first_key, _ = serve.demo_credentials()
    (tmp_path / "demo-site-key").write_text("vg_not-the-key")
    _, second_key, _ = serve.demo_credentials()
    site.refresh_from_db()
    assert second_key not in (first_key, "vg_not-the-key")
    assert site.api_key_hash == serve.hash_api_key(second_key)
    assert (tmp_path / "demo-site-key").read_text() == second_key


@pytest.fixture
def no_processes(monkeypatch):
    """serve up to the point where it would start gunicorn and the worker."""
    started = []
    monkeypatch.setattr(serve, "call_command", lambda *a, **k: None)
    monkeypatch.setattr(serve, "supervise", lambda programs: started.extend(programs))
    return started


def test_it_refuses_to_add_demo_accounts_to_a_database_with_other_sites(
    site, other_site, no_processes, settings, tmp_path
):
    # Failed before: serve added the site "Démo" and the login "moderateur" to any database.
    settings.VAR_DIR = tmp_path
    with translation.override("en"), pytest.raises(CommandError) as raised:
        call_command("serve", port=free_port(), stdout=StringIO())
    assert re.search(r"already has 2 site\(s\).*--demo-anyway.*--no-demo", str(raised.value))
    assert not Site.objects.filter(name=serve.DEMO_SITE).exists()
    assert not no_processes
    # The command speaks the admin's language (VIGIE_LANGUAGE_CODE, French by default).
    with pytest.raises(CommandError, match="contient déjà 2 site.*--demo-anyway"):
        call_command("serve", port=free_port(), stdout=StringIO())

    out = StringIO()
    call_command("serve", port=free_port(), no_demo=True, stdout=out)
    assert not Site.objects.filter(name=serve.DEMO_SITE).exists()
    assert "site API key" not in out.getvalue()
    assert [p.name for p in no_processes] == ["web", "worker"]

    call_command("serve", port=free_port(), demo_anyway=True, stdout=StringIO())
    assert Site.objects.filter(name=serve.DEMO_SITE).exists()
    # Its own demo site does not count as another: the next start needs no flag.
    call_command("serve", port=free_port(), stdout=StringIO())


# --- supervision (unit) ----------------------------------------------------------------------


def test_a_program_that_exits_is_restarted_with_a_doubling_capped_backoff(caplog, monkeypatch):
    program = serve.Program("flaky", [sys.executable, "-c", "raise SystemExit(3)"])
    program.start()
    delays = []
    for _ in range(7):
        program.proc.wait(timeout=30)
        now = program.started_at + 1  # it ran one second: a quick exit every time
        program.check(now)
        delays.append(program.restart_at - now)
        assert program.proc is None
        program.check(program.restart_at - 0.01)  # not before its time
        assert program.proc is None
        program.check(program.restart_at)
        assert program.proc is not None
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert "flaky (pid" in caplog.text and "exited with code 3 after 1 s; restarting it in 1 s" in caplog.text

    program.proc.wait(timeout=30)
    program.check(program.started_at + serve.STABLE_AFTER_SECONDS)  # it had run long enough
    assert program.restart_at - (program.started_at + serve.STABLE_AFTER_SECONDS) == 1


# --- supervision (real processes) ------------------------------------------------------------


def http(method, url, key=None, payload=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Api-Key {key}"
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except OSError:
        return None, None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not open(f"/proc/{pid}/stat").read().split(") ", 1)[1].startswith("Z")  # noqa: SIM115


def log_timestamps(text: str) -> list[datetime]:
    """Every timestamp Django, Celery and gunicorn wrote, read as UTC."""
    found = [
        datetime.strptime(m, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        for m in re.findall(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})", text)
    ]
    found += [
        datetime.strptime(m, "%d/%b/%Y:%H:%M:%S").replace(tzinfo=UTC)
        for m in re.findall(r"\[(\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2}) ", text)
    ]
    return found


@pytest.mark.slow
def test_serve_restarts_a_killed_worker_and_comments_still_reach_a_final_state(tmp_path):
    """Embedded, as the README's first command runs: SQLite, filesystem broker, own var/."""
    var, home = tmp_path / "var", tmp_path / "home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "VIGIE_CACHE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        VIGIE_VAR_DIR=str(var),
        HOME=str(home),
        VIGIE_MODEL_PATH=str(write_tiny_model(tmp_path / "model")),
        VIGIE_HEALTH_MAX_HEARTBEAT_AGE="3",
        PYTHONPATH=str(ROOT),
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    started_at = datetime.now(UTC)
    proc = spawn(
        [sys.executable, "manage.py", "serve", f"--port={port}", "--web-workers=1", "--concurrency=1"],
        env=env,
        log_path=log,
    )

    def worker_pids() -> list[int]:
        return [int(p) for p in re.findall(r"started worker \(pid (\d+)\)", log.read_text())]

    def final(comment_id, key) -> bool:
        status, body = http("GET", f"{base}/api/v1/comments/{comment_id}", key)
        return status == 200 and body["status"] in FINAL

    try:
        wait_until(lambda: (var / "demo-site-key").exists() and worker_pids(), timeout=90, message="serve up")
        key = (var / "demo-site-key").read_text()
        wait_until(lambda: http("GET", f"{base}/healthz")[0] == 200, timeout=90, message="healthy")
        status, _ = http("PUT", f"{base}/api/v1/articles/a1", key, {"title": "Article"})
        assert status in (200, 201)
        status, first = http(
            "POST",
            f"{base}/api/v1/articles/a1/comments",
            key,
            {"author": {"id": "u1", "name": "Une"}, "body": "Merci."},
        )
        assert status == 202
        wait_until(lambda: final(first["id"], key), timeout=60, message="the first comment classified")

        [worker] = worker_pids()
        os.kill(worker, signal.SIGKILL)  # what kombu's race did to it, or the OOM killer
        # Failed before: serve stopped everything ("a process exited; stopped the others").
        wait_until(lambda: len(worker_pids()) == 2, timeout=20, message="the worker restarted")
        assert f"worker (pid {worker}) exited with code -9" in log.read_text()
        assert "restarting it in 1 s" in log.read_text()
        restarted = worker_pids()[1]
        assert pid_alive(restarted) and proc.poll() is None
        status, second = http(
            "POST",
            f"{base}/api/v1/articles/a1/comments",
            key,
            {"author": {"id": "u2", "name": "Deux"}, "body": "Bien vu."},
        )
        assert status == 202
        wait_until(lambda: final(second["id"], key), timeout=90, message="a comment after the restart")

        # Embedded too, /healthz knows when the worker stops beating (no ping on this broker).
        os.kill(restarted, signal.SIGSTOP)
        try:
            wait_until(lambda: http("GET", f"{base}/healthz")[0] == 503, timeout=20, message="503")
            assert http("GET", f"{base}/healthz")[1] == {"status": "unavailable"}
        finally:
            os.kill(restarted, signal.SIGCONT)
        wait_until(lambda: http("GET", f"{base}/healthz")[0] == 200, timeout=20, message="200 again")

        # Quieter logs: a static file leaves no access line, an API call does.
        with urllib.request.urlopen(f"{base}/static/admin/css/base.css", timeout=10) as response:  # noqa: S310
            assert response.status == 200
        http("GET", f"{base}/api/v1/comments/{second['id']}", key)
        time.sleep(0.5)
        # A control socket of its own, not the one per user that every gunicorn shares.
        assert (var / "gunicorn.ctl").exists()
        assert not (home / ".gunicorn").exists()

        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole group
        assert proc.wait(timeout=40) == 0
        assert not pid_alive(restarted)
    finally:
        stop(proc)
    text = log.read_text()
    assert "/static/admin/css/base.css" not in text
    assert f"/api/v1/comments/{second['id']}" in text
    # One time zone: every line in UTC (before, the worker logged in Europe/Paris time and
    # gunicorn's master in the machine's zone).
    stamps = log_timestamps(text)
    assert len(stamps) > 10
    late = [s for s in stamps if not started_at - timedelta(seconds=5) <= s <= datetime.now(UTC)]
    assert not late, late[:5]


# --- stopping leaves no process behind -------------------------------------------------------


def descendants(pid: int) -> set[int]:
    """Every live process under pid, walked through /proc/<pid>/task/*/children."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            with contextlib.suppress(OSError):
                for child in (task / "children").read_text().split():
                    if int(child) not in found:
                        found.add(int(child))
                        todo.append(int(child))
    return {p for p in found if pid_alive(p)}


def alive(pids) -> set[int]:
    return {p for p in pids if _alive_quiet(p)}


def _alive_quiet(pid: int) -> bool:
    try:
        return pid_alive(pid)
    except OSError:  # gone between the kill(0) and the read of its stat
        return False


def kill_leftovers(pids) -> None:
    """The test's own processes only, by pid: what a failing run left behind."""
    for pid in alive(pids):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


TREE = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN if sys.argv[1] == "stubborn" else signal.SIG_DFL)
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"])
open(sys.argv[2], "w").write(str(child.pid))
time.sleep(300)
"""


@pytest.mark.parametrize("leader", ["stubborn", "quick"])
def test_stopping_a_program_ends_its_children_too(tmp_path, leader):
    """A program whose child ignores SIGTERM: both are gone once stop() returns.

    Failed before: only the program itself was signalled (and SIGKILLed after the grace
    period), so its child lived on, re-parented, after serve had exited: what a Celery pool
    child or a gunicorn worker did when its master went first.
    """
    pid_file = tmp_path / "child.pid"
    program = serve.Program("tree", [sys.executable, "-c", TREE, leader, str(pid_file)])
    program.start()
    child = None
    try:
        wait_until(lambda: pid_file.exists() and pid_file.read_text(), timeout=30, message="the child")
        child = int(pid_file.read_text())
        time.sleep(0.3)  # the leader's signal handler is in place before it writes the file
        started = time.monotonic()
        program.terminate()
        program.wait(timeout=1)
        assert time.monotonic() - started < 15
        wait_until(lambda: not alive([program.proc.pid, child]), timeout=5, message="the tree gone")
    finally:
        kill_leftovers([p for p in (child, program.proc and program.proc.pid) if p])


def serve_env(tmp_path) -> dict:
    var, home = tmp_path / "var", tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "VIGIE_CACHE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        VIGIE_VAR_DIR=str(var),
        HOME=str(home),
        VIGIE_MODEL_PATH=str(write_tiny_model(tmp_path / "model")),
        PYTHONPATH=str(ROOT),
    )
    return env


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stopped_by_a_signal_leaves_no_process_behind(tmp_path, sig):
    """SIGTERM (systemd, docker, kill) or SIGINT sent to serve's pid alone, with a Celery pool
    child and a gunicorn worker that hang (stopped, as one stuck in a long call would be).

    Failed before: serve SIGKILLed the Celery worker and the gunicorn master after its grace
    period, and their hung children lived on, re-parented, after serve had exited.
    """
    port = free_port()
    log = tmp_path / "serve.log"
    proc = spawn(
        [sys.executable, "manage.py", "serve", f"--port={port}", "--web-workers=2", "--concurrency=2"],
        env=serve_env(tmp_path),
        log_path=log,
    )

    def started(name: str) -> int | None:
        found = re.findall(rf"started {name} \(pid (\d+)\)", log.read_text())
        return int(found[-1]) if found else None

    seen: set[int] = set()
    try:
        wait_until(
            lambda: http("GET", f"http://127.0.0.1:{port}/healthz")[0] == 200,
            timeout=120,
            message="serve healthy",
        )
        web, worker = started("web"), started("worker")
        # gunicorn's two workers; the Celery pool's two children and the embedded beat.
        wait_until(lambda: len(children(web)) >= 2, timeout=60, message="gunicorn's workers")
        wait_until(lambda: len(children(worker)) >= 3, timeout=60, message="the Celery pool")
        seen = descendants(proc.pid)
        hung = [children(web)[0], children(worker)[0]]
        for pid in hung:
            os.kill(pid, signal.SIGSTOP)
        stopped_at = time.monotonic()
        os.kill(proc.pid, sig)  # serve's pid only, not its group
        assert proc.wait(timeout=90) == 0
        assert time.monotonic() - stopped_at < getattr(serve, "STOP_GRACE_SECONDS", 20) + 30
        try:
            wait_until(lambda: not alive(seen), timeout=10, message="every descendant gone")
        except TimeoutError:
            left = {
                p: Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ")[:100] for p in alive(seen)
            }
            pytest.fail(f"left running after serve exited: {left} (hung: {hung})")
        assert "did not stop" in log.read_text()
    finally:
        kill_leftovers(seen | descendants(proc.pid))
        stop(proc)
