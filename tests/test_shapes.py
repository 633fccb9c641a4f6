"""The row -> JSON functions answer what the serializers documented in the schema answer.

moderation/api/shapes.py builds the readers' list, the queues and the POST's answer without
serializers; the serializers stay as the schema. A field added to one and not the other fails here.
"""

import json

from moderation import selectors
from moderation.api import serializers as s
from moderation.api import shapes
from moderation.models import Comment
from tests.conftest import set_status

S = Comment.Status


def _json(value):
    return json.loads(json.dumps(value, default=str))


def test_the_status_answer_is_the_serializers(make_comment):
    root = make_comment("Un avis.")
    reply = make_comment("Une réponse.", author="r2", parent=root)
    for comment in (root, reply, set_status(reply, S.SCREENING)):
        comment = Comment.objects.select_related("article", "author").get(pk=comment.pk)
        assert shapes.comment_status(comment) == _json(s.CommentStatusOutput(comment).data)
        detail = s.CommentDetailOutput(comment, context={"statement": {"text": "x"}}).data
        assert shapes.comment_detail(comment, {"text": "x"}) == _json(detail)


def test_a_thread_is_the_serializers(make_comment, article):
    root = set_status(make_comment("Un avis."), S.PUBLISHED)
    reply = set_status(make_comment("Une réponse.", author="r2", parent=root), S.APPROVED)
    set_status(make_comment("Et encore.", author="r3", parent=reply), S.PUBLISHED)
    set_status(make_comment("Cachée.", author="r4", parent=root), S.HELD)
    roots = list(selectors.visible_roots(article=article))
    expected = s.VisibleCommentOutput(
        roots, many=True, context={"replies": selectors.visible_replies(roots=roots)}
    ).data
    rows = list(selectors.visible_root_rows(article=article))
    shaped = shapes.visible_threads(rows, selectors.visible_reply_rows(root_ids=[r["id"] for r in rows]))
    assert shaped == _json(expected)
    assert len(shaped[0]["replies"]) == 1 and len(shaped[0]["replies"][0]["replies"]) == 1


def test_a_queue_item_is_the_serializers(make_comment, moderator):
    comment = make_comment("Un avis.", classify=True)
    set_status(comment, S.HELD)
    Comment.objects.filter(pk=comment.pk).update(toxicity=None, spam=0.25)  # a null score too
    [instance] = selectors.review_queue(user=moderator, queue="held")
    [row] = selectors.review_queue_rows(user=moderator, queue="held")
    assert shapes.queue_items([row]) == _json(s.QueueItemOutput([instance], many=True).data)
