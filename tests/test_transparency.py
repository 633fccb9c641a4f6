"""The transparency report: counts per site and period, over data the test makes."""

import csv
import io
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from moderation import services
from moderation.models import Comment, ModerationEvent, Notice, RejectReason
from tests.conftest import set_status
from tests.test_api_site import assert_error
from tests.test_compliance import (
    restrict,
    second_moderator,  # noqa: F401 - a fixture
)

S = Comment.Status


def test_it_counts_notices_decisions_and_appeals_over_a_period(
    site,
    other_site,
    moderator,
    second_moderator,  # noqa: F811
    moderator_api,
    make_comment,
):
    now = timezone.now()
    # The classifier: one rejection, one hold, on this site.
    restrict(make_comment("Achetez !"), to_status=S.REJECTED, reason="spam 0.99 >= 0.95")
    restrict(make_comment("Hmm."), to_status=S.HELD, reason="toxicity 0.75 >= 0.70")
    # Long ago: outside the period.
    restrict(make_comment("Vieux."), to_status=S.REJECTED, reason="spam", when=now - timedelta(days=400))
    # Two notices: one upheld by a rejection, one still open.
    noticed = set_status(make_comment("Diffamant."), S.PUBLISHED)
    services.notice_create(site=site, comment_id=noticed.pk, ground="defamation", explanation="Faux.")
    services.comment_reject(comment_id=noticed.pk, moderator=moderator, reason=RejectReason.OTHER)
    other = set_status(make_comment("Haineux ?"), S.PUBLISHED)
    services.notice_create(site=site, comment_id=other.pk, ground="hate", explanation="Haine.")
    # A moderator's rejection appealed and reversed by another moderator.
    appealed = set_status(make_comment("Contesté."), S.PUBLISHED)
    services.comment_reject(comment_id=appealed.pk, moderator=moderator, reason=RejectReason.TOXIC)
    services.appeal_create(site=site, comment_id=appealed.pk, text="Je cite.")
    services.comment_approve(comment_id=appealed.pk, moderator=second_moderator)
    day = timezone.localdate()

    response = moderator_api.get(
        "/api/v1/moderation/transparency",
        {"from": (day - timedelta(days=7)).isoformat(), "to": day.isoformat()},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert [s["site"] for s in body["sites"]] == ["Le Quotidien"]  # not the other site
    report = body["sites"][0]
    assert report["notices"]["total"] == 2
    assert report["notices"]["by_ground"]["defamation"] == {"open": 0, "upheld": 1, "rejected": 0}
    assert report["notices"]["by_ground"]["hate"] == {"open": 1, "upheld": 0, "rejected": 0}
    assert report["notices_median_time_to_decision_seconds"] is not None
    restrictions = report["restrictions"]
    assert (restrictions["automated"], restrictions["human"], restrictions["total"]) == (2, 2, 4)
    assert (restrictions["held"], restrictions["rejected"]) == (1, 3)
    assert restrictions["by_reason"] == {
        "other": {"automated": 0, "human": 1},
        "spam": {"automated": 1, "human": 0},
        "toxic": {"automated": 0, "human": 1},
        "toxicity": {"automated": 1, "human": 0},
    }
    assert (report["moderator_rejections"], report["moderator_approvals"]) == (2, 1)
    assert report["median_time_to_decision_seconds"] is not None
    assert report["appeals"] == {"total": 1, "open": 0, "upheld": 1, "dismissed": 0, "reversals": 1}

    older = moderator_api.get("/api/v1/moderation/transparency", {"from": "2020-01-01", "to": "2020-12-31"})
    assert older.json()["sites"][0]["restrictions"]["total"] == 0


def test_it_refuses_bad_dates(moderator_api, anonymous_api):
    assert_error(
        moderator_api.get("/api/v1/moderation/transparency", {"from": "2026-13-01", "to": "2026-12-31"}), 400
    )
    assert_error(
        moderator_api.get("/api/v1/moderation/transparency", {"from": "2026-12-31", "to": "2026-01-01"}), 400
    )
    assert_error(moderator_api.get("/api/v1/moderation/transparency", {"to": "2026-01-01"}), 400)
    assert anonymous_api.get("/api/v1/moderation/transparency").status_code == 401


def test_the_admin_exports_the_report_as_csv_with_french_labels(site, moderator, client, make_comment):
    restrict(make_comment("Achetez !"), to_status=S.REJECTED, reason="spam 0.99 >= 0.95")
    services.notice_create(
        site=site,
        comment_id=set_status(make_comment("x"), S.PUBLISHED).pk,
        ground="threat",
        explanation="Menace.",
    )
    client.force_login(moderator)
    day = timezone.localdate().isoformat()

    page = client.get(reverse("vigie-transparency"), {"from": day, "to": day})
    response = client.get(reverse("vigie-transparency"), {"from": day, "to": day, "format": "csv"})

    assert page.status_code == 200
    assert "Rapport de transparence" in page.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["site", "rubrique", "élément", "issue", "nombre"]
    assert ["Le Quotidien", "signalements de contenu illicite", "menace", "ouvert", "1"] in rows
    assert ["Le Quotidien", "restrictions", "spam ou publicité", "automatisée", "1"] in rows
    assert not ModerationEvent.objects.filter(action="reject", actor="moderator").exists()
    assert Notice.objects.count() == 1


def test_a_stranger_gets_no_transparency_page(stranger, client):
    client.force_login(stranger)
    response = client.get(reverse("vigie-transparency"))
    assert response.status_code in (302, 403)
