"""Behind a reverse proxy that terminates HTTPS (issue 13 item 2): requests as nginx sends them.

Failed on main before the fix: the admin login was 403 "Origin checking failed" and `next`
links came back http://.
"""

import runpy

import pytest
from django.test import Client

from project import settings as project_settings

HOST = "vigie.example.fr"
PROXIED = {"HTTP_HOST": HOST, "HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
SECURITY = [
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
]


@pytest.fixture
def production(settings, monkeypatch):
    """This process's settings as VIGIE_TRUSTED_PROXY=1 VIGIE_HTTPS=1 would make them."""
    monkeypatch.setenv("VIGIE_TRUSTED_PROXY", "1")
    monkeypatch.setenv("VIGIE_HTTPS", "1")
    made = runpy.run_path(project_settings.__file__)
    for name in SECURITY:
        assert name in made, name
        setattr(settings, name, made[name])
    settings.ALLOWED_HOSTS = [HOST]
    return settings


def test_the_admin_login_over_https_passes_csrf_with_the_origin(production, moderator):
    client = Client(enforce_csrf_checks=True)
    client.get("/admin/login/", **PROXIED)
    token = client.cookies["csrftoken"].value

    response = client.post(
        "/admin/login/",
        {"username": "modo", "password": "modo-pass-1234", "csrfmiddlewaretoken": token, "next": "/admin/"},
        HTTP_ORIGIN=f"https://{HOST}",
        HTTP_REFERER=f"https://{HOST}/admin/login/",
        REMOTE_ADDR="10.0.0.2",
        **PROXIED,
    )

    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    assert response.cookies["sessionid"]["secure"]
    assert response["Strict-Transport-Security"].startswith("max-age=")


def test_next_links_come_back_https(production, site_api, make_comment):
    from tests.conftest import set_status

    for author in ("a", "b"):
        set_status(make_comment(author=author), "published")
    response = site_api.get("/api/v1/articles/art-1/comments", {"page_size": 1}, **PROXIED)
    assert response.status_code == 200
    assert response.json()["next"].startswith(f"https://{HOST}/api/v1/")


def test_plain_http_is_redirected_except_healthz(production, db):
    plain = {**PROXIED, "HTTP_X_FORWARDED_PROTO": "http"}
    response = Client().get("/admin/login/", **plain)
    assert response.status_code == 301
    assert response["Location"] == f"https://{HOST}/admin/login/"
    assert Client().get("/healthz", **plain).status_code in (200, 503)


def test_without_a_trusted_proxy_a_client_cannot_claim_https(settings, site_api, make_comment):
    settings.ALLOWED_HOSTS = [HOST]
    from tests.conftest import set_status

    for author in ("a", "b"):
        set_status(make_comment(author=author), "published")
    response = site_api.get("/api/v1/articles/art-1/comments", {"page_size": 1}, **PROXIED)
    assert response.json()["next"].startswith(f"http://{HOST}/")


def test_the_client_ip_is_the_right_most_untrusted_hop(settings):
    from types import SimpleNamespace

    from moderation.proxy import client_ip

    request = SimpleNamespace(
        META={"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.1.1.1, 198.51.100.7"}
    )
    settings.VIGIE_TRUSTED_PROXY = False
    assert client_ip(request) == "10.0.0.2"
    settings.VIGIE_TRUSTED_PROXY = True
    settings.VIGIE_TRUSTED_PROXY_NETWORKS = []
    assert client_ip(request) == "198.51.100.7"
    settings.VIGIE_TRUSTED_PROXY_NETWORKS = ["198.51.100.0/24"]
    assert client_ip(request) == "1.1.1.1"
    request.META["HTTP_X_FORWARDED_FOR"] = "not-an-ip"
    assert client_ip(request) == "10.0.0.2"


def test_check_deploy_has_no_security_warning_with_the_production_variables(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        VIGIE_VAR_DIR=str(tmp_path),
        VIGIE_SECRET_KEY="k" * 20 + "Z9x!q" * 10,
        VIGIE_ALLOWED_HOSTS=HOST,
        VIGIE_TRUSTED_PROXY="1",
        VIGIE_HTTPS="1",
        VIGIE_HSTS_PRELOAD="1",
    )
    env.pop("VIGIE_DEMO", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "security." not in done.stdout + done.stderr, done.stdout + done.stderr


def test_csrf_trusted_origins_let_a_proxy_that_rewrites_host_log_in(production, monkeypatch, moderator):
    """A proxy that passes its upstream's name as Host (proxy_set_header Host 127.0.0.1:8000):
    the browser's Origin is the public name, which only VIGIE_CSRF_TRUSTED_ORIGINS vouches for.
    """
    production.ALLOWED_HOSTS = ["127.0.0.1"]
    rewritten = {**PROXIED, "HTTP_HOST": "127.0.0.1:8000"}
    origin = {"HTTP_ORIGIN": "https://admin.example.fr", "HTTP_REFERER": "https://admin.example.fr/admin/"}

    def login() -> int:
        client = Client(enforce_csrf_checks=True)
        client.get("/admin/login/", **rewritten)
        form = {"username": "modo", "password": "modo-pass-1234", "next": "/admin/"}
        form["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
        return client.post("/admin/login/", form, REMOTE_ADDR="10.0.0.2", **origin, **rewritten).status_code

    production.CSRF_TRUSTED_ORIGINS = runpy.run_path(project_settings.__file__)["CSRF_TRUSTED_ORIGINS"]
    assert login() == 403  # "Origin checking failed": not trusted by default
    monkeypatch.setenv("VIGIE_CSRF_TRUSTED_ORIGINS", "https://admin.example.fr")
    production.CSRF_TRUSTED_ORIGINS = runpy.run_path(project_settings.__file__)["CSRF_TRUSTED_ORIGINS"]
    assert production.CSRF_TRUSTED_ORIGINS == ["https://admin.example.fr"]
    assert login() == 302


def test_behind_the_proxy_the_demos_limit_is_per_forwarded_reader_address(
    production, monkeypatch, site_key, db
):
    """The demo passes the reader's address (X-Forwarded-For's hop, not the proxy's) to the
    site API's per-IP limit: two readers behind one proxy are counted apart."""
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    from moderation.demo import views

    monkeypatch.setenv("VIGIE_DEMO_SITE_KEY", site_key)
    production.VIGIE_DEMO_API_BASE = None
    production.VIGIE_TRUSTED_PROXY = True
    production.VIGIE_TRUSTED_PROXY_NETWORKS = []
    monkeypatch.setattr(views, "_declared", set())
    for scope in ("site", "author"):
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, "100000/min")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "ip", "2/min")
    cache.clear()

    def post(client, address: str, n: int) -> int:
        forwarded = {**PROXIED, "HTTP_X_FORWARDED_FOR": address, "REMOTE_ADDR": "10.0.0.2"}
        return client.post(
            "/demo/comments",
            {"name": "Camille", "body": f"Commentaire {address} {n}."},
            content_type="application/json",
            **forwarded,
        ).status_code

    try:
        readers = {}
        for address in ("203.0.113.5", "198.51.100.7"):
            readers[address] = Client()
            assert readers[address].get("/demo/", **PROXIED, REMOTE_ADDR="10.0.0.2").status_code == 200
        first = readers["203.0.113.5"]
        assert [post(first, "203.0.113.5", n) for n in range(3)] == [202, 202, 429]
        # The same proxy address, another reader: not limited by the first one's posts.
        assert post(readers["198.51.100.7"], "198.51.100.7", 0) == 202
    finally:
        cache.clear()
