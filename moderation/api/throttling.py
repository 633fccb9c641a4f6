"""Posting limits per site key, per author and per reader IP, kept in the shared cache.

With REDIS_URL set the cache is Redis (django-redis), so every web process counts together.
"""

from rest_framework.throttling import SimpleRateThrottle


class SiteThrottle(SimpleRateThrottle):
    scope = "site"

    def get_cache_key(self, request, view):
        site = getattr(request, "auth", None)
        if site is None or not hasattr(site, "api_key_hash"):
            return None
        return self.cache_format % {"scope": self.scope, "ident": site.pk}


class AuthorThrottle(SimpleRateThrottle):
    """Per reader: the author id the site sends, within that site."""

    scope = "author"

    def get_cache_key(self, request, view):
        site = getattr(request, "auth", None)
        data = request.data if isinstance(request.data, dict) else {}
        author = data.get("author")
        author_id = author.get("id") if isinstance(author, dict) else None
        if site is None or not isinstance(author_id, str) or not author_id:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"{site.pk}:{author_id[:200]}"}


class ReaderIpThrottle(SimpleRateThrottle):
    """Per reader IP, when the site passes it on in ``X-Reader-IP``."""

    scope = "ip"

    def get_cache_key(self, request, view):
        site = getattr(request, "auth", None)
        ip = request.META.get("HTTP_X_READER_IP", "").strip()
        if site is None or not ip or len(ip) > 45:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"{site.pk}:{ip}"}


class ReportThrottle(SiteThrottle):
    scope = "report"
