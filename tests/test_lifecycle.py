"""The comment lifecycle through the services: every allowed move, refused ones, the trail."""

import pytest

from moderation import policy, services
from moderation.errors import ArticleClosed, InvalidTransition, NotFound, VigieError
from moderation.models import Author, Classification, Comment, ModerationEvent, Report
from tests.conftest import set_status

S = Comment.Status
ALL = list(S.values)


def test_it_stores_a_new_comment_as_received(make_comment):
    comment = make_comment()
    assert comment.status == S.RECEIVED
    assert not comment.classifications.exists()
    assert not comment.events.exists()


def test_it_publishes_a_clean_comment_and_writes_the_trail(make_comment):
    comment = make_comment("Merci pour cet article très clair sur la réforme.", classify=True)
    assert comment.status == S.PUBLISHED
    assert comment.language == "fr"
    classification = Classification.objects.get(comment=comment)
    assert classification.model_version == services.get_model().version
    event = ModerationEvent.objects.get(comment=comment)
    assert (event.actor, event.from_status, event.to_status) == ("classifier", "received", "published")


def test_it_holds_an_insulting_comment_with_the_words_that_drove_it(make_comment):
    body = "Espèce de connard, tu racontes n'importe quoi, ferme ta gueule"
    comment = make_comment(body, classify=True)
    assert comment.status in (S.HELD, S.REJECTED)
    explanation = Classification.objects.get(comment=comment).explanation["toxicity"]
    spans = [body[item["start"] : item["end"]].lower() for item in explanation]
    assert any("connard" in span or "gueule" in span for span in spans), spans


def test_it_classifies_a_comment_once_however_often_the_task_runs(make_comment):
    comment = make_comment()
    assert services.comments_classify(comment_ids=[comment.pk]) == 1
    assert services.comments_classify(comment_ids=[comment.pk]) == 0
    assert Classification.objects.filter(comment=comment).count() == 1
    assert ModerationEvent.objects.filter(comment=comment).count() == 1


def test_it_classifies_waiting_comments_in_one_batch(make_comment):
    comments = [make_comment(f"Commentaire numéro {i} sur le sujet.") for i in range(5)]
    assert services.comments_classify(comment_ids=[comments[0].pk], batch_size=10) == 5
    assert not Comment.objects.filter(status=S.RECEIVED).exists()


def test_it_holds_everything_on_a_premoderated_article(site, make_comment):
    art, _ = services.article_upsert(site=site, external_id="pre", moderation_mode="pre")
    comment = make_comment("Un avis tout à fait courtois.", art=art, classify=True)
    assert comment.status == S.HELD
    assert comment.events.get().reason == "premoderation"


def test_it_holds_a_premoderated_author_and_rejects_a_banned_one(make_comment, moderator):
    first = make_comment("Bonjour à tous.", author="alice", classify=True)
    services.author_premoderate(author_id=first.author_id, moderator=moderator)
    assert make_comment("Un deuxième avis poli.", author="alice", classify=True).status == S.HELD
    services.author_ban(author_id=first.author_id, moderator=moderator, reason="récidive")
    assert make_comment("Un troisième avis poli.", author="alice", classify=True).status == S.REJECTED
    services.author_restore(author_id=first.author_id, moderator=moderator)
    assert make_comment("Un quatrième avis poli.", author="alice", classify=True).status == S.PUBLISHED
    actions = list(ModerationEvent.objects.filter(author_id=first.author_id).values_list("action", flat=True))
    assert actions == ["premoderate", "ban", "restore"]


def test_it_applies_site_words_and_thresholds(site, make_comment):
    site.banned_words = "casino en ligne\n"
    site.suspect_words = "Macron"
    site.save()
    assert make_comment("Meilleur CASINO en ligne ici", classify=True).status == S.REJECTED
    assert make_comment("Que pensez-vous de macron ?", classify=True).status == S.HELD
    site.toxicity_hold = 0.0  # everything scores >= 0: all held
    site.suspect_words = ""
    site.save()
    assert make_comment("Un avis parfaitement neutre.", classify=True).status == S.HELD


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        (S.RECEIVED, "approve", S.APPROVED),
        (S.RECEIVED, "reject", S.REJECTED),
        (S.PUBLISHED, "approve", S.APPROVED),
        (S.PUBLISHED, "reject", S.REJECTED),
        (S.PUBLISHED, "hold", S.HELD),
        (S.HELD, "approve", S.APPROVED),
        (S.HELD, "reject", S.REJECTED),
        (S.APPROVED, "reject", S.REJECTED),
        (S.REJECTED, "approve", S.APPROVED),
    ],
)
def test_it_allows_each_moderator_move(make_comment, moderator, start, action, end):
    comment = set_status(make_comment(), start)
    services.comments_bulk_decide(comment_ids=[comment.pk], action=action, moderator=moderator, reason="x")
    comment.refresh_from_db()
    assert comment.status == end
    event = comment.events.get()
    assert (event.from_status, event.to_status, event.moderator_id) == (start, end, moderator.pk)


@pytest.mark.parametrize(
    ("start", "action"),
    [
        (S.HELD, "hold"),
        (S.APPROVED, "approve"),
        (S.REJECTED, "reject"),
        (S.APPROVED, "hold"),
        (S.REJECTED, "hold"),
    ],
)
def test_it_refuses_a_move_the_table_does_not_allow(make_comment, moderator, start, action):
    comment = set_status(make_comment(), start)
    with pytest.raises(InvalidTransition):
        services.comments_bulk_decide(comment_ids=[comment.pk], action=action, moderator=moderator)
    comment.refresh_from_db()
    assert comment.status == start
    assert not comment.events.exists()


def test_the_transition_table_never_returns_to_received():
    assert all(S.RECEIVED not in targets for targets in Comment.TRANSITIONS.values())
    assert set(Comment.TRANSITIONS) == set(ALL)


def test_bulk_is_all_or_nothing(make_comment, moderator):
    held = [set_status(make_comment(f"c{i}"), S.HELD) for i in range(3)]
    already = set_status(make_comment("done"), S.APPROVED)
    with pytest.raises(InvalidTransition) as exc:
        services.comments_bulk_decide(
            comment_ids=[c.pk for c in held] + [already.pk], action="approve", moderator=moderator
        )
    assert str(already.pk) in exc.value.message
    assert Comment.objects.filter(status=S.HELD).count() == 3
    assert not ModerationEvent.objects.exists()


def test_bulk_refuses_a_comment_of_a_site_the_moderator_does_not_moderate(
    make_comment, moderator, other_site
):
    services.article_upsert(site=other_site, external_id="x")
    theirs, _ = services.comment_create(
        site=other_site, article_external_id="x", author_external_id="a", author_name="A", body="hé"
    )
    mine = set_status(make_comment(), S.HELD)
    with pytest.raises(NotFound):
        services.comments_bulk_decide(comment_ids=[mine.pk, theirs.pk], action="approve", moderator=moderator)
    mine.refresh_from_db()
    assert mine.status == S.HELD


def test_it_counts_decisions_on_the_author(make_comment, moderator):
    comment = set_status(make_comment(), S.HELD)
    services.comment_reject(comment_id=comment.pk, moderator=moderator, reason="toxic")
    author = Author.objects.get(pk=comment.author_id)
    assert (author.approved_count, author.rejected_count) == (0, 1)
    services.comment_approve(comment_id=comment.pk, moderator=moderator)
    author.refresh_from_db()
    assert (author.approved_count, author.rejected_count) == (1, 0)


def test_enough_reports_hold_a_published_comment_and_a_decision_resolves_them(site, make_comment, moderator):
    site.reports_to_hold = 2
    site.save()
    comment = set_status(make_comment(), S.PUBLISHED)
    services.report_create(site=site, comment_id=comment.pk, reason="abuse", reporter_id="r1")
    comment.refresh_from_db()
    assert (comment.status, comment.open_reports) == (S.PUBLISHED, 1)
    services.report_create(site=site, comment_id=comment.pk, reason="hate", reporter_id="r2")
    comment.refresh_from_db()
    assert comment.status == S.HELD
    assert comment.events.get().actor == "readers"
    services.comment_approve(comment_id=comment.pk, moderator=moderator)
    comment.refresh_from_db()
    assert comment.open_reports == 0
    assert not Report.objects.filter(resolved_at__isnull=True).exists()


def test_a_reader_reports_a_comment_once(site, make_comment):
    comment = set_status(make_comment(), S.PUBLISHED)
    services.report_create(site=site, comment_id=comment.pk, reason="spam", reporter_id="r1")
    with pytest.raises(VigieError):
        services.report_create(site=site, comment_id=comment.pk, reason="spam", reporter_id="r1")
    assert Report.objects.count() == 1


def test_it_refuses_a_comment_on_a_closed_article(site, article, make_comment):
    services.article_upsert(site=site, external_id=article.external_id, closed=True)
    with pytest.raises(ArticleClosed):
        make_comment()
    assert not Comment.objects.exists()


def test_a_reply_shares_its_thread_root(make_comment):
    top = make_comment("top")
    reply = make_comment("reply", parent=top)
    deeper = make_comment("deeper", parent=reply)
    assert (reply.root_id, deeper.root_id, deeper.parent_id) == (top.pk, top.pk, reply.pk)


def test_the_idempotency_key_returns_the_first_comment(site, article):
    args = dict(
        site=site,
        article_external_id=article.external_id,
        author_external_id="a",
        author_name="A",
        body="Bonjour",
        idempotency_key="k-1",
    )
    first, created = services.comment_create(**args)
    again, created_again = services.comment_create(**args)
    assert (created, created_again, again.pk) == (True, False, first.pk)
    with pytest.raises(VigieError):
        services.comment_create(**{**args, "body": "autre chose"})
    assert Comment.objects.count() == 1


def test_the_sweep_requeues_old_received_comments(make_comment, django_capture_on_commit_callbacks):
    comment = make_comment()
    Comment.objects.filter(pk=comment.pk).update(created_at=comment.created_at.replace(year=2020))
    assert services.comments_sweep_received(older_than_seconds=60) == 1  # eager: runs the task
    comment.refresh_from_db()
    assert comment.status == S.PUBLISHED


def test_the_policy_orders_rejections_before_holds():
    thresholds = policy.Thresholds(toxicity_hold=0.5, toxicity_reject=0.9, spam_hold=0.5, spam_reject=0.9)

    def decide(**kw):
        defaults = {"toxicity": 0.1, "spam": 0.1, "premoderated": False, "author_banned": False}
        return policy.decide(thresholds=thresholds, **{**defaults, **kw}).status

    assert decide() == "published"
    assert decide(toxicity=0.95, premoderated=True) == "rejected"
    assert decide(premoderated=True) == "held"
    assert decide(spam=0.6) == "held"
    assert decide(spam=0.91) == "rejected"
    assert decide(author_banned=True) == "rejected"
    assert decide(suspect_words="élu", body="Cet ELU ment") == "held"
    assert decide(suspect_words="élu", body="Les élucubrations") == "published"
