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
