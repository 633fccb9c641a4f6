"""The moderators' workbench. Actions call the same services as the API; nothing edits status.

Reads go through ``moderation.selectors``; every decision (one click on a comment's page,
or a bulk action in a queue) goes through ``moderation.services``, which writes the audit
trail. Comment bodies are untrusted: everything shown from them is escaped.
"""

from datetime import datetime, timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet, prefetch_related_objects
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from moderation import selectors, services
from moderation.errors import NotFound, VigieError
from moderation.models import (
    Article,
    Author,
    Classification,
    Comment,
    ModerationEvent,
    RejectReason,
    Report,
    Site,
)
from moderation.selectors import can_moderate, moderator_sites

admin.site.site_header = _("Vigie: comment moderation")
admin.site.site_title = _("Vigie")
admin.site.index_title = _("Moderation workbench")
admin.site.index_template = "admin/vigie_index.html"

QUEUE_LABELS = {
    "held": pgettext_lazy("queue", "held"),
    "reported": pgettext_lazy("queue", "reported"),
    "received": pgettext_lazy("queue", "received"),
    "published": pgettext_lazy("queue", "published"),
    "approved": pgettext_lazy("queue", "approved"),
    "rejected": pgettext_lazy("queue", "rejected"),
}
# The workbench's buttons; what each does is services.AUTHOR_ACTIONS.
AUTHOR_ACTION_BUTTONS = {
    "ban": _("Ban the author"),
    "premoderate": _("Pre-moderate the author"),
    "restore": _("Restore the author"),
}
# Queues a moderator works through by score, worst first.
SCORED_QUEUES = {"held", "reported", "received"}


# --- labels: the models' fields have no verbose names, so the admin names them itself ----------
# (Adding verbose_name to the fields would need a migration; these are display labels only.)

LABELS = {
    "status": _("status"),
    "site": _("site"),
    "article": _("article"),
    "author": _("author"),
    "parent": _("reply to"),
    "language": _("language"),
    "open_reports": _("open reports"),
    "created_at": _("created at"),
    "decided_at": _("decided at"),
    "resolved_at": _("resolved at"),
    "reason": _("reason"),
    "text": _("text"),
    "reporter_id": _("reader"),
    "model_version": _("model version"),
    "toxicity": _("toxicity"),
    "spam": _("spam"),
    "labels": _("labels"),
    "actor": _("actor"),
    "moderator": _("moderator"),
    "action": _("action"),
    "from_status": _("from"),
    "to_status": _("to"),
    "note": _("note"),
    "external_id": _("identifier"),
    "approved_count": pgettext_lazy("count", "approved"),
    "rejected_count": pgettext_lazy("count", "rejected"),
    "moderation_mode": _("moderation"),
    "article__moderation_mode": _("moderation"),
    "name": _("name"),
    "comment": _("comment"),
}


def shown(name: str):
    """A read-only column or field for ``name`` with a translated label."""

    def value(obj):
        display = getattr(obj, f"get_{name}_display", None)
        return _readable(display() if display else getattr(obj, name))

    value.__name__ = name
    return admin.display(description=LABELS[name], ordering=name)(value)


# Status names in the event trail are stored as values; show their labels.
_STATUS_LABELS = {**dict(Author.Status.choices), **dict(Comment.Status.choices)}


def _readable(value):
    """What the admin shows for a value read by a callable (it does not format those itself)."""
    if value is None or value == "":
        return admin.site.empty_value_display
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, float):
        return number_format(value, 3)
    if isinstance(value, str) and value in _STATUS_LABELS:
        return _STATUS_LABELS[value]
    return value


def shown_all(*names: str) -> list:
    return [shown(name) for name in names]


def titled(name: str) -> tuple:
    """A list filter on a model field, as Django would pick it, titled with the translated label."""

    class Titled(admin.FieldListFilter):
        def __new__(cls, field, request, params, model, model_admin, field_path):
            # Not an instance of Titled, so __init__ is not called again on it.
            chosen = admin.FieldListFilter.create(field, request, params, model, model_admin, field_path)
            chosen.title = LABELS[name]
            return chosen

    return (name, Titled)


# --- highlighting ------------------------------------------------------------------------------


# The explanation lists every n-gram that pushed a score up, however little. Only the ones
# that matter are highlighted: a head scored at least SCORE_FLOOR, and an n-gram adding at
# least WEIGHT_FLOOR to its logit (a clean comment then shows no highlight at all).
SCORE_FLOOR = 0.25
WEIGHT_FLOOR = 0.5


def explanation_spans(
    body: str, explanation: dict | None, scores: dict[str, float] | None = None
) -> list[tuple[int, int, list[str], list[str]]]:
    """The explanation's n-gram spans merged where they overlap: (start, end, heads, ngrams).

    Offsets come from the classifier; anything out of the body's range is ignored rather than
    trusted.
    """
    spans = []
    for head in ("toxicity", "spam"):
        if scores is not None and (scores.get(head) or 0.0) < SCORE_FLOOR:
            continue
        for item in (explanation or {}).get(head) or []:
            try:
                start, end = int(item["start"]), int(item["end"])
                weight = float(item.get("weight", WEIGHT_FLOOR))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
            if 0 <= start < end <= len(body) and weight >= WEIGHT_FLOOR:
                spans.append((start, end, head, str(item.get("ngram", body[start:end]))))
    spans.sort()
    merged: list[list] = []
    for start, end, head, ngram in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            if head not in last[2]:
                last[2].append(head)
            if ngram not in last[3]:
                last[3].append(ngram)
        else:
            merged.append([start, end, [head], [ngram]])
    return [tuple(m) for m in merged]


def highlight(body: str, explanation: dict | None, scores: dict[str, float] | None = None) -> SafeString:
    """The body, escaped, with the n-grams that drove a score in <mark> elements."""
    parts, position = [], 0
    for start, end, heads, ngrams in explanation_spans(body, explanation, scores):
        parts.append(escape(body[position:start]))
        parts.append(
            format_html(
                '<mark class="vigie-ngram {}" title="{}">{}</mark>',
                " ".join(f"vigie-{h}" for h in heads),
                ", ".join(ngrams),
                body[start:end],
            )
        )
        position = end
    parts.append(escape(body[position:]))
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped


def latest_classification(comment: Comment) -> Classification | None:
    classifications = list(comment.classifications.all())
    return max(classifications, key=lambda c: (c.created_at, c.pk)) if classifications else None


# --- the queue filter and inlines ----------------------------------------------------------------


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


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return can_moderate(request.user) or super().has_view_permission(request, obj)


class ClassificationInline(ReadOnlyInline):
    model = Classification
    fields = shown_all("model_version", "toxicity", "spam", "language", "labels", "created_at")
    readonly_fields = fields


class ReportInline(ReadOnlyInline):
    model = Report
    fields = shown_all("reason", "text", "reporter_id", "created_at", "resolved_at")
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = ModerationEvent
    fk_name = "comment"
    fields = shown_all(
        "created_at", "actor", "moderator", "action", "from_status", "to_status", "reason", "note"
    )
    readonly_fields = fields
    verbose_name_plural = _("event trail")


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


class ModeratedSitesMixin:
    """Moderators see only the sites they moderate; superusers see all.

    Moderators hold one permission, ``moderation.moderate_comment``: it lets them view what
    they moderate (changes go through the actions, which call the services).
    """

    site_lookup = "site"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.filter(**{f"{self.site_lookup}__in": moderator_sites(request.user)})

    def has_view_permission(self, request, obj=None):
        return can_moderate(request.user) or super().has_view_permission(request, obj)

    def has_moderate_permission(self, request):
        return can_moderate(request.user)


# --- comments: the workbench ---------------------------------------------------------------------


@admin.register(Comment)
class CommentAdmin(ModeratedSitesMixin, admin.ModelAdmin):
    change_form_template = "admin/moderation/comment/change_form.html"
    change_list_template = "admin/moderation/comment/change_list.html"
    list_display = [
        "id",
        "short_body",
        shown("status"),
        "score",
        "toxicity_display",
        "spam_display",
        shown("open_reports"),
        shown("site"),
        shown("article"),
        shown("author"),
        shown("created_at"),
    ]
    list_display_links = ["id", "short_body"]
    list_filter = [
        QueueFilter,
        titled("status"),
        titled("site"),
        titled("language"),
        titled("article__moderation_mode"),
    ]
    search_fields = ["body", "author__name", "author__external_id", "article__title", "article__external_id"]
    list_select_related = ["site", "article", "author"]
    list_per_page = 50
    date_hierarchy = "created_at"
    inlines = [ReportInline, ClassificationInline, EventInline]
    actions = ["approve", *REJECT_ACTIONS]
    fields = [
        "highlighted_body",
        shown("status"),
        "scores",
        *shown_all(
            "site", "article", "author", "parent", "language", "open_reports", "created_at", "decided_at"
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

    @admin.display(description=_("comment"))
    def short_body(self, comment: Comment) -> str:
        return comment.body[:80] + ("…" if len(comment.body) > 80 else "")

    @admin.display(description=_("score"), ordering="priority")
    def score(self, comment: Comment) -> str:
        return number_format(comment.priority, 2)

    @admin.display(description=_("toxicity"), ordering="toxicity")
    def toxicity_display(self, comment: Comment) -> str:
        return "–" if comment.toxicity is None else number_format(comment.toxicity, 2)

    @admin.display(description=_("spam"), ordering="spam")
    def spam_display(self, comment: Comment) -> str:
        return "–" if comment.spam is None else number_format(comment.spam, 2)

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
            number_format(classification.toxicity, 2),
            _("spam"),
            number_format(classification.spam, 2),
            _("model"),
            classification.model_version,
        )

    # -- the workbench views --

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:comment_id>/decide/", view(self.decide_view), name="moderation_comment_decide"),
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
            "vigie_history": selectors.author_recent_comments(author=author, exclude_id=comment.pk, limit=8),
            "vigie_author_actions": [
                (action, label)
                for action, label in AUTHOR_ACTION_BUTTONS.items()
                if author.status != services.AUTHOR_ACTIONS[action][0]
            ],
            "vigie_decide_url": reverse("admin:moderation_comment_decide", args=[comment.pk]),
        }

    def _require_moderator(self, request):
        if not self.has_moderate_permission(request):
            raise PermissionDenied

    def decide_view(self, request, comment_id: int):
        """One click: approve, or reject with a reason, then on to the next held comment."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._require_moderator(request)
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

    def _next_url(self, request, comment_id: int) -> str:
        following = (
            selectors.review_queue(user=request.user, queue="held")
            .exclude(pk=comment_id)
            .order_by("-priority", "id")
            .values_list("pk", flat=True)
            .first()
        )
        if following is not None:
            return reverse("admin:moderation_comment_change", args=[following])
        return reverse("admin:moderation_comment_changelist") + "?queue=held"

    def author_view(self, request, author_id: int, action: str):
        """Ban, pre-moderate or restore a comment's author, then back where the moderator was."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._require_moderator(request)
        if action not in services.AUTHOR_ACTIONS:
            raise Http404
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


# --- the dashboard -------------------------------------------------------------------------------


def dashboard_view(request):
    """Comments per day by status and the held rate, drawn as SVG on the server."""
    if not can_moderate(request.user):
        raise PermissionDenied
    days = 30
    stats = selectors.moderation_stats(user=request.user, days=days)
    counts = selectors.queue_counts(user=request.user)
    today = timezone.localdate()
    day_list = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    context = {
        **admin.site.each_context(request),
        "title": _("Moderation dashboard"),
        "stats": stats,
        "per_day_chart": stacked_bars_svg(stats["per_day"], day_list),
        "held_rate_chart": held_rate_svg(stats["per_day"], day_list, stats["held_rate"]),
        "queue_counts": [(key, label, counts[key]) for key, label in QUEUE_LABELS.items()],
    }
    return render(request, "admin/moderation/dashboard.html", context)


# --- charts: inline SVG drawn here, so the dashboard needs no JavaScript library ----------------

STATUS_COLOURS = {
    "published": "#4c9a6a",
    "approved": "#2f6f9f",
    "held": "#e0a526",
    "rejected": "#c0392b",
    "received": "#9e9e9e",
}
_STACK_ORDER = ["published", "approved", "held", "rejected", "received"]


def _nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 3, 4, 5, 6, 8 x 10^k at or above value: an axis in round numbers."""
    step = 1
    while True:
        for factor in (1, 2, 3, 4, 5, 6, 8):
            if step * factor >= value:
                return step * factor
        step *= 10


def _svg(width: int, height: int, label: str, body: list[SafeString]) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" role="img" '
        'aria-label="{}" class="vigie-chart"><title>{}</title>{}</svg>',
        width,
        height,
        label,
        label,
        mark_safe("".join(body)),  # noqa: S308 - every element is built with format_html
    )


def _per_day_counts(per_day: list[dict], day_list) -> list[dict]:
    rows = {row["day"]: row for row in per_day}
    keys = [*_STACK_ORDER, "classified", "held_on_arrival"]
    return [{k: rows.get(day.isoformat(), {}).get(k, 0) for k in keys} for day in day_list]


def stacked_bars_svg(per_day: list[dict], day_list) -> SafeString:
    """Comments per day, one stacked bar per day, coloured by status."""
    width, height, left, right, top, bottom = 760, 300, 44, 10, 40, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    counts = _per_day_counts(per_day, day_list)
    y_max = _nice_ceiling(max([sum(c[s] for s in _STACK_ORDER) for c in counts] + [1]))
    # Whole numbers on the axis: 1 -> 1 tick, 2 -> 2, 3 and 6 -> 3, 5 -> 5, 8 and 300 -> 4...
    ticks = next(n for n in (4, 5, 3, 2, 1) if y_max % n == 0)
    slot = plot_w / len(day_list)
    body: list[SafeString] = []
    for i in range(ticks + 1):
        value = y_max * i / ticks
        y = top + plot_h - plot_h * i / ticks
        body.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ddd"/>'
                '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#555">{}</text>',
                left,
                width - right,
                f"{y:.1f}",
                f"{y:.1f}",
                left - 6,
                f"{y + 4:.1f}",
                f"{value:g}",
            )
        )
    for index, (day, day_counts) in enumerate(zip(day_list, counts, strict=True)):
        x = left + index * slot + slot * 0.15
        y = top + plot_h
        for status in _STACK_ORDER:
            n = day_counts[status]
            if not n:
                continue
            h = plot_h * n / y_max
            y -= h
            body.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" class="vigie-bar vigie-{}">'
                    "<title>{} : {} {}</title></rect>",
                    f"{x:.1f}",
                    f"{y:.1f}",
                    f"{slot * 0.7:.1f}",
                    f"{h:.1f}",
                    STATUS_COLOURS[status],
                    status,
                    day.strftime("%d/%m"),
                    n,
                    Comment.Status(status).label,
                )
            )
        if index % 5 == 0 or index == len(day_list) - 1:
            body.append(
                format_html(
                    '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#555">{}</text>',
                    f"{x + slot * 0.35:.1f}",
                    height - bottom + 16,
                    day.strftime("%d/%m"),
                )
            )
    legend_x = left
    for status in _STACK_ORDER:
        label = str(Comment.Status(status).label)
        body.append(
            format_html(
                '<rect x="{}" y="12" width="12" height="12" fill="{}"/>'
                '<text x="{}" y="22" font-size="12" fill="#333">{}</text>',
                legend_x,
                STATUS_COLOURS[status],
                legend_x + 16,
                label,
            )
        )
        legend_x += 28 + 7 * len(label)
    return _svg(width, height, str(_("Comments per day, by status")), body)


def held_rate_svg(per_day: list[dict], day_list, overall: float) -> SafeString:
    """The share of classified comments held, per day, with the period's rate as a dashed line."""
    width, height, left, right, top, bottom = 760, 220, 44, 180, 20, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    counts = _per_day_counts(per_day, day_list)
    slot = plot_w / max(len(day_list) - 1, 1)
    body: list[SafeString] = []
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h - plot_h * pct / 100
        body.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ddd"/>'
                '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#555">{} %</text>',
                left,
                left + plot_w,
                f"{y:.1f}",
                f"{y:.1f}",
                left - 6,
                f"{y + 4:.1f}",
                pct,
            )
        )
    points = []
    for index, (day, c) in enumerate(zip(day_list, counts, strict=True)):
        x = left + index * slot
        if c["classified"]:
            rate = c["held_on_arrival"] / c["classified"]
            y = top + plot_h - plot_h * rate
            points.append(f"{x:.1f},{y:.1f}")
            body.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{} : {} %</title></circle>',
                    f"{x:.1f}",
                    f"{y:.1f}",
                    STATUS_COLOURS["held"],
                    day.strftime("%d/%m"),
                    number_format(rate * 100, 0),
                )
            )
        if index % 5 == 0 or index == len(day_list) - 1:
            body.append(
                format_html(
                    '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#555">{}</text>',
                    f"{x:.1f}",
                    height - bottom + 16,
                    day.strftime("%d/%m"),
                )
            )
    if len(points) > 1:
        body.insert(
            0,
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
                " ".join(points),
                STATUS_COLOURS["held"],
            ),
        )
    y = top + plot_h - plot_h * overall
    body.append(
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#c0392b" stroke-dasharray="6 4"/>'
            '<text x="{}" y="{}" font-size="34" font-weight="bold" fill="#c0392b">{} %</text>'
            '<text x="{}" y="{}" font-size="12" fill="#333">{}</text>',
            left,
            left + plot_w,
            f"{y:.1f}",
            f"{y:.1f}",
            left + plot_w + 14,
            top + 50,
            number_format(overall * 100, 1),
            left + plot_w + 14,
            top + 70,
            _("held overall"),
        )
    )
    return _svg(width, height, str(_("Held rate per day")), body)


# --- authors, articles, sites, the audit trail -----------------------------------------------------


@admin.register(Author)
class AuthorAdmin(ModeratedSitesMixin, admin.ModelAdmin):
    list_display = [
        shown("name"),
        *shown_all("external_id", "site", "status", "approved_count", "rejected_count", "created_at"),
    ]
    list_filter = [titled("status"), titled("site")]
    search_fields = ["name", "external_id"]
    readonly_fields = [
        *shown_all("site", "external_id", "name", "status", "approved_count", "rejected_count", "created_at"),
        "recent_comments",
    ]
    fields = readonly_fields
    actions = ["ban", "premoderate", "restore"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("last comments"))
    def recent_comments(self, author: Author) -> SafeString:
        comments = selectors.author_recent_comments(author=author, limit=10)
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">#{}</a> [{}] {}</li>',
                (
                    (
                        reverse("admin:moderation_comment_change", args=[c.pk]),
                        c.pk,
                        c.get_status_display(),
                        c.body[:120],
                    )
                    for c in comments
                ),
            ),
        )

    def _set_status(self, request, queryset, action):
        try:
            for author_id in queryset.values_list("pk", flat=True):
                services.author_set_status(author_id=author_id, action=action, moderator=request.user)
        except VigieError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        self.message_user(
            request,
            gettext("%(n)d author(s): %(status)s.")
            % {"n": queryset.count(), "status": services.AUTHOR_ACTIONS[action][0].label},
        )

    @admin.action(description=_("Ban the selected authors"), permissions=["moderate"])
    def ban(self, request, queryset):
        self._set_status(request, queryset, "ban")

    @admin.action(description=_("Pre-moderate the selected authors"), permissions=["moderate"])
    def premoderate(self, request, queryset):
        self._set_status(request, queryset, "premoderate")

    @admin.action(description=_("Restore the selected authors"), permissions=["moderate"])
    def restore(self, request, queryset):
        self._set_status(request, queryset, "restore")


@admin.register(Article)
class ArticleAdmin(ModeratedSitesMixin, admin.ModelAdmin):
    list_display = ["title", "external_id", "site", "moderation_mode", "closed", "created_at"]
    list_filter = ["site", "moderation_mode", "closed", "language"]
    search_fields = ["title", "external_id", "url"]
    readonly_fields = ["site", "external_id", "created_at", "updated_at"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "api_key_prefix", "is_active", "default_moderation_mode", "reports_to_hold"]
    readonly_fields = ["api_key_prefix", "created_at"]
    filter_horizontal = ["moderators"]

    def has_add_permission(self, request):
        # A key is shown once, at creation: `manage.py create_site NAME`.
        return False


@admin.register(ModerationEvent)
class ModerationEventAdmin(admin.ModelAdmin):
    list_display = [
        *shown_all("created_at", "actor", "moderator", "action", "comment"),
        *shown_all("author", "from_status", "to_status", "reason"),
    ]
    list_filter = [titled("actor"), titled("action"), titled("moderator")]
    list_select_related = ["moderator", "comment", "author"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        sites = moderator_sites(request.user)
        return super().get_queryset(request).filter(Q(comment__site__in=sites) | Q(author__site__in=sites))

    def has_view_permission(self, request, obj=None):
        return can_moderate(request.user) or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
