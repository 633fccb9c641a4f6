"""Notices of illegal content and appeals: read-only lists (decisions are made on the comment)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from moderation.admin.common import ModeratedSitesMixin
from moderation.models import Appeal, Notice


class _ReadOnly(ModeratedSitesMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("comment"))
    def comment_link(self, obj):
        url = reverse("admin:moderation_comment_change", args=[obj.comment_id])
        return format_html('<a href="{}">#{}</a>', url, obj.comment_id)


@admin.register(Notice)
class NoticeAdmin(_ReadOnly):
    list_display = ["id", "comment_link", "ground", "status", "notifier_name", "received_at", "decided_at"]
    list_filter = ["status", "ground", "site"]
    search_fields = ["explanation", "notifier_name", "notifier_email"]
    ordering = ["-received_at"]
    fields = [
        "comment_link", "site", "ground", "explanation", "notifier_name", "notifier_email",
        "status", "received_at", "decided_at", "decided_by",
    ]  # fmt: skip
    readonly_fields = fields


@admin.register(Appeal)
class AppealAdmin(_ReadOnly):
    list_display = ["id", "comment_link", "status", "contested_by", "created_at", "decided_at", "decided_by"]
    list_filter = ["status", "site"]
    search_fields = ["text"]
    ordering = ["-created_at"]
    fields = [
        "comment_link",
        "site",
        "text",
        "status",
        "contested_by",
        "created_at",
        "decided_at",
        "decided_by",
    ]
    readonly_fields = fields
