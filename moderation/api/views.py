"""One view per operation: validate -> service or selector -> serialize."""

import math
from datetime import date

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import NotFound as CursorNotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from moderation import selectors, services
from moderation.api import caching, shapes
from moderation.api import serializers as s
from moderation.api.authentication import ApiKeyAuthentication
from moderation.api.permissions import IsModerator, IsSite
from moderation.api.throttling import (
    AuthorThrottle,
    ReaderIpThrottle,
    ReporterThrottle,
    ReportIpThrottle,
    ReportThrottle,
    SiteThrottle,
    check_all,
)
from moderation.errors import NotFound, VigieError
from moderation.models import Comment

ERROR = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorBody",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(),
            },
        )
    },
)
ERRORS = {code: ERROR for code in (400, 401, 403, 404, 409, 413, 415, 429)}


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
    authentication_classes = [TokenAuthentication, SessionAuthentication]
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


def _check_article_id(external_id: str) -> None:
    # Checked before any query: PostgreSQL refuses a NUL in text (a DataError, a 500).
    try:
        s.ExternalId().run_validation(external_id)
    except serializers.ValidationError as exc:
        raise VigieError("The article id is not valid.", fields={"external_id": exc.detail}) from None


# --- site API ---------------------------------------------------------------------------------


class ArticleView(SiteView):
    @extend_schema(request=s.ArticleInput, responses={200: s.ArticleOutput, 201: s.ArticleOutput, **ERRORS})
    def put(self, request, external_id: str):
        _check_article_id(external_id)
        data = _validated(s.ArticleInput, request.data)
        article, created = services.article_upsert(site=request.auth, external_id=external_id, **data)
        return Response(
            s.ArticleOutput(article).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(responses={200: s.ArticleOutput, **ERRORS})
    def get(self, request, external_id: str):
        _check_article_id(external_id)
        article = selectors.article_for_site(site=request.auth, external_id=external_id)
        return Response(s.ArticleOutput(article).data)


class ArticleCommentsView(SiteView):
    def get_throttles(self):
        if self.request.method == "POST":
            return [SiteThrottle(), AuthorThrottle(), ReaderIpThrottle()]
        return super().get_throttles()

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next` / `previous`."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to the maximum page size."),
            OpenApiParameter("order", OpenApiTypes.STR, enum=["oldest", "newest"]),
        ],
        responses={200: cursor_page("VisibleCommentPage", s.VisibleCommentOutput(many=True)), **ERRORS},
    )
    def get(self, request, external_id: str):
        _check_article_id(external_id)
        article = selectors.article_for_site(site=request.auth, external_id=external_id)
        order = request.query_params.get("order", "oldest")
        if order not in ("oldest", "newest"):
            raise VigieError("order must be oldest or newest.", fields={"order": ["Not a valid choice."]})
        _check_page_size(request)
        # The page is a function of the article's visible version and the query (cursor,
        # page size, order): known now, so an unchanged page costs no more queries.
        etag = caching.weak_etag(
            "list", article.pk, article.visible_version, request.META.get("QUERY_STRING", "")
        )
        if caching.matches(request, etag):
            return caching.not_modified(etag=etag, site=request.auth)
        paginator = Pagination()
        paginator.ordering = "id" if order == "oldest" else "-id"
        roots = paginator.paginate_queryset(selectors.visible_root_rows(article=article), request, view=self)
        replies = selectors.visible_reply_rows(root_ids=[root["id"] for root in roots])
        response = paginator.get_paginated_response(shapes.visible_threads(roots, replies))
        return caching.finish(response, etag=etag, site=request.auth)

    @extend_schema(
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
        responses={202: s.CommentStatusOutput, **ERRORS},
    )
    def post(self, request, external_id: str):
        _check_article_id(external_id)
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
        return Response(shapes.comment_status(comment), status=status.HTTP_202_ACCEPTED)


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
        parameters=[OpenApiParameter("Accept-Language", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        responses={200: s.CommentDetailOutput, **ERRORS},
    )
    def get(self, request, comment_id: int):
        site = request.auth
        comment = selectors.comment_for_site(site=site, comment_id=_comment_id(comment_id))
        language = _statement_language(request, site)
        etag = _comment_etag(comment, site, language)
        if etag is not None and caching.matches(request, etag):
            return caching.not_modified(etag=etag, site=site)
        statement = services.statement_for(comment, language=language)
        response = Response(shapes.comment_detail(comment, statement))
        if etag is None:
            response["Cache-Control"] = caching.PRIVATE
            return response
        return caching.finish(response, etag=etag, site=site)


def _comment_etag(comment, site, language: str) -> str | None:
    """What GET /comments/{id} shows depends on: the comment's own state (every status change
    sets updated_at), its author's name, its article's visible version, the statement's
    language and the site's words in it. None for a held comment: its statement of reasons
    appears once it has been held ``statement_after_hours``, with no write to mark it."""
    if comment.status == Comment.Status.HELD:
        return None
    return caching.weak_etag(
        "comment",
        comment.pk,
        comment.status,
        comment.updated_at.isoformat(),
        comment.author.name,
        comment.article.visible_version,
        language,
        site.language,
        site.charter_clause,
    )


class CommentAppealsView(SiteView):
    @extend_schema(request=s.AppealInput, responses={201: s.AppealOutput, **ERRORS})
    def post(self, request, comment_id: int):
        data = _validated(s.AppealInput, request.data)
        appeal = services.appeal_create(
            site=request.auth, comment_id=_comment_id(comment_id), text=data["text"]
        )
        return Response(s.AppealOutput(appeal).data, status=status.HTTP_201_CREATED)


class NoticesView(SiteView):
    @extend_schema(request=s.NoticeInput, responses={201: s.NoticeOutput, **ERRORS})
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
        request=s.ReportInput,
        parameters=[
            OpenApiParameter(
                "X-Reader-IP", OpenApiTypes.STR, OpenApiParameter.HEADER, description="For per-IP limits."
            ),
        ],
        responses={201: s.ReportOutput, **ERRORS},
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
        responses={200: cursor_page("QueueItemPage", s.QueueItemOutput(many=True)), **ERRORS},
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
        rows = selectors.review_queue_rows(user=request.user, queue=queue)
        # A FilterSet (its form, its fields) only when a filter is asked for: building one
        # cost a tenth of the page (bench/reads.py).
        if not QUEUE_FILTERS.isdisjoint(request.query_params):
            filterset = QueueFilter(request.query_params, queryset=rows)
            if not filterset.is_valid():
                raise VigieError("Invalid filter.", fields=filterset.errors)
            rows = filterset.qs
        paginator = Pagination()
        paginator.ordering = (QUEUE_ORDERINGS[ordering], "-id" if ordering != "oldest" else "id")
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(shapes.queue_items(page))


class ModerationCommentView(ModeratorView):
    @extend_schema(responses={200: s.ModeratorCommentOutput, **ERRORS})
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

    @extend_schema(request=s.ApproveInput, responses={200: s.ModeratorCommentOutput, **ERRORS})
    def post(self, request, comment_id: int):
        return super().post(request, comment_id)


class RejectView(_DecisionView):
    action = "reject"
    input_serializer = s.DecisionInput

    @extend_schema(request=s.DecisionInput, responses={200: s.ModeratorCommentOutput, **ERRORS})
    def post(self, request, comment_id: int):
        return super().post(request, comment_id)


class DismissReportsView(ModeratorView):
    @extend_schema(request=s.DismissReportsInput, responses={200: s.ModeratorCommentOutput, **ERRORS})
    def post(self, request, comment_id: int):
        data = _validated(s.DismissReportsInput, request.data)
        services.comment_dismiss_reports(comment_id=_comment_id(comment_id), moderator=request.user, **data)
        comment = selectors.comment_for_moderator(user=request.user, comment_id=comment_id)
        return Response(_moderator_comment(comment))


class BulkView(ModeratorView):
    @extend_schema(
        request=s.BulkInput,
        responses={
            200: inline_serializer(
                "BulkResult",
                {
                    "action": serializers.CharField(),
                    "ids": serializers.ListField(child=serializers.IntegerField()),
                },
            ),
            **ERRORS,
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

    @extend_schema(request=s.AuthorActionInput, responses={200: s.ModeratorAuthorOutput, **ERRORS})
    def post(self, request, author_id: int):
        data = _validated(s.AuthorActionInput, request.data)
        if author_id > 2**62:
            raise NotFound("No such author.")
        author = services.author_set_status(
            author_id=author_id, action=self.action, moderator=request.user, **data
        )
        return Response(s.ModeratorAuthorOutput(author).data)


class AuthorNotesView(ModeratorView):
    @extend_schema(responses={200: s.AuthorNoteOutput(many=True), **ERRORS})
    def get(self, request, author_id: int):
        author = selectors.author_for_moderator(user=request.user, author_id=_author_id(author_id))
        return Response(s.AuthorNoteOutput(selectors.author_notes(author=author, limit=200), many=True).data)

    @extend_schema(request=s.AuthorNoteInput, responses={201: s.AuthorNoteOutput, **ERRORS})
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
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First day, YYYY-MM-DD."),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last day, YYYY-MM-DD."),
        ],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
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
        parameters=[
            OpenApiParameter("days", OpenApiTypes.INT, description="1 to 365, default 30."),
            OpenApiParameter("site", OpenApiTypes.INT),
        ],
        responses={200: s.StatsOutput, **ERRORS},
    )
    def get(self, request):
        days = int_param(request, "days", low=1, high=365, message="days must be an integer from 1 to 365.")
        site = int_param(request, "site", low=1, high=2**62, message="site must be a site id.")
        stats = selectors.moderation_stats(user=request.user, days=days or 30, site_id=site)
        return Response(stats)


# --- webhooks (site API) ----------------------------------------------------------------------


class WebhooksView(SiteView):
    @extend_schema(responses={200: s.WebhookOutput(many=True), **ERRORS})
    def get(self, request):
        endpoints = selectors.webhook_endpoints_for_site(site=request.auth)
        return Response(s.WebhookOutput(endpoints, many=True).data)

    @extend_schema(request=s.WebhookInput, responses={201: s.WebhookCreatedOutput, **ERRORS})
    def post(self, request):
        data = _validated(s.WebhookInput, request.data)
        endpoint, secret = services.webhook_endpoint_create(
            site=request.auth, url=data["url"], events=data["events"]
        )
        endpoint._secret = secret
        return Response(s.WebhookCreatedOutput(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookView(SiteView):
    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request, webhook_id: int):
        if webhook_id > 2**62:
            raise NotFound("No such webhook.")
        services.webhook_endpoint_delete(site=request.auth, endpoint_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
