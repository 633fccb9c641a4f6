"""The moderator's workbench in the Django admin, driven with Django's test client."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from moderation import services
from moderation.models import Author, Classification, Comment, ModerationEvent, RejectReason
from tests.conftest import set_status

CHANGELIST = "admin:moderation_comment_changelist"


def held(comment: Comment, *, toxicity: float, explanation: dict | None = None) -> Comment:
    """Setup: a comment the classifier held, with its scores and explanation."""
    Classification.objects.create(
        comment=comment,
        model_version="test-1",
        toxicity=toxicity,
        spam=0.01,
        language="fr",
        explanation=explanation or {"toxicity": [], "spam": []},
    )
    Comment.objects.filter(pk=comment.pk).update(toxicity=toxicity, spam=0.01, priority=toxicity)
    return set_status(comment, Comment.Status.HELD)


def span(body: str, ngram: str, weight: float = 1.0) -> dict:
    start = body.index(ngram)
    return {"ngram": ngram, "start": start, "end": start + len(ngram), "weight": weight}


@pytest.fixture
def admin_client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def modo(admin_client_for, moderator):
    return admin_client_for(moderator)


@pytest.fixture
def queue(make_comment):
    """Three held comments with different scores and one published one."""
    low = held(make_comment("Article un peu léger.", author="a-1"), toxicity=0.41)
    high = held(make_comment("Espèce de connard.", author="a-2"), toxicity=0.93)
    mid = held(make_comment("Quel imbécile ce ministre.", author="a-3"), toxicity=0.67)
    set_status(make_comment("Merci pour cet article.", author="a-4"), Comment.Status.PUBLISHED)
    return low, high, mid


def test_it_shows_the_queues_with_their_counts(modo, queue):
    response = modo.get(reverse(CHANGELIST), {"queue": "held"})

    assert response.status_code == 200
    counts = {q["key"]: q["count"] for q in response.context["vigie_queues"]}
    assert counts == {
        "held": 3, "reported": 0, "received": 0, "published": 1,
        "approved": 0, "rejected": 0, "notices": 0, "appeals": 0,
    }  # fmt: skip
    assert b'data-queue="held"' in response.content


def test_it_orders_the_held_queue_by_score(modo, queue):
    low, high, mid = queue

    response = modo.get(reverse(CHANGELIST), {"queue": "held"})

    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [high.pk, mid.pk, low.pk]


def test_it_highlights_the_words_that_drove_the_score_and_escapes_the_body(modo, make_comment):
    body = "Ferme-la <script>alert('x')</script> espèce de connard"
    comment = held(
        make_comment(body),
        toxicity=0.9,
        explanation={"toxicity": [span(body, "connard"), span(body, "ferme-la".capitalize())], "spam": []},
    )

    response = modo.get(reverse("admin:moderation_comment_change", args=[comment.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<mark class="vigie-ngram vigie-toxicity" title="connard">connard</mark>' in html
    assert '<mark class="vigie-ngram vigie-toxicity" title="Ferme-la">Ferme-la</mark>' in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<script>alert(" not in html


def test_it_highlights_only_the_ngrams_that_weigh(modo, make_comment):
    body = "Merci pour cet article, espèce de génie"
    comment = held(
        make_comment(body),
        toxicity=0.8,
        explanation={
            "toxicity": [span(body, "espèce", 1.7), span(body, "cet", 0.19)],
            "spam": [span(body, "Merci")],
        },
    )

    response = modo.get(reverse("admin:moderation_comment_change", args=[comment.pk]))

    html = response.content.decode()
    assert '<mark class="vigie-ngram vigie-toxicity" title="espèce">espèce</mark>' in html
    assert html.count("<mark") == 1  # "cet" weighs little, and the spam score is low


def test_it_ignores_explanation_offsets_outside_the_body(modo, make_comment):
    comment = held(
        make_comment("Court."),
        toxicity=0.8,
        explanation={"toxicity": [{"ngram": "x", "start": 3, "end": 400, "weight": 1}], "spam": [{}]},
    )

    response = modo.get(reverse("admin:moderation_comment_change", args=[comment.pk]))

    assert response.status_code == 200
    assert "<mark" not in response.content.decode()


def test_it_shows_reports_and_the_authors_history_beside_the_comment(modo, site, make_comment):
    earlier = make_comment("Un premier avis, sans histoire.", author="troll")
    set_status(earlier, Comment.Status.PUBLISHED)
    comment = make_comment("Tu racontes n'importe quoi, abruti.", author="troll")
    set_status(comment, Comment.Status.PUBLISHED)
    services.report_create(site=site, comment_id=comment.pk, reason="abuse", text="Insulte gratuite")
    Author.objects.filter(external_id="troll").update(approved_count=4, rejected_count=2)

    response = modo.get(reverse("admin:moderation_comment_change", args=[comment.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Insulte gratuite" in html
    assert "Un premier avis, sans histoire." in html
    assert "4 approuvés" in html
    assert "2 rejetés" in html
    assert [c.pk for c in response.context["vigie_history"]] == [earlier.pk]


def test_it_approves_a_comment_in_one_click(modo, moderator, queue):
    low, high, mid = queue

    response = modo.post(reverse("admin:moderation_comment_decide", args=[high.pk]), {"action": "approve"})

    # On to the next comment of the held queue, the worst first (the queue kept for j / k).
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("admin:moderation_comment_change", args=[mid.pk]) + "?_changelist_filters=queue%3Dheld"
    )
    high.refresh_from_db()
    assert high.status == Comment.Status.APPROVED
    event = ModerationEvent.objects.get(comment=high, action=ModerationEvent.Action.APPROVE)
    assert (event.moderator, event.from_status, event.to_status) == (moderator, "held", "approved")
    assert Author.objects.get(pk=high.author_id).approved_count == 1


def test_it_rejects_a_comment_with_a_reason_in_one_click(modo, moderator, queue):
    _, high, _ = queue

    response = modo.post(
        reverse("admin:moderation_comment_decide", args=[high.pk]), {"action": "reject", "reason": "hate"}
    )

    assert response.status_code == 302
    high.refresh_from_db()
    assert high.status == Comment.Status.REJECTED
    event = ModerationEvent.objects.get(comment=high, action=ModerationEvent.Action.REJECT)
    assert (event.moderator, event.reason) == (moderator, RejectReason.HATE)


def test_it_refuses_a_reject_without_a_known_reason(modo, queue):
    _, high, _ = queue

    response = modo.post(
        reverse("admin:moderation_comment_decide", args=[high.pk]), {"action": "reject", "reason": "bof"}
    )

    assert response.status_code == 302
    high.refresh_from_db()
    assert high.status == Comment.Status.HELD
    assert not ModerationEvent.objects.filter(comment=high).exists()


def test_it_only_decides_on_post(modo, queue):
    _, high, _ = queue

    response = modo.get(reverse("admin:moderation_comment_decide", args=[high.pk]), {"action": "approve"})

    assert response.status_code == 405
    high.refresh_from_db()
    assert high.status == Comment.Status.HELD


def test_it_bulk_rejects_with_a_reason(modo, moderator, queue):
    ids = [c.pk for c in queue]

    response = modo.post(
        reverse(CHANGELIST) + "?queue=held", {"action": "reject_spam", "_selected_action": ids}
    )

    assert response.status_code == 302
    assert set(Comment.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"rejected"}
    events = ModerationEvent.objects.filter(comment__in=ids, action=ModerationEvent.Action.REJECT)
    assert sorted(e.comment_id for e in events) == sorted(ids)
    assert {(e.moderator_id, e.reason) for e in events} == {(moderator.pk, "spam")}


def test_it_bulk_changes_nothing_when_one_comment_cannot_move(modo, queue, make_comment):
    received = make_comment("Pas encore classé.")  # received -> approved is allowed...
    rejected = set_status(make_comment("Déjà rejeté."), Comment.Status.REJECTED)
    ids = [queue[0].pk, received.pk, rejected.pk]

    response = modo.post(reverse(CHANGELIST), {"action": "reject_toxic", "_selected_action": ids})

    # ...but rejected -> rejected is not: all or nothing.
    assert response.status_code == 302
    assert Comment.objects.get(pk=queue[0].pk).status == "held"
    assert not ModerationEvent.objects.filter(comment__in=ids).exists()


def test_it_bans_the_author_from_the_comment_page(modo, moderator, queue):
    _, high, _ = queue
    page = reverse("admin:moderation_comment_change", args=[high.pk])

    response = modo.post(
        reverse("admin:moderation_comment_author", args=[high.author_id, "ban"]), {"next": page}
    )

    assert response.status_code == 302
    assert response["Location"] == page
    assert Author.objects.get(pk=high.author_id).status == Author.Status.BANNED
    event = ModerationEvent.objects.get(author_id=high.author_id, action=ModerationEvent.Action.BAN)
    assert event.moderator == moderator


def test_it_premoderates_the_author_and_ignores_an_outside_next(modo, queue):
    _, high, _ = queue

    response = modo.post(
        reverse("admin:moderation_comment_author", args=[high.author_id, "premoderate"]),
        {"next": "https://evil.example/"},
    )

    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
    assert Author.objects.get(pk=high.author_id).status == Author.Status.PREMODERATED


def test_it_refuses_a_non_staff_user(admin_client_for, stranger, queue):
    client = admin_client_for(stranger)
    _, high, _ = queue

    listing = client.get(reverse(CHANGELIST))
    decision = client.post(reverse("admin:moderation_comment_decide", args=[high.pk]), {"action": "approve"})
    dashboard = client.get(reverse("vigie-dashboard"))

    assert listing.status_code == 302 and "/admin/login/" in listing["Location"]
    assert decision.status_code == 302 and "/admin/login/" in decision["Location"]
    assert dashboard.status_code == 302
    assert Comment.objects.get(pk=high.pk).status == Comment.Status.HELD


def test_it_refuses_staff_without_the_moderation_permission(admin_client_for, site, queue):
    clerk = User.objects.create_user("clerk", password="clerk-pass-1234", is_staff=True)
    site.moderators.add(clerk)
    client = admin_client_for(clerk)
    _, high, _ = queue

    listing = client.get(reverse(CHANGELIST))
    decision = client.post(reverse("admin:moderation_comment_decide", args=[high.pk]), {"action": "approve"})

    assert listing.status_code == 403
    assert decision.status_code == 403
    assert Comment.objects.get(pk=high.pk).status == Comment.Status.HELD


def test_it_hides_a_sites_comments_from_another_sites_moderator(admin_client_for, other_site, queue):
    other = User.objects.create_user("other-modo", password="other-pass-1234", is_staff=True)
    other.user_permissions.add(Permission.objects.get(codename="moderate_comment"))
    other_site.moderators.add(other)
    client = admin_client_for(User.objects.get(pk=other.pk))
    _, high, _ = queue

    listing = client.get(reverse(CHANGELIST), {"queue": "held"})
    page = client.get(reverse("admin:moderation_comment_change", args=[high.pk]))
    decision = client.post(reverse("admin:moderation_comment_decide", args=[high.pk]), {"action": "approve"})
    ban = client.post(reverse("admin:moderation_comment_author", args=[high.author_id, "ban"]))

    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == []
    assert {q["key"]: q["count"] for q in listing.context["vigie_queues"]}["held"] == 0
    assert page.status_code == 302  # the admin's "does not exist" redirect
    assert decision.status_code == 404
    assert ban.status_code == 404
    assert Comment.objects.get(pk=high.pk).status == Comment.Status.HELD
    assert Author.objects.get(pk=high.author_id).status == Author.Status.NORMAL


def test_it_keeps_the_event_trail_read_only(modo, moderator, queue):
    _, high, _ = queue
    services.comment_reject(comment_id=high.pk, moderator=moderator, reason="toxic")
    event = ModerationEvent.objects.get(comment=high)

    page = modo.get(reverse("admin:moderation_comment_change", args=[high.pk]))
    edit = modo.post(reverse("admin:moderation_moderationevent_change", args=[event.pk]), {"reason": "x"})

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert edit.status_code == 403
    assert ModerationEvent.objects.get(pk=event.pk).reason == "toxic"


def test_it_draws_the_dashboard(modo, queue, moderator):
    services.comment_approve(comment_id=queue[0].pk, moderator=moderator)

    response = modo.get(reverse("vigie-dashboard"))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="vigie-chart"') == 2
    assert 'class="vigie-bar vigie-held"' in html
    assert 'class="vigie-bar vigie-approved"' in html
    assert "retenus à l’arrivée" in html


def test_it_links_the_dashboard_from_the_admin_index(modo):
    response = modo.get(reverse("admin:index"))

    assert response.status_code == 200
    assert reverse("vigie-dashboard") in response.content.decode()


def test_it_speaks_french(modo, queue):
    response = modo.get(reverse(CHANGELIST), {"queue": "held"})

    html = response.content.decode()
    assert "Approuver les commentaires sélectionnés" in html
    assert "Retenus" in html
    assert "Déconnexion" in html  # Django's own translations


def test_it_explains_a_published_comment_on_demand(modo, site, make_comment):
    # The worker stores no explanation for comments it publishes; a reported one still
    # shows the words behind its score when a moderator opens it.
    site.toxicity_hold = site.toxicity_reject = 1.0
    site.save()
    comment = make_comment("T'es vraiment un abruti, ton avis ne vaut rien.", classify=True)
    assert comment.status == Comment.Status.PUBLISHED
    assert Classification.objects.get(comment=comment).explanation == {}

    response = modo.get(reverse("admin:moderation_comment_change", args=[comment.pk]))

    assert response.status_code == 200
    assert '<mark class="vigie-ngram vigie-toxicity"' in response.content.decode()
