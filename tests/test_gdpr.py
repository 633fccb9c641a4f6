"""GDPR: an author's export and erasure through the site API, and the retention purge."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from moderation import services
from moderation.models import (
    Author,
    AuthorNote,
    Classification,
    Comment,
    ModerationEvent,
    Report,
    Reporter,
    Site,
)
from tests.conftest import set_status
from tests.test_api_site import assert_error

S = Comment.Status
INSULT = "Ferme-la, espèce de connard, Jean Dupont du 12 rue des Lilas."


@pytest.fixture
def history(site, article, make_comment, moderator):
    """Camille (reader-1) wrote a published comment and a rejected one, reported someone else's
    and was the subject of a moderator's ban; Léa (reader-2) replied to Camille."""
    Site.objects.filter(pk=site.pk).update(toxicity_hold=0.5, toxicity_reject=1.0)
    first = make_comment("Mon avis, signé Camille Martin.", classify=True)
    second = make_comment(INSULT, classify=True)
    services.comment_reject(
        comment_id=second.pk, moderator=moderator, reason="toxic", note="Camille Martin insulte"
    )
    reply = make_comment("Je réponds à Camille.", author="reader-2", parent=first, classify=True)
    services.report_create(
        site=site, comment_id=reply.pk, reason="abuse", text="Léa m'agresse", reporter_id="reader-1"
    )
    camille = Author.objects.get(site=site, external_id="reader-1")
    services.author_note_add(author_id=camille.pk, moderator=moderator, text="Camille, déjà averti")
    services.author_ban(
        author_id=camille.pk, moderator=moderator, reason="insulte Léa Durand", note="Camille Martin"
    )
    return {"first": first, "second": second, "reply": reply, "camille": camille}


# --- export ----------------------------------------------------------------------------------


def test_it_exports_everything_about_the_author(site_api, history, moderator):
    response = site_api.get("/api/v1/authors/reader-1/export")
    assert response.status_code == 200
    data = response.json()
    assert data["author"]["id"] == "reader-1" and data["author"]["status"] == "banned"
    comments = {c["id"]: c for c in data["comments"]}
    assert set(comments) == {history["first"].pk, history["second"].pk}  # not Léa's reply
    second = comments[history["second"].pk]
    assert second["body"] == INSULT and second["status"] == "rejected"
    assert [(h["from_status"], h["to_status"]) for h in second["history"]][-1] == ("held", "rejected")
    assert data["reports_made"] == [
        {
            "comment_id": history["reply"].pk,
            "reason": "abuse",
            "text": "Léa m'agresse",
            "created_at": data["reports_made"][0]["created_at"],
            "outcome": "",
        }
    ]
    assert [e["action"] for e in data["events"]] == ["note", "ban"]
    assert [n["text"] for n in data["moderator_notes"]] == ["Camille, déjà averti"]
    # The moderator's identity is theirs, not the author's: not in the export.
    assert moderator.username not in json.dumps(data)
    assert {e["actor"] for e in data["events"]} == {"moderator"}


def test_another_sites_author_and_unknown_ids_are_not_found(other_site_api, site_api, history):
    assert_error(other_site_api.get("/api/v1/authors/reader-1/export"), 404, "not_found")
    assert_error(other_site_api.delete("/api/v1/authors/reader-1"), 404, "not_found")
    assert_error(site_api.get("/api/v1/authors/nobody/export"), 404, "not_found")
    assert_error(site_api.get("/api/v1/authors/" + "x" * 201 + "/export"), 400, "invalid")
    assert Author.objects.get(pk=history["camille"].pk).name == "Reader-1"


def test_it_needs_a_key(anonymous_api, history):
    assert_error(anonymous_api.get("/api/v1/authors/reader-1/export"), 401, "not_authenticated")
    assert_error(anonymous_api.delete("/api/v1/authors/reader-1"), 401, "not_authenticated")


# --- erasure ---------------------------------------------------------------------------------


def test_it_erases_the_author_and_keeps_the_trail_and_the_threads(site_api, history):
    events_before = list(
        ModerationEvent.objects.order_by("id").values_list("id", "action", "from_status", "to_status")
    )
    response = site_api.delete("/api/v1/authors/reader-1")
    assert response.status_code == 204
    camille = Author.objects.get(pk=history["camille"].pk)
    assert camille.name == "" and camille.external_id.startswith("erased-") and camille.erased_at
    first, second = (Comment.objects.get(pk=history[k].pk) for k in ("first", "second"))
    assert (first.body, second.body) == ("", "")
    # The thread keeps its shape: the comment is still there, Léa's reply still under it.
    assert Comment.objects.get(pk=history["reply"].pk).parent_id == first.pk
    assert Comment.objects.get(pk=history["reply"].pk).body == "Je réponds à Camille."
    assert (first.status, second.status) == (S.PUBLISHED, S.REJECTED)
    assert not Classification.objects.filter(comment__author=camille).exclude(explanation={}).exists()
    # The audit trail: the same events, ids and decisions, no notes, no quoted words.
    assert list(
        ModerationEvent.objects.order_by("id").values_list("id", "action", "from_status", "to_status")
    ) == (events_before)
    about = ModerationEvent.objects.filter(author=camille) | ModerationEvent.objects.filter(
        comment__author=camille
    )
    assert not about.exclude(note="").exists()
    assert all("word" not in e.reason_params for e in about)
    # The report Camille made stays (Léa's comment's record) without Camille's id or words.
    report = Report.objects.get(comment=history["reply"])
    assert (report.reporter_id, report.text, report.reader_id) == ("", "", None)
    assert not Reporter.objects.filter(reporter_id="reader-1").exists()
    assert not AuthorNote.objects.filter(author=camille).exists()
    # Nothing left to find by the site's id: export and a second erase are 404.
    assert_error(site_api.get("/api/v1/authors/reader-1/export"), 404, "not_found")
    assert_error(site_api.delete("/api/v1/authors/reader-1"), 404, "not_found")
    # Nothing of Camille's name or words left in the comments, reports and trail.
    dump = json.dumps(
        [
            list(Comment.objects.filter(author=camille).values()),
            list(Report.objects.values("text", "reporter_id")),
            list(about.values("note", "reason", "reason_params")),
            list(Classification.objects.filter(comment__author=camille).values("explanation", "labels")),
        ],
        default=str,
    )
    for trace in ("Camille", "connard", "Lilas", "reader-1", "Léa m'agresse", "Léa Durand"):
        assert trace not in dump, trace


def test_the_reader_can_come_back_as_a_new_author(site_api, history):
    assert site_api.delete("/api/v1/authors/reader-1").status_code == 204
    response = site_api.post(
        "/api/v1/articles/art-1/comments",
        {"author": {"id": "reader-1", "name": "Camille"}, "body": "Me revoilà."},
        format="json",
    )
    assert response.status_code == 202
    again = Author.objects.get(site__name="Le Quotidien", external_id="reader-1")
    assert again.pk != history["camille"].pk and again.status == Author.Status.NORMAL


# --- retention -------------------------------------------------------------------------------


def test_the_purge_blanks_old_rejected_bodies_and_reporter_ids(site, article, make_comment):
    Site.objects.filter(pk=site.pk).update(retention_days=30)
    old_rejected = set_status(make_comment("Vieux rejet", author="a1"), S.REJECTED)
    new_rejected = set_status(make_comment("Rejet récent", author="a2"), S.REJECTED)
    old_published = set_status(make_comment("Vieux publié", author="a3"), S.PUBLISHED)
    services.report_create(site=site, comment_id=old_published.pk, reason="spam", reporter_id="vieux-lecteur")
    services.report_create(site=site, comment_id=old_published.pk, reason="spam", reporter_id="jeune-lecteur")
    long_ago = timezone.now() - timedelta(days=31)
    Comment.objects.filter(pk__in=[old_rejected.pk, old_published.pk]).update(updated_at=long_ago)
    Report.objects.filter(reporter_id="vieux-lecteur").update(created_at=long_ago)
    Reporter.objects.filter(reporter_id="vieux-lecteur").update(created_at=long_ago)
    call_command("purge_expired")
    assert Comment.objects.get(pk=old_rejected.pk).body == ""
    assert Comment.objects.get(pk=new_rejected.pk).body == "Rejet récent"
    assert Comment.objects.get(pk=old_published.pk).body == "Vieux publié"  # only rejected ones
    assert sorted(Report.objects.values_list("reporter_id", flat=True)) == ["", "jeune-lecteur"]
    assert list(Reporter.objects.values_list("reporter_id", flat=True)) == ["jeune-lecteur"]
    # Idempotent, and a site without the setting keeps everything.
    assert services.personal_data_purge_expired() == {"comments": 0, "reports": 0}


def test_a_site_without_retention_keeps_everything(site, article, make_comment):
    old = set_status(make_comment("Vieux rejet"), S.REJECTED)
    Comment.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=3000))
    assert services.personal_data_purge_expired() == {"comments": 0, "reports": 0}
    assert Comment.objects.get(pk=old.pk).body == "Vieux rejet"


def test_beat_runs_the_purge_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired"]
    assert entry["task"] == "moderation.tasks.purge_expired"
    assert entry["schedule"] == timedelta(hours=24)
