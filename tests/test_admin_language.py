"""The workbench speaks the reader's language: French by default, English to a browser asking.

Reasons in the trail are stored as codes with their numbers (moderation.reasons) and turned
into sentences when a page is read; rows written as English sentences before the codes are
still shown translated.
"""

import pytest
from django.urls import reverse

from moderation import reasons, services
from moderation.models import Classification, Comment, ModerationEvent, RejectReason
from tests.conftest import set_status

FR = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}


@pytest.fixture
def modo(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def held_insult(site, make_comment, moderator):
    """An insult the classifier held (toxicity 0.879 over a 0.70 hold), rejected as a threat."""
    site.toxicity_hold, site.toxicity_reject = 0.70, 1.0  # held, whatever the model scores it
    site.save()
    comment = make_comment("Espèce de connard, je vais te retrouver.")
    services.comments_classify(comment_ids=[comment.pk])
    comment.refresh_from_db()
    # The shipped model's scores vary with its version: pin the ones the page shows.
    Classification.objects.filter(comment=comment).update(
        toxicity=0.879, spam=0.0012, labels={"identity_hate": 0.12381}
    )
    ModerationEvent.objects.filter(comment=comment).update(
        reason="toxicity_hold", reason_params={"score": 0.879, "threshold": 0.7, "model": "3.3ef8"}
    )
    Comment.objects.filter(pk=comment.pk).update(toxicity=0.879, spam=0.0012, priority=0.879)
    services.comment_reject(comment_id=comment.pk, moderator=moderator, reason=RejectReason.THREAT)
    return comment


def page(modo, comment, headers) -> str:
    response = modo.get(reverse("admin:moderation_comment_change", args=[comment.pk]), **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_it_stores_the_classifiers_reason_as_a_code_with_its_numbers(site, make_comment):
    site.toxicity_hold, site.toxicity_reject = 0.0, 1.0
    site.save()
    comment = make_comment("Espèce de connard.", classify=True)

    event = comment.events.get()

    assert comment.status == Comment.Status.HELD
    assert event.reason == reasons.TOXICITY_HOLD
    assert event.reason_params["threshold"] == 0.0
    assert event.reason_params["score"] == pytest.approx(comment.toxicity, abs=1e-4)
    assert event.reason_params["model"]
    assert event.note == ""


def test_it_shows_the_trail_in_french(modo, held_insult):
    html = page(modo, held_insult, FR)

    assert "toxicité 0,88 ≥ 0,70 (seuil de rétention)" in html
    assert "Menace" in html or "menace" in html
    assert "modèle 3.3ef8" in html
    assert "haine identitaire 0,12" in html
    assert "classé" in html.lower()
    for english in ("toxicity 0.88", ">= 0.70", "threat<", "tox=", "identity_hate", "classify received"):
        assert english not in html, english


def test_it_serves_english_to_a_browser_asking_for_it(modo, held_insult):
    html = page(modo, held_insult, EN)

    assert "toxicity 0.88 ≥ 0.70 (hold threshold)" in html
    assert "model 3.3ef8" in html
    assert "identity hate 0.12" in html
    assert "Approuver" not in html
    assert "seuil" not in html
    assert "Log out" in html


def test_it_rounds_a_score_the_same_in_the_list_the_trail_and_the_panel(modo, held_insult):
    listing = modo.get(reverse("admin:moderation_comment_changelist"), **FR).content.decode()
    html = page(modo, held_insult, FR)

    assert "0,88" in listing and "0,87" not in listing
    assert "0,87" not in html
    assert html.count("0,88") >= 2  # the scores panel and the trail


def test_it_translates_reasons_written_as_english_sentences_before_the_codes(modo, held_insult):
    ModerationEvent.objects.filter(comment=held_insult, actor="classifier").update(
        reason="toxicity 0.84 >= 0.70", reason_params={}, note="model 3.3ef8"
    )

    html = page(modo, held_insult, FR)

    assert "toxicité 0,84 ≥ 0,70" in html
    assert "modèle 3.3ef8" in html
    assert "toxicity 0.84" not in html


@pytest.mark.parametrize(
    ("reason", "params", "french"),
    [
        ("clean", {}, "rien à retenir"),
        ("premoderation", {}, "pré-modération (article ou auteur)"),
        ("banned_word", {"word": "connard"}, "mot interdit : connard"),
        ("suspect_word", {"word": "idiot"}, "mot suspect : idiot"),
        ("spam_reject", {"score": 0.991, "threshold": 0.9}, "spam 0,99 ≥ 0,90 (seuil de rejet)"),
        ("reports", {"count": 3}, "3 signalements de lecteurs"),
        ("author_banned", {}, "l’auteur est banni"),
        ("threat", {}, "menace"),
        ("pre-moderation", {}, "pré-modération (article ou auteur)"),
        ("3 reader reports", {}, "3 signalements de lecteurs"),
        ("banned word: connard", {}, "mot interdit : connard"),
        ("récidive", {}, "récidive"),  # a moderator's own words are kept as written
    ],
)
def test_it_renders_each_reason_in_french(db, reason, params, french):
    from django.utils import translation

    with translation.override("fr"):
        assert reasons.describe(reason, params) == french


def test_the_moderators_reasons_are_the_models_reasons():
    assert list(reasons.MODERATOR_REASONS) == RejectReason.values
    assert [str(v) for v in reasons.MODERATOR_REASONS.values()] == [
        str(label) for label in RejectReason.labels
    ]


def test_it_titles_the_lists_with_their_plural_names(modo, held_insult):
    for name, french, english in [
        ("author", "Auteurs", "Authors"),
        ("moderationevent", "Événements de modération", "Moderation events"),
    ]:
        url = reverse(f"admin:moderation_{name}_changelist")
        html = modo.get(url, **FR).content.decode()
        assert f"<h1>{french}</h1>" in html
        assert "Sélectionnez" not in html
        assert f"<h1>{english}</h1>" in modo.get(url, **EN).content.decode()


def test_it_names_the_fields_in_the_models(db):
    from django.utils import translation

    with translation.override("fr"):
        assert str(Comment._meta.get_field("open_reports").verbose_name) == "signalements ouverts"
        assert str(ModerationEvent._meta.get_field("from_status").verbose_name) == "de"
        assert str(Comment._meta.verbose_name_plural) == "commentaires"


def test_it_says_what_the_held_share_counts(modo, held_insult):
    html = modo.get(reverse("vigie-dashboard"), **FR).content.decode()

    assert "Taux de rétention" not in html
    assert "retenus à l’arrivée" in html


def test_it_keeps_reported_holds_readable(modo, site, make_comment):
    site.reports_to_hold = 1
    site.save()
    comment = set_status(make_comment("Un avis."), Comment.Status.PUBLISHED)
    services.report_create(site=site, comment_id=comment.pk, reason="abuse", reporter_id="r-1")

    event = ModerationEvent.objects.get(comment=comment, action="hold")
    html = page(modo, comment, FR)

    assert (event.reason, event.reason_params) == ("reports", {"count": 1, "weight": 1.0})
    assert "1 signalement de lecteur" in html
