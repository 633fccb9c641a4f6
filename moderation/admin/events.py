"""The audit trail: every decision, by whom."""

from django.contrib import admin
from django.db.models import Q

from moderation.admin.common import shown_all, titled
from moderation.models import (
    ModerationEvent,
)
from moderation.selectors import can_moderate, moderator_sites


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
