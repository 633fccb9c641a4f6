"""Schemathesis against /api/schema/: generated requests for every operation, in process.

No response may be a 5xx, and every response must match the schema (status code, content
type and body). Bounded and derandomised, so CI runs the same examples every time.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from moderation.models import Comment
from project.wsgi import application
from tests.conftest import set_status

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

pytestmark = pytest.mark.slow


@pytest.fixture
def in_process_wsgi():
    """Calls go to the WSGI app itself, not through Django's test client: like the client,
    keep the test's database connection open between requests (it holds the test transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(in_process_wsgi, site_key, moderator, make_comment, monkeypatch):
    """Real objects for generated requests to reach: half the cases use their ids."""
    for scope in ("site", "author", "ip", "report", "check_author", "check_ip"):  # limits: tested elsewhere
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, "1000000/min")
    published = set_status(make_comment("Un avis publié."), Comment.Status.PUBLISHED)
    held = set_status(make_comment("<script>alert(1)</script> retenu", author="r2"), Comment.Status.HELD)
    set_status(make_comment("Une réponse.", parent=published, author="r3"), Comment.Status.PUBLISHED)
    token = Token.objects.create(user=moderator).key
    return {
        "site": f"Api-Key {site_key}",
        "moderator": f"Token {token}",
        "ids": {
            "external_id": "art-1",
            "comment_id": held.pk,
            "author_id": held.author_id,
        },
        "published": published.pk,
    }


def test_no_operation_answers_a_server_error_or_breaks_the_schema(world):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    failures, ran = {}, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        auth = world["moderator"] if operation.path.startswith("/api/v1/moderation") else world["site"]
        ids = dict(world["ids"])
        if operation.path.endswith("/reports"):  # readers report what they can see
            ids["comment_id"] = world["published"]

        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), real_ids=st.booleans())
        def run(case, real_ids):
            if real_ids and case.path_parameters:
                for name in case.path_parameters:
                    if name in ids:  # noqa: B023 - run() is called at once, in this iteration
                        case.path_parameters[name] = ids[name]  # noqa: B023
            case.call_and_validate(headers={"Authorization": auth}, checks=CHECKS)  # noqa: B023 - run at once

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - report every operation at the end
            failures[operation.label] = str(exc)[:3000]
        ran += 1
    assert ran >= 12, f"only {ran} operations in the schema"
    assert not failures, "\n\n".join(f"{label}:\n{error}" for label, error in failures.items())


# --- the admin's POST views and the demo: not in the OpenAPI schema, fuzzed directly -------------

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)
FUZZ = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def test_the_admins_decision_and_author_views_never_answer_a_server_error(client, moderator, make_comment):
    client.force_login(moderator)
    held = set_status(make_comment("retenu"), Comment.Status.HELD)

    @FUZZ
    @given(
        form=st.dictionaries(st.sampled_from(["action", "reason", "note", "next"]), TEXT, max_size=4),
        action=st.sampled_from(["ban", "premoderate", "restore", "x"]),
    )
    def run(form, action):
        for path in (
            f"/admin/moderation/comment/{held.pk}/decide/",
            f"/admin/moderation/comment/author/{held.author_id}/{action}/",
        ):
            response = client.post(path, form)
            assert response.status_code < 500, (path, form, response.content[:500])
        set_status(held, Comment.Status.HELD)

    run()


def test_the_demo_never_answers_a_server_error(client, site_key, make_comment, monkeypatch):
    monkeypatch.setenv("VIGIE_DEMO", "1")
    monkeypatch.setenv("VIGIE_DEMO_SITE_KEY", site_key)
    published = set_status(make_comment(), Comment.Status.PUBLISHED)
    assert client.get("/demo/").status_code == 200

    @FUZZ
    @given(
        body=ANY_JSON | st.dictionaries(st.sampled_from(["name", "body", "parent_id", "reason"]), ANY_JSON),
        raw=st.binary(max_size=200),
        use_raw=st.booleans(),
    )
    def run(body, raw, use_raw):
        import json

        data = raw if use_raw else json.dumps(body)
        for path in ("/demo/comments", f"/demo/comments/{published.pk}/report"):
            response = client.post(path, data, content_type="application/json")
            assert response.status_code < 500, (path, data, response.content[:500])
            assert set(response.json()) <= {"id", "status", "visible", "reported", "message", "error"}

    run()
    for cursor in ("", "x", "cD1hYmM=", "\x00"):
        assert client.get("/demo/comments", {"cursor": cursor}).status_code < 500
