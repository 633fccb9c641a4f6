"""Posting limits per site key, per author and per reader IP, kept in the shared cache.

With REDIS_URL set the cache is Redis (django-redis), so every web process counts together.
"""

import hashlib

from rest_framework.throttling import SimpleRateThrottle


def _digest(value: str) -> str:
    # Throttles run before validation: whatever the client sent (a lone surrogate, a NUL,
    # 10 KB) becomes a short, safe cache key instead of an encoding error and a 500.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class CountingThrottle(SimpleRateThrottle):
    """A fixed-window counter: one atomic increment per request (in Redis, SET NX + INCRBY).

    DRF's SimpleRateThrottle reads the list of every request time in the window and writes it
    back: O(rate) per request, and racy across processes (two read the same list, each writes
    back one more, one request goes uncounted). A cache outage fails open (counts as None).
    """

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self._wait = (window + 1) * self.duration - now  # until this window ends: Retry-After
        count = self._increment(f"{self.key}:{window}")
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


class ReportThrottle(SiteThrottle):
    scope = "report"
