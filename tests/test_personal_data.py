"""Personal data (issue 10 item 4): a comment exposing someone's phone number, e-mail address,
IBAN or street address is held with reason personal_data and the span highlighted; a site can
turn it off; numbers that are not personal data are left alone."""

import pytest

from moderation import policy
from moderation.admin.highlight import highlight
from moderation.classifier import personal
from moderation.models import Classification, Comment

S = Comment.Status
ISSUE = "Voilà son adresse : 12 rue des Lilas, 75011 Paris, et son portable 06 12 34 56 78. Allez-y."


def kinds(text):
    return [(f.kind, text[f.start : f.end]) for f in personal.find(text)]


def test_it_finds_the_issues_phone_number_and_street_address_with_their_spans():
    assert kinds(ISSUE) == [("address", "12 rue des Lilas, 75011 Paris"), ("phone", "06 12 34 56 78")]
    for f in personal.find(ISSUE):
        assert ISSUE[f.start : f.end] == f.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Appelle-le au 0612345678 !", [("phone", "0612345678")]),
        ("son numéro : 06.12.34.56.78", [("phone", "06.12.34.56.78")]),
        ("joignable au +33 6 12 34 56 78", [("phone", "+33 6 12 34 56 78")]),
        ("à Londres : +44 20 7946 0958", [("phone", "+44 20 7946 0958")]),
        ("écrivez-lui : jean.dupont+presse@exemple.fr.", [("email", "jean.dupont+presse@exemple.fr")]),
        ("IBAN FR76 3000 6000 0112 3456 7890 189 merci", [("iban", "FR76 3000 6000 0112 3456 7890 189")]),
        ("virement sur DE89370400440532013000", [("iban", "DE89370400440532013000")]),
        ("Il habite 3 bis avenue Victor Hugo à Lyon.", [("address", "3 bis avenue Victor Hugo")]),
        ("rendez-vous au 5 rue de la Paix demain", [("address", "5 rue de la Paix")]),
        ("au 10 chemin des vignes, il y a un chien", [("address", "10 chemin des vignes")]),
        ("24 bd Saint-Michel 75005 Paris", [("address", "24 bd Saint-Michel 75005 Paris")]),
        ("12 Place de la République", [("address", "12 Place de la République")]),
    ],
)
def test_it_finds_each_kind(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Le 12/05/2024 à 14h30, la séance a duré 2 heures.",
        "Il a payé 1 200 000 euros en 2023, soit 3,5 % de plus.",
        "Voir l'article L. 121-1 du code de la consommation.",
        "La loi n° 2024-1234 du 12 mars 2024 est parue au JO.",
        "En 1998, 2002 et 2006 la France a joué la finale.",
        "Le code postal 75011 correspond au 11e arrondissement.",
        "ISBN 978-2-07-036822-8, 320 pages, 22,50 €.",
        "Score final 3-2, puis 2-1 au match retour.",
        "J'ai 12 cours de maths par semaine et 3 places de parking.",
        "Il y a 2 rues à traverser, puis 300 mètres.",
        "Le RER B part toutes les 6 minutes entre 6 h et 22 h.",
        "La facture FR-2024-000123 est réglée.",
        "@marie tu as raison, 100 % d'accord.",
        "Réf. AB12 3456 7890 1234 du dossier.",
        "Le taux passe de 0,06 à 0,12 au 1er janvier 2025.",
        "Référence produit 4006381333931, prix 12 €.",
        "Les 35 heures, les 39 heures : 4 heures d'écart.",
        "FR76 3000 6000 0112 3456 7890 188 (mauvaise clé)",
    ],
)
def test_it_leaves_numbers_that_are_not_personal_data(text):
    assert personal.find(text) == []


def test_the_policy_holds_personal_data_and_defaults_to_nothing():
    thresholds = policy.Thresholds(0.5, 0.9, 0.5, 0.9)
    common = {
        "toxicity": 0.1,
        "spam": 0.1,
        "thresholds": thresholds,
        "premoderated": False,
        "author_banned": False,
    }
    assert policy.decide(**common).status == policy.PUBLISHED
    verdict = policy.decide(**common, personal_data="phone")
    assert (verdict.status, verdict.reason) == (policy.HELD, "personal_data")
    # Rejections still come first.
    assert policy.decide(**{**common, "toxicity": 0.95}, personal_data="phone").status == policy.REJECTED


@pytest.mark.django_db
def test_a_comment_exposing_someone_is_held_with_the_span_highlighted(make_comment):
    # Failed before the fix: published (issue 10).
    comment = make_comment(ISSUE, classify=True)
    assert comment.status == S.HELD
    assert comment.events.get().reason == "personal_data"
    explanation = Classification.objects.get(comment=comment).explanation
    found = {(item["kind"], ISSUE[item["start"] : item["end"]]) for item in explanation["personal_data"]}
    assert found == {("address", "12 rue des Lilas, 75011 Paris"), ("phone", "06 12 34 56 78")}
    html = str(highlight(ISSUE, explanation, {"toxicity": 0.0, "spam": 0.0}))
    assert (
        '<mark class="vigie-ngram vigie-personal_data" title="06 12 34 56 78">06 12 34 56 78</mark>' in html
    )


@pytest.mark.django_db
def test_a_site_can_turn_it_off(site, make_comment):
    site.detect_personal_data = False
    site.save()
    comment = make_comment(ISSUE, classify=True)
    assert comment.status == S.PUBLISHED
