"""Per-site trust rules (new authors' first comments, a rejection rate) and moderators' notes."""

import pytest
from django.urls import reverse

from moderation import policy, services
from moderation.models import Author, AuthorNote, Comment, ModerationEvent, RejectReason
from tests.conftest import set_status
from tests.test_api_site import assert_error

S = Comment.Status


def test_a_new_authors_first_comments_are_held_when_the_site_says_so(site, make_comment):
    site.premoderate_first_comments = 2
    site.save()

    first = make_comment("Très bon article, merci.", author="nouveau", classify=True)
    second = make_comment("Je suis d'accord avec vous.", author="nouveau", classify=True)
    third = make_comment("Merci encore pour ce travail.", author="nouveau", classify=True)

    assert (first.status, second.status, third.status) == (S.HELD, S.HELD, S.PUBLISHED)
    assert ModerationEvent.objects.get(comment=first, action="classify").reason == "new_author"
    statement = services.statement_for(
        Comment.objects.get(pk=first.pk), at=first.created_at.replace(year=2099)
    )
    assert "les premiers commentaires d'un nouvel auteur sont vérifiés par un modérateur" in statement["text"]


def test_the_first_comments_rule_is_off_by_default(make_comment):
    assert make_comment("Très bon article, merci.", author="nouveau", classify=True).status == S.PUBLISHED


def test_the_policy_holds_a_new_author_after_the_rejections():
    thresholds = policy.Thresholds(0.7, 0.9, 0.7, 0.9)
    common = {"thresholds": thresholds, "premoderated": False, "author_banned": False, "new_author": True}
    assert policy.decide(toxicity=0.1, spam=0.1, **common) == policy.Verdict("held", "new_author")
    assert policy.decide(toxicity=0.95, spam=0.1, **common).status == "rejected"


def test_an_author_past_the_sites_reject_rate_is_premoderated_with_an_event(site, moderator, make_comment):
    site.premoderate_reject_rate = 0.5
    site.save()
    comments = [set_status(make_comment(f"Avis {i}", author="rageur"), S.PUBLISHED) for i in range(4)]
    services.comment_reject(comment_id=comments[0].pk, moderator=moderator, reason=RejectReason.TOXIC)
    services.comment_reject(comment_id=comments[1].pk, moderator=moderator, reason=RejectReason.TOXIC)
    author = Author.objects.get(external_id="rageur")
    assert author.status == Author.Status.NORMAL  # 2 of 4: not past one half

    services.comment_reject(comment_id=comments[2].pk, moderator=moderator, reason=RejectReason.TOXIC)

    author.refresh_from_db()
    assert author.status == Author.Status.PREMODERATED
    event = ModerationEvent.objects.get(author=author, action=ModerationEvent.Action.PREMODERATE)
    assert (event.actor, event.reason, event.moderator) == ("system", "reject_rate", None)
    assert event.note.startswith("3 of 4 comments rejected over 30 days")
    # Their next comment waits for a moderator.
    assert make_comment("Encore moi.", author="rageur", classify=True).status == S.HELD


def test_the_classifiers_rejections_count_too(site, make_comment, monkeypatch):
    site.premoderate_reject_rate = 0.3
    site.banned_words = "saperlipopette"
    site.save()
    for i in range(2):
        set_status(make_comment(f"Avis correct {i}", author="juron"), S.PUBLISHED)
    make_comment("Saperlipopette !", author="juron", classify=True)

    author = Author.objects.get(external_id="juron")
    assert author.status == Author.Status.PREMODERATED
    assert ModerationEvent.objects.filter(author=author, actor="system", reason="reject_rate").count() == 1


def test_the_reject_rate_needs_a_few_comments_and_leaves_a_banned_author_banned(
    site, moderator, make_comment
):
    site.premoderate_reject_rate = 0.1
    site.save()
    once = set_status(make_comment("Seul avis.", author="unique"), S.PUBLISHED)
    services.comment_reject(comment_id=once.pk, moderator=moderator, reason=RejectReason.SPAM)
    assert Author.objects.get(external_id="unique").status == Author.Status.NORMAL


def test_moderators_write_notes_on_authors_in_the_api(site, moderator_api, moderator, make_comment):
    comment = set_status(make_comment("Un avis.", author="habitué"), S.HELD)
    author = comment.author

    response = moderator_api.post(
        f"/api/v1/moderation/authors/{author.pk}/notes",
        {"text": "Provoque souvent, jamais insultant."},
        format="json",
    )

    assert response.status_code == 201, response.content
    note = AuthorNote.objects.get()
    assert (note.author, note.moderator, note.text) == (
        author,
        moderator,
        "Provoque souvent, jamais insultant.",
    )
    assert ModerationEvent.objects.filter(author=author, action="note", moderator=moderator).exists()
    listed = moderator_api.get(f"/api/v1/moderation/authors/{author.pk}/notes").json()
    assert [n["text"] for n in listed] == ["Provoque souvent, jamais insultant."]
    detail = moderator_api.get(f"/api/v1/moderation/comments/{comment.pk}").json()
    assert [n["text"] for n in detail["author_notes"]] == ["Provoque souvent, jamais insultant."]
    assert_error(
        moderator_api.post(f"/api/v1/moderation/authors/{author.pk}/notes", {"text": ""}, format="json"), 400
    )


def test_another_sites_moderator_cannot_note_an_author(other_site, make_comment):
    from django.contrib.auth.models import Permission, User
    from rest_framework.test import APIClient

    author = make_comment("Un avis.").author
    outsider = User.objects.create_user("outsider", password="x-pass-1234", is_staff=True)
    outsider.user_permissions.add(Permission.objects.get(codename="moderate_comment"))
    other_site.moderators.add(outsider)
    api = APIClient()
    api.force_authenticate(User.objects.get(pk=outsider.pk))
    assert_error(api.post(f"/api/v1/moderation/authors/{author.pk}/notes", {"text": "x"}, format="json"), 404)
    assert_error(api.get(f"/api/v1/moderation/authors/{author.pk}/notes"), 404)
    assert not AuthorNote.objects.exists()


def test_the_workbench_shows_and_adds_notes_beside_the_comment(moderator, client, make_comment):
    comment = set_status(make_comment("Un avis.", author="habitué"), S.HELD)
    client.force_login(moderator)
    page_url = reverse("admin:moderation_comment_change", args=[comment.pk])

    response = client.post(
        reverse("admin:moderation_comment_author_note", args=[comment.author_id]),
        {"text": "Déjà averti le 3 mars.", "next": page_url},
    )

    assert response.status_code == 302
    assert response["Location"] == page_url
    html = client.get(page_url).content.decode()
    assert "Notes des modérateurs" in html
    assert "Déjà averti le 3 mars." in html


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_the_reject_rate_is_a_share(site, rate):
    from django.core.exceptions import ValidationError

    site.premoderate_reject_rate = rate
    with pytest.raises(ValidationError):
        site.full_clean()
