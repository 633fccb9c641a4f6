"""Reporters: how far each reader's reports are trusted (read-only; decisions move it)."""

from django.contrib import admin

from moderation.admin.common import ModeratedSitesMixin, shown, shown_all, site_filter
from moderation.models import Reporter


@admin.register(Reporter)
class ReporterAdmin(ModeratedSitesMixin, admin.ModelAdmin):
    list_display = [shown("reporter_id"), *shown_all("site", "weight", "upheld_count", "dismissed_count")]
    list_filter = [site_filter("site")]
    search_fields = ["reporter_id"]
    ordering = ["weight", "reporter_id"]
    readonly_fields = shown_all(
        "site", "reporter_id", "weight", "upheld_count", "dismissed_count", "created_at"
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
