"""The Redis transport's connection-loss race (kombu 5.7.0) is a connection error, not a crash."""

import logging

import pytest
from kombu import Connection
from kombu.common import ignore_errors
from kombu.simple import SimpleQueue

from tests.test_faults import OwnRedis


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_it_selects_the_guarded_transport_for_redis(settings):
    # Read from settings.py itself: the test process runs without REDIS_URL.
    source = (settings.BASE_DIR / "project" / "settings.py").read_text()
    assert 'CELERY_BROKER_TRANSPORT = "project.broker:Transport"' in source
    with Connection("redis://127.0.0.1:1/0", transport="project.broker:Transport") as conn:
        assert conn.transport.driver_type == "redis"


@pytest.mark.parametrize("transport", [None, "project.broker:Transport"], ids=["kombu", "guarded"])
def test_an_ack_after_the_connection_dropped_is_a_logged_connection_error_not_a_crash(
    own_redis, transport, caplog
):
    """The state the worker's traceback shows: a task finishes after Celery closed the lost
    connection (the transport's client is gone) and the channel dropped its pools."""
    conn = Connection(own_redis.url, transport=transport, transport_options={"socket_timeout": 1})
    channel = conn.default_channel
    queue = SimpleQueue(channel, "vigie-ack-race")
    queue.put({"comment_id": 1})
    message = queue.get(timeout=5)
    errors = conn.connection_errors + conn.channel_errors  # what Celery gives Request.acknowledge

    own_redis.stop()
    ignore_errors(conn, conn.close)  # celery.worker.consumer.connection.Connection.close_connection
    channel._disconnect_pools()
    assert conn._transport is None and channel.connection.client is None

    if transport is None:  # kombu's own transport: the worker dies of this ("Unrecoverable error")
        with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'hostname'"):
            message.ack_log_error(logging.getLogger("celery.worker.request"), errors)
        return
    with caplog.at_level(logging.CRITICAL):
        message.ack_log_error(logging.getLogger("celery.worker.request"), errors)
    # Celery's own path for a lost ack: logged, the message left unacknowledged in Redis
    # (handed out again after the visibility timeout; the task is idempotent).
    assert "Couldn't ack" in caplog.text and "connection lost" in caplog.text


def _app(url: str, settings):
    """A Celery app publishing as Vigie's web processes do (the test process's own app runs
    tasks eagerly, with no broker): the guarded transport, one quick publish retry."""
    from celery import Celery

    app = Celery("vigie-publish-test")
    app.conf.update(
        broker_url=url,
        broker_transport="project.broker:Transport",
        broker_transport_options={"socket_connect_timeout": 1, "socket_timeout": 2},
        broker_connection_timeout=1,
        task_publish_retry=True,
        task_publish_retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY,
        task_serializer="json",
    )
    return app


def _others(checker) -> int:
    """Clients connected to the checker's redis-server, the checker's own connection left out."""
    me = str(checker.client_id())
    return sum(1 for c in checker.client_list() if str(c["id"]) != me)


def test_n_publishes_reuse_the_same_connections_and_one_client(own_redis, settings):
    import redis

    app = _app(own_redis.url, settings)
    checker = redis.Redis.from_url(own_redis.url)
    app.send_task("moderation.tasks.classify_comment", args=[0])
    # kombu's connection check (PING) and the producer's channel (LPUSH): opened once.
    opened = _others(checker)
    assert opened <= 2
    for i in range(1, 100):
        app.send_task("moderation.tasks.classify_comment", args=[i])
    assert checker.llen("celery") == 100  # all delivered
    assert _others(checker) == opened
    with app.producer_or_acquire() as producer:
        channel = producer.channel
        # kombu built a redis.Redis (~0.3 ms of CPU) per message; the guarded channel keeps one.
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
    app.close()


def test_publishing_still_delivers_after_redis_restarts(own_redis, settings):
    import redis

    app = _app(own_redis.url, settings)
    for i in range(5):
        app.send_task("moderation.tasks.classify_comment", args=[i])
    own_redis.stop()
    own_redis.start()  # same port, empty: the pooled connections and the kept client are stale
    for i in range(5):
        app.send_task("moderation.tasks.classify_comment", args=[i])
    checker = redis.Redis.from_url(own_redis.url)
    assert checker.llen("celery") == 5
    assert _others(checker) <= 2
    app.close()
