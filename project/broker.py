"""kombu's Redis transport, with its connection-loss race turned into a connection error.

When the broker connection drops, Celery closes it and kombu clears the transport's `client`
(kombu.Connection._do_close_transport). A task finishing at that moment is acknowledged on
the old channel, whose pool is gone too: rebuilding it reads `self.connection.client.hostname`
in `Channel._connparams` and raises AttributeError (kombu 5.7.0). Celery treats an ack that
fails with a connection error as "couldn't ack, the message will come back" but anything else
as an unrecoverable error, and the worker exits. Raising redis's ConnectionError instead puts
that ack on the path kombu and Celery already handle: logged, the message stays unacknowledged
and Redis hands it out again after the visibility timeout, where the idempotent task does
nothing. Selected with CELERY_BROKER_TRANSPORT in settings (Redis only).

It also keeps one redis-py client per channel. kombu builds a new ``redis.Redis`` for every
command it sends outside a pipeline (``Channel.conn_or_acquire``), publishing a task
included: about 0.2-0.5 ms of CPU each (redis-py fills a table of ~170 response callbacks in
its constructor), a tenth of a POST's own cost. The client holds no connection of its own
(it checks one out of the channel's pool per command, and is thread-safe), so reusing it
changes nothing else: the same pooled connections, rebuilt by redis-py and kombu after Redis
restarts as before (tests/test_broker.py).
"""

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    _sync_client = None

    def _create_client(self, asynchronous=False):
        if asynchronous:  # the consumer's BRPOP client: kombu keeps its own
            return super()._create_client(asynchronous=True)
        pool = self.pool
        client = self._sync_client
        if client is None or client.connection_pool is not pool:  # first use, or a new pool
            client = self._sync_client = super()._create_client()
        return client

    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection was closed (connection lost)")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
