"""The DSA's side: notices of illegal content, statements of reasons, appeals."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from moderation import selectors, services
from moderation.models import Appeal, Classification, Comment, ModerationEvent, Notice, RejectReason
from tests.conftest import set_status
from tests.test_api_site import assert_error

S = Comment.Status


@pytest.fixture
def second_moderator(db, site):
    user = User.objects.create_user("modo2", password="modo2-pass-1234", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="moderate_comment"))
    site.moderators.add(user)
    return User.objects.get(pk=user.pk)


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def restrict(comment, *, to_status, actor="classifier", reason="", moderator=None, when=None):
    """Setup: a restriction as the trail records it (the classifier's reasons as it writes them)."""
    from_status = comment.status
    set_status(comment, to_status)
    event = ModerationEvent.objects.create(
        comment=comment,
        actor=actor,
        moderator=moderator,
        action="reject" if to_status == S.REJECTED else "classify",
        from_status=from_status,
        to_status=to_status,
        reason=reason,
    )
    if when is not None:
        ModerationEvent.objects.filter(pk=event.pk).update(created_at=when)
    return event


# --- statements of reasons ----------------------------------------------------------------------

# Every reason code the trail can hold, as it writes it, and the French the author reads.
REASONS = [
    ("toxic", "propos injurieux ou insultants"),
    ("hate", "discours de haine"),
    ("threat", "une menace"),
    ("spam", "spam ou publicité"),
    ("off_topic", "propos hors du sujet de l'article"),
    ("personal_data", "des données personnelles sur une personne"),
    ("other", "un manquement à la charte de participation"),
    ("", "un manquement à la charte de participation"),
    ("author banned", "l'auteur est exclu des commentaires du site"),
    ("author_banned", "l'auteur est exclu des commentaires du site"),
    ("banned word: connard", "un mot que le site ne publie pas"),
    ("toxicity 0.97 >= 0.90", "un langage que le classifieur automatique juge probablement toxique"),
    ("toxicity_reject", "un langage que le classifieur automatique juge probablement toxique"),
    ("spam 0.99 >= 0.95", "spam ou publicité"),
    ("personal data: phone number", "des données personnelles sur une personne"),
    ("display name: insult", "le nom affiché avec le commentaire"),
    ("reject_rate", "trop de commentaires récents de l'auteur ont été rejetés"),
    ("something the lead invents next", "un manquement à la charte de participation"),
]


@pytest.mark.parametrize(("reason", "french"), REASONS)
def test_every_rejection_has_a_statement_in_french(make_comment, reason, french):
    comment = make_comment("Un commentaire.")
    restrict(comment, to_status=S.REJECTED, reason=reason)

    statement = services.statement_for(comment)

    assert statement["fields"]["decision"] == "rejected"
    assert statement["fields"]["automated"] is True
    text = statement["text"]
    assert text.startswith(f"Décision : votre commentaire n° {comment.pk} a été retiré le ")
    assert f"Faits : {french}." in text
    assert "Cette décision a été prise par des moyens automatisés." in text
    assert "Fondement : la charte de participation du site. Charte de participation :" in text
    assert "Recours : vous pouvez faire appel jusqu'au " in text


def test_the_statement_names_the_words_the_moderator_decision_and_the_sites_clause(
    site, moderator, make_comment
):
    site.charter_clause = "Article 3 : pas d'insultes."
    site.save()
    comment = set_status(make_comment("Espèce de crétin fini."), S.HELD)
    body = comment.body
    Classification.objects.create(
        comment=comment,
        model_version="t",
        toxicity=0.8,
        spam=0.0,
        explanation={
            "toxicity": [
                {
                    "ngram": "crétin",
                    "start": body.index("crétin"),
                    "end": body.index("crétin") + 6,
                    "weight": 2.0,
                },
                {"ngram": "espèce", "start": 0, "end": 6, "weight": 0.7},
            ],
            "spam": [],
        },
    )
    services.comment_reject(comment_id=comment.pk, moderator=moderator, reason=RejectReason.TOXIC)
    comment.refresh_from_db()

    statement = services.statement_for(comment)

    fields = statement["fields"]
    assert (fields["reason"], fields["automated"], fields["facts"]["words"]) == (
        "toxic",
        False,
        ["crétin", "espèce"],
    )
    assert fields["ground"] == {
        "kind": "charter",
        "notice_ground": None,
        "text": "Article 3 : pas d'insultes.",
    }
    assert "Mots en cause : « crétin », « espèce »." in statement["text"]
    assert "Cette décision a été prise par un modérateur." in statement["text"]
    assert "Fondement : la charte de participation du site. Article 3 : pas d'insultes." in statement["text"]


def test_a_hold_gets_a_statement_only_once_it_lasts(site, make_comment):
    comment = make_comment("Un avis.")
    event = restrict(comment, to_status=S.HELD, reason="suspect word: ministre")
    assert services.statement_for(comment) is None
    ModerationEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(hours=25))

    statement = services.statement_for(comment)

    assert statement["fields"]["decision"] == "held"
    assert statement["fields"]["facts"]["words"] == ["ministre"]
    assert "est retenu avant publication depuis le" in statement["text"]
    assert "un mot que le site fait vérifier par un modérateur" in statement["text"]


def test_a_published_comment_has_no_statement(site_api, make_comment):
    comment = set_status(make_comment("Très bien."), S.PUBLISHED)
    response = site_api.get(f"/api/v1/comments/{comment.pk}")
    assert response.status_code == 200
    assert response.json()["statement"] is None


def test_the_site_reads_the_statement_in_french_or_in_english(site_api, make_comment):
    comment = make_comment("Achetez mes montres.")
    restrict(comment, to_status=S.REJECTED, reason="spam 0.99 >= 0.95")

    french = site_api.get(f"/api/v1/comments/{comment.pk}").json()["statement"]
    english = site_api.get(f"/api/v1/comments/{comment.pk}", HTTP_ACCEPT_LANGUAGE="en").json()["statement"]

    assert french["text"].startswith("Décision : votre commentaire")
    assert french["fields"]["language"] == "fr"
    assert english["text"].startswith(f"Decision: your comment #{comment.pk} was removed on ")
    assert "Facts: spam or advertising." in english["text"]
    assert english["fields"]["reason"] == french["fields"]["reason"] == "spam"


# --- notices -------------------------------------------------------------------------------------


def notify(api, comment, **extra):
    payload = {
        "comment_id": comment.pk,
        "ground": "defamation",
        "explanation": "Accuse sans preuve.",
        **extra,
    }
    return api.post("/api/v1/notices", payload, format="json")


def test_a_notice_through_its_whole_life(site, site_api, moderator, moderator_api, make_comment):
    comment = set_status(make_comment("Le maire a volé la caisse."), S.PUBLISHED)

    response = notify(site_api, comment, notifier={"name": "Me Dupont", "email": "dupont@example.fr"})

    assert response.status_code == 201, response.content
    assert set(response.json()) == {"id", "received_at"}
    notice = Notice.objects.get(pk=response.json()["id"])
    assert (notice.status, notice.ground, notice.notifier_email) == (
        "open",
        "defamation",
        "dupont@example.fr",
    )
    assert ModerationEvent.objects.filter(comment=comment, action="notice", actor="notifier").exists()
    queue = moderator_api.get("/api/v1/moderation/comments?queue=notices").json()["results"]
    assert [c["id"] for c in queue] == [comment.pk]
    detail = moderator_api.get(f"/api/v1/moderation/comments/{comment.pk}").json()
    assert [n["ground"] for n in detail["notices"]] == ["defamation"]

    assert (
        moderator_api.post(
            f"/api/v1/moderation/comments/{comment.pk}/reject", {"reason": "other"}, format="json"
        ).status_code
        == 200
    )

    notice.refresh_from_db()
    assert (notice.status, notice.decided_by) == (Notice.Status.UPHELD, moderator)
    assert notice.decided_at is not None
    assert moderator_api.get("/api/v1/moderation/comments?queue=notices").json()["results"] == []
    statement = site_api.get(f"/api/v1/comments/{comment.pk}").json()["statement"]
    assert statement["fields"]["ground"]["kind"] == "law"
    assert statement["fields"]["ground"]["notice_ground"] == "defamation"
    assert "Fondement : un signalement de contenu illicite (diffamation)" in statement["text"]


def test_approving_a_noticed_comment_rejects_the_notice(site, site_api, moderator, make_comment):
    comment = set_status(make_comment("Un avis tranché."), S.PUBLISHED)
    notice_id = notify(site_api, comment, ground="hate").json()["id"]
    services.comment_approve(comment_id=comment.pk, moderator=moderator)
    assert Notice.objects.get(pk=notice_id).status == Notice.Status.REJECTED


def test_it_refuses_a_bad_notice_and_another_sites_comment(site_api, other_site_api, make_comment):
    comment = set_status(make_comment("Un avis."), S.PUBLISHED)
    assert_error(notify(site_api, comment, ground="boring"), 400)
    assert_error(notify(site_api, comment, explanation=""), 400)
    assert_error(notify(site_api, comment, notifier={"email": "not-an-email"}), 400)
    assert_error(notify(other_site_api, comment), 404)
    assert not Notice.objects.exists()


def test_the_notices_queue_is_in_the_workbench_with_the_notice_beside_the_comment(
    site, site_api, moderator, client, make_comment
):
    comment = set_status(make_comment("Un avis."), S.PUBLISHED)
    notify(site_api, comment, ground="harassment", explanation="Il me harcèle depuis des semaines.")
    client.force_login(moderator)

    listing = client.get(reverse("admin:moderation_comment_changelist"), {"queue": "notices"})
    page = client.get(reverse("admin:moderation_comment_change", args=[comment.pk]))

    assert listing.status_code == 200
    assert [c.pk for c in listing.context["cl"].result_list] == [comment.pk]
    html = page.content.decode()
    assert "Signalements de contenu illicite (1)" in html
    assert "Il me harcèle depuis des semaines." in html
    assert "Harcèlement" in html


# --- appeals -------------------------------------------------------------------------------------


def appeal(api, comment, text="Je ne faisais que citer le ministre."):
    return api.post(f"/api/v1/comments/{comment.pk}/appeals", {"text": text}, format="json")


def test_the_moderator_who_decided_cannot_decide_the_appeal_another_one_upholds_it(
    site, site_api, moderator, second_moderator, make_comment, client
):
    comment = set_status(make_comment("Le ministre est un menteur."), S.PUBLISHED)
    services.comment_reject(comment_id=comment.pk, moderator=moderator, reason=RejectReason.TOXIC)

    response = appeal(site_api, comment)

    assert response.status_code == 201, response.content
    appeal_row = Appeal.objects.get(pk=response.json()["id"])
    assert (appeal_row.status, appeal_row.contested_by) == (Appeal.Status.OPEN, moderator)
    queue = api_for(second_moderator).get("/api/v1/moderation/comments?queue=appeals").json()["results"]
    assert [c["id"] for c in queue] == [comment.pk]
    # The same moderator: 403 in the API, in bulk, and in the workbench.
    same = api_for(moderator)
    assert_error(same.post(f"/api/v1/moderation/comments/{comment.pk}/approve"), 403, "own_decision_appealed")
    assert_error(
        same.post(
            "/api/v1/moderation/comments/bulk", {"ids": [comment.pk], "action": "reject"}, format="json"
        ),
        403,
    )
    client.force_login(moderator)
    page = client.post(reverse("admin:moderation_comment_decide", args=[comment.pk]), {"action": "approve"})
    assert page.status_code == 403
    comment.refresh_from_db()
    assert comment.status == S.REJECTED

    upheld = api_for(second_moderator).post(f"/api/v1/moderation/comments/{comment.pk}/approve")

    assert upheld.status_code == 200, upheld.content
    comment.refresh_from_db()
    appeal_row.refresh_from_db()
    assert comment.status == S.APPROVED
    assert (appeal_row.status, appeal_row.decided_by) == (Appeal.Status.UPHELD, second_moderator)
    statement = site_api.get(f"/api/v1/comments/{comment.pk}").json()["statement"]
    assert statement["fields"]["decision"] == "restored"
    assert statement["fields"]["appeal"]["status"] == "upheld"
    assert statement["text"].startswith(
        f"Décision : en appel, votre commentaire n° {comment.pk} a été rétabli le "
    )


def test_another_moderator_dismisses_an_appeal_and_the_rejection_stands(
    site, site_api, moderator, second_moderator, make_comment
):
    comment = set_status(make_comment("Insulte."), S.PUBLISHED)
    services.comment_reject(comment_id=comment.pk, moderator=moderator, reason=RejectReason.TOXIC)
    appeal(site_api, comment)
    rejected_before = comment.author.__class__.objects.get(pk=comment.author_id).rejected_count

    response = api_for(second_moderator).post(
        f"/api/v1/moderation/comments/{comment.pk}/reject", {"reason": "toxic"}, format="json"
    )

    assert response.status_code == 200, response.content
    comment.refresh_from_db()
    assert comment.status == S.REJECTED
    assert Appeal.objects.get(comment=comment).status == Appeal.Status.DISMISSED
    assert comment.author.__class__.objects.get(pk=comment.author_id).rejected_count == rejected_before
    statement = services.statement_for(comment)
    assert statement["fields"]["decision"] == "confirmed"
    assert "en appel" in statement["text"]
    # The same decision is not appealed twice.
    assert_error(appeal(site_api, comment), 409, "already_appealed")


def test_an_automated_hold_can_be_appealed_and_any_moderator_decides(site_api, moderator, make_comment):
    comment = make_comment("Un avis.")
    restrict(comment, to_status=S.HELD, reason="toxicity 0.71 >= 0.70")
    assert appeal(site_api, comment).status_code == 201
    assert Appeal.objects.get(comment=comment).contested_by is None
    services.comment_approve(comment_id=comment.pk, moderator=moderator)
    assert Appeal.objects.get(comment=comment).status == Appeal.Status.UPHELD


def test_it_refuses_appeals_nobody_restricted_late_or_twice(site_api, other_site_api, make_comment):
    published = set_status(make_comment("Publié."), S.PUBLISHED)
    assert_error(appeal(site_api, published), 409, "not_restricted")
    old = make_comment("Ancien.")
    restrict(old, to_status=S.REJECTED, reason="spam", when=timezone.now() - timedelta(days=200))
    assert_error(appeal(site_api, old), 409, "appeal_window_closed")
    recent = make_comment("Récent.")
    restrict(recent, to_status=S.REJECTED, reason="spam")
    assert appeal(site_api, recent).status_code == 201
    assert_error(appeal(site_api, recent), 409, "appeal_open")
    assert_error(appeal(other_site_api, recent), 404)
    assert_error(appeal(site_api, recent, text=""), 400)
    assert Appeal.objects.count() == 1
    assert ModerationEvent.objects.filter(comment=recent, action="appeal", actor="author").count() == 1


def test_queue_counts_include_notices_and_appeals(site, site_api, moderator, make_comment):
    comment = make_comment("x")
    restrict(comment, to_status=S.REJECTED, reason="spam")
    appeal(site_api, comment)
    counts = selectors.queue_counts(user=moderator)
    assert (counts["appeals"], counts["notices"]) == (1, 0)
