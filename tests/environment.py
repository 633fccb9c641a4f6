"""Loaded by pytest before Django (``-p tests.environment``): find this machine's services.

Tests run against PostgreSQL and Redis when they can be reached (DATABASE_URL / REDIS_URL,
or this machine's defaults on 127.0.0.1). Without them the suite runs on SQLite and the
tests that need the services skip with the reason; with VIGIE_REQUIRE_SERVICES=1 (CI) a
missing service is an error instead.
"""

import os
import socket
from urllib.parse import urlparse

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

REQUIRE_SERVICES = os.environ.get("VIGIE_REQUIRE_SERVICES", "") == "1"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=0.5
        ):
            return True
    except OSError:
        return False


def _pick(name: str, default: str, port: int) -> str | None:
    url = os.environ.get(name) or os.environ.get(f"VIGIE_TEST_{name}") or default
    return url if _reachable(url, port) else None


DATABASE_URL = _pick("DATABASE_URL", DEFAULT_DATABASE_URL, 5432)
REDIS_URL = _pick("REDIS_URL", DEFAULT_REDIS_URL, 6379)

if REQUIRE_SERVICES and (DATABASE_URL is None or REDIS_URL is None):
    raise RuntimeError(
        "VIGIE_REQUIRE_SERVICES=1 but PostgreSQL or Redis cannot be reached "
        f"(database: {DATABASE_URL}, redis: {REDIS_URL})"
    )

if DATABASE_URL:
    os.environ["DATABASE_URL"] = DATABASE_URL
# The test process itself never talks to the broker (tasks run eagerly there); tests that
# need Redis get its URL from this module and hand it to the processes they start.
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("VIGIE_VAR_DIR", os.path.join(os.getcwd(), "var", "test"))
# Test receivers listen on 127.0.0.1; the refusal of private addresses is tested with it off.
os.environ.setdefault("VIGIE_WEBHOOK_ALLOW_PRIVATE", "1")
# The demo page is mounted only with VIGIE_DEMO=1 (serve sets it); its tests need it, and a
# test turns it off to see it gone.
os.environ.setdefault("VIGIE_DEMO", "1")
