"""Faults: nothing is lost when Redis, a worker, the model or the database fails.

The process tests start their own redis-server (on a free port) or use this run's own Redis
database, their own gunicorn and Celery worker processes, and stop all of them in `finally`.
They never touch the machine's shared services. Every wait is bounded.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pytest
from celery.exceptions import AlwaysEagerIgnored
from django.db import DatabaseError, connection
from kombu import Connection
from rest_framework.test import APIClient

from moderation import services
from moderation.classifier import ModelError
from moderation.models import Author, Classification, Comment, ModerationEvent, Report
from moderation.tasks import classify_comment
from project.celery import app as celery_app
from tests.conftest import ROOT, free_port, set_status, stack_env, start_web, start_worker, stop, wait_until
from tests.tiny_model import corrupt_model, write_tiny_model

S = Comment.Status
FINAL = (S.PUBLISHED, S.HELD, S.REJECTED)
slow = pytest.mark.slow
processes = pytest.mark.django_db(transaction=True)


# --- helpers ------------------------------------------------------------------------------------


class OwnRedis:
    """A redis-server of this test's own, on a free port, that the test may stop and restart."""

    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_dir = log_dir
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_dir / f"redis-{self.port}.log", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.log_dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self.ping, timeout=10, message=f"redis-server on port {self.port}")

    def ping(self) -> bool:
        import redis

        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, signal.SIGKILL, timeout=5)
            self.proc = None


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def model_dir(tmp_path):
    return write_tiny_model(tmp_path / "model")


def http(method: str, url: str, key: str | None = None, payload=None, timeout: float = 10):
    data = json.dumps(payload).encode() if payload is not None else None
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Api-Key {key}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def store_received(site, article, body="Merci pour cet article.", author="reader-1") -> Comment:
    """A comment stored as the API stores it, without queueing its task (the test does that)."""
    original = services.comments.enqueue_classification
    services.comments.enqueue_classification = lambda ids: True
    try:
        comment, _ = services.comment_create(
            site=site,
            article_external_id=article.external_id,
            author_external_id=author,
            author_name=author.title(),
            body=body,
        )
    finally:
        services.comments.enqueue_classification = original
    return comment


def send_classify(url: str, comment_id: int) -> None:
    """Queue the real task on a broker, as the web process does."""
    with Connection(url) as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore", AlwaysEagerIgnored)  # the test process runs tasks eagerly
        celery_app.send_task("moderation.tasks.classify_comment", args=[comment_id], connection=conn)


def wait_ready(log: Path, timeout: float = 40) -> None:
    wait_until(
        lambda: log.exists() and b" ready." in log.read_bytes(), timeout=timeout, message=f"{log.name} ready"
    )


def one_verdict_each(ids) -> None:
    for comment_id in ids:
        assert Comment.objects.get(pk=comment_id).status in FINAL
        assert Classification.objects.filter(comment_id=comment_id).count() == 1, comment_id
        assert (
            ModerationEvent.objects.filter(comment_id=comment_id, action=ModerationEvent.Action.CLASSIFY)
            .exclude(to_status=S.SCREENING)  # the hand-off to the second opinion is not a verdict
            .count()
            == 1
        ), comment_id


def all_final(ids) -> bool:
    return not Comment.objects.filter(pk__in=ids, status__in=Comment.WAITING).exists()


def classifier_blocked() -> bool:
    """A worker is inside its claim transaction, waiting to write the Classification rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE 'INSERT INTO \"moderation_classification\"%%'"
        )
        return cursor.fetchone()[0] > 0


class TableLock:
    """Holds a lock that makes a worker stop inside its claim transaction, just before it
    writes the Classification rows, so that a kill or a second worker lands exactly there."""

    def __init__(self):
        import psycopg

        db = connection.settings_dict
        self.conn = psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            user=db["USER"],
            dbname=db["NAME"],
            password=db["PASSWORD"] or None,
        )
        # Conflicts with the ROW EXCLUSIVE lock an INSERT takes, not with reads.
        self.conn.execute("LOCK TABLE moderation_classification IN SHARE ROW EXCLUSIVE MODE")

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


def pool_children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.fixture
def newsroom(db):
    site, key = services.site_create(name="Faults")
    article, _ = services.article_upsert(site=site, external_id="a1", title="Article")
    return site, key, article


# --- 1. broker down -----------------------------------------------------------------------------


@slow
@processes
def test_with_redis_down_posts_are_stored_and_every_comment_is_classified_once_it_is_back(
    postgres, own_redis, model_dir, newsroom, tmp_path
):
    site, key, article = newsroom
    env = stack_env(
        own_redis.url, VIGIE_MODEL_PATH=model_dir, VIGIE_SWEEP_INTERVAL=1, VIGIE_SWEEP_AFTER_SECONDS=2
    )
    port = free_port()
    web = start_web(env, port=port, log_dir=tmp_path)
    worker = start_worker(env, name="bd", beat=True, log_dir=tmp_path)
    url = f"http://127.0.0.1:{port}/api/v1/articles/a1/comments"
    try:
        wait_ready(tmp_path / "bd.log")
        status, before = http(
            "POST", url, key, {"author": {"id": "u0", "name": "A"}, "body": "Avant la panne."}
        )
        assert status == 202
        wait_until(lambda: all_final([before["id"]]), timeout=30, message="the first comment classified")

        own_redis.stop()
        ids, latencies = [], []
        for i in range(6):
            started = time.monotonic()
            status, body = http(
                "POST", url, key, {"author": {"id": f"u{i}", "name": "A"}, "body": f"Pendant {i}."}
            )
            latencies.append(time.monotonic() - started)
            assert (status, body["status"]) == (202, "received"), body
            ids.append(body["id"])
        # The site is never kept waiting on a dead broker: one quick try, then the sweep's job.
        assert max(latencies) < 2.0, latencies
        print("POST latencies with Redis down (s):", [round(x, 3) for x in latencies])
        assert Comment.objects.filter(pk__in=ids, status=S.RECEIVED).count() == 6
        time.sleep(3)  # past VIGIE_SWEEP_AFTER_SECONDS: the sweep cannot reach Redis either
        assert Comment.objects.filter(pk__in=ids, status=S.RECEIVED).count() == 6

        own_redis.start()  # empty: whatever was queued before the outage is gone too
        # Nothing else is posted meanwhile (a new comment's task would batch the waiting
        # ones along with it): the sweep alone brings these to a final state.
        wait_until(lambda: all_final(ids), timeout=60, message="the sweep after Redis came back")
        status, after = http(
            "POST", url, key, {"author": {"id": "u9", "name": "A"}, "body": "Après la panne."}
        )
        assert status == 202  # the web process reconnected by itself
        ids.append(after["id"])
        wait_until(lambda: all_final(ids), timeout=30, message="a comment posted after the outage")
        one_verdict_each([before["id"], *ids])
    finally:
        stop(web)
        stop(worker)
    assert "sweep re-enqueued" in (tmp_path / "bd.log").read_text()


# --- 2. worker killed mid-task ------------------------------------------------------------------


@slow
@processes
def test_a_pool_process_killed_mid_task_is_redelivered_and_classifies_once(
    postgres, queue_url, model_dir, newsroom, tmp_path
):
    """SIGKILL on the pool process inside the claim transaction: the transaction rolls back,
    the parent sees the worker lost and requeues the message (acks_late +
    task_reject_on_worker_lost), and the new pool process classifies the comment once."""
    site, _, article = newsroom
    env = stack_env(queue_url, VIGIE_MODEL_PATH=model_dir, VIGIE_WORKER_PREFETCH=1)
    worker = start_worker(env, name="kill", log_dir=tmp_path)  # no beat: no sweep to hide a loss
    lock = None
    try:
        wait_ready(tmp_path / "kill.log")
        comment = store_received(site, article)
        lock = TableLock()
        send_classify(queue_url, comment.pk)
        wait_until(classifier_blocked, timeout=30, message="the worker inside its claim transaction")
        [child] = pool_children(worker.pid)
        os.kill(child, signal.SIGKILL)
        lock.release()
        wait_until(lambda: all_final([comment.pk]), timeout=40, message="the redelivered task")
        one_verdict_each([comment.pk])
    finally:
        if lock:
            lock.release()
        stop(worker)
    log = (tmp_path / "kill.log").read_text()
    assert "WorkerLostError" in log
    assert log.count("] received") == 2  # delivered, lost with the process, delivered again
    assert re.search(r"classify_comment\[.*\] succeeded in [\d.]+s: 1\n", log)  # the redelivery classified it


@slow
@processes
def test_a_whole_worker_killed_mid_task_loses_nothing(postgres, queue_url, model_dir, newsroom, tmp_path):
    """SIGKILL on the worker and its pool at once (a machine or container lost): the message
    was never acknowledged, so Redis hands it to the next worker after the visibility timeout."""
    site, _, article = newsroom
    env = stack_env(
        queue_url,
        VIGIE_MODEL_PATH=model_dir,
        VIGIE_WORKER_PREFETCH=1,
        VIGIE_BROKER_VISIBILITY_TIMEOUT=10,  # the minimum settings allow
        VIGIE_BROKER_RESTORE_INTERVAL=2,
    )
    first = start_worker(env, name="first", log_dir=tmp_path)
    second = None
    lock = None
    try:
        wait_ready(tmp_path / "first.log")
        comment = store_received(site, article)
        lock = TableLock()
        send_classify(queue_url, comment.pk)
        wait_until(classifier_blocked, timeout=30, message="the worker inside its claim transaction")
        stop(first, signal.SIGKILL)
        lock.release()
        time.sleep(0.5)
        assert Comment.objects.get(pk=comment.pk).status == S.RECEIVED  # rolled back, not half-done
        assert not Classification.objects.exists()
        second = start_worker(env, name="second", log_dir=tmp_path)
        wait_until(lambda: all_final([comment.pk]), timeout=60, message="redelivery to the second worker")
        one_verdict_each([comment.pk])
    finally:
        if lock:
            lock.release()
        stop(first, signal.SIGKILL)
        if second:
            stop(second)
    assert "classify_comment[" in (tmp_path / "second.log").read_text()


# --- 3. two workers, one comment ----------------------------------------------------------------


@slow
@processes
def test_two_workers_given_the_same_comment_classify_it_once(
    postgres, queue_url, model_dir, newsroom, tmp_path
):
    site, _, article = newsroom
    env = stack_env(queue_url, VIGIE_MODEL_PATH=model_dir, VIGIE_WORKER_PREFETCH=1)
    one = start_worker(env, name="one", log_dir=tmp_path)
    two = None
    lock = None
    try:
        wait_ready(tmp_path / "one.log")
        comment = store_received(site, article)
        lock = TableLock()
        send_classify(queue_url, comment.pk)
        wait_until(classifier_blocked, timeout=30, message="worker one inside its claim")
        # Worker one holds its only message unacknowledged (prefetch 1): the copy goes to two,
        # which runs it while one is still mid-transaction.
        two = start_worker(env, name="two", log_dir=tmp_path)
        send_classify(queue_url, comment.pk)
        wait_until(
            lambda: "succeeded" in (tmp_path / "two.log").read_text(), timeout=40, message="worker two's run"
        )
        assert "succeeded in" in (tmp_path / "two.log").read_text()
        assert ": 0\n" in (tmp_path / "two.log").read_text()  # it classified nothing: the row was claimed
        lock.release()
        wait_until(lambda: all_final([comment.pk]), timeout=30, message="worker one's commit")
        one_verdict_each([comment.pk])
    finally:
        if lock:
            lock.release()
        stop(one)
        if two:
            stop(two)


@slow
@processes
def test_many_duplicate_tasks_on_two_workers_give_one_verdict_per_comment(
    postgres, queue_url, model_dir, newsroom, tmp_path
):
    site, _, article = newsroom
    env = stack_env(queue_url, VIGIE_MODEL_PATH=model_dir, VIGIE_CLASSIFY_BATCH=3)
    ids = [store_received(site, article, body=f"Commentaire {i}", author=f"r{i}").pk for i in range(40)]
    for comment_id in ids:  # every task twice, before any worker runs
        send_classify(queue_url, comment_id)
        send_classify(queue_url, comment_id)
    workers = [start_worker(env, name=f"dup{i}", concurrency=2, log_dir=tmp_path) for i in range(2)]
    try:
        wait_until(lambda: all_final(ids), timeout=90, message="all 40 comments classified")
        time.sleep(1)  # let the remaining duplicate tasks run too
        one_verdict_each(ids)
    finally:
        for worker in workers:
            stop(worker)
    assert all("classify_comment[" in (tmp_path / f"dup{i}.log").read_text() for i in range(2))


# --- 4. model missing or corrupt ----------------------------------------------------------------


def manage_check(model_path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(
        os.environ, VIGIE_MODEL_PATH=str(model_path), VIGIE_VAR_DIR=str(tmp_path), PYTHONPATH=str(ROOT)
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@slow
def test_the_system_check_refuses_a_missing_or_corrupt_model(tmp_path):
    missing = manage_check(tmp_path / "no-such-model", tmp_path)
    assert missing.returncode != 0
    assert "vigie.E001" in missing.stderr and "does not exist" in missing.stderr
    corrupt = manage_check(corrupt_model(tmp_path / "corrupt"), tmp_path)
    assert corrupt.returncode != 0
    assert "vigie.E001" in corrupt.stderr and "corrupt" in corrupt.stderr
    good = manage_check(write_tiny_model(tmp_path / "good"), tmp_path)
    assert good.returncode == 0, good.stderr


def test_a_task_with_a_corrupt_model_fails_loudly_and_leaves_the_comment_waiting(
    settings, newsroom, model_dir, tmp_path
):
    site, _, article = newsroom
    comment = store_received(site, article)
    settings.VIGIE_MODEL_PATH = str(corrupt_model(tmp_path / "corrupt"))
    with pytest.raises(ModelError, match="corrupt"):
        classify_comment.apply(args=[comment.pk], throw=True)
    assert Comment.objects.get(pk=comment.pk).status == S.RECEIVED
    assert not Classification.objects.exists()
    assert not ModerationEvent.objects.exists()

    settings.VIGIE_MODEL_PATH = str(model_dir)
    assert services.comments_sweep_received(older_than_seconds=0) == 1  # eager here: classifies
    one_verdict_each([comment.pk])


@slow
@processes
def test_a_worker_refuses_a_corrupt_model_and_a_good_one_classifies_what_waited(
    postgres, queue_url, model_dir, newsroom, tmp_path
):
    site, _, article = newsroom
    bad_env = stack_env(queue_url, VIGIE_MODEL_PATH=corrupt_model(tmp_path / "corrupt"))
    queued = store_received(site, article, body="Tâche en file.", author="q")
    send_classify(queue_url, queued.pk)
    bad = start_worker(bad_env, name="bad", log_dir=tmp_path)
    try:
        assert bad.wait(timeout=40) != 0
    finally:
        stop(bad)
    log = (tmp_path / "bad.log").read_text()
    assert "vigie.E001: the classifier model cannot be loaded" in log and "corrupt" in log
    # A comment whose task is gone altogether (e.g. failed on a model that went bad).
    lost = store_received(site, article, body="Tâche perdue.", author="l")
    assert Comment.objects.filter(status=S.RECEIVED).count() == 2

    good_env = stack_env(
        queue_url, VIGIE_MODEL_PATH=model_dir, VIGIE_SWEEP_INTERVAL=1, VIGIE_SWEEP_AFTER_SECONDS=1
    )
    good = start_worker(good_env, name="good", beat=True, log_dir=tmp_path)
    try:
        wait_until(lambda: all_final([queued.pk, lost.pk]), timeout=60, message="both comments classified")
        one_verdict_each([queued.pk, lost.pk])
    finally:
        stop(good)


# --- 5. database error mid-request --------------------------------------------------------------


def _failing(exc_message: str):
    def boom(*args, **kwargs):
        raise DatabaseError(exc_message)

    return boom


@pytest.fixture
def raw_site_api(site_key):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {site_key}")
    return client


def assert_server_error(response):
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "server_error"


def test_a_database_error_after_the_comment_row_leaves_nothing_stored(raw_site_api, article, monkeypatch):
    # on_commit is registered after the Author and Comment rows are inserted, inside the transaction.
    monkeypatch.setattr(services.transaction, "on_commit", _failing("connection lost"))
    response = raw_site_api.post(
        "/api/v1/articles/art-1/comments",
        {"author": {"id": "new", "name": "N"}, "body": "Bonjour"},
        format="json",
    )
    assert_server_error(response)
    assert not Comment.objects.exists()
    assert not Author.objects.exists()


def test_a_database_error_in_a_report_leaves_no_report(raw_site_api, make_comment, monkeypatch):
    comment = set_status(make_comment(), S.PUBLISHED)
    monkeypatch.setattr(Comment, "save", _failing("connection lost"))  # after the Report insert
    response = raw_site_api.post(f"/api/v1/comments/{comment.pk}/reports", {"reason": "spam"}, format="json")
    assert_server_error(response)
    assert not Report.objects.exists()
    comment = Comment.objects.get(pk=comment.pk)
    assert (comment.open_reports, comment.status) == (0, S.PUBLISHED)


def test_a_database_error_half_way_through_a_bulk_decision_changes_nothing(
    moderator, make_comment, monkeypatch
):
    held = [set_status(make_comment(f"c{i}"), S.HELD) for i in range(3)]
    created = []
    original = ModerationEvent.objects.create

    def create_then_fail(**kwargs):
        if created:
            raise DatabaseError("disk full")
        created.append(original(**kwargs))
        return created[-1]

    monkeypatch.setattr(ModerationEvent.objects, "create", create_then_fail)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(moderator)
    response = client.post(
        "/api/v1/moderation/comments/bulk", {"ids": [c.pk for c in held], "action": "approve"}, format="json"
    )
    assert_server_error(response)
    assert created  # the first comment's event was written, then rolled back with the rest
    assert set(Comment.objects.values_list("status", flat=True)) == {S.HELD}
    assert not ModerationEvent.objects.exists()


def test_a_database_error_while_classifying_leaves_the_comment_received(
    newsroom, model_dir, settings, monkeypatch
):
    site, _, article = newsroom
    settings.VIGIE_MODEL_PATH = str(model_dir)
    comment = store_received(site, article)
    monkeypatch.setattr(ModerationEvent.objects, "bulk_create", _failing("server closed the connection"))
    with pytest.raises(DatabaseError):
        services.comments_classify(comment_ids=[comment.pk])
    assert Comment.objects.get(pk=comment.pk).status == S.RECEIVED
    assert not Classification.objects.exists()
    monkeypatch.undo()
    settings.VIGIE_MODEL_PATH = str(model_dir)
    assert services.comments_classify(comment_ids=[comment.pk]) == 1
    one_verdict_each([comment.pk])
