"""Workers say they are alive: a timestamp per queue in the shared cache, read by /healthz.

Why not `celery control ping`: on the embedded filesystem broker a control message read
while it is being written kills the worker (JSONDecodeError in kombu's filesystem transport,
"Unrecoverable error"), and a ping costs a broker round trip and its whole timeout when no
worker answers. The beat runs on the worker's own event loop (a consumer bootstep), so a
worker that is stuck, reconnecting to a lost broker or dead stops beating.
"""

import logging
import time

from celery import bootsteps
from django.core.cache import cache

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 5.0
KEY = "worker-heartbeat:{queue}"


def beat(queues) -> None:
    now = time.time()
    # Outlives any sane VIGIE_HEALTH_MAX_HEARTBEAT_AGE; the age, not the key's presence, decides.
    cache.set_many({KEY.format(queue=queue): now for queue in queues}, timeout=3600)


def last_beat(queue: str) -> float | None:
    return cache.get(KEY.format(queue=queue))


class Heartbeat(bootsteps.StartStopStep):
    """Beats once when the consumer is connected, then every INTERVAL_SECONDS."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, c, **kwargs):
        self.tref = None
        super().__init__(c, **kwargs)

    def start(self, c):
        queues = sorted(c.app.amqp.queues.consume_from or c.app.amqp.queues)
        self._beat(queues)
        self.tref = c.timer.call_repeatedly(INTERVAL_SECONDS, self._beat, (queues,), priority=10)

    def stop(self, c):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    shutdown = stop

    @staticmethod
    def _beat(queues) -> None:
        try:
            beat(queues)
        except Exception:  # noqa: BLE001 - a missed beat shows in /healthz; the worker goes on
            log.warning("worker heartbeat not written", exc_info=True)
