"""The Content-Security-Policy (django-csp): every page Vigie serves runs under it.

`script-src 'self'` (no inline script, no eval), `object-src 'none'`, `frame-ancestors 'none'`...
The header is checked on every kind of page, and a real browser (Debian's Chromium) goes through
the admin, the workbench, the dashboard, the demo page and the API docs, listening for any
violation, while the pages still work (an admin action, a decision, a reader's comment).
"""

import os
import subprocess
import sys

import pytest
from django.test import Client

from moderation.models import Comment
from tests.conftest import ROOT, set_status, wait_until
from tests.test_browser import TIMEOUT_MS, browser, shot, stack  # noqa: F401 - fixtures

HEADER = "Content-Security-Policy"


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_policy(header: str | None) -> None:
    assert header, "no Content-Security-Policy header"
    policy = directives(header)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert "'unsafe-inline'" not in policy.get("script-src-elem", [])
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert "blob:" in policy["worker-src"]  # ReDoc's search worker


@pytest.fixture
def moderator_client(moderator):
    client = Client()
    client.force_login(moderator)
    return client


def test_the_header_is_on_the_admin_workbench_demo_and_docs(
    moderator_client, make_comment, site_key, monkeypatch, settings
):
    monkeypatch.setenv("VIGIE_DEMO_SITE_KEY", site_key)
    settings.VIGIE_DEMO_API_BASE = None
    # Failed before: no Content-Security-Policy header at all.
    comment = set_status(make_comment("Un commentaire à relire."), Comment.Status.HELD)
    anonymous = Client()
    pages = [
        (anonymous, "/admin/login/"),
        (moderator_client, "/admin/"),
        (moderator_client, "/admin/moderation/comment/?queue=held"),
        (moderator_client, f"/admin/moderation/comment/{comment.pk}/change/"),
        (moderator_client, "/admin/moderation/dashboard/"),
        (anonymous, "/demo/"),
        (anonymous, "/api/docs/"),
        (anonymous, "/api/redoc/"),
    ]
    for client, path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_policy(response.get(HEADER))
        assert "Content-Security-Policy-Report-Only" not in response, path
    # The docs' start-up script is a file of its own, not an inline block.
    docs = anonymous.get("/api/docs/").content.decode()
    assert '<script src="/api/docs/?script="></script>' in docs
    script = anonymous.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content


def test_the_templates_have_no_inline_script_or_handler():
    """Vigie's own templates and admin code: scripts only from static files."""
    import re

    sources = [
        *(ROOT / "moderation" / "templates").rglob("*.html"),
        *(ROOT / "moderation" / "admin").rglob("*.py"),
    ]
    assert sources
    inline = re.compile(
        # A data block (json_script's type="application/json") runs nothing: allowed.
        r"<script(?![^>]*\b(?:src=|type=[\"']application/json))[^>]*>"
        r"|\son(?:click|dblclick|change|input|submit|reset|load|error|focus|blur|select|key\w+|mouse\w+)\s*="
        r"|javascript:",
        re.IGNORECASE,
    )
    found = [(path.name, m.group(0)) for path in sources for m in inline.finditer(path.read_text())]
    assert not found, found


def test_report_only_switch_reports_without_enforcing():
    """VIGIE_CSP_REPORT_ONLY=1: the same policy, as Content-Security-Policy-Report-Only."""
    code = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/admin/login/');"
        "print(r.status_code); print(r.get('Content-Security-Policy'));"
        "print(r.get('Content-Security-Policy-Report-Only'))"
    )
    env = dict(os.environ, VIGIE_CSP_REPORT_ONLY="1", DJANGO_SETTINGS_MODULE="project.settings")
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.splitlines()
    assert out[0] == "200"
    assert out[1] == "None"
    assert_policy(out[2])


# --- in a real browser -----------------------------------------------------------------------

# Runs before any page script: every violation the page sees is written to the console, where
# the test collects it together with Chromium's own "Refused to ... Content Security Policy".
LISTEN = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("securitypolicyviolation: " + e.violatedDirective + " " + e.blockedURI
    + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_pages_work_under_the_policy_in_chromium(browser, stack, moderator, make_comment):  # noqa: F811
    from playwright.sync_api import expect

    first = set_status(make_comment("Premier commentaire retenu.", author="r1"), Comment.Status.HELD)
    second = set_status(make_comment("Second commentaire retenu.", author="r2"), Comment.Status.HELD)

    context = browser.new_context(locale="fr-FR", viewport={"width": 1300, "height": 900})
    context.add_init_script(LISTEN)
    violations: list[str] = []
    errors: list[str] = []
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on(
        "console",
        lambda msg: (
            violations.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text or "securitypolicyviolation" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))

    def visit(path: str):
        response = page.goto(stack + path)
        assert response.status == 200, path
        assert_policy(response.headers.get("content-security-policy"))
        return response

    # The admin's login page, then the held queue.
    visit("/admin/login/?next=/admin/moderation/comment/%3Fqueue%3Dheld")
    page.fill("#id_username", moderator.username)
    page.fill("#id_password", "modo-pass-1234")
    page.click("input[type=submit]")
    expect(page.locator(".vigie-queue.current")).to_contain_text("Retenus")
    visit("/admin/moderation/comment/?queue=held")  # the header on the queue itself
    expect(page.locator("#result_list tbody tr")).to_have_count(2)

    # A bulk action: admin's actions.js ticks one row (the counter says so), the action runs.
    page.locator(f'#result_list input.action-select[value="{first.pk}"]').check()
    expect(page.locator(".action-counter")).to_contain_text("1 sur 2")
    page.select_option("select[name=action]", "approve")
    page.click("button[name=index]")
    expect(page.locator(".messagelist li").first).to_contain_text("approuvé")
    first.refresh_from_db()
    assert first.status == Comment.Status.APPROVED
    shot(page, "csp-01-changelist-action")

    # The change view's decision panel.
    visit(f"/admin/moderation/comment/{second.pk}/change/")
    page.click("button.vigie-approve")
    expect(page.locator(".messagelist .success")).to_contain_text("approuvé")
    second.refresh_from_db()
    assert second.status == Comment.Status.APPROVED

    # The dashboard and its charts.
    visit("/admin/moderation/dashboard/")
    expect(page.locator("svg.vigie-chart")).to_have_count(2)
    shot(page, "csp-02-dashboard")

    # The reader's demo page posts a comment (demo.js, fetch to its own origin).
    visit("/demo/")
    page.fill("#author-name", "Camille")
    page.fill("#comment-body", "Merci pour cet article très clair.")
    page.click("#comment-form button[type=submit]")
    expect(page.locator("#messages .notice").first).to_be_visible()
    wait_until(
        lambda: Comment.objects.filter(body="Merci pour cet article très clair.").exists(),
        timeout=30,
        message="the demo's comment stored",
    )
    shot(page, "csp-03-demo")

    # Swagger UI (sidecar files, the split view's start-up script) lists the operations.
    visit("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Vigie API")
    expect(page.locator(".opblock").first).to_be_visible()
    shot(page, "csp-04-swagger")

    page.wait_for_timeout(500)  # a late violation report still reaches the console
    assert not violations, violations
    assert not errors, errors

    # ReDoc renders the schema and builds its search worker from a blob: URL. The one thing
    # the policy blocks there is on purpose: ReDoc's sidebar logo from Redocly's CDN (no
    # reader's or moderator's browser calls a third party from our pages; ReDoc hides it).
    visit("/api/redoc/")
    expect(page.locator("h1", has_text="Vigie API").first).to_be_visible()
    page.locator("[role=search] input").first.fill("comments")
    expect(page.get_by_role("search").get_by_role("menuitem").first).to_be_visible()  # from the worker
    shot(page, "csp-05-redoc")
    page.wait_for_timeout(500)
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert all(logo in v for v in violations), violations
    assert not errors, errors


def test_the_header_built_once_is_django_csps_and_follows_the_settings(settings):
    """project/csp.py reuses the header string: the same one django-csp builds, per policy."""
    from csp.decorators import csp_exempt, csp_update
    from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
    from django.http import HttpResponse
    from django.test import RequestFactory

    from project.csp import CSPMiddleware

    def view(request):
        return HttpResponse("ok")

    requests = RequestFactory()
    ours, theirs = CSPMiddleware(view), DjangoCSPMiddleware(view)

    def headers(middleware):
        response = middleware(requests.get("/admin/"))
        return response.get(HEADER), response.get("Content-Security-Policy-Report-Only")

    assert headers(ours) == headers(theirs)
    assert_policy(headers(ours)[0])
    assert headers(ours) == headers(ours)  # and again, from the cache

    # Another policy (override_settings): the header follows it.
    settings.CONTENT_SECURITY_POLICY = None
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'self'"]}}
    assert headers(ours) == headers(theirs) == (None, "default-src 'self'")

    # A view's own change goes through django-csp's code.
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"]}}
    updated = CSPMiddleware(csp_update({"img-src": ["https://example.org"]})(view))
    assert updated(requests.get("/")).get(HEADER) == "default-src 'self'; img-src https://example.org"
    assert CSPMiddleware(csp_exempt()(view))(requests.get("/")).get(HEADER) is None
