"""The API reference: a schema without warnings, every operation tagged and summarised with
only its own error codes, and the Swagger UI / ReDoc pages working with no network at all
(our own static files) under a Content-Security-Policy without inline scripts."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from moderation.api.schema import ERROR_CODES

TAGS = {
    "articles",
    "comments",
    "reports",
    "webhooks",
    "authors",
    "moderation",
    "notices",
    "appeals",
    "transparency",
}
CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 30_000


@pytest.fixture
def schema(anonymous_api, db):
    response = anonymous_api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "patch", "delete"):
                yield path, method, operation


def error_codes(operation) -> dict[str, set[str]]:
    """status -> the error codes its description names."""
    found = {}
    for status, response in operation["responses"].items():
        if status.startswith(("4", "5")):
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (status, schema)
            found[status] = {c for c in ERROR_CODES if f"`{c}`" in response["description"]}
    return found


def test_the_schema_generates_without_a_warning(tmp_path, db):
    # --fail-on-warn: an enum collision, an unknown type or a duplicate operation id fails.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").stat().st_size > 10_000


def test_every_operation_has_a_known_tag_and_a_summary(schema):
    seen = set()
    for path, method, operation in operations(schema):
        assert len(operation.get("tags", [])) == 1, (method, path, operation.get("tags"))
        assert operation["tags"][0] in TAGS, (method, path, operation["tags"])
        assert operation.get("summary", "").strip(), (method, path)
        seen.add(operation["tags"][0])
    assert seen == TAGS
    assert {tag["name"] for tag in schema["tags"]} == TAGS


def test_the_error_codes_are_an_enum_in_the_schema(schema):
    body = schema["components"]["schemas"]["ErrorBody"]
    code = body["properties"]["code"]
    enum = (
        schema["components"]["schemas"][code["$ref"].rsplit("/", 1)[1]]["enum"]
        if "$ref" in code
        else code["enum"]
    )
    assert set(enum) == set(ERROR_CODES)
    assert {"article_closed", "idempotency_key_reused", "invalid_url", "throttled"} <= set(enum)


def test_each_operation_declares_only_its_own_errors(schema):
    by_op = {(method, path): error_codes(op) for path, method, op in operations(schema)}
    # Every status names its codes, and each code sits under its own status.
    for key, statuses in by_op.items():
        for status, codes in statuses.items():
            assert codes, (key, status)
            assert all(ERROR_CODES[c][0] == int(status) for c in codes), (key, status, codes)
    post_comment = by_op[("post", "/api/v1/articles/{external_id}/comments")]
    assert post_comment["409"] == {"article_closed", "idempotency_key_reused"}
    assert set(post_comment) == {"400", "401", "404", "409", "413", "415", "429"}
    # A read has no body to refuse, and nothing to conflict with.
    get_comment = by_op[("get", "/api/v1/comments/{comment_id}")]
    assert set(get_comment) == {"401", "404", "429"}
    # Listing one's webhooks cannot be a 404; a site endpoint is never a 403 (a wrong key is 401).
    assert set(by_op[("get", "/api/v1/webhooks")]) == {"401", "429"}
    assert by_op[("post", "/api/v1/webhooks")]["400"] >= {"invalid_url", "too_many_webhooks"}
    # Moderator operations: 403 for a user without the permission, no site rate limit.
    approve = by_op[("post", "/api/v1/moderation/comments/{comment_id}/approve")]
    assert approve["403"] == {"permission_denied", "own_decision_appealed"}
    assert approve["409"] == {"invalid_transition"}
    assert "429" not in approve
    assert set(by_op[("get", "/api/v1/moderation/stats")]) == {"400", "401", "403"}


# --- the pages in a browser with no network ----------------------------------------------------


@pytest.fixture
def offline_page(monkeypatch, live_server):
    """A Chromium page that can reach only the live server, which answers with a strict CSP."""
    if not CHROMIUM.exists():
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    blocked, violations = [], []

    def route(route):
        host = urlsplit(route.request.url).hostname
        if host not in ("127.0.0.1", "localhost"):
            blocked.append(route.request.url)
            return route.abort()
        response = route.fetch()
        headers = dict(response.headers)
        # What the `csp` helper's policy allows at most: scripts only from our origin.
        headers["content-security-policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
        )
        return route.fulfill(response=response, headers=headers)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.route("**/*", route)
        page.on(
            "console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None
        )
        yield page, blocked, violations
        browser.close()


@pytest.mark.slow
def test_swagger_ui_renders_offline_under_a_strict_csp(offline_page, live_server):
    page, blocked, violations = offline_page
    page.goto(f"{live_server.url}/api/docs/")
    # The tags' sections appear only once the bundle ran and the schema was fetched and read.
    page.locator(".opblock-tag", has_text="webhooks").first.wait_for()
    page.locator(".opblock-summary-description", has_text="Post a reader's comment").first.wait_for()
    assert page.locator(".opblock-tag").count() == len(TAGS)
    assert blocked == []
    assert violations == []


@pytest.mark.slow
def test_redoc_renders_offline_under_a_strict_csp(offline_page, live_server):
    page, blocked, violations = offline_page
    page.goto(f"{live_server.url}/api/redoc/")
    # Each operation's summary is a heading of the rendered reference (the menu's copy is folded).
    page.locator("h2", has_text="Post a reader's comment").first.wait_for()
    page.locator("h2", has_text="Add a webhook endpoint (its secret is shown once)").first.wait_for()
    assert blocked == []
    # ReDoc's bundle always shows its maker's logo from their CDN; the policy refuses that image
    # (ReDoc then hides it). Nothing else may be refused.
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert [v for v in violations if not (logo in v and "img-src" in v)] == []
