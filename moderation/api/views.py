"""One view per operation: validate -> service or selector -> serialize."""

import base64
import math
from collections import Counter
from datetime import date
from urllib.parse import urlencode

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound as CursorNotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from moderation import selectors, services
from moderation.api import caching, shapes
from moderation.api import serializers as s
from moderation.api.authentication import ApiKeyAuthentication, ModeratorTokenAuthentication
from moderation.api.permissions import IsModerator, IsSite
from moderation.api.schema import BODY, MODERATOR, SITE, errors
from moderation.api.throttling import (
    AuthorThrottle,
    CheckAuthorThrottle,
    CheckIpThrottle,
    ReaderIpThrottle,
    ReporterThrottle,
    ReportIpThrottle,
    ReportThrottle,
    SiteThrottle,
    check_all,
)
from moderation.errors import NotFound, VigieError
from moderation.models import Comment

# A decision: unknown comments, a status that cannot move so, or the moderator's own appealed one.
DECISION_ERRORS = errors(MODERATOR, BODY, "not_found", "invalid_transition", "own_decision_appealed")


def cursor_page(name: str, item):
    """The schema of one page of a cursor-paginated list (what Pagination answers)."""
    return inline_serializer(
        name,
        {
            "next": serializers.CharField(allow_null=True),
            "previous": serializers.CharField(allow_null=True),
            "results": item,
        },
    )


class Pagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = settings.VIGIE_MAX_PAGE_SIZE
    ordering = "id"

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        # DRF filters on the cursor's position as it came: "abc" for an id or a NUL was a
        # ValueError in the ORM (a 500). A position must be a value of the ordering field.
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        try:
            value = field.to_python(cursor.position)
        except ValidationError:
            raise CursorNotFound(self.invalid_cursor_message) from None
        if (
            "\x00" in cursor.position
            or (isinstance(value, int) and abs(value) > 2**62)
            or (isinstance(value, float) and not math.isfinite(value))
        ):
            raise CursorNotFound(self.invalid_cursor_message)
        return cursor


class SiteView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsSite]
    throttle_classes = [SiteThrottle]

    def check_throttles(self, request):
        # Every limit of the request counted in one Redis round trip (DRF asks each in turn).
        refused = check_all(self.get_throttles(), request, self)
        if refused:
            self.throttled(request, max((w for w in refused if w is not None), default=None))


class ModeratorView(APIView):
    # Token first: an anonymous caller gets 401 with a WWW-Authenticate challenge, not 403.
    authentication_classes = [ModeratorTokenAuthentication, SessionAuthentication]
    permission_classes = [IsModerator]


def _validated(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _comment_id(value) -> int:
    # Ids in the path are matched by <int:...>; this bounds them to what the database holds.
    if value > 2**62:
        raise NotFound("No such comment.")
    return value


def _check_external_id(external_id: str, what: str = "article") -> None:
    # Checked before any query: PostgreSQL refuses a NUL in text (a DataError, a 500).
    try:
        s.ExternalId().run_validation(external_id)
    except serializers.ValidationError as exc:
        raise VigieError(f"The {what} id is not valid.", fields={"external_id": exc.detail}) from None


# --- site API ---------------------------------------------------------------------------------


class ArticleView(SiteView):
    @extend_schema(
        tags=["articles"],
        summary="Create or update an article",
        request=s.ArticleInput,
        responses={200: s.ArticleDetailOutput, 201: s.ArticleDetailOutput, **errors(SITE, BODY)},
    )
    def put(self, request, external_id: str):
        _check_external_id(external_id)
        data = _validated(s.ArticleInput, request.data)
        article, created = services.article_upsert(site=request.auth, external_id=external_id, **data)
        return Response(
            _article_output(request, article),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        tags=["articles"],
        summary="Get an article",
        responses={200: s.ArticleDetailOutput, **errors(SITE, "invalid", "not_found")},
    )
    def get(self, request, external_id: str):
        _check_external_id(external_id)
        article = selectors.article_for_site(site=request.auth, external_id=external_id)
        return Response(_article_output(request, article))


def _article_output(request, article) -> dict:
    article.site = request.auth  # loaded already: closes_at reads the site's default
    article.comment_count = selectors.article_comment_count(article=article)
    return s.ArticleDetailOutput(article).data


MAX_COUNT_IDS = 100


class ArticlesView(SiteView):
    @extend_schema(
        tags=["articles"],
        summary="Count the visible comments of up to 100 articles",
        operation_id="articles_counts",
        parameters=[
            OpenApiParameter(
                "ids",
                OpenApiTypes.STR,
                required=True,
                description=f"Article ids separated by commas, 1 to {MAX_COUNT_IDS}; unknown ids left out.",
            )
        ],
        responses={
            200: inline_serializer("ArticleCounts", {"results": s.ArticleCountOutput(many=True)}),
            **errors(SITE, "invalid"),
        },
    )
    def get(self, request):
        raw = request.query_params.get("ids")
        if not raw:
            raise VigieError(
                "ids is required: article ids separated by commas.", fields={"ids": ["Required."]}
            )
        ids = list(dict.fromkeys(raw.split(",")))
        if len(ids) > MAX_COUNT_IDS:
            raise VigieError(
                f"At most {MAX_COUNT_IDS} article ids at once.",
                fields={"ids": [f"More than {MAX_COUNT_IDS}."]},
            )
        for external_id in ids:
            if not external_id:
                raise VigieError("An article id is empty.", fields={"ids": ["Empty id."]})
            _check_external_id(external_id)
        counts = selectors.articles_comment_counts(site=request.auth, external_ids=ids)
        return Response({"results": counts})


class ArticleCommentsView(SiteView):
    article_with_key = True  # GET: request.article, read with the key (ApiKeyAuthentication)

    def get_throttles(self):
        if self.request.method == "POST":
            return [SiteThrottle(), AuthorThrottle(), ReaderIpThrottle()]
        return super().get_throttles()

    def check_throttles(self, request):
        # A revalidation answered 304 is not counted: it costs the one indexed lookup already
        # made with the key, what its 429 would cost (a counter round trip to Redis more).
        if request.method in ("GET", "HEAD") and request.headers.get("If-None-Match"):
            article = getattr(request, "article", None)
            if article is not None and caching.matches(request, _list_etag(request, article)):
                return
        super().check_throttles(request)

    @extend_schema(
        tags=["comments"],
        summary="List an article's visible comments",
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next` / `previous`."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to the maximum page size."),
            OpenApiParameter("order", OpenApiTypes.STR, enum=["oldest", "newest"]),
        ],
        # An unknown or tampered cursor is a 404 (DRF's pagination).
        responses={
            200: cursor_page("VisibleCommentPage", s.VisibleCommentOutput(many=True)),
            **errors(SITE, "invalid", "not_found"),
        },
    )
    def get(self, request, external_id: str):
        _check_external_id(external_id)
        article = getattr(request, "article", None)
        if article is None:
            raise NotFound(f"No article {external_id!r} on this site.")
        order = request.query_params.get("order", "oldest")
        if order not in ("oldest", "newest"):
            raise VigieError("order must be oldest or newest.", fields={"order": ["Not a valid choice."]})
        _check_page_size(request)
        etag = _list_etag(request, article)
        if caching.matches(request, etag):
            return caching.not_modified(etag=etag, site=request.auth)
        paginator = Pagination()
        paginator.ordering = "id" if order == "oldest" else "-id"
        per_root = settings.VIGIE_REPLIES_PAGE
        threads_page = selectors.ThreadPage(article=article, per_root=per_root)
        roots = paginator.paginate_queryset(threads_page, request, view=self)
        replies = threads_page.replies
        counts = Counter(r["root_id"] for r in replies)
        live = _live_tombstones([r for r in replies if counts[r["root_id"]] > per_root])
        threads, more = selectors.thread_forest(
            roots, replies, per_root=per_root, max_depth=settings.VIGIE_MAX_REPLY_DEPTH, live=live
        )
        for root in threads:
            last = more.get(root["id"])
            root["replies_next"] = None if last is None else _replies_url(request, root["id"], last)
        return caching.finish(paginator.get_paginated_response(threads), etag=etag, site=request.auth)

    @extend_schema(
        tags=["comments"],
        summary="Post a reader's comment",
        request=s.CommentInput,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="A retry with the same key returns the first comment instead of a second.",
            ),
            OpenApiParameter(
                "X-Reader-IP", OpenApiTypes.STR, OpenApiParameter.HEADER, description="For per-IP limits."
            ),
        ],
        responses={
            202: s.CommentStatusOutput,
            **errors(SITE, BODY, "not_found", "article_closed", "idempotency_key_reused"),
        },
    )
    def post(self, request, external_id: str):
        _check_external_id(external_id)
        data = _validated(s.CommentInput, request.data)
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and (len(key) > 200 or not key.isprintable()):
            raise VigieError(
                "Idempotency-Key must be 1 to 200 printable characters.",
                fields={"Idempotency-Key": ["Invalid."]},
            )
        comment, _created = services.comment_create(
            site=request.auth,
            article_external_id=external_id,
            author_external_id=data["author"]["id"],
            author_name=data["author"]["name"],
            body=data["body"],
            parent_id=data.get("parent_id"),
            idempotency_key=key,
        )
        return Response(s.CommentStatusOutput(comment).data, status=status.HTTP_202_ACCEPTED)


class CheckView(SiteView):
    # Limited like posting (per site, per reader, per reader IP), on budgets of its own.
    throttle_classes = [SiteThrottle, CheckAuthorThrottle, CheckIpThrottle]

    @extend_schema(
        tags=["comments"],
        summary="Pre-submit check: would this comment be published, held or rejected?",
        description=(
            "Scores the text as the moderation pipeline would (the fast model, the encoder's "
            "second opinion in its band, the site's thresholds and word lists, the article's and "
            "the author's moderation) and stores nothing. For the reader's widget: warn before "
            "posting a comment that would be held."
        ),
        request=s.CheckInput,
        parameters=[
            OpenApiParameter(
                "X-Reader-IP", OpenApiTypes.STR, OpenApiParameter.HEADER, description="For per-IP limits."
            ),
            OpenApiParameter("Accept-Language", OpenApiTypes.STR, OpenApiParameter.HEADER),
        ],
        responses={200: s.CheckOutput, **errors(SITE, BODY, "not_found", "article_closed")},
    )
    def post(self, request):
        data = _validated(s.CheckInput, request.data)
        author = data.get("author") or {}
        if data.get("article_id") is not None:
            _check_external_id(data["article_id"])
        result = services.comment_check(
            site=request.auth,
            body=data["body"],
            author_external_id=author.get("id"),
            author_name=author.get("name", ""),
            article_external_id=data.get("article_id"),
        )
        return Response(s.CheckOutput(result).data)


def _list_etag(request, article) -> str:
    # The page is a function of the article's visible version and the query (cursor, page
    # size, order): known with the key, so an unchanged page costs no more queries.
    query = request.META.get("QUERY_STRING", "")
    return caching.weak_etag("list", article.pk, article.visible_version, query)


def _live_tombstones(rows: list[dict]) -> set[int]:
    """Deleted replies of a cut page that may have live replies on a later page (one query,
    only when a page has both)."""
    return selectors.live_children(parent_ids=[r["id"] for r in rows if r["deleted_at"] is not None])


def _replies_url(request, root_id: int, after: int) -> str:
    return request.build_absolute_uri(
        reverse("comment-replies", args=[root_id]) + "?" + urlencode({"cursor": _replies_cursor(after)})
    )


def _replies_cursor(after: int) -> str:
    return base64.urlsafe_b64encode(f"after:{after}".encode()).decode().rstrip("=")


def _replies_after(request) -> int:
    raw = request.query_params.get("cursor")
    if raw is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        text = ""
    kind, _, number = text.partition(":")
    if kind != "after" or not (number.isascii() and number.isdigit() and len(number) <= 19):
        raise CursorNotFound("Invalid cursor")
    return int(number)


def int_param(request, name: str, *, low: int, high: int, message: str) -> int | None:
    """A query parameter that must be an integer in [low, high] written in ASCII digits.

    str.isdigit() accepts "²" and "١٢", which int() then refuses (a 500) or reads.
    """
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 20 and low <= int(raw) <= high):
        raise VigieError(message, fields={name: ["Out of range."]})
    return int(raw)


def _check_page_size(request) -> None:
    top = settings.VIGIE_MAX_PAGE_SIZE
    int_param(request, "page_size", low=1, high=top, message=f"page_size must be an integer from 1 to {top}.")


def _statement_language(request, site) -> str:
    """The statement's language: the one the caller asks for, else the site's."""
    if not request.headers.get("Accept-Language"):
        return site.language
    return translation.get_language_from_request(request)


class CommentView(SiteView):
    @extend_schema(
        tags=["comments"],
        summary="Get a comment, its status and its statement of reasons",
        parameters=[OpenApiParameter("Accept-Language", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        responses={200: s.CommentDetailOutput, **errors(SITE, "not_found")},
    )
    def get(self, request, comment_id: int):
        site = request.auth
        comment = selectors.comment_for_site(site=site, comment_id=_comment_id(comment_id))
        language = _statement_language(request, site)
        comment.pending_edit = selectors.pending_edit(comment=comment)
        etag = _comment_etag(comment, site, language)
        if etag is not None and caching.matches(request, etag):
            return caching.not_modified(etag=etag, site=site)
        statement = services.statement_for(comment, language=language)
        response = Response(s.CommentDetailOutput(comment, context={"statement": statement}).data)
        if etag is None:
            response["Cache-Control"] = caching.PRIVATE
            return response
        return caching.finish(response, etag=etag, site=site)

    @extend_schema(
        tags=["comments"],
        summary="Edit a comment (its author, within the site's edit window)",
        request=s.CommentEditInput,
        responses={
            202: s.CommentStatusOutput,
            **errors(
                SITE,
                BODY,
                "not_found",
                "edit_window_closed",
                "comment_deleted",
                "comment_not_decided",
                "comment_rejected",
                "article_closed",
            ),
        },
    )
    def patch(self, request, comment_id: int):
        """The author's new text, moderated again; the comment shows its current text meanwhile
        (`pending_edit`: `received`). 409 `edit_window_closed` after the site's edit window."""
        data = _validated(s.CommentEditInput, request.data)
        comment, _ = services.comment_edit(
            site=request.auth, comment_id=_comment_id(comment_id), body=data["body"]
        )
        return Response(s.CommentStatusOutput(comment).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        tags=["comments"],
        summary="Delete a comment (its author): a tombstone keeps its replies in place",
        responses={204: None, **errors(SITE, "not_found")},
    )
    def delete(self, request, comment_id: int):
        """The author deletes it: text and name erased, a tombstone keeps its replies in place.
        A second delete is 404."""
        services.comment_delete(site=request.auth, comment_id=_comment_id(comment_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _comment_etag(comment, site, language: str) -> str | None:
    """What GET /comments/{id} shows depends on: the comment's own state (every status change
    sets updated_at; an edit, a deletion), its pending edit, its article's visible version,
    the statement's language and the site's words in it. None for a held comment: its
    statement of reasons appears once it has been held ``statement_after_hours``, with no
    write to mark it."""
    if comment.status == Comment.Status.HELD:
        return None
    return caching.weak_etag(
        "comment",
        comment.pk,
        comment.status,
        comment.updated_at.isoformat(),
        comment.deleted_at and comment.deleted_at.isoformat(),
        comment.author_name,
        comment.author.name,
        comment.body,
        comment.pending_edit,
        comment.article.visible_version,
        language,
        site.language,
        site.charter_clause,
    )


class CommentRepliesView(SiteView):
    @extend_schema(
        tags=["comments"],
        summary="The next replies of a thread (from replies_next)",
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description="From `replies_next` or `next`."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Replies per page."),
        ],
        responses={
            200: inline_serializer(
                "RepliesPage",
                {
                    "next": serializers.CharField(allow_null=True),
                    "results": serializers.ListField(child=serializers.DictField()),
                },
            ),
            **errors(SITE, "not_found", "invalid"),
        },
    )
    def get(self, request, comment_id: int):
        """The next replies of a thread, oldest first: a forest whose tops hang from comments
        of earlier pages (their `parent_id`)."""
        root = selectors.visible_root_for_site(site=request.auth, comment_id=_comment_id(comment_id))
        top = max(settings.VIGIE_MAX_PAGE_SIZE, settings.VIGIE_REPLIES_PAGE)
        limit = int_param(
            request, "page_size", low=1, high=top, message=f"page_size must be an integer from 1 to {top}."
        )
        limit = limit or settings.VIGIE_REPLIES_PAGE
        after = _replies_after(request)
        rows = selectors.root_replies(root=root, after=after, limit=limit)
        page, has_more = rows[:limit], len(rows) > limit
        live = _live_tombstones(page) if has_more else set()
        on_this_page = {r["id"] for r in page}
        shown = selectors.shown_in_thread(comment_ids={r["parent_id"] for r in page} - on_this_page)
        results, _ = selectors.thread_forest(
            [], page, per_root=None, max_depth=settings.VIGIE_MAX_REPLY_DEPTH, live=live, shown=shown
        )
        next_url = None
        if has_more:
            next_url = request.build_absolute_uri(
                reverse("comment-replies", args=[root.pk])
                + "?"
                + urlencode({"cursor": _replies_cursor(page[-1]["id"]), "page_size": limit})
            )
        return Response({"next": next_url, "results": results})


APPEAL_REFUSALS = ("not_restricted", "appeal_window_closed", "appeal_open", "already_appealed")


class CommentAppealsView(SiteView):
    @extend_schema(
        tags=["appeals"],
        summary="Contest a decision on a comment (the author's appeal)",
        request=s.AppealInput,
        responses={
            201: s.AppealOutput,
            **errors(SITE, BODY, "not_found", APPEAL_REFUSALS),
        },
    )
    def post(self, request, comment_id: int):
        data = _validated(s.AppealInput, request.data)
        appeal = services.appeal_create(
            site=request.auth, comment_id=_comment_id(comment_id), text=data["text"]
        )
        return Response(s.AppealOutput(appeal).data, status=status.HTTP_201_CREATED)


class NoticesView(SiteView):
    @extend_schema(
        tags=["notices"],
        summary="Notify illegal content (DSA article 16)",
        request=s.NoticeInput,
        responses={201: s.NoticeOutput, **errors(SITE, BODY, "not_found")},
    )
    def post(self, request):
        data = _validated(s.NoticeInput, request.data)
        notifier = data.get("notifier") or {}
        notice = services.notice_create(
            site=request.auth,
            comment_id=data["comment_id"],
            ground=data["ground"],
            explanation=data["explanation"],
            notifier_name=notifier.get("name", ""),
            notifier_email=notifier.get("email", ""),
        )
        return Response(s.NoticeOutput(notice).data, status=status.HTTP_201_CREATED)


class CommentReportsView(SiteView):
    # Per site, and against brigades: per reporting reader and per reader IP.
    throttle_classes = [ReportThrottle, ReporterThrottle, ReportIpThrottle]

    @extend_schema(
        tags=["reports"],
        summary="Report a visible comment (a reader's report)",
        request=s.ReportInput,
        parameters=[
            OpenApiParameter(
                "X-Reader-IP", OpenApiTypes.STR, OpenApiParameter.HEADER, description="For per-IP limits."
            ),
        ],
        responses={201: s.ReportOutput, **errors(SITE, BODY, "not_found", "already_reported")},
    )
    def post(self, request, comment_id: int):
        data = _validated(s.ReportInput, request.data)
        report = services.report_create(site=request.auth, comment_id=_comment_id(comment_id), **data)
        return Response(s.ReportOutput(report).data, status=status.HTTP_201_CREATED)


# --- moderator API ----------------------------------------------------------------------------


class IdFilter(django_filters.NumberFilter):
    """An id: an integer the database can hold (a DecimalField let 2^64 through to SQLite)."""

    field_class = forms.IntegerField

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=2**62, **kwargs)


class QueueFilter(django_filters.FilterSet):
    site = IdFilter(field_name="site_id")
    article = django_filters.CharFilter(field_name="article__external_id", max_length=200)
    author = IdFilter(field_name="author_id")
    language = django_filters.ChoiceFilter(choices=[("fr", "fr"), ("en", "en"), ("other", "other")])
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    min_toxicity = django_filters.NumberFilter(field_name="toxicity", lookup_expr="gte")
    min_spam = django_filters.NumberFilter(field_name="spam", lookup_expr="gte")
    q = django_filters.CharFilter(field_name="body", lookup_expr="icontains", max_length=200)

    class Meta:
        model = Comment
        fields = []


QUEUE_FILTERS = frozenset(QueueFilter.base_filters)

QUEUE_ORDERINGS = {
    "priority": "-priority",  # most likely toxic or spam first
    "oldest": "created_at",
    "newest": "-created_at",
}


class ModerationQueueView(ModeratorView):
    @extend_schema(
        tags=["moderation"],
        summary="List a review queue",
        operation_id="moderation_queue_list",
        parameters=[
            OpenApiParameter("queue", OpenApiTypes.STR, enum=list(selectors.QUEUES), required=True),
            OpenApiParameter("ordering", OpenApiTypes.STR, enum=list(QUEUE_ORDERINGS)),
            OpenApiParameter("cursor", OpenApiTypes.STR),
            OpenApiParameter("page_size", OpenApiTypes.INT),
            OpenApiParameter("site", OpenApiTypes.INT),
            OpenApiParameter("article", OpenApiTypes.STR),
            OpenApiParameter("author", OpenApiTypes.INT),
            OpenApiParameter("language", OpenApiTypes.STR, enum=["fr", "en", "other"]),
            OpenApiParameter("created_after", OpenApiTypes.DATETIME),
            OpenApiParameter("created_before", OpenApiTypes.DATETIME),
            OpenApiParameter("min_toxicity", OpenApiTypes.FLOAT),
            OpenApiParameter("min_spam", OpenApiTypes.FLOAT),
            OpenApiParameter("q", OpenApiTypes.STR, description="Text in the body."),
        ],
        responses={
            200: cursor_page("QueueItemPage", s.QueueItemOutput(many=True)),
            **errors(MODERATOR, "invalid", "not_found"),
        },
    )
    def get(self, request):
        queue = request.query_params.get("queue", "held")
        if queue not in selectors.QUEUES:
            raise VigieError(
                f"queue must be one of {list(selectors.QUEUES)}.", fields={"queue": ["Not a valid choice."]}
            )
        default_ordering = "priority" if queue in ("held", "reported") else "oldest"
        ordering = request.query_params.get("ordering", default_ordering)
        if ordering not in QUEUE_ORDERINGS:
            raise VigieError(
                f"ordering must be one of {list(QUEUE_ORDERINGS)}.",
                fields={"ordering": ["Not a valid choice."]},
            )
        _check_page_size(request)
        # A FilterSet (its form, its fields) only when a filter is asked for: building one
        # cost a tenth of the page (bench/reads.py). Without one, a status queue's page is one
        # fixed statement (selectors.QueuePage), the same rows as review_queue_rows.
        filtered = not QUEUE_FILTERS.isdisjoint(request.query_params)
        if not filtered and selectors.QueuePage.serves(queue):
            rows = selectors.QueuePage(user=request.user, queue=queue)
        else:
            rows = selectors.review_queue_rows(user=request.user, queue=queue)
        if filtered:
            filterset = QueueFilter(request.query_params, queryset=rows)
            if not filterset.is_valid():
                raise VigieError("Invalid filter.", fields=filterset.errors)
            rows = filterset.qs
        paginator = Pagination()
        paginator.ordering = (QUEUE_ORDERINGS[ordering], "-id" if ordering != "oldest" else "id")
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(shapes.queue_items(page))


class ModerationCommentView(ModeratorView):
    @extend_schema(
        tags=["moderation"],
        summary="Get a comment with its scores, reports, author history and trail",
        responses={200: s.ModeratorCommentOutput, **errors(MODERATOR, "not_found")},
    )
    def get(self, request, comment_id: int):
        comment = selectors.comment_for_moderator(user=request.user, comment_id=_comment_id(comment_id))
        return Response(_moderator_comment(comment))


def _moderator_comment(comment) -> dict:
    context = {
        "author_history": selectors.author_recent_comments(author=comment.author, exclude_id=comment.pk),
        "author_notes": selectors.author_notes(author=comment.author),
    }
    return s.ModeratorCommentOutput(comment, context=context).data


class _DecisionView(ModeratorView):
    action = ""
    input_serializer = s.ApproveInput

    def post(self, request, comment_id: int):
        data = _validated(self.input_serializer, request.data)
        services.comments_bulk_decide(
            comment_ids=[_comment_id(comment_id)], action=self.action, moderator=request.user, **data
        )
        comment = selectors.comment_for_moderator(user=request.user, comment_id=comment_id)
        return Response(_moderator_comment(comment))


class ApproveView(_DecisionView):
    action = "approve"
    input_serializer = s.ApproveInput

    @extend_schema(
        tags=["moderation"],
        summary="Approve a comment",
        request=s.ApproveInput,
        responses={200: s.ModeratorCommentOutput, **DECISION_ERRORS},
    )
    def post(self, request, comment_id: int):
        return super().post(request, comment_id)


class RejectView(_DecisionView):
    action = "reject"
    input_serializer = s.DecisionInput

    @extend_schema(
        tags=["moderation"],
        summary="Reject a comment",
        request=s.DecisionInput,
        responses={200: s.ModeratorCommentOutput, **DECISION_ERRORS},
    )
    def post(self, request, comment_id: int):
        return super().post(request, comment_id)


class DismissReportsView(ModeratorView):
    @extend_schema(
        tags=["moderation"],
        summary="Dismiss a comment's open reports",
        request=s.DismissReportsInput,
        responses={200: s.ModeratorCommentOutput, **errors(MODERATOR, BODY, "not_found", "no_open_reports")},
    )
    def post(self, request, comment_id: int):
        data = _validated(s.DismissReportsInput, request.data)
        services.comment_dismiss_reports(comment_id=_comment_id(comment_id), moderator=request.user, **data)
        comment = selectors.comment_for_moderator(user=request.user, comment_id=comment_id)
        return Response(_moderator_comment(comment))


class BulkView(ModeratorView):
    @extend_schema(
        tags=["moderation"],
        summary="Approve or reject many comments at once (all or nothing)",
        request=s.BulkInput,
        responses={
            200: inline_serializer(
                "BulkResult",
                {
                    "action": serializers.CharField(),
                    "ids": serializers.ListField(child=serializers.IntegerField()),
                },
            ),
            **DECISION_ERRORS,
        },
    )
    def post(self, request):
        data = _validated(s.BulkInput, request.data)
        comments = services.comments_bulk_decide(
            comment_ids=data["ids"],
            action=data["action"],
            moderator=request.user,
            reason=data["reason"],
            note=data["note"],
        )
        return Response({"action": data["action"], "ids": [c.pk for c in comments]})


class AuthorActionView(ModeratorView):
    action = ""

    @extend_schema(
        tags=["moderation"],
        summary="Ban, pre-moderate or restore an author",
        request=s.AuthorActionInput,
        responses={200: s.ModeratorAuthorOutput, **errors(MODERATOR, BODY, "not_found")},
    )
    def post(self, request, author_id: int):
        data = _validated(s.AuthorActionInput, request.data)
        if author_id > 2**62:
            raise NotFound("No such author.")
        author = services.author_set_status(
            author_id=author_id, action=self.action, moderator=request.user, **data
        )
        return Response(s.ModeratorAuthorOutput(author).data)


class AuthorNotesView(ModeratorView):
    @extend_schema(
        tags=["moderation"],
        summary="List the moderators' notes on an author",
        responses={200: s.AuthorNoteOutput(many=True), **errors(MODERATOR, "not_found")},
    )
    def get(self, request, author_id: int):
        author = selectors.author_for_moderator(user=request.user, author_id=_author_id(author_id))
        return Response(s.AuthorNoteOutput(selectors.author_notes(author=author, limit=200), many=True).data)

    @extend_schema(
        tags=["moderation"],
        summary="Add a moderator's note on an author",
        request=s.AuthorNoteInput,
        responses={201: s.AuthorNoteOutput, **errors(MODERATOR, BODY, "not_found")},
    )
    def post(self, request, author_id: int):
        data = _validated(s.AuthorNoteInput, request.data)
        note = services.author_note_add(
            author_id=_author_id(author_id), moderator=request.user, text=data["text"]
        )
        return Response(s.AuthorNoteOutput(note).data, status=status.HTTP_201_CREATED)


def _author_id(value) -> int:
    if value > 2**62:
        raise NotFound("No such author.")
    return value


class TransparencyView(ModeratorView):
    @extend_schema(
        tags=["transparency"],
        summary="DSA transparency counts for a period",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First day, YYYY-MM-DD."),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last day, YYYY-MM-DD."),
        ],
        responses={200: OpenApiTypes.OBJECT, **errors(MODERATOR, "invalid")},
    )
    def get(self, request):
        dates = {}
        for name in ("from", "to"):
            raw = request.query_params.get(name, "")
            try:
                dates[name] = date.fromisoformat(raw) if len(raw) == 10 else None
            except ValueError:
                dates[name] = None
            if dates[name] is None:
                raise VigieError(f"{name} must be a date, YYYY-MM-DD.", fields={name: ["Not a date."]})
        if dates["from"] > dates["to"] or (dates["to"] - dates["from"]).days > 3660:
            raise VigieError(
                "from must be on or before to, within ten years.", fields={"from": ["After to, or too far."]}
            )
        report = selectors.transparency_report(
            user=request.user, date_from=dates["from"], date_to=dates["to"]
        )
        return Response(report)


class StatsView(ModeratorView):
    @extend_schema(
        tags=["moderation"],
        summary="Moderation statistics: counts per status and per day, time to decision",
        parameters=[
            OpenApiParameter("days", OpenApiTypes.INT, description="1 to 365, default 30."),
            OpenApiParameter("site", OpenApiTypes.INT),
        ],
        responses={200: s.StatsOutput, **errors(MODERATOR, "invalid")},
    )
    def get(self, request):
        days = int_param(request, "days", low=1, high=365, message="days must be an integer from 1 to 365.")
        site = int_param(request, "site", low=1, high=2**62, message="site must be a site id.")
        stats = selectors.moderation_stats(user=request.user, days=days or 30, site_id=site)
        return Response(stats)


# --- authors' personal data (site API) --------------------------------------------------------


class AuthorExportView(SiteView):
    @extend_schema(
        tags=["authors"],
        summary="Export everything stored about an author (GDPR)",
        description="The author, their comments with each one's status, history and appeals, the "
        "reports they made and the events about them. Another site's author, or an erased one, is a 404.",
        responses={200: OpenApiTypes.OBJECT, **errors(SITE, "invalid", "not_found")},
    )
    def get(self, request, external_id: str):
        _check_external_id(external_id, "author")
        return Response(selectors.author_export(site=request.auth, external_id=external_id))


class AuthorView(SiteView):
    @extend_schema(
        tags=["authors"],
        summary="Erase an author's personal data (GDPR)",
        description="Bodies and names go from their comments (tombstones keep the threads' shape), "
        "their reports and the explanations; the audit trail keeps ids and decisions only. A second "
        "erase is a 404: the author's id no longer leads anywhere.",
        responses={204: None, **errors(SITE, "invalid", "not_found")},
    )
    def delete(self, request, external_id: str):
        _check_external_id(external_id, "author")
        services.authors_erase(site=request.auth, external_id=external_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


def unit_param(request, name: str) -> float | None:
    """A threshold in the query string: a decimal number from 0 to 1 (None if absent or empty)."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw) if raw.isascii() and len(raw) <= 20 else math.nan
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise VigieError(
            f"{name} must be a number from 0 to 1.", fields={name: ["Not a number from 0 to 1."]}
        )
    return value


def simulation_params(request) -> tuple:
    """(site, thresholds, days) of a simulation; thresholds left out are the site's as applied."""
    site_id = int_param(request, "site", low=1, high=2**62, message="site must be a site id.")
    if site_id is None:
        raise VigieError("site is required.", fields={"site": ["Required."]})
    site = selectors.moderator_sites(request.user).filter(pk=site_id).first()
    if site is None:
        raise NotFound(f"No site {site_id}.")
    days = int_param(request, "days", low=1, high=365, message="days must be an integer from 1 to 365.")
    current = selectors.current_thresholds(site, services.get_model().thresholds)
    given = {name: unit_param(request, name) for name in services.THRESHOLD_NAMES}
    thresholds = {name: current[name] if value is None else value for name, value in given.items()}
    return site, thresholds, days or 30


class SimulateView(ModeratorView):
    @extend_schema(
        tags=["moderation"],
        summary="What-if thresholds on a site's recent comments",
        parameters=[
            OpenApiParameter("site", OpenApiTypes.INT, required=True),
            *[
                OpenApiParameter(name, OpenApiTypes.FLOAT, description="0 to 1; default: the site's.")
                for name in ("toxicity_hold", "toxicity_reject", "spam_hold", "spam_reject")
            ],
            OpenApiParameter("days", OpenApiTypes.INT, description="1 to 365, default 30."),
        ],
        responses={200: s.SimulationOutput, **errors(MODERATOR, "invalid", "not_found")},
    )
    def get(self, request):
        site, thresholds, days = simulation_params(request)
        return Response(selectors.simulate_thresholds(site=site, thresholds=thresholds, days=days))


# --- webhooks (site API) ----------------------------------------------------------------------


class WebhooksView(SiteView):
    @extend_schema(
        tags=["webhooks"],
        summary="List the site's webhook endpoints",
        responses={200: s.WebhookOutput(many=True), **errors(SITE)},
    )
    def get(self, request):
        endpoints = selectors.webhook_endpoints_for_site(site=request.auth)
        return Response(s.WebhookOutput(endpoints, many=True).data)

    @extend_schema(
        tags=["webhooks"],
        summary="Add a webhook endpoint (its secret is shown once)",
        request=s.WebhookInput,
        responses={201: s.WebhookCreatedOutput, **errors(SITE, BODY, "invalid_url", "too_many_webhooks")},
    )
    def post(self, request):
        data = _validated(s.WebhookInput, request.data)
        endpoint, secret = services.webhook_endpoint_create(
            site=request.auth, url=data["url"], events=data["events"]
        )
        endpoint._secret = secret
        return Response(s.WebhookCreatedOutput(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookView(SiteView):
    @extend_schema(
        tags=["webhooks"],
        summary="Delete a webhook endpoint",
        responses={204: None, **errors(SITE, "not_found")},
    )
    def delete(self, request, webhook_id: int):
        if webhook_id > 2**62:
            raise NotFound("No such webhook.")
        services.webhook_endpoint_delete(site=request.auth, endpoint_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
