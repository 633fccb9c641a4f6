"""The threshold simulator (API and admin), applying thresholds, and per-section thresholds."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from moderation import services
from moderation.models import Comment, ModerationEvent, SectionPolicy, Site
from tests.conftest import classify_now, set_status
from tests.workbench_seed import make_moderator

URL = "/api/v1/moderation/simulate"
ALL = {"toxicity_hold": "0.5", "toxicity_reject": "0.9", "spam_hold": "0.5", "spam_reject": "0.9"}


def scored(make_comment, toxicity: float, status: str, spam: float = 0.0) -> Comment:
    comment = make_comment(f"Un commentaire noté {toxicity}.", author=f"a-{toxicity}")
    Comment.objects.filter(pk=comment.pk).update(toxicity=toxicity, spam=spam, priority=max(toxicity, spam))
    return set_status(comment, status)


@pytest.fixture
def scored_site(site, make_comment, moderator):
    """Six scored comments; moderators rejected the 0.95, 0.7 and 0.3 ones and approved 0.6."""
    comments = {t: scored(make_comment, t, "held") for t in (0.95, 0.7, 0.6, 0.3)}
    comments[0.1] = scored(make_comment, 0.1, "published")
    comments["spam"] = scored(make_comment, 0.05, "published", spam=0.97)
    for t in (0.95, 0.7, 0.3):
        services.comment_reject(comment_id=comments[t].pk, moderator=moderator, reason="toxic")
    services.comments_bulk_decide(comment_ids=[comments[0.6].pk], action="approve", moderator=moderator)
    return comments


def test_it_replays_the_stored_scores_through_the_thresholds(moderator_api, site, scored_site):
    response = moderator_api.get(URL, {"site": site.pk, **ALL, "days": 30})

    assert response.status_code == 200, response.content
    body = response.json()
    # rejected: 0.95 (toxicity) and the spam one; held: 0.7 and 0.6; published: 0.3 and 0.1.
    assert (body["comments"], body["rejected"], body["held"], body["published"]) == (6, 2, 2, 2)
    assert body["held_per_day"] == round(2 / 30, 2)
    # Decided: 0.95, 0.7, 0.3 rejected; 0.6 approved. Stopped among them: 0.95, 0.7, 0.6.
    assert body["estimated_precision"] == round(2 / 3, 4)
    assert body["estimated_recall"] == round(2 / 3, 4)
    assert "decided" in body["method"]


def test_a_lower_hold_threshold_holds_more_and_catches_more(moderator_api, site, scored_site):
    low = moderator_api.get(URL, {"site": site.pk, **ALL, "toxicity_hold": "0.2"}).json()

    assert low["held"] == 3  # 0.7, 0.6 and 0.3
    assert low["estimated_recall"] == 1.0


def test_left_out_thresholds_are_the_sites(moderator_api, site, scored_site):
    Site.objects.filter(pk=site.pk).update(
        toxicity_hold=0.65, toxicity_reject=0.99, spam_hold=0.5, spam_reject=0.9
    )

    body = moderator_api.get(URL, {"site": site.pk}).json()

    assert body["thresholds"] == {
        "toxicity_hold": 0.65,
        "toxicity_reject": 0.99,
        "spam_hold": 0.5,
        "spam_reject": 0.9,
    }
    assert body["held"] == 2  # 0.95 and 0.7


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"site": "x"},
        {"toxicity_hold": "2"},
        {"toxicity_hold": "abc"},
        {"spam_reject": "nan"},
        {"days": "0"},
    ],
)
def test_bad_params_are_a_400_in_the_error_shape(moderator_api, site, params):
    query = {"site": site.pk, **params} if params else {}
    if params.get("site") == "x":
        query = params

    response = moderator_api.get(URL, query)

    assert response.status_code == 400
    assert set(response.json()["error"]) >= {"code", "message"}


def test_another_sites_moderator_gets_a_404(site, other_site, scored_site, client):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(make_moderator(other_site, "autre"))

    assert api.get(URL, {"site": site.pk}).status_code == 404


def test_the_admin_page_shows_the_simulation(client, moderator, site, scored_site):
    client.force_login(moderator)

    response = client.get(reverse("vigie-simulator"), {"site": site.pk, **ALL}, HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["simulated"]["held"] == 2
    assert 'type="range"' in html and 'src="/static/vigie/simulator.js"' in html
    assert "Appliquer à ce site" not in html  # a moderator, not a site manager


def manager_of(site):
    user = make_moderator(site, "cheffe", manager=True)
    return user


def test_a_site_manager_applies_the_thresholds_with_an_event(client, site, scored_site):
    manager = manager_of(site)
    client.force_login(manager)
    assert (
        "Appliquer à ce site"
        in client.get(reverse("vigie-simulator"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    )

    response = client.post(
        reverse("vigie-simulator-apply"), {"site": site.pk, **ALL, "toxicity_hold": "0.42"}
    )

    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.toxicity_hold, site.toxicity_reject) == (0.42, 0.9)
    event = ModerationEvent.objects.get(action="thresholds")
    assert (event.site_id, event.moderator_id) == (site.pk, manager.pk)
    assert event.reason_params["after"]["toxicity_hold"] == 0.42


def test_a_moderator_cannot_apply_thresholds(client, moderator, site):
    client.force_login(moderator)

    response = client.post(reverse("vigie-simulator-apply"), {"site": site.pk, **ALL})

    assert response.status_code == 403
    site.refresh_from_db()
    assert site.toxicity_hold is None
    assert not ModerationEvent.objects.filter(action="thresholds").exists()


def test_a_manager_cannot_apply_to_another_site(client, site, other_site):
    client.force_login(manager_of(site))

    client.post(reverse("vigie-simulator-apply"), {"site": other_site.pk, **ALL})

    other_site.refresh_from_db()
    assert other_site.toxicity_hold is None


def test_the_site_sets_an_articles_section(site_api):
    response = site_api.put(
        "/api/v1/articles/a-9", {"title": "Un article", "section": "politique"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["section"] == "politique"


def test_a_sections_thresholds_are_used_when_classifying(site, make_comment, client):
    # A sensitive section holds everything; elsewhere the same clean comment is published.
    sensible, _ = services.article_upsert(site=site, external_id="s-1", section="faits-divers")
    calm, _ = services.article_upsert(site=site, external_id="c-1", section="culture")
    client.force_login(manager_of(site))
    response = client.post(
        reverse("vigie-simulator-apply"),
        {"site": site.pk, "toxicity_hold": "0.00", "toxicity_reject": "1.00", "spam_hold": "1.00",
         "spam_reject": "1.00", "section": "faits-divers"},
    )  # fmt: skip
    assert response.status_code == 302
    assert SectionPolicy.objects.get(site=site, section="faits-divers").toxicity_hold == 0.0

    held = make_comment("Merci pour cet article très clair.", author="r-1", art=sensible)
    published = make_comment("Merci pour cet article très clair.", author="r-2", art=calm)
    classify_now([held.pk, published.pk])

    held.refresh_from_db()
    published.refresh_from_db()
    assert (held.status, published.status) == ("held", "published")


def test_site_managers_edit_section_thresholds_in_the_admin(client, site):
    manager = manager_of(site)
    manager.user_permissions.add(Permission.objects.get(codename="manage_site"))
    client.force_login(manager)

    response = client.post(
        reverse("admin:moderation_sectionpolicy_add"),
        {"site": site.pk, "section": "sport", "toxicity_hold": "0.8", "toxicity_reject": "",
         "spam_hold": "", "spam_reject": ""},
    )  # fmt: skip

    assert response.status_code == 302, response.content[:2000]
    policy = SectionPolicy.objects.get(site=site, section="sport")
    assert (policy.toxicity_hold, policy.toxicity_reject) == (0.8, None)
    assert ModerationEvent.objects.filter(action="thresholds", site=site).count() == 1
