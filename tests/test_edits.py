"""The author edits or deletes a comment (issue 11, item 2): PATCH / DELETE /api/v1/comments/{id}."""

import json
from datetime import timedelta

import pytest

from moderation import services
from moderation.models import Comment, ModerationEvent, Revision, WebhookDelivery
from tests.test_api_site import assert_error

S = Comment.Status
CLEAN = "Merci pour cet article clair et bien documenté."
BETTER = "Merci pour cet article clair, précis et bien documenté."
INSULT = "Ferme-la, espèce de connard."


@pytest.fixture
def published(make_comment):
    comment = make_comment(CLEAN, classify=True)
    assert comment.status == S.PUBLISHED
    return comment


@pytest.fixture
def hook(site):
    services.webhook_endpoint_create(
        site=site, url="http://127.0.0.1:9/hook", events=["comment.edited", "comment.deleted", "comment.held",
                                                           "comment.rejected", "comment.published"]
    )


def edit(api, comment, body=BETTER, **extra):
    return api.patch(f"/api/v1/comments/{comment.pk}", {"body": body, **extra}, format="json")


def listed(api) -> list[dict]:
    return api.get("/api/v1/articles/art-1/comments").json()["results"]


def events_sent(type_: str) -> list[dict]:
    return [json.loads(d.body) for d in WebhookDelivery.objects.filter(event_type=type_).order_by("pk")]


# --- edits --------------------------------------------------------------------------------------


def test_an_edit_is_moderated_again_and_shows_once_published(
    site_api, moderator_api, published, hook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = edit(site_api, published)
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["body"], body["pending_edit"]) == ("published", CLEAN, "received")
    # Until the new text is decided, readers see the old one.
    assert [c["body"] for c in listed(site_api)] == [CLEAN]
    assert site_api.get(f"/api/v1/comments/{published.pk}").json()["pending_edit"] == "received"
    assert Revision.objects.get(comment=published, number=2).status == Revision.Status.RECEIVED

    for callback in callbacks:  # the classify_revision task, run in-line (eager Celery)
        callback()
    assert [(c["body"], c["edited_at"] is not None) for c in listed(site_api)] == [(BETTER, True)]
    detail = site_api.get(f"/api/v1/comments/{published.pk}").json()
    assert (detail["body"], detail["status"], detail["pending_edit"]) == (BETTER, "published", None)

    moderation = moderator_api.get(f"/api/v1/moderation/comments/{published.pk}").json()
    revisions = moderation["revisions"]
    assert [(r["number"], r["body"], r["status"]) for r in revisions] == [
        (1, CLEAN, "published"),
        (2, BETTER, "published"),
    ]
    assert ["-", "clair"] in revisions[1]["diff"] and ["+", "clair, précis"] in revisions[1]["diff"]
    actions = [(e["actor"], e["action"]) for e in moderation["events"]]
    assert actions[-2:] == [("author", "edit"), ("classifier", "revise")]
    [edited] = events_sent("comment.edited")
    assert edited["data"]["comment_id"] == published.pk and edited["data"]["revision"] == 2


def test_an_edit_that_is_rejected_takes_the_comment_out_of_the_list(
    site_api, published, hook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert edit(site_api, published, body=INSULT).status_code == 202
    published.refresh_from_db()
    assert published.status == S.REJECTED  # 0.99 toxicity, over the reject threshold
    assert published.body == INSULT
    assert listed(site_api) == []
    assert Revision.objects.get(comment=published, number=2).status == published.status
    [verdict] = events_sent(f"comment.{published.status}")
    assert verdict["data"]["revision"] == 2
    # A restriction by the classifier: its statement of reasons, to the site and in the webhook.
    statement = site_api.get(f"/api/v1/comments/{published.pk}").json()["statement"]
    assert statement is not None and statement["fields"]["automated"] is True
    assert verdict["data"]["statement"]["text"] == statement["text"]


def test_a_moderator_decision_on_a_held_edit_decides_the_revision(
    site, site_api, published, moderator, django_capture_on_commit_callbacks
):
    site.suspect_words = "précis"
    site.save()
    with django_capture_on_commit_callbacks(execute=True):
        edit(site_api, published)
    published.refresh_from_db()
    assert published.status == S.HELD
    services.comment_approve(comment_id=published.pk, moderator=moderator)
    assert Revision.objects.get(comment=published, number=2).status == S.APPROVED
    assert [c["body"] for c in listed(site_api)] == [BETTER]


def test_a_newer_edit_supersedes_one_still_waiting(site_api, published):
    assert edit(site_api, published, body="Première retouche.").status_code == 202
    assert edit(site_api, published).status_code == 202
    classify_revisions = [r.pk for r in Revision.objects.filter(comment=published)]
    services.revisions_classify(revision_ids=classify_revisions)
    statuses = dict(Revision.objects.filter(comment=published).values_list("number", "status"))
    assert statuses == {1: "published", 2: "superseded", 3: "published"}
    published.refresh_from_db()
    assert published.body == BETTER


def test_the_edit_window_closes(site, site_api, published):
    Comment.objects.filter(pk=published.pk).update(created_at=published.created_at - timedelta(minutes=11))
    assert_error(edit(site_api, published), 409, "edit_window_closed")
    site.edit_window_minutes = 30
    site.save()
    assert edit(site_api, published).status_code == 202


def test_it_refuses_to_edit_under_a_closed_article(site, site_api, published, article):
    services.article_upsert(site=site, external_id=article.external_id, closed=True)
    assert_error(edit(site_api, published), 409, "article_closed")
    assert not Revision.objects.exists()


def test_it_refuses_to_edit_a_comment_still_waiting_or_rejected(site_api, make_comment, moderator):
    waiting = make_comment(CLEAN)
    assert_error(edit(site_api, waiting), 409, "comment_not_decided")
    rejected = make_comment(CLEAN, author="reader-2", classify=True)
    services.comment_reject(comment_id=rejected.pk, moderator=moderator)
    assert_error(edit(site_api, rejected), 409, "comment_rejected")
    assert not Revision.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [{"body": ""}, {"body": "   "}, {"body": 42}, {"body": "x" * 5001}, {}, {"body": "ok", "author": "x"}],
)
def test_it_refuses_a_bad_edit_and_stores_nothing(site_api, published, payload):
    response = site_api.patch(f"/api/v1/comments/{published.pk}", payload, format="json")
    assert_error(response, 400)
    assert not Revision.objects.exists()
    assert not ModerationEvent.objects.filter(action="edit").exists()


def test_another_sites_comment_is_not_found(other_site_api, published):
    assert_error(edit(other_site_api, published), 404)
    assert_error(other_site_api.delete(f"/api/v1/comments/{published.pk}"), 404)
    published.refresh_from_db()
    assert (published.body, published.deleted_at) == (CLEAN, None)


# --- deletions ----------------------------------------------------------------------------------


def test_a_deletion_erases_the_text_and_name_and_a_second_one_is_not_found(
    site_api, moderator_api, published, hook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        edit(site_api, published)
    response = site_api.delete(f"/api/v1/comments/{published.pk}")
    assert response.status_code == 204
    published.refresh_from_db()
    assert (published.body, published.author_name) == ("", "")
    assert published.deleted_at is not None
    assert set(Revision.objects.filter(comment=published).values_list("body", flat=True)) == {""}
    assert listed(site_api) == []  # a tombstone with no replies is left out
    detail = site_api.get(f"/api/v1/comments/{published.pk}").json()
    shown = (detail["deleted"], detail["body"], detail["author"]["name"], detail["visible"])
    assert shown == (True, "", "", False)
    assert_error(site_api.delete(f"/api/v1/comments/{published.pk}"), 404)
    assert_error(edit(site_api, published), 409, "comment_deleted")
    [deleted] = events_sent("comment.deleted")
    assert deleted["data"]["comment_id"] == published.pk
    event = ModerationEvent.objects.filter(comment=published).last()
    assert (event.actor, event.action) == ("author", "delete")
    # Nothing to review is left in the moderators' queues.
    assert moderator_api.get("/api/v1/moderation/comments?queue=published").json()["results"] == []


def test_a_tombstone_keeps_the_threads_shape(site_api, make_comment):
    root = make_comment(CLEAN, author="r", classify=True)
    middle = make_comment(BETTER, author="m", parent=root, classify=True)
    reply = make_comment(CLEAN, author="x", parent=middle, classify=True)
    lone = make_comment(BETTER, author="y", parent=root, classify=True)
    other_root = make_comment(BETTER, author="z", classify=True)
    for comment in (root, middle, lone, other_root):
        assert site_api.delete(f"/api/v1/comments/{comment.pk}").status_code == 204
    [thread] = listed(site_api)
    [under] = thread["replies"]
    tombstone = {"id": root.pk, "parent_id": None, "deleted": True, "replies": [under], "replies_next": None}
    assert thread == tombstone
    assert under == {"id": middle.pk, "parent_id": root.pk, "deleted": True, "replies": under["replies"]}
    [shown] = under["replies"]
    assert (shown["id"], shown["body"], shown["deleted"]) == (reply.pk, CLEAN, False)
    # A reply cannot be posted under a tombstone.
    response = site_api.post(
        "/api/v1/articles/art-1/comments",
        {"author": {"id": "q", "name": "Q"}, "body": "Et alors ?", "parent_id": middle.pk},
        format="json",
    )
    assert_error(response, 400)


# --- the pipeline: the cascade's second stage, the sweep, real processes ------------------------


def test_an_edit_the_fast_model_is_unsure_of_waits_for_the_second_opinion(
    site_api, make_comment, settings, tmp_path, django_capture_on_commit_callbacks
):
    from moderation.classifier import load_model
    from tests.test_cascade import wide_band_model

    settings.VIGIE_MODEL_PATH = str(wide_band_model(tmp_path / "model"))
    unsure = "T'es vraiment un abruti, ton avis ne vaut rien."
    [fast] = load_model(settings.VIGIE_MODEL_PATH).score([unsure], explain=False)
    comment = make_comment(CLEAN, classify=True)
    assert comment.status == S.PUBLISHED
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        edit(site_api, comment, body=unsure)
    with django_capture_on_commit_callbacks(execute=False) as second:
        for callback in callbacks:
            callback()  # the fast stage: hands the edit to the encoder queue
    revision = Revision.objects.get(comment=comment, number=2)
    assert (revision.status, revision.toxicity) == (Revision.Status.SCREENING, pytest.approx(fast.toxicity))
    assert [c["body"] for c in listed(site_api)] == [CLEAN]  # still the old text meanwhile
    for callback in second:
        callback()  # revision_second_opinion, routed to the encoder queue
    revision.refresh_from_db()
    comment.refresh_from_db()
    assert revision.status in (S.PUBLISHED, S.HELD, S.REJECTED)
    assert "toxicity_encoder" in comment.classifications.order_by("-id").first().labels
    assert comment.body == unsure and comment.status == revision.status


def test_the_sweep_sends_an_edit_whose_task_was_lost(site_api, published):
    edit(site_api, published)  # on_commit never fires in a test transaction: the task is "lost"
    assert services.revisions_sweep(older_than_seconds=60) == 0
    assert services.revisions_sweep(older_than_seconds=0) == 1  # eager: classified at once
    published.refresh_from_db()
    assert published.body == BETTER


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_edits_go_through_redis_and_a_worker_process(postgres, queue_url, tmp_path):
    from tests.conftest import free_port, stack_env, start_web, start_worker, stop, wait_until
    from tests.test_pipeline_e2e import http

    site, key = services.site_create(name="Edits E2E")
    env = stack_env(queue_url)
    port = free_port()
    web = start_web(env, port=port, log_dir=tmp_path)
    worker = start_worker(env, name="edits", log_dir=tmp_path)
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        http("PUT", f"{base}/articles/a1", key, {"title": "Article", "language": "fr"})
        payload = {"author": {"id": "u1", "name": "Camille"}, "body": CLEAN}
        _, posted = http("POST", f"{base}/articles/a1/comments", key, payload)

        def body_listed():
            _, listing = http("GET", f"{base}/articles/a1/comments", key)
            return [c["body"] for c in listing["results"]]

        wait_until(lambda: body_listed() == [CLEAN], timeout=60, message="the comment published")
        status, answer = http("PATCH", f"{base}/comments/{posted['id']}", key, {"body": BETTER})
        assert (status, answer["pending_edit"]) == (202, "received")
        wait_until(lambda: body_listed() == [BETTER], timeout=60, message="the edit published")
        http("PATCH", f"{base}/comments/{posted['id']}", key, {"body": INSULT})
        wait_until(lambda: body_listed() == [], timeout=60, message="the insulting edit taken out")
        assert Comment.objects.get(pk=posted["id"]).status in (S.HELD, S.REJECTED)
        numbers = Revision.objects.filter(comment_id=posted["id"]).values_list("number", flat=True)
        assert list(numbers) == [1, 2, 3]
    finally:
        stop(web)
        stop(worker)
    assert "classify_revision" in (tmp_path / "edits.log").read_text()


def test_the_admin_shows_each_revision_against_the_one_before(
    client, moderator, site_api, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        edit(site_api, published)
    client.force_login(moderator)
    response = client.get(f"/admin/moderation/comment/{published.pk}/change/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Versions successives de l&#x27;auteur" in page
    assert '<del class="vigie-removed">clair</del><ins class="vigie-added">clair, précis</ins>' in page


def test_a_tombstone_at_the_end_of_a_page_stays_when_its_reply_is_on_the_next(
    site_api, make_comment, settings
):
    settings.VIGIE_REPLIES_PAGE = 2
    root = make_comment(CLEAN, author="r", classify=True)
    first = make_comment(BETTER, author="a", parent=root, classify=True)
    gone = make_comment(BETTER, author="b", parent=root, classify=True)
    late = make_comment(CLEAN, author="c", parent=gone, classify=True)
    assert site_api.delete(f"/api/v1/comments/{gone.pk}").status_code == 204
    [thread] = listed(site_api)
    assert [(r["id"], r["deleted"]) for r in thread["replies"]] == [(first.pk, False), (gone.pk, True)]
    following = site_api.get(thread["replies_next"]).json()
    assert [(r["id"], r["parent_id"]) for r in following["results"]] == [(late.pk, gone.pk)]


def test_an_edit_that_exposes_personal_data_is_held(site_api, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        edit(site_api, published, body="Merci ! Appelez-moi au 06 12 34 56 78 pour en parler.")
    published.refresh_from_db()
    assert published.status == S.HELD
    event = published.events.get(action="revise")
    assert (event.from_status, event.to_status) == (S.PUBLISHED, S.HELD)
    assert "personal_data" in published.classifications.order_by("-id").first().explanation
