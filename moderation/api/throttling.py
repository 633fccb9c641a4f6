"""Posting limits per site key, per author and per reader IP, kept in the shared cache.

With REDIS_URL set the cache is Redis (django-redis), so every web process counts together.
"""

import logging

from django.utils.crypto import salted_hmac
from rest_framework.throttling import SimpleRateThrottle

log = logging.getLogger(__name__)


def _digest(value: str) -> str:
    # Throttles run before validation: whatever the client sent (a lone surrogate, a NUL,
    # 10 KB) becomes a short, safe cache key instead of an encoding error and a 500.
    # Keyed with a secret derived from SECRET_KEY: a plain SHA-256 of an IPv4 address is
    # reversed by hashing all 2^32 of them, so whoever reads the cache would read the IPs.
    data = value.encode("utf-8", "surrogatepass")
    return salted_hmac("vigie.throttling", data, algorithm="sha256").hexdigest()[:32]


class CountingThrottle(SimpleRateThrottle):
    """A fixed-window counter: one atomic increment per request (in Redis, SET NX + INCRBY).

    DRF's SimpleRateThrottle reads the list of every request time in the window and writes it
    back: O(rate) per request, and racy across processes (two read the same list, each writes
    back one more, one request goes uncounted). A cache outage fails open (counts as None).
    """

    def allow_request(self, request, view):
        counter = self.counter_key(request, view)
        if counter is None:
            return True
        return self.allowed(self._increment(counter))

    def counter_key(self, request, view) -> str | None:
        """This request's counter in the current window (None: not limited); sets wait()."""
        if self.rate is None:
            return None
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return None
        now = self.timer()
        window = int(now // self.duration)
        self._wait = (window + 1) * self.duration - now  # until this window ends: Retry-After
        return f"{self.key}:{window}"

    def allowed(self, count: int | None) -> bool:
        return count is None or count <= self.num_requests

    def _increment(self, key: str) -> int | None:
        timeout = self.duration + 5
        if self.cache.add(key, 1, timeout=timeout):
            return 1
        try:
            return self.cache.incr(key)
        except ValueError:  # the key expired between add and incr
            return 1 if self.cache.add(key, 1, timeout=timeout) else None

    def wait(self):
        return self._wait


def _redis_client(cache):
    """The raw Redis client behind a django-redis cache, or None for any other backend."""
    from django.core.cache import cache as default_cache
    from django.core.cache import caches

    try:
        from django_redis.cache import RedisCache
    except ImportError:  # pragma: no cover - django-redis is a dependency
        return None
    if cache is default_cache:  # a proxy to this thread's "default" cache
        cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return None
    return cache.client.get_client(write=True)


def check_all(throttles, request, view) -> list:
    """Count this request against every throttle at once; the waits of those that refuse it.

    Same counts as calling each ``allow_request`` (every throttle counts, even after one
    refused), but on django-redis all the counters go in one pipelined round trip
    (INCR + EXPIRE per counter) instead of two or more per throttle. A Redis error fails
    open, like the cache's IGNORE_EXCEPTIONS.
    """
    counting = [t for t in throttles if isinstance(t, CountingThrottle)]
    others = [t for t in throttles if not isinstance(t, CountingThrottle)]
    waits = [t.wait() for t in others if not t.allow_request(request, view)]
    keyed = [(t, k) for t in counting if (k := t.counter_key(request, view)) is not None]
    if not keyed:
        return waits
    client = _redis_client(keyed[0][0].cache)
    if client is None or any(t.cache is not keyed[0][0].cache for t, _ in keyed):
        counts = [t._increment(k) for t, k in keyed]
    else:
        counts = _increment_together(client, keyed)
    waits.extend(t.wait() for (t, _), count in zip(keyed, counts, strict=True) if not t.allowed(count))
    return waits


def _increment_together(client, keyed) -> list:
    cache = keyed[0][0].cache
    try:
        pipe = client.pipeline(transaction=False)
        for throttle, key in keyed:
            name = cache.make_key(key)
            pipe.incr(name)
            # Each window has its own key: renewing the expiry on every count only keeps a
            # finished window's key a little longer, and works on every Redis version.
            pipe.expire(name, throttle.duration + 5)
        results = pipe.execute()
    except Exception:  # noqa: BLE001 - a cache outage must not fail the request: fail open
        log.warning("rate-limit counters unavailable, not limiting", exc_info=True)
        return [None] * len(keyed)
    return [int(count) for count in results[::2]]


class SiteThrottle(CountingThrottle):
    scope = "site"

    def get_cache_key(self, request, view):
        site = getattr(request, "auth", None)
        if site is None or not hasattr(site, "api_key_hash"):
            return None
        return self.cache_format % {"scope": self.scope, "ident": site.pk}


class AuthorThrottle(CountingThrottle):
    """Per reader: the author id the site sends, within that site."""

    scope = "author"

    def get_cache_key(self, request, view):
        site = getattr(request, "auth", None)
        data = request.data if isinstance(request.data, dict) else {}
        author = data.get("author")
        author_id = author.get("id") if isinstance(author, dict) else None
        if site is None or not isinstance(author_id, str) or not author_id:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"{site.pk}:{_digest(author_id)}"}


class ReaderIpThrottle(CountingThrottle):
    """Per reader IP, when the site passes it on in ``X-Reader-IP``."""

    scope = "ip"

    def get_cache_key(self, request, view):
        site = getattr(request, "auth", None)
        ip = request.META.get("HTTP_X_READER_IP", "").strip()
        if site is None or not ip or len(ip) > 45:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"{site.pk}:{_digest(ip)}"}


class CheckAuthorThrottle(AuthorThrottle):
    """The pre-submit check, per reader: its own budget, so a nudge does not use up posting's."""

    scope = "check_author"


class CheckIpThrottle(ReaderIpThrottle):
    scope = "check_ip"


class ReportThrottle(SiteThrottle):
    scope = "report"


class ReporterThrottle(CountingThrottle):
    """Per reporting reader: the reporter id the site sends, within that site."""

    scope = "reporter"

    def get_cache_key(self, request, view):
        site = getattr(request, "auth", None)
        data = request.data if isinstance(request.data, dict) else {}
        reporter_id = data.get("reporter_id")
        if site is None or not isinstance(reporter_id, str) or not reporter_id:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"{site.pk}:{_digest(reporter_id)}"}


class ReportIpThrottle(ReaderIpThrottle):
    """Per reader IP for reports, whatever reporter ids that client makes up."""

    scope = "report_ip"
