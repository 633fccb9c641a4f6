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
