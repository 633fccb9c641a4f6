"""Who is on the other end: the client's address, behind a reverse proxy or not.

Without VIGIE_TRUSTED_PROXY the address is the socket's (REMOTE_ADDR): X-Forwarded-For is
whatever the client wrote. With it, REMOTE_ADDR is our proxy, which appends the address
that connected to it to X-Forwarded-For; the client is the right-most hop that is not one
of our proxies (VIGIE_TRUSTED_PROXY_NETWORKS: more proxies in the chain, e.g. a CDN's
ranges). Anything left of that hop was written by the client and is not believed.
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """The client's IP address as a string (used by the login lockout and the demo's limits)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if not settings.VIGIE_TRUSTED_PROXY:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([part.strip() for part in forwarded.split(",")][-20:]):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            break  # not written by a proxy of ours: stop believing the header here
        if not any(address in network for network in _trusted_networks()):
            return str(address)
    return remote


def _trusted_networks() -> list:
    return [ipaddress.ip_network(n, strict=False) for n in settings.VIGIE_TRUSTED_PROXY_NETWORKS]
