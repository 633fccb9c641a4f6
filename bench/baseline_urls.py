"""Baselines for bench/post.py and bench/reads.py, served by the same gunicorn and settings.

gunicorn runs with DJANGO_SETTINGS_MODULE=bench.settings (this URL map): same middleware, same database,
same worker flags as Vigie; only the views differ.

- POST .../comments: a bare DRF CreateAPIView with a ModelSerializer, no authentication, no
  throttling, no validation beyond the model's, no task enqueued.
- GET .../comments: the same page of visible threads as Vigie's list, read with two raw SQL
  queries through ``connection.cursor()`` and returned as JSON, no DRF.
- GET /bench/held: the held queue page, one raw SQL query.
"""

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from rest_framework import generics, permissions, serializers

from moderation.models import Comment


class BareCommentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Comment
        fields = ["id", "site", "article", "author", "body", "status"]
        read_only_fields = ["status"]


class BareCreate(generics.CreateAPIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = []
    serializer_class = BareCommentSerializer
    queryset = Comment.objects.all()

    def get(self, request, article_id: int):
        return visible_page(request, article_id)


_ROOTS = """
SELECT c.id, c.body, c.created_at, c.parent_id, a.external_id, a.name
FROM moderation_comment c JOIN moderation_author a ON a.id = c.author_id
WHERE c.article_id = %s AND c.parent_id IS NULL AND c.status IN ('published', 'approved') AND c.id > %s
ORDER BY c.id LIMIT %s
"""
_REPLIES = """
SELECT c.id, c.body, c.created_at, c.parent_id, a.external_id, a.name
FROM moderation_comment c JOIN moderation_author a ON a.id = c.author_id
WHERE c.root_id = ANY(%s) AND c.status IN ('published', 'approved')
ORDER BY c.created_at, c.id
"""
_HELD = """
SELECT c.id, c.body, c.status, c.language, c.toxicity, c.spam, c.priority, c.open_reports,
       c.created_at, c.decided_at, s.id, s.name, ar.external_id, ar.title, a.id, a.external_id, a.name
FROM moderation_comment c
JOIN moderation_site s ON s.id = c.site_id
JOIN moderation_article ar ON ar.id = c.article_id
JOIN moderation_author a ON a.id = c.author_id
WHERE c.status = 'held' AND c.site_id IN (
    SELECT site_id FROM moderation_site_moderators WHERE user_id = %s)
ORDER BY c.priority DESC, c.id DESC LIMIT %s
"""


def _item(row) -> dict:
    return {
        "id": row[0],
        "body": row[1],
        "created_at": row[2].isoformat(),
        "parent_id": row[3],
        "author": {"id": row[4], "name": row[5]},
    }


def visible_page(request, article_id: int):
    after = int(request.GET.get("after", 0))
    size = int(request.GET.get("page_size", 50))
    with connection.cursor() as cursor:
        cursor.execute(_ROOTS, [article_id, after, size])
        roots = [_item(row) for row in cursor.fetchall()]
        cursor.execute(_REPLIES, [[r["id"] for r in roots]])
        replies = [_item(row) for row in cursor.fetchall()]
    by_parent: dict = {}
    for reply in replies:
        by_parent.setdefault(reply["parent_id"], []).append(reply)
    for item in [*roots, *replies]:
        item["replies"] = by_parent.get(item["id"], [])
    return JsonResponse({"next": roots[-1]["id"] if roots else None, "results": roots})


def held_page(request):
    size = int(request.GET.get("page_size", 50))
    with connection.cursor() as cursor:
        cursor.execute(_HELD, [int(request.GET["user"]), size])
        rows = cursor.fetchall()
    results = [
        {
            "id": r[0],
            "body": r[1],
            "status": r[2],
            "language": r[3],
            "toxicity": r[4],
            "spam": r[5],
            "priority": r[6],
            "open_reports": r[7],
            "created_at": r[8].isoformat(),
            "decided_at": r[9] and r[9].isoformat(),
            "site": {"id": r[10], "name": r[11]},
            "article": {"external_id": r[12], "title": r[13]},
            "author": {"id": r[14], "external_id": r[15], "name": r[16]},
        }
        for r in rows
    ]
    return JsonResponse({"results": results})


urlpatterns = [
    path("bench/articles/<int:article_id>/comments", BareCreate.as_view()),
    path("bench/held", held_page),
]
