"""The moderator API: queues, detail, decisions, bulk, authors, stats, and who may use it."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.http import HttpRequest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from moderation import services
from moderation.models import Author, Comment, ModerationEvent
from tests.conftest import set_status
from tests.test_api_site import assert_error

S = Comment.Status


@pytest.fixture
def held(make_comment):
    return set_status(make_comment("Un commentaire retenu"), S.HELD)


def test_it_lists_a_queue_ordered_by_score(moderator_api, make_comment):
    low = set_status(make_comment("low"), S.HELD)
    high = set_status(make_comment("high"), S.HELD)
    Comment.objects.filter(pk=low.pk).update(priority=0.3, toxicity=0.3)
    Comment.objects.filter(pk=high.pk).update(priority=0.9, toxicity=0.9)
    set_status(make_comment("published"), S.PUBLISHED)
    response = moderator_api.get("/api/v1/moderation/comments?queue=held")
    assert response.status_code == 200
    assert [c["body"] for c in response.json()["results"]] == ["high", "low"]
    oldest = moderator_api.get("/api/v1/moderation/comments?queue=held&ordering=oldest").json()
    assert [c["body"] for c in oldest["results"]] == ["low", "high"]


def test_the_reported_queue_shows_published_comments_with_open_reports(moderator_api, site, make_comment):
    reported = set_status(make_comment("reported"), S.PUBLISHED)
    set_status(make_comment("quiet"), S.PUBLISHED)
    services.report_create(site=site, comment_id=reported.pk, reason="abuse", reporter_id="r")
    results = moderator_api.get("/api/v1/moderation/comments?queue=reported").json()["results"]
    assert [c["id"] for c in results] == [reported.pk]


def test_it_filters_a_queue(moderator_api, make_comment):
    a = set_status(make_comment("from alice", author="alice"), S.HELD)
    set_status(make_comment("from bob", author="bob"), S.HELD)
    results = moderator_api.get(f"/api/v1/moderation/comments?queue=held&author={a.author_id}").json()[
        "results"
    ]
    assert [c["body"] for c in results] == ["from alice"]
    results = moderator_api.get("/api/v1/moderation/comments?queue=held&q=bob").json()["results"]
    assert [c["body"] for c in results] == ["from bob"]


@pytest.mark.parametrize(
    "query", ["queue=nope", "queue=held&ordering=random", "queue=held&author=x", "queue=held&page_size=0"]
)
def test_it_refuses_a_bad_queue_query(moderator_api, query):
    assert_error(moderator_api.get(f"/api/v1/moderation/comments?{query}"), 400)


def test_the_queue_does_not_grow_queries_with_comments(
    moderator_api, make_comment, django_assert_max_num_queries
):
    for i in range(20):
        set_status(make_comment(f"c{i}", author=f"a{i}"), S.HELD)
    with django_assert_max_num_queries(6):
        response = moderator_api.get("/api/v1/moderation/comments?queue=held")
    assert len(response.json()["results"]) == 20


def test_the_detail_shows_scores_explanation_reports_history_and_trail(moderator_api, site, make_comment):
    older = make_comment("Premier commentaire", author="alice", classify=True)
    comment = make_comment("Tu es un abruti et un connard", author="alice", classify=True)
    if comment.status == S.PUBLISHED:
        services.report_create(site=site, comment_id=comment.pk, reason="abuse", reporter_id="r")
    body = moderator_api.get(f"/api/v1/moderation/comments/{comment.pk}").json()
    assert body["classifications"][0]["model_version"] == services.get_model().version
    assert body["classifications"][0]["explanation"]["toxicity"]
    assert [h["id"] for h in body["author_history"]] == [older.pk]
    assert body["events"][0]["actor"] == "classifier"
    assert body["author"]["external_id"] == "alice"


def test_a_moderator_approves_and_rejects_with_a_reason(moderator_api, held, moderator):
    response = moderator_api.post(
        f"/api/v1/moderation/comments/{held.pk}/reject", {"reason": "toxic", "note": "insulte"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    event = ModerationEvent.objects.get(comment=held)
    assert (event.moderator, event.reason, event.note) == (moderator, "toxic", "insulte")
    response = moderator_api.post(f"/api/v1/moderation/comments/{held.pk}/approve", {}, format="json")
    assert response.json()["status"] == "approved"
    assert response.json()["events"][-1]["moderator"] == "modo"


def test_it_refuses_an_unknown_reject_reason_and_an_illegal_move(moderator_api, held):
    assert (
        "reason"
        in assert_error(
            moderator_api.post(
                f"/api/v1/moderation/comments/{held.pk}/reject", {"reason": "ugly"}, format="json"
            ),
            400,
        )["fields"]
    )
    moderator_api.post(f"/api/v1/moderation/comments/{held.pk}/approve", {}, format="json")
    assert_error(moderator_api.post(f"/api/v1/moderation/comments/{held.pk}/approve", {}, format="json"), 409)
    assert ModerationEvent.objects.filter(comment=held).count() == 1


def test_bulk_approves_all_or_nothing(moderator_api, make_comment):
    held = [set_status(make_comment(f"c{i}"), S.HELD) for i in range(3)]
    response = moderator_api.post(
        "/api/v1/moderation/comments/bulk", {"ids": [c.pk for c in held], "action": "approve"}, format="json"
    )
    assert response.status_code == 200
    assert Comment.objects.filter(status=S.APPROVED).count() == 3
    more = set_status(make_comment("more"), S.HELD)
    response = moderator_api.post(
        "/api/v1/moderation/comments/bulk",
        {"ids": [more.pk, held[0].pk, 999999], "action": "reject", "reason": "spam"},
        format="json",
    )
    assert_error(response, 404)
    more.refresh_from_db()
    assert more.status == S.HELD


@pytest.mark.parametrize(
    "payload",
    [
        {"ids": [], "action": "approve"},
        {"ids": [1], "action": "delete"},
        {"ids": "1", "action": "approve"},
        {"ids": list(range(1, 502)), "action": "approve"},
        {"ids": [1], "action": "reject", "reason": "ugly"},
    ],
)
def test_bulk_refuses_bad_input(moderator_api, payload):
    assert_error(moderator_api.post("/api/v1/moderation/comments/bulk", payload, format="json"), 400)


def test_a_moderator_bans_premoderates_and_restores_an_author(moderator_api, held):
    for action, status in [("ban", "banned"), ("premoderate", "premoderated"), ("restore", "normal")]:
        response = moderator_api.post(
            f"/api/v1/moderation/authors/{held.author_id}/{action}", {}, format="json"
        )
        assert response.status_code == 200
        assert Author.objects.get(pk=held.author_id).status == status
    assert ModerationEvent.objects.filter(author_id=held.author_id).count() == 3


def test_stats_count_statuses_days_and_time_to_decision(moderator_api, make_comment, moderator):
    for status in (S.HELD, S.HELD, S.PUBLISHED):
        set_status(make_comment(), status)
    held = Comment.objects.filter(status=S.HELD).first()
    services.comment_approve(comment_id=held.pk, moderator=moderator)
    stats = moderator_api.get("/api/v1/moderation/stats").json()
    assert stats["per_status"]["held"] == 1
    assert stats["per_status"]["approved"] == 1
    assert stats["per_status"]["published"] == 1
    assert sum(day["held"] + day["approved"] + day["published"] for day in stats["per_day"]) == 3
    assert stats["moderator_decisions"] == 1
    assert stats["time_to_decision_seconds"]["median"] >= 0
    assert_error(moderator_api.get("/api/v1/moderation/stats?days=0"), 400)


# --- who may moderate ----------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/api/v1/moderation/comments?queue=held"),
    ("get", "/api/v1/moderation/comments/{id}"),
    ("post", "/api/v1/moderation/comments/{id}/approve"),
    ("post", "/api/v1/moderation/comments/{id}/reject"),
    ("post", "/api/v1/moderation/comments/bulk"),
    ("post", "/api/v1/moderation/authors/{author}/ban"),
    ("get", "/api/v1/moderation/stats"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_users_are_refused(anonymous_api, held, method, path):
    url = path.format(id=held.pk, author=held.author_id)
    assert_error(
        getattr(anonymous_api, method)(url, {}, format="json")
        if method == "post"
        else anonymous_api.get(url),
        401,
    )
    held.refresh_from_db()
    assert held.status == S.HELD


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_non_staff_and_staff_without_permission_are_refused(held, stranger, method, path):
    no_perm = User.objects.create_user("staff-no-perm", password="x-pass-12345", is_staff=True)
    for user in (stranger, no_perm):
        client = APIClient()
        client.force_authenticate(user)
        url = path.format(id=held.pk, author=held.author_id)
        response = getattr(client, method)(url, {"ids": [held.pk], "action": "approve"}, format="json")
        assert_error(response, 403)
    held.refresh_from_db()
    assert held.status == S.HELD
    assert not ModerationEvent.objects.exists()


def test_a_moderator_of_another_site_does_not_see_this_one(held, other_site):
    user = User.objects.create_user("other-modo", password="x-pass-12345", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="moderate_comment"))
    other_site.moderators.add(user)
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/v1/moderation/comments?queue=held").json()["results"] == []
    assert_error(client.get(f"/api/v1/moderation/comments/{held.pk}"), 404)
    assert_error(client.post(f"/api/v1/moderation/comments/{held.pk}/approve", {}, format="json"), 404)


def test_a_moderator_can_use_a_token(held, moderator):
    token = Token.objects.create(user=moderator)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/moderation/comments?queue=held").status_code == 200


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_a_token_reads_its_user_and_their_permission_in_one_query(
    held, moderator, django_assert_num_queries
):
    client = _token_client(moderator)
    with django_assert_num_queries(2):  # the token, its user and the permission; the page
        response = client.get("/api/v1/moderation/comments?queue=held")
    assert [c["id"] for c in response.json()["results"]] == [held.pk]


def test_a_token_holds_the_permission_through_a_group(held, site):
    user = User.objects.create_user("group-modo", password="x-pass-12345", is_staff=True)
    group = Group.objects.create(name="moderators")
    group.permissions.add(Permission.objects.get(codename="moderate_comment"))
    user.groups.add(group)
    site.moderators.add(user)
    assert _token_client(user).get("/api/v1/moderation/comments?queue=held").status_code == 200


def test_a_token_without_the_permission_or_of_an_inactive_user_is_refused(held, site, moderator):
    staff = User.objects.create_user("staff", password="x-pass-12345", is_staff=True)
    site.moderators.add(staff)
    assert_error(_token_client(staff).get("/api/v1/moderation/comments?queue=held"), 403)
    client = _token_client(moderator)
    moderator.is_active = False
    moderator.save(update_fields=["is_active"])
    assert_error(client.get("/api/v1/moderation/comments?queue=held"), 401)
    unknown = APIClient()
    unknown.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert_error(unknown.get("/api/v1/moderation/comments?queue=held"), 401)


def test_session_writes_need_the_csrf_token(held, moderator):
    client = APIClient(enforce_csrf_checks=True)
    # django-axes needs the request to count a login (Client.login does not pass one).
    client.login(request=HttpRequest(), username="modo", password="modo-pass-1234")
    response = client.post(f"/api/v1/moderation/comments/{held.pk}/approve", {}, format="json")
    assert_error(response, 403)
    held.refresh_from_db()
    assert held.status == S.HELD


def test_the_held_rate_counts_what_the_classifier_held_on_arrival(
    moderator_api, site, make_comment, moderator
):
    site.suspect_words = "retenir"
    site.save()
    held = make_comment("Il faut retenir ce commentaire", classify=True)
    make_comment("Un avis tout à fait posé.", classify=True)
    assert held.status == S.HELD
    services.comment_approve(comment_id=held.pk, moderator=moderator)  # held no more, still counted
    stats = moderator_api.get("/api/v1/moderation/stats").json()
    assert stats["held_rate"] == 0.5
    assert sum(day["classified"] for day in stats["per_day"]) == 2
    assert sum(day["held_on_arrival"] for day in stats["per_day"]) == 1
