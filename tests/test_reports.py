"""Readers' reports that cannot be weaponised: who counts, how much, how often, and what a
moderator's dismissal does."""

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from moderation import selectors, services
from moderation.models import Comment, ModerationEvent, Report, Reporter
from tests.conftest import set_status
from tests.test_api_site import assert_error

S = Comment.Status
UNLIMITED = "100000/min"


def report(api, comment, reporter=None, ip=None, **extra):
    payload = {"reason": "abuse", **extra}
    if reporter is not None:
        payload["reporter_id"] = reporter
    headers = {"HTTP_X_READER_IP": ip} if ip else {}
    return api.post(f"/api/v1/comments/{comment.pk}/reports", payload, format="json", **headers)


@pytest.fixture
def published(make_comment):
    return set_status(make_comment("Je ne suis pas d'accord avec le ministre."), S.PUBLISHED)


@pytest.fixture
def rates(monkeypatch):
    cache.clear()

    def set_rates(**scopes):
        for scope in ("site", "author", "ip", "report", "reporter", "report_ip"):
            monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, scopes.get(scope, UNLIMITED))

    yield set_rates
    cache.clear()


def test_it_keeps_a_comment_with_three_anonymous_reports_published(site_api, published):
    for _ in range(3):
        assert report(site_api, published).status_code == 201
    assert report(site_api, published, reporter="").status_code == 201
    assert report(site_api, published, reporter="r-1", anonymous=True).status_code == 201

    published.refresh_from_db()
    assert published.status == S.PUBLISHED
    assert Report.objects.filter(comment=published).count() == 5
    assert set(Report.objects.values_list("weight", flat=True)) == {0.0}
    assert published.report_weight == 0.0
    assert not Reporter.objects.exists()


def test_it_holds_a_comment_three_distinct_readers_report(site_api, site, published):
    for reader in ("r-1", "r-2", "r-3"):
        assert report(site_api, published, reporter=reader).status_code == 201

    published.refresh_from_db()
    assert published.status == S.HELD
    assert published.report_weight == 3.0
    event = ModerationEvent.objects.get(comment=published, action=ModerationEvent.Action.HOLD)
    assert (event.actor, event.from_status, event.to_status) == ("readers", S.PUBLISHED, S.HELD)
    assert Reporter.objects.filter(site=site).count() == 3


def test_one_reader_reporting_twice_gets_409_and_counts_once(site_api, published):
    assert report(site_api, published, reporter="r-1").status_code == 201
    assert_error(report(site_api, published, reporter="r-1", reason="hate"), 409, "already_reported")

    published.refresh_from_db()
    assert (published.open_reports, published.report_weight) == (1, 1.0)
    assert Report.objects.filter(comment=published).count() == 1


def test_the_demo_page_without_its_cookie_reports_anonymously(site, published):
    # The /demo/ page forwards reporter_id "" when the reader dropped the cookie.
    for _ in range(3):
        services.report_create(site=site, comment_id=published.pk, reason="abuse", reporter_id="")
    published.refresh_from_db()
    assert published.status == S.PUBLISHED


def test_it_limits_reports_per_reader_and_per_reader_ip(site_api, make_comment, rates):
    rates(reporter="3/min", report_ip="5/min")
    comments = [set_status(make_comment(f"Avis numéro {i}", author=f"a{i}"), S.PUBLISHED) for i in range(8)]
    # One reader hiding comment after comment.
    for comment in comments[:3]:
        assert report(site_api, comment, reporter="brigade").status_code == 201
    response = report(site_api, comments[3], reporter="brigade")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    # One client making up reader ids: its IP is limited.
    for i, comment in enumerate(comments[:5]):
        assert report(site_api, comment, reporter=f"fake-{i}", ip="203.0.113.9").status_code == 201
    assert_error(report(site_api, comments[5], reporter="fake-5", ip="203.0.113.9"), 429, "throttled")
    assert report(site_api, comments[5], reporter="honest", ip="198.51.100.4").status_code == 201
    assert not Report.objects.filter(reporter_id__in=["fake-5"]).exists()
    assert Report.objects.filter(reporter_id="brigade").count() == 3


def test_reports_on_an_approved_comment_reach_the_reported_queue(
    site, moderator, moderator_api, make_comment
):
    approved = set_status(make_comment("Approuvé par la rédaction."), S.APPROVED)
    for reader in ("r-1", "r-2", "r-3"):
        services.report_create(site=site, comment_id=approved.pk, reason="abuse", reporter_id=reader)

    approved.refresh_from_db()
    assert approved.status == S.APPROVED  # a moderator's approval stands
    results = moderator_api.get("/api/v1/moderation/comments?queue=reported").json()["results"]
    assert [c["id"] for c in results] == [approved.pk]
    assert selectors.queue_counts(user=moderator)["reported"] == 1


def test_report_held_comments_come_first_in_the_held_queue_by_weight(site, moderator_api, make_comment):
    # Failed before the fix: priority was max(toxicity, spam), so reader-held comments sorted last.
    scored = set_status(make_comment("Le classifieur hésite."), S.HELD)
    Comment.objects.filter(pk=scored.pk).update(toxicity=0.9, spam=0.1, priority=0.9)
    held = set_status(make_comment("Un avis tranché."), S.PUBLISHED)
    for reader in ("r-1", "r-2", "r-3"):
        services.report_create(site=site, comment_id=held.pk, reason="abuse", reporter_id=reader)

    results = moderator_api.get("/api/v1/moderation/comments?queue=held").json()["results"]
    assert [c["id"] for c in results] == [held.pk, scored.pk]
    assert results[0]["report_weight"] == 3.0


def test_the_reported_queue_puts_the_heaviest_reports_first(site, moderator, moderator_api, make_comment):
    dismissed = set_status(make_comment("Déjà signalé à tort."), S.PUBLISHED)
    for reader in ("r-1", "r-2"):
        services.report_create(site=site, comment_id=dismissed.pk, reason="abuse", reporter_id=reader)
    services.comment_dismiss_reports(comment_id=dismissed.pk, moderator=moderator)
    light = set_status(make_comment("Léger."), S.PUBLISHED)
    heavy = set_status(make_comment("Lourd."), S.PUBLISHED)
    for reader in ("r-1", "r-2"):  # weigh 0.5 each now
        services.report_create(site=site, comment_id=light.pk, reason="abuse", reporter_id=reader)
    for reader in ("r-3", "r-4"):
        services.report_create(site=site, comment_id=heavy.pk, reason="abuse", reporter_id=reader)

    results = moderator_api.get("/api/v1/moderation/comments?queue=reported").json()["results"]
    assert [(c["id"], c["report_weight"]) for c in results] == [(heavy.pk, 2.0), (light.pk, 1.0)]


def test_a_moderator_dismisses_reports_and_the_comment_is_published_again(
    site, moderator, moderator_api, published
):
    for reader in ("r-1", "r-2", "r-3"):
        services.report_create(site=site, comment_id=published.pk, reason="abuse", reporter_id=reader)
    published.refresh_from_db()
    assert published.status == S.HELD

    response = moderator_api.post(
        f"/api/v1/moderation/comments/{published.pk}/dismiss_reports", {"note": "Opinion"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == S.PUBLISHED
    published.refresh_from_db()
    assert (published.status, published.open_reports, published.report_weight) == (S.PUBLISHED, 0, 0.0)
    assert published.priority == 0.0
    assert not Report.objects.filter(comment=published, resolved_at__isnull=True).exists()
    assert set(Report.objects.values_list("outcome", flat=True)) == {Report.Outcome.DISMISSED}
    event = ModerationEvent.objects.filter(comment=published).latest("id")
    assert (event.action, event.moderator, event.from_status, event.to_status, event.note) == (
        ModerationEvent.Action.DISMISS_REPORTS,
        moderator,
        S.HELD,
        S.PUBLISHED,
        "Opinion",
    )
    reporter = Reporter.objects.get(site=site, reporter_id="r-1")
    assert (reporter.dismissed_count, reporter.upheld_count) == (1, 0)
    assert reporter.weight < 1.0
    # Nothing left to dismiss.
    again = moderator_api.post(f"/api/v1/moderation/comments/{published.pk}/dismiss_reports")
    assert_error(again, 409, "no_open_reports")


def test_dismissed_reporters_weigh_less_and_no_longer_hold_alone(site, moderator, make_comment):
    first = set_status(make_comment("Premier avis."), S.PUBLISHED)
    for reader in ("r-1", "r-2", "r-3"):
        services.report_create(site=site, comment_id=first.pk, reason="abuse", reporter_id=reader)
    services.comment_dismiss_reports(comment_id=first.pk, moderator=moderator)

    second = set_status(make_comment("Second avis."), S.PUBLISHED)
    for reader in ("r-1", "r-2", "r-3"):
        services.report_create(site=site, comment_id=second.pk, reason="abuse", reporter_id=reader)
    second.refresh_from_db()
    assert second.status == S.PUBLISHED  # three dismissed reporters weigh less than three
    assert second.report_weight == pytest.approx(1.5)
    # Fresh readers weigh a full report each: the comment is held.
    for reader in ("r-4", "r-5"):
        services.report_create(site=site, comment_id=second.pk, reason="abuse", reporter_id=reader)
    second.refresh_from_db()
    assert second.status == S.HELD


def test_a_rejection_upholds_the_reports_and_an_approval_dismisses_them(site, moderator, make_comment):
    bad = set_status(make_comment("Insultant."), S.PUBLISHED)
    fine = set_status(make_comment("Inoffensif."), S.PUBLISHED)
    services.report_create(site=site, comment_id=bad.pk, reason="abuse", reporter_id="good-eye")
    services.report_create(site=site, comment_id=fine.pk, reason="abuse", reporter_id="grumpy")
    services.comment_reject(comment_id=bad.pk, moderator=moderator, reason="toxic")
    services.comment_approve(comment_id=fine.pk, moderator=moderator)

    good, grumpy = Reporter.objects.get(reporter_id="good-eye"), Reporter.objects.get(reporter_id="grumpy")
    assert (good.upheld_count, good.dismissed_count, good.weight) == (1, 0, 1.0)
    assert (grumpy.upheld_count, grumpy.dismissed_count) == (0, 1)
    assert grumpy.weight < 1.0
    assert Report.objects.get(comment=bad).outcome == Report.Outcome.UPHELD


def test_another_sites_moderator_cannot_dismiss_reports(site, other_site, make_comment, published, client):
    from django.contrib.auth.models import Permission, User

    services.report_create(site=site, comment_id=published.pk, reason="abuse", reporter_id="r-1")
    outsider = User.objects.create_user("outsider", password="x-pass-1234", is_staff=True)
    outsider.user_permissions.add(Permission.objects.get(codename="moderate_comment"))
    other_site.moderators.add(outsider)
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(User.objects.get(pk=outsider.pk))
    assert_error(api.post(f"/api/v1/moderation/comments/{published.pk}/dismiss_reports"), 404)
    assert Report.objects.filter(resolved_at__isnull=True).count() == 1


def test_the_workbench_dismisses_reports_with_a_button(site, moderator, client, published):
    for reader in ("r-1", "r-2", "r-3"):
        services.report_create(site=site, comment_id=published.pk, reason="abuse", reporter_id=reader)
    client.force_login(moderator)
    page = client.get(reverse("admin:moderation_comment_change", args=[published.pk]))
    assert "Classer les signalements" in page.content.decode()

    response = client.post(reverse("admin:moderation_comment_dismiss_reports", args=[published.pk]))

    assert response.status_code == 302
    published.refresh_from_db()
    assert (published.status, published.open_reports) == (S.PUBLISHED, 0)
