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
"""

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection was closed (connection lost)")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
