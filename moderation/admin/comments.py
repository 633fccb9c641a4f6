"""Comments: the workbench (queues, the change page with its decision panel, bulk actions)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, QueryDict
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import SafeString
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from moderation import reasons, selectors, services
from moderation.admin import rows
from moderation.admin.common import (  # noqa: F401
    AUTHOR_ACTION_BUTTONS,
    QUEUE_LABELS,
    SCORED_QUEUES,
    ModeratedSitesMixin,
    ReadOnlyInline,
    score_column,
    shown,
    shown_all,
    site_filter,
    titled,
)
from moderation.admin.highlight import highlight, latest_classification
from moderation.api.errors import json_error
from moderation.errors import Forbidden, NotFound, VigieError
from moderation.models import (
    Classification,
    Comment,
    ModerationEvent,
    RejectReason,
    Report,
    Revision,
)
from moderation.selectors import can_moderate


def queue_counts(request) -> dict[str, int]:
    """The queue counts, once per request (the queue tabs and the filter both show them)."""
    if not hasattr(request, "_vigie_queue_counts"):
        request._vigie_queue_counts = selectors.queue_counts(user=request.user)
    return request._vigie_queue_counts


class QueueFilter(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        counts = queue_counts(request)
        return [
            (queue, format_lazy("{} ({})", label, counts[queue])) for queue, label in QUEUE_LABELS.items()
        ]

    def queryset(self, request, queryset):
        if self.value() in QUEUE_LABELS:
            return selectors.in_queue(queryset, self.value())
        return queryset


def _refuse_nul(request, *names: str):
    """PostgreSQL refuses a NUL in text (a DataError, a 500): a form that sends one is refused.

    No browser types one; only a forged request does, so a 400 in the API's shape is enough.
    """
    bad = {
        name: ["NUL characters are not allowed."] for name in names if "\x00" in request.POST.get(name, "")
    }
    if bad:
        return json_error(400, "invalid", "The form is not valid.", bad)
    return None


class ClassificationInline(ReadOnlyInline):
    model = Classification
    fields = [
        "model_version",
        score_column("toxicity", Classification),
        score_column("spam", Classification),
        "language",
        "sub_labels",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("sub-labels"))
    def sub_labels(self, classification: Classification) -> str:
        return reasons.describe_labels(classification.labels) or "–"


class ReportInline(ReadOnlyInline):
    model = Report
    fields = ["reason", "text", "reporter_id", "anonymous", "weight", "outcome", "created_at", "resolved_at"]
    readonly_fields = fields


class RevisionInline(ReadOnlyInline):
    """The author's edits: each text against the one before (removed struck out, added marked)."""

    model = Revision
    fields = ["number", "changes", "status", "toxicity", "spam", "created_at", "decided_at"]
    readonly_fields = fields
    verbose_name_plural = _("revisions by the author")

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("number")

    @admin.display(description=_("text"))
    def changes(self, revision: Revision) -> SafeString:
        revisions = list(Revision.objects.filter(comment_id=revision.comment_id, number__lte=revision.number))
        diff = services.revision_diffs(revisions)[-1]
        tags = {
            "=": "<span>{}</span>",
            "-": '<del class="vigie-removed">{}</del>',
            "+": '<ins class="vigie-added">{}</ins>',
        }
        return format_html_join("", "{}", ((format_html(tags[op], text),) for op, text in diff)) or "–"


class EventInline(ReadOnlyInline):
    model = ModerationEvent
    fk_name = "comment"
    fields = ["created_at", "actor", "moderator", "action", "from_status", "to_status", "why", "event_note"]
    readonly_fields = fields
    verbose_name_plural = _("event trail")

    @admin.display(description=_("reason"))
    def why(self, event: ModerationEvent) -> str:
        return reasons.describe(event.reason, event.reason_params) or "–"

    @admin.display(description=_("note"))
    def event_note(self, event: ModerationEvent) -> str:
        return reasons.describe_note(event.note, event.reason_params) or "–"


# --- bulk actions --------------------------------------------------------------------------------


def _decide(modeladmin, request, queryset, action: str, reason: str = "") -> None:
    ids = list(queryset.values_list("pk", flat=True))
    try:
        services.comments_bulk_decide(comment_ids=ids, action=action, moderator=request.user, reason=reason)
    except VigieError as exc:
        modeladmin.message_user(request, exc.message, level=messages.ERROR)
        return
    modeladmin.message_user(request, _decision_message(len(ids), action, reason))


def _decision_message(n: int, action: str, reason: str = "") -> str:
    if action == "approve":
        return gettext("%(n)d comment(s) approved.") % {"n": n}
    label = RejectReason(reason).label if reason in RejectReason.values else reason
    return gettext("%(n)d comment(s) rejected (%(reason)s).") % {"n": n, "reason": label}


def _reject_action(reason: RejectReason):
    def action(modeladmin, request, queryset: QuerySet):
        _decide(modeladmin, request, queryset, "reject", reason.value)

    action.__name__ = f"reject_{reason.value}"
    return admin.action(
        description=format_lazy(_("Reject the selected comments: {reason}"), reason=reason.label),
        permissions=["moderate"],
    )(action)


REJECT_ACTIONS = [_reject_action(reason) for reason in RejectReason]


@admin.register(Comment)
class CommentAdmin(ModeratedSitesMixin, admin.ModelAdmin):
    change_form_template = "admin/moderation/comment/change_form.html"
    change_list_template = "admin/moderation/comment/change_list.html"
    list_display = [
        "id",
        "comment_text",
        "why",
        "score",
        "author_record",
        "age",
        "article_short",
        "status",
        "site",
    ]
    list_display_links = ["id"]
    list_filter = [
        QueueFilter,
        titled("status"),
        site_filter("site"),
        titled("language"),
        titled("article__moderation_mode"),
    ]
    search_fields = ["body", "author_name", "author__name", "author__external_id", "article__title",
                     "article__external_id"]
    list_select_related = ["site", "article", "author"]
    list_per_page = 50
    date_hierarchy = "created_at"
    inlines = [ReportInline, RevisionInline, ClassificationInline, EventInline]
    actions = ["approve", *REJECT_ACTIONS, "dismiss_reports"]
    fields = [
        "highlighted_body",
        shown("status"),
        "scores",
        *shown_all(
            "site",
            "article",
            "author",
            "author_name",
            "parent",
            "language",
            "open_reports",
            "created_at",
            "decided_at",
            "edited_at",
            "deleted_at",
        ),
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Nothing on a comment is edited by hand: decisions are the buttons and actions.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        comment = super().get_object(request, object_id, from_field)
        if comment is not None:  # the change form reads them twice (body, scores)
            prefetch_related_objects([comment], "classifications")
        return comment

    def get_ordering(self, request):
        if request.GET.get("queue") in SCORED_QUEUES or request.GET.get("status__exact") == "held":
            return ["-priority", "id"]
        return ["-created_at", "-id"]

    # -- columns and fields --

    def get_list_display(self, request):
        # No column that would say the same on every row: the site when the moderator has
        # one, the status in a queue of one status.
        hidden = set()
        if selectors.moderator_sites(request.user).count() <= 1:
            hidden.add("site")
        if request.GET.get("queue") in ("held", "received", "published", "approved", "rejected"):
            hidden.add("status")
        return [name for name in self.list_display if name not in hidden]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        rows.attach(list(changelist.result_list))  # one page's extras, in a few queries
        return changelist

    @admin.display(description=_("comment"))
    def comment_text(self, comment: Comment) -> SafeString:
        return rows.body_cell(comment, reverse("admin:moderation_comment_change", args=[comment.pk]))

    @admin.display(description=_("why it waits"))
    def why(self, comment: Comment) -> SafeString:
        return rows.why_cell(comment)

    @admin.display(description=_("score"), ordering="priority")
    def score(self, comment: Comment) -> SafeString:
        return rows.score_cell(comment)

    @admin.display(description=_("author and record"), ordering="author_name")
    def author_record(self, comment: Comment) -> SafeString:
        return rows.author_cell(comment, reverse("admin:moderation_author_change", args=[comment.author_id]))

    @admin.display(description=_("age"), ordering="created_at")
    def age(self, comment: Comment) -> SafeString:
        return rows.age_cell(comment)

    @admin.display(description=_("article"), ordering="article__title")
    def article_short(self, comment: Comment) -> SafeString:
        return rows.article_cell(comment)

    @admin.display(description=_("comment"))
    def highlighted_body(self, comment: Comment) -> SafeString:
        classification = latest_classification(comment)
        if classification is None:
            return format_html('<div class="vigie-body">{}</div>', comment.body)
        scores = {"toxicity": classification.toxicity, "spam": classification.spam}
        return format_html(
            '<div class="vigie-body">{}</div>',
            # Published comments are explained on demand (the worker skips them).
            highlight(comment.body, services.explanation_of(classification, comment.body), scores),
        )

    @admin.display(description=_("scores"))
    def scores(self, comment: Comment) -> SafeString:
        classification = latest_classification(comment)
        if classification is None:
            return format_html("<span>{}</span>", _("not classified yet"))
        return format_html(
            '<span class="vigie-score">{} {}</span> <span class="vigie-score">{} {}</span> '
            '<span class="vigie-model">{} {}</span>',
            _("toxicity"),
            reasons.score(classification.toxicity),
            _("spam"),
            reasons.score(classification.spam),
            _("model"),
            classification.model_version,
        )

    # -- the workbench views --

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:comment_id>/decide/", view(self.decide_view), name="moderation_comment_decide"),
            path(
                "<int:comment_id>/dismiss_reports/",
                view(self.dismiss_reports_view),
                name="moderation_comment_dismiss_reports",
            ),
            path(
                "author/<int:author_id>/note/",
                view(self.author_note_view),
                name="moderation_comment_author_note",
            ),
            path(
                "author/<int:author_id>/<str:action>/",
                view(self.author_view),
                name="moderation_comment_author",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and can_moderate(request.user):
            context.update(self._workbench_context(request, obj))
            context["is_nav_sidebar_enabled"] = False  # the comment and its panel need the width
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        counts = queue_counts(request)
        current = request.GET.get("queue", "")
        extra_context["vigie_queues"] = [
            {"key": key, "label": label, "count": counts[key], "current": key == current}
            for key, label in QUEUE_LABELS.items()
        ]
        extra_context["vigie_dashboard_url"] = reverse("vigie-dashboard")
        extra_context["is_nav_sidebar_enabled"] = False  # the queue needs the width
        if current in QUEUE_LABELS:
            extra_context["title"] = gettext("Comments: %(queue)s") % {"queue": QUEUE_LABELS[current]}
        return super().changelist_view(request, extra_context)

    def _workbench_context(self, request, comment: Comment) -> dict:
        author = comment.author
        moves = Comment.TRANSITIONS[comment.status]
        can_approve, can_reject = Comment.Status.APPROVED in moves, Comment.Status.REJECTED in moves
        return {
            "vigie_comment": comment,
            "vigie_author": author,
            "vigie_can_approve": can_approve,
            "vigie_can_reject": can_reject,
            "vigie_reject_reasons": RejectReason.choices,
            "vigie_reports": list(comment.reports.order_by("created_at")),
            "vigie_notices": list(comment.notices.order_by("received_at")),
            "vigie_appeals": list(comment.appeals.select_related("contested_by").order_by("created_at")),
            "vigie_statement": services.statement_for(comment),
            "vigie_history": selectors.author_recent_comments(author=author, exclude_id=comment.pk, limit=8),
            "vigie_author_notes": selectors.author_notes(author=author, limit=10),
            "vigie_author_actions": [
                (action, label)
                for action, label in AUTHOR_ACTION_BUTTONS.items()
                if author.status != services.AUTHOR_ACTIONS[action][0]
            ],
            "vigie_decide_url": reverse("admin:moderation_comment_decide", args=[comment.pk]),
            "vigie_why": rows.why_items(comment),
            "vigie_score": reasons.score(comment.priority),
            "vigie_record": rows.record_text(comment.vigie_row["record"]),
            **self._queue_context(request, comment),
            "vigie_dismiss_reports_url": (
                reverse("admin:moderation_comment_dismiss_reports", args=[comment.pk])
                if comment.open_reports
                else ""
            ),
        }

    def _queue_context(self, request, comment: Comment) -> dict:
        """The queue the moderator came from (the list's filters, kept by the admin), the
        comments before and after this one in it (j / k), and the "r" key's reason."""
        filters = QueryDict(request.GET.get("_changelist_filters", ""))
        queue = filters.get("queue") or (comment.status if comment.status in QUEUE_LABELS else "held")
        previous, following = selectors.queue_neighbours(user=request.user, queue=queue, comment=comment)
        keep = urlencode({"_changelist_filters": urlencode({"queue": queue})})

        def url(pk):
            return f"{reverse('admin:moderation_comment_change', args=[pk])}?{keep}" if pk else ""

        last = selectors.last_reject_reason(user=request.user)
        return {
            "vigie_queue": queue,
            "vigie_queue_label": QUEUE_LABELS.get(queue, ""),
            "vigie_previous_url": url(previous),
            "vigie_next_url": url(following),
            "vigie_queue_url": reverse("admin:moderation_comment_changelist")
            + "?"
            + urlencode({"queue": queue}),
            "vigie_last_reason": last,
            "vigie_last_reason_label": RejectReason(last).label if last else "",
        }

    def _require_moderator(self, request):
        if not self.has_moderate_permission(request):
            raise PermissionDenied

    def decide_view(self, request, comment_id: int):
        """One click: approve, or reject with a reason, then on to the next held comment."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._require_moderator(request)
        if refused := _refuse_nul(request, "note", "reason"):
            return refused
        action, reason = request.POST.get("action"), request.POST.get("reason", "")
        if action not in ("approve", "reject") or (action == "reject" and reason not in RejectReason.values):
            messages.error(request, gettext("Choose approve, or reject with a reason."))
            return HttpResponseRedirect(reverse("admin:moderation_comment_change", args=[comment_id]))
        try:
            services.comments_bulk_decide(
                comment_ids=[comment_id],
                action=action,
                moderator=request.user,
                reason=reason if action == "reject" else "",
                note=request.POST.get("note", "")[:2000],
            )
        except NotFound:
            raise Http404(gettext("No such comment.")) from None
        except Forbidden:
            # The same refusal as the API's 403: an appeal goes to another moderator.
            raise PermissionDenied(
                gettext("You made the decision under appeal: another moderator decides.")
            ) from None
        except VigieError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:moderation_comment_change", args=[comment_id]))
        if action == "approve":
            done = gettext("Comment #%(id)d approved.") % {"id": comment_id}
        else:
            done = gettext("Comment #%(id)d rejected (%(reason)s).") % {
                "id": comment_id,
                "reason": RejectReason(reason).label,
            }
        messages.success(request, done)
        return HttpResponseRedirect(self._next_url(request, comment_id))

    def dismiss_reports_view(self, request, comment_id: int):
        """The reports are unfounded: they close, the comment stays or is again visible."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._require_moderator(request)
        try:
            comment = services.comment_dismiss_reports(
                comment_id=comment_id, moderator=request.user, note=request.POST.get("note", "")[:2000]
            )
        except NotFound:
            raise Http404(gettext("No such comment.")) from None
        except VigieError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                gettext("Reports on comment #%(id)d dismissed; it is %(status)s.")
                % {"id": comment_id, "status": comment.get_status_display()},
            )
        return HttpResponseRedirect(reverse("admin:moderation_comment_change", args=[comment_id]))

    def _next_url(self, request, comment_id: int) -> str:
        """The next comment of the queue the moderator works through (held by default)."""
        queue = request.POST.get("queue", "")
        queue = queue if queue in QUEUE_LABELS else "held"
        following = (
            selectors.review_queue(user=request.user, queue=queue)
            .exclude(pk=comment_id)
            .order_by(*selectors.queue_ordering(queue))
            .values_list("pk", flat=True)
            .first()
        )
        keep = urlencode({"_changelist_filters": urlencode({"queue": queue})})
        if following is not None:
            return f"{reverse('admin:moderation_comment_change', args=[following])}?{keep}"
        return reverse("admin:moderation_comment_changelist") + "?" + urlencode({"queue": queue})

    def author_note_view(self, request, author_id: int):
        """A note on the author for the next moderator, then back to the comment."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._require_moderator(request)
        text = request.POST.get("text", "").strip()[:2000]
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            next_url = reverse("admin:moderation_author_change", args=[author_id])
        if not text:
            messages.error(request, gettext("The note is empty."))
            return HttpResponseRedirect(next_url)
        try:
            services.author_note_add(author_id=author_id, moderator=request.user, text=text)
        except NotFound:
            raise Http404(gettext("No such author.")) from None
        messages.success(request, gettext("Note added."))
        return HttpResponseRedirect(next_url)

    def author_view(self, request, author_id: int, action: str):
        """Ban, pre-moderate or restore a comment's author, then back where the moderator was."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._require_moderator(request)
        if action not in services.AUTHOR_ACTIONS:
            raise Http404
        if refused := _refuse_nul(request, "reason"):
            return refused
        try:
            author = services.author_set_status(
                author_id=author_id,
                action=action,
                moderator=request.user,
                reason=request.POST.get("reason", ""),
            )
        except NotFound:
            raise Http404(gettext("No such author.")) from None
        messages.success(
            request,
            gettext("%(author)s: %(status)s.")
            % {"author": author.name, "status": author.get_status_display()},
        )
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            next_url = reverse("admin:moderation_author_change", args=[author_id])
        return HttpResponseRedirect(next_url)

    # -- bulk actions --

    @admin.action(description=_("Approve the selected comments"), permissions=["moderate"])
    def approve(self, request, queryset: QuerySet):
        _decide(self, request, queryset, "approve")

    @admin.action(description=_("Dismiss the reports on the selected comments"), permissions=["moderate"])
    def dismiss_reports(self, request, queryset: QuerySet):
        ids = list(queryset.filter(open_reports__gt=0).values_list("pk", flat=True))
        try:
            services.comments_dismiss_reports(comment_ids=ids, moderator=request.user)
        except VigieError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        self.message_user(request, gettext("Reports dismissed on %(n)d comment(s).") % {"n": len(ids)})
