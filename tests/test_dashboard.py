"""The dashboard: numbers that agree and say what they count, per moderator, agreement with
the model, by period, site and section, and the CSV export (Django's test client)."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from moderation import selectors, services
from moderation.models import Comment, ModerationEvent
from tests.conftest import set_status
from tests.workbench_seed import make_moderator

FR = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
URL = "vigie-dashboard"


def arrived(comment: Comment, verdict: str, *, screened: bool = False) -> Comment:
    """Setup: the classifier's events for a comment, as the two stages write them."""
    if screened:  # the fast stage handed it to the second opinion first
        comment.events.create(
            actor="classifier", action="classify", from_status="received", to_status="screening"
        )
    comment.events.create(
        actor="classifier",
        action="classify",
        from_status="screening" if screened else "received",
        to_status=verdict,
        reason="toxicity_hold" if verdict == "held" else "clean",
        reason_params={"score": 0.8, "threshold": 0.5} if verdict == "held" else {},
    )
    return set_status(comment, verdict)


@pytest.fixture
def period(site, make_comment, moderator):
    """Five verdicts: two published, two held (one after a second opinion), one rejected;
    the two held ones decided (one rejected, one approved), a published one reported and
    rejected; a second moderator reverses the first one's rejection."""
    services.article_upsert(site=site, external_id="art-1", section="politique")
    clean1 = arrived(make_comment("Bon article.", author="a"), "published")
    clean2 = arrived(make_comment("Merci.", author="b"), "published")
    held1 = arrived(make_comment("Quel idiot.", author="c"), "held")
    held2 = arrived(make_comment("Bande de nuls.", author="d"), "held", screened=True)
    arrived(make_comment("Achetez ici.", author="e"), "rejected")
    Comment.objects.filter(pk__in=[held1.pk, held2.pk]).update(created_at=timezone.now() - timedelta(hours=2))
    services.comment_reject(comment_id=held1.pk, moderator=moderator, reason="toxic")
    services.comments_bulk_decide(comment_ids=[held2.pk], action="approve", moderator=moderator)
    services.report_create(site=site, comment_id=clean1.pk, reason="abuse", reporter_id="l-1")
    services.comment_reject(comment_id=clean1.pk, moderator=moderator, reason="toxic")
    other = make_moderator(site, "bruno")
    services.comments_bulk_decide(comment_ids=[held1.pk], action="approve", moderator=other)
    return {"clean2": clean2, "other": other}


def test_the_held_share_counts_each_comment_once(moderator, period):
    # On main the fast stage's hand-off to the second opinion counted as an arrival:
    # 2 held of 6 "classified" (33 %), for 2 of the 5 comments decided (40 %).
    stats = selectors.moderation_stats(user=moderator, days=30)
    dash = selectors.dashboard(user=moderator, days=30)

    assert dash["arrivals"] == {"classified": 5, "published": 2, "held": 2, "rejected": 1}
    assert dash["held_share"] == 0.4
    assert stats["held_rate"] == 0.4


def test_the_page_says_what_each_number_counts(client, moderator, period):
    client.force_login(moderator)

    html = client.get(reverse(URL), **FR).content.decode()

    assert "retenus à l’arrivée" in html
    assert "40,0\xa0%" in html
    assert "des commentaires qu’il a traités" in html  # what the share is of
    assert "Les files telles qu’elles sont maintenant" in html  # the queue counts are not the period's


def test_it_counts_each_moderators_decisions_and_reversals(moderator, period):
    dash = selectors.dashboard(user=moderator, days=30)

    rows = {row["moderator"]: row for row in dash["moderators"]}
    assert rows["modo"] == {
        "moderator": "modo",
        "decisions": 3,
        "approvals": 1,
        "rejections": 2,
        "reversals": 1,
    }
    assert rows["bruno"] == {
        "moderator": "bruno",
        "decisions": 1,
        "approvals": 1,
        "rejections": 0,
        "reversals": 0,
    }
    assert dash["decisions"]["total"] == 4


def test_it_gives_the_median_and_p90_time_to_decision(client, moderator, period):
    dash = selectors.dashboard(user=moderator, days=30)
    times = dash["decisions"]["time_to_decision_seconds"]

    assert 7000 < times["median"] < 7400  # two of four decisions came two hours after arrival
    assert times["p90"] >= times["median"]
    client.force_login(moderator)
    html = client.get(reverse(URL), **FR).content.decode()
    assert "temps médian jusqu’à la décision" in html
    assert " h " in html  # written as hours and minutes, not seconds


def test_it_measures_the_agreement_with_the_model(moderator, period):
    agreement = selectors.dashboard(user=moderator, days=30)["agreement"]

    # Held by the model, then decided: held1 (finally approved) and held2 (approved): 0 of 2.
    assert (agreement["held_decided"], agreement["held_rejected"]) == (2, 0)
    # Published by the model: clean1 reported then rejected, clean2 left alone: 1 of 2.
    assert (agreement["published"], agreement["published_rejected_after_reports"]) == (2, 1)
    assert agreement["published_rejected_share"] == 0.5


def test_it_filters_by_section_and_period(moderator, period, site, make_comment):
    services.article_upsert(site=site, external_id="art-2", section="sport")
    arrived(
        make_comment("Allez les bleus.", art=services.article_upsert(site=site, external_id="art-2")[0]),
        "held",
    )

    assert selectors.dashboard(user=moderator, days=30, section="sport")["arrivals"]["held"] == 1
    assert selectors.dashboard(user=moderator, days=30, section="politique")["arrivals"]["classified"] == 5
    assert selectors.dashboard_sections(user=moderator) == ["politique", "sport"]
    ModerationEvent.objects.update(created_at=timezone.now() - timedelta(days=10))
    assert selectors.dashboard(user=moderator, days=7)["arrivals"]["classified"] == 0


def test_it_puts_the_values_on_the_bars(client, moderator, period):
    client.force_login(moderator)

    html = client.get(reverse(URL), **FR).content.decode()

    values = re.findall(r'class="vigie-bar-value">(\d+)</text>', html)
    assert sorted(map(int, values)) and sum(map(int, values)) == 5  # each day's total, 5 in all


def test_it_exports_the_numbers_as_csv(client, moderator, period):
    client.force_login(moderator)

    response = client.get(reverse(URL), {"format": "csv", "days": "30"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode()), delimiter=";"))
    assert rows[0] == ["section", "key", "value"]
    assert ["arrivals", "held", "2"] in rows
    assert ["moderator:modo", "reversals", "1"] in rows
    assert ["agreement", "published_rejected_after_reports", "1"] in rows


def test_another_sites_moderator_sees_none_of_it(client, other_site, period):
    stranger = make_moderator(other_site, "autre")

    assert selectors.dashboard(user=stranger, days=30)["arrivals"]["classified"] == 0
    client.force_login(stranger)
    response = client.get(reverse(URL), {"site": str(period["clean2"].site_id)})
    assert response.status_code == 200
    assert response.context["site_id"] is None  # not one of theirs: ignored
