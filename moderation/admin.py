"""The moderators' admin. Actions call the same services as the API; nothing edits status."""

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from moderation import services
from moderation.errors import VigieError
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
from moderation.selectors import moderator_sites


class QueueFilter(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("held", _("held")),
            ("reported", _("reported")),
            ("received", _("received")),
            ("published", _("published")),
            ("approved", _("approved")),
            ("rejected", _("rejected")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "reported":
            return queryset.filter(status=Comment.Status.PUBLISHED, open_reports__gt=0)
        if self.value():
            return queryset.filter(status=self.value())
        return queryset


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ClassificationInline(ReadOnlyInline):
    model = Classification
    fields = ["model_version", "toxicity", "spam", "language", "labels", "explanation", "created_at"]
    readonly_fields = fields


class ReportInline(ReadOnlyInline):
    model = Report
    fields = ["reason", "text", "reporter_id", "created_at", "resolved_at"]
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = ModerationEvent
    fk_name = "comment"
    fields = ["created_at", "actor", "moderator", "action", "from_status", "to_status", "reason", "note"]
    readonly_fields = fields


def _decide(modeladmin, request, queryset, action: str, reason: str = "") -> None:
    ids = list(queryset.values_list("pk", flat=True))
    try:
        services.comments_bulk_decide(comment_ids=ids, action=action, moderator=request.user, reason=reason)
    except VigieError as exc:
        modeladmin.message_user(request, exc.message, level=messages.ERROR)
        return
    modeladmin.message_user(request, _("%(n)d comment(s): %(action)s.") % {"n": len(ids), "action": action})


class ModeratedSitesMixin:
    """Moderators see only the sites they moderate; superusers see all."""

    site_lookup = "site"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.filter(**{f"{self.site_lookup}__in": moderator_sites(request.user)})


@admin.register(Comment)
class CommentAdmin(ModeratedSitesMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "short_body",
        "status",
        "toxicity",
        "spam",
        "open_reports",
        "site",
        "article",
        "author",
        "created_at",
    ]
    list_filter = [QueueFilter, "status", "site", "language", "article__moderation_mode"]
    search_fields = ["body", "author__name", "author__external_id", "article__title", "article__external_id"]
    list_select_related = ["site", "article", "author"]
    list_per_page = 50
    date_hierarchy = "created_at"
    inlines = [ClassificationInline, ReportInline, EventInline]
    actions = ["approve", "reject_toxic", "reject_spam", "reject_other"]
    fields = [
        "body",
        "status",
        "site",
        "article",
        "author",
        "parent",
        "language",
        "toxicity",
        "spam",
        "open_reports",
        "created_at",
        "decided_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_moderate_permission(self, request):
        return request.user.has_perm("moderation.moderate_comment")

    @admin.display(description=_("comment"))
    def short_body(self, comment: Comment) -> str:
        return comment.body[:80] + ("…" if len(comment.body) > 80 else "")

    @admin.action(description=_("Approve the selected comments"), permissions=["moderate"])
    def approve(self, request, queryset: QuerySet):
        _decide(self, request, queryset, "approve")

    @admin.action(description=_("Reject the selected comments: toxic"), permissions=["moderate"])
    def reject_toxic(self, request, queryset: QuerySet):
        _decide(self, request, queryset, "reject", RejectReason.TOXIC)

    @admin.action(description=_("Reject the selected comments: spam"), permissions=["moderate"])
    def reject_spam(self, request, queryset: QuerySet):
        _decide(self, request, queryset, "reject", RejectReason.SPAM)

    @admin.action(description=_("Reject the selected comments: other"), permissions=["moderate"])
    def reject_other(self, request, queryset: QuerySet):
        _decide(self, request, queryset, "reject", RejectReason.OTHER)


@admin.register(Author)
class AuthorAdmin(ModeratedSitesMixin, admin.ModelAdmin):
    list_display = ["name", "external_id", "site", "status", "approved_count", "rejected_count", "created_at"]
    list_filter = ["status", "site"]
    search_fields = ["name", "external_id"]
    readonly_fields = [
        "site",
        "external_id",
        "name",
        "status",
        "approved_count",
        "rejected_count",
        "created_at",
    ]
    actions = ["ban", "premoderate", "restore"]

    def has_add_permission(self, request):
        return False

    def has_moderate_permission(self, request):
        return request.user.has_perm("moderation.moderate_comment")

    def _set_status(self, request, queryset, action):
        for author_id in queryset.values_list("pk", flat=True):
            services.author_set_status(author_id=author_id, action=action, moderator=request.user)
        self.message_user(
            request, _("%(n)d author(s): %(action)s.") % {"n": queryset.count(), "action": action}
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
        "created_at",
        "actor",
        "moderator",
        "action",
        "comment",
        "author",
        "from_status",
        "to_status",
        "reason",
    ]
    list_filter = ["actor", "action", "moderator"]
    list_select_related = ["moderator", "comment", "author"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        sites = moderator_sites(request.user)
        return super().get_queryset(request).filter(Q(comment__site__in=sites) | Q(author__site__in=sites))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
