"""The classification batch and the reads cost a fixed number of queries, however many comments.

The figures themselves are in bench/ (python bench/run.py); these tests keep the shapes that
make them possible from regressing.
"""

import pytest
from django.db import connection

from moderation import services
from moderation.models import Classification, Comment, ModerationEvent, WebhookDelivery, WebhookEventBatch
from tests.conftest import set_status
from tests.tiny_model import write_tiny_model

S = Comment.Status


@pytest.fixture(autouse=True)
def tiny_model(settings, tmp_path):
    # Scores everything clean except "connard": some comments of a batch are published, others not.
    path = write_tiny_model(tmp_path / "model", version="perf-1", toxic_words=("connard",))
    settings.VIGIE_MODEL_PATH = str(path)


def _post(make_comment, n, *, rude_every=0, prefix="c"):
    return [
        make_comment(
            f"{prefix}{i} espèce de connard" if rude_every and i % rude_every == 0 else f"{prefix}{i} merci",
            author=f"{prefix}-author-{i}",
        )
        for i in range(n)
    ]


def test_it_classifies_a_batch_in_as_many_queries_as_one_comment(make_comment, django_assert_num_queries):
    # claim the given id, claim the others, update the comments, bump the visible version of
    # the articles that have a newly published comment, insert the classifications, insert
    # the events, look for webhook endpoints, count the authors' rejections; plus a savepoint
    # and its release (the test runs in a transaction).
    [one] = _post(make_comment, 1, rude_every=1, prefix="one")
    with django_assert_num_queries(9):  # rejected: nothing for readers, no bump
        assert services.comments_classify(comment_ids=[one.pk]) == 1
    [clean] = _post(make_comment, 1, prefix="clean")
    with django_assert_num_queries(9):  # published: the bump, and no rejection to count
        assert services.comments_classify(comment_ids=[clean.pk]) == 1
    many = _post(make_comment, 39, rude_every=3, prefix="many")
    with django_assert_num_queries(10):
        assert services.comments_classify(comment_ids=[many[0].pk], batch_size=100) == 39
    assert Classification.objects.count() == ModerationEvent.objects.count() == 41
    assert not Comment.objects.filter(status=S.RECEIVED).exists()


def test_a_batch_with_a_webhook_endpoint_costs_one_insert_more(site, make_comment, django_assert_num_queries):
    services.webhook_endpoint_create(
        site=site, url="https://93.184.215.14/hooks", events=["comment.published"]
    )
    many = _post(make_comment, 40, rude_every=3, prefix="hooked")
    with django_assert_num_queries(11):  # the ten above, and one row for the batch's events
        assert services.comments_classify(comment_ids=[many[0].pk], batch_size=100) == 40
    [batch] = WebhookEventBatch.objects.all()
    assert len(batch.events) == 40 - 14  # the published ones, subscribed to
    assert services.webhook_batch_expand(batch_id=batch.pk) == 26
    assert WebhookDelivery.objects.count() == 26


def test_a_batch_writes_each_verdict_once_with_its_scores(make_comment):
    comments = _post(make_comment, 9, rude_every=3)
    assert services.comments_classify(comment_ids=[comments[4].pk], batch_size=5) == 5
    assert services.comments_classify(comment_ids=[comments[4].pk], batch_size=5) == 4  # the others
    assert services.comments_classify(comment_ids=[comments[4].pk], batch_size=5) == 0
    for comment in Comment.objects.all():
        rude = "connard" in comment.body
        assert comment.status == (S.REJECTED if rude else S.PUBLISHED), comment.body
        assert comment.toxicity is not None and comment.priority == max(comment.toxicity, comment.spam)
        assert (comment.decided_at is not None) == rude
        assert comment.classifications.count() == comment.events.count() == 1
    assert {a.rejected_count for c in Comment.objects.select_related("author") for a in [c.author]} == {0, 1}


def test_only_comments_a_moderator_reviews_are_explained_when_classified(make_comment):
    clean, rude = _post(make_comment, 2, rude_every=2, prefix="x")[::-1]
    services.comments_classify(comment_ids=[clean.pk, rude.pk])
    assert Classification.objects.get(comment=clean).explanation == {}
    rude_words = [item["ngram"] for item in Classification.objects.get(comment=rude).explanation["toxicity"]]
    assert any("connard" in word for word in rude_words)


def test_the_detail_explains_a_published_comment_on_demand(
    moderator_api, make_comment, django_assert_max_num_queries
):
    comment = make_comment("Un commentaire très aimable", classify=True)
    assert comment.status == S.PUBLISHED
    # 9, and the comment's notices, appeals and the notes on its author (issue 12).
    with django_assert_max_num_queries(12):
        body = moderator_api.get(f"/api/v1/moderation/comments/{comment.pk}").json()
    assert set(body["classifications"][0]["explanation"]) == {"toxicity", "spam"}


def test_a_page_of_the_visible_list_costs_two_queries_whatever_its_threads(
    site_api, make_comment, django_assert_num_queries
):
    # The key and the article in one; on PostgreSQL the roots of the page and every reply
    # under them in one more (a LATERAL join), elsewhere in two.
    queries = 2 if connection.vendor == "postgresql" else 3
    roots = [set_status(make_comment(f"t{i}", author=f"a{i}"), S.PUBLISHED) for i in range(12)]
    for i, root in enumerate(roots):
        reply = set_status(make_comment(f"r{i}", parent=root, author=f"b{i}"), S.PUBLISHED)
        set_status(make_comment(f"rr{i}", parent=reply, author=f"c{i}"), S.APPROVED)
    with django_assert_num_queries(queries):
        response = site_api.get("/api/v1/articles/art-1/comments?page_size=5")
    page = response.json()["results"]
    assert [c["id"] for c in page] == [r.pk for r in roots[:5]]
    assert [len(c["replies"]) for c in page] == [1] * 5
    assert [len(c["replies"][0]["replies"]) for c in page] == [1] * 5
    with django_assert_num_queries(queries):
        following = site_api.get(response.json()["next"]).json()["results"]
    assert [c["id"] for c in following] == [r.pk for r in roots[5:10]]


def test_a_page_of_the_held_queue_costs_the_same_queries_for_many_comments(
    moderator_api, make_comment, django_assert_num_queries
):
    for i in range(3):
        set_status(make_comment(f"h{i}", author=f"h{i}"), S.HELD)
    moderator_api.get("/api/v1/moderation/comments?queue=held")  # loads the moderator's permissions
    with django_assert_num_queries(1):  # the page, with its sites, articles and authors joined
        moderator_api.get("/api/v1/moderation/comments?queue=held")
    for i in range(3, 40):
        set_status(make_comment(f"h{i}", author=f"h{i}"), S.HELD)
    with django_assert_num_queries(1):
        response = moderator_api.get("/api/v1/moderation/comments?queue=held&page_size=30")
    assert len(response.json()["results"]) == 30
