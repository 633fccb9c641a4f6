"""Conditional GETs for the readers' pages: weak ETags, 304, Cache-Control.

An article's list is identified by its `visible_version` (bumped by the services in the
transaction of every change readers can see, services.articles_visible_bump), so the ETag
is known after the article lookup and a matching ``If-None-Match`` is answered 304 before
the page is read or built.
"""

import hashlib

from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from rest_framework import status
from rest_framework.response import Response

PRIVATE = "private, max-age=0, must-revalidate"


def weak_etag(*parts) -> str:
    """W/"..." over these parts (what a page depends on), short and opaque."""
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode(), digest_size=12).hexdigest()
    return f'W/"{digest}"'


def matches(request, etag: str) -> bool:
    """If-None-Match names this ETag (weak comparison, RFC 9110 13.1.2), or is "*"."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or _opaque(etag) in {_opaque(tag) for tag in tags}


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def cache_control(site) -> str:
    """Private to the reader's browser, revalidated every time, unless the site lets shared
    caches (a CDN in front of its pages) keep it for ``public_cache_seconds``."""
    seconds = site.public_cache_seconds
    return f"public, max-age={seconds}" if seconds else PRIVATE


def finish(response, *, etag: str, site):
    response["ETag"] = etag
    response["Cache-Control"] = cache_control(site)
    # One URL answers each site with its own comments: a shared cache keys on the key too.
    patch_vary_headers(response, ("Authorization",))
    return response


def not_modified(*, etag: str, site) -> Response:
    return finish(Response(status=status.HTTP_304_NOT_MODIFIED), etag=etag, site=site)
