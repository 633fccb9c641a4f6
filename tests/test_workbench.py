"""The workbench's queues at a glance and its keyboard, driven with Django's test client.

What a row says (the whole text, why it waits with the words, the author's record, its age,
the article short, one score), what the change page hands its keyboard script (the queue's
previous and next comments, the moderator's last reason), in French by default.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from moderation import services
from moderation.models import Appeal, Classification, Comment, Notice, RejectReason
from tests.conftest import set_status

FR = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}
CHANGELIST = "admin:moderation_comment_changelist"
LONG = "Un long commentaire. " * 30 + "La fin du texte est ici."


@pytest.fixture
def modo(client, moderator):
    client.force_login(moderator)
    return client


def held_by_score(comment: Comment, toxicity: float, words: list[str]) -> Comment:
    """Setup: as the classifier holds a comment (its event, its classification's words)."""
    body = comment.body
    explanation = {
        "toxicity": [
            {"ngram": w, "start": body.index(w), "end": body.index(w) + len(w), "weight": 2.0} for w in words
        ],
        "spam": [],
    }
    Classification.objects.create(
        comment=comment, model_version="t-1", toxicity=toxicity, spam=0.01, explanation=explanation
    )
    Comment.objects.filter(pk=comment.pk).update(toxicity=toxicity, spam=0.01, priority=toxicity)
    comment = set_status(comment, Comment.Status.HELD)
    comment.events.create(
        actor="classifier",
        action="classify",
        from_status="received",
        to_status="held",
        reason="toxicity_hold",
        reason_params={"score": toxicity, "threshold": 0.5, "model": "t-1"},
    )
    return comment


@pytest.fixture
def desk(site, make_comment):
    insult = held_by_score(make_comment("Espèce de connard, tais-toi.", author="troll"), 0.914, ["connard"])
    long = held_by_score(make_comment(LONG, author="bavard"), 0.61, ["long"])
    set_status(make_comment("Un avis publié.", author="troll"), Comment.Status.PUBLISHED)
    set_status(make_comment("Un avis rejeté.", author="troll"), Comment.Status.REJECTED)
    Comment.objects.filter(pk=insult.pk).update(created_at=timezone.now() - timedelta(hours=3, minutes=5))
    return insult, long


def rows(response) -> dict[int, str]:
    html = response.content.decode()
    assert response.status_code == 200
    out = {}
    for comment in response.context["cl"].result_list:
        start = html.index(f'href="/admin/moderation/comment/{comment.pk}/change/')
        row_start = html.rindex("<tr", 0, start)
        out[comment.pk] = html[row_start : html.index("</tr>", start)]
    return out


def test_a_row_says_why_the_comment_waits_with_the_words(modo, desk):
    insult, _ = desk

    row = rows(modo.get(reverse(CHANGELIST), {"queue": "held"}, **FR))[insult.pk]

    assert "toxicité 0,91 ≥ 0,50 (seuil de rétention)" in row
    assert "« connard »" in row


def test_a_row_shows_the_author_and_their_record(modo, desk):
    insult, _ = desk

    row = rows(modo.get(reverse(CHANGELIST), {"queue": "held"}, **FR))[insult.pk]

    assert "Troll" in row
    assert "1 publié · 1 retenu · 1 rejeté" in row


def test_a_row_shows_its_age_and_the_article_on_one_line(modo, desk, article):
    insult, _ = desk

    row = rows(modo.get(reverse(CHANGELIST), {"queue": "held"}, **FR))[insult.pk]

    assert "3\xa0heures" in row
    assert f'class="vigie-ellipsis" title="{article.title}"' in row


def test_a_row_holds_the_whole_text_of_a_long_comment(modo, desk):
    _, long = desk

    row = rows(modo.get(reverse(CHANGELIST), {"queue": "held"}, **FR))[long.pk]

    assert f'title="{LONG}"' in row  # on hover
    assert "<details" in row and "La fin du texte est ici.</div>" in row  # expanded in place
    assert "texte entier (" in row


def test_the_list_has_one_score_column_rounded_like_everywhere(modo, desk):
    response = modo.get(reverse(CHANGELIST), {"queue": "held"}, **FR)
    html = response.content.decode()

    headers = [h.lower() for h in response.context["result_headers"] for h in [str(h["text"])]]
    assert headers.count("score") == 1
    assert "toxicité" not in headers and "spam" not in headers
    assert "0,91" in html and "0,914" not in html


def test_a_row_names_reports_notices_appeals_and_premoderation(modo, site, make_comment, moderator):
    site.reports_to_hold = 5
    site.save()
    reported = set_status(make_comment("Un avis signalé.", author="r"), Comment.Status.PUBLISHED)
    for reader in ("l-1", "l-2"):
        services.report_create(site=site, comment_id=reported.pk, reason="abuse", reporter_id=reader)
    Notice.objects.create(site=site, comment=reported, ground="other", explanation="Illégal ?")
    premoderated = set_status(make_comment("En attente.", author="p"), Comment.Status.HELD)
    premoderated.events.create(
        actor="classifier",
        action="classify",
        from_status="received",
        to_status="held",
        reason="premoderation",
    )
    rejected = set_status(make_comment("Contesté.", author="c"), Comment.Status.REJECTED)
    Appeal.objects.create(site=site, comment=rejected, text="Je conteste.")

    reported_row = rows(modo.get(reverse(CHANGELIST), {"queue": "reported"}, **FR))[reported.pk]
    held_row = rows(modo.get(reverse(CHANGELIST), {"queue": "held"}, **FR))[premoderated.pk]
    appeal_row = rows(modo.get(reverse(CHANGELIST), {"queue": "appeals"}, **FR))[rejected.pk]

    assert "2 signalements ouverts" in reported_row
    assert "signalement de contenu illicite" in reported_row
    assert "pré-modération" in held_row
    assert "l’auteur conteste la décision" in appeal_row


def test_the_queue_reads_in_english_to_a_browser_asking(modo, desk):
    insult, _ = desk

    row = rows(modo.get(reverse(CHANGELIST), {"queue": "held"}, **EN))[insult.pk]

    assert "toxicity 0.91 ≥ 0.50 (hold threshold)" in row
    assert "1 published · 1 held · 1 rejected" in row


def test_the_list_reads_a_page_in_a_fixed_number_of_queries(
    modo, site, make_comment, django_assert_max_num_queries
):
    for n in range(12):
        held_by_score(make_comment(f"Quel connard numéro {n}.", author=f"a-{n}"), 0.7 + n / 100, ["connard"])
    with django_assert_max_num_queries(25):
        response = modo.get(reverse(CHANGELIST), {"queue": "held"}, **FR)
    assert len(rows(response)) == 12


def test_the_change_page_knows_the_queues_previous_and_next(modo, desk, make_comment):
    insult, long = desk
    worst = held_by_score(make_comment("Ordure, pourriture.", author="x"), 0.97, ["Ordure"])
    url = reverse("admin:moderation_comment_change", args=[insult.pk])

    response = modo.get(url, {"_changelist_filters": "queue=held"}, **FR)

    assert response.context["vigie_previous_url"].startswith(
        reverse("admin:moderation_comment_change", args=[worst.pk])
    )
    assert response.context["vigie_next_url"].startswith(
        reverse("admin:moderation_comment_change", args=[long.pk])
    )
    html = response.content.decode()
    assert 'src="/static/vigie/workbench.js"' in html
    assert "<script>" not in html.split("</head>")[1]  # no inline script in the page (CSP)
    assert "Raccourcis clavier" in html


def test_r_rejects_with_the_moderators_last_reason(modo, desk, moderator):
    insult, long = desk
    services.comment_reject(comment_id=insult.pk, moderator=moderator, reason=RejectReason.HATE)

    response = modo.get(reverse("admin:moderation_comment_change", args=[long.pk]), **FR)

    assert response.context["vigie_last_reason"] == "hate"
    assert 'data-last-reason="hate"' in response.content.decode()
    assert "rejeter : discours de haine (votre dernier motif)" in response.content.decode()


def test_a_decision_moves_on_in_the_queue_the_moderator_works(modo, site, make_comment):
    site.reports_to_hold = 5
    site.save()
    first, second = (
        set_status(make_comment(f"Avis {n}.", author=f"r{n}"), Comment.Status.PUBLISHED) for n in (1, 2)
    )
    for comment in (first, second):
        services.report_create(site=site, comment_id=comment.pk, reason="abuse", reporter_id="l-1")

    response = modo.post(
        reverse("admin:moderation_comment_decide", args=[first.pk]),
        {"action": "reject", "reason": "toxic", "queue": "reported"},
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:moderation_comment_change", args=[second.pk]))
