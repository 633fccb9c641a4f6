"""The row -> JSON function of the queues answers what the schema's serializer answers.

moderation/api/shapes.py builds the moderators' queues without serializers; the serializer
stays as the schema. A field added to one and not the other fails here.
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


def test_a_queue_item_is_the_serializers(make_comment, moderator):
    comment = make_comment("Un avis.", classify=True)
    set_status(comment, S.HELD)
    Comment.objects.filter(pk=comment.pk).update(toxicity=None, spam=0.25)  # a null score too
    [instance] = selectors.review_queue(user=moderator, queue="held")
    [row] = selectors.review_queue_rows(user=moderator, queue="held")
    assert shapes.queue_items([row]) == _json(s.QueueItemOutput([instance], many=True).data)
