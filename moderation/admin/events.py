"""The audit trail: every decision, by whom."""

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from moderation import reasons
from moderation.admin.common import (
    ModeratorFilter,
    SafeLookupsMixin,
    TitledListMixin,
    shown_all,
    site_filter,
    titled,
)
from moderation.models import (
    ModerationEvent,
)
from moderation.selectors import can_moderate, moderator_sites


@admin.register(ModerationEvent)
class ModerationEventAdmin(SafeLookupsMixin, TitledListMixin, admin.ModelAdmin):
    list_display = [
        *shown_all("created_at", "actor", "moderator", "action", "comment"),
        *shown_all("author", "from_status", "to_status"),
        "why",
    ]
    list_filter = [
        titled("actor"),
        titled("action"),
        ModeratorFilter,
        site_filter("comment__site", "author__site", "site"),
    ]
    list_select_related = ["moderator", "comment", "author"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        sites = moderator_sites(request.user)
        return (
            super()
            .get_queryset(request)
            .filter(Q(comment__site__in=sites) | Q(author__site__in=sites) | Q(site__in=sites))
        )

    def has_view_permission(self, request, obj=None):
        return can_moderate(request.user) or super().has_view_permission(request, obj)

    @admin.display(description=_("reason"))
    def why(self, event: ModerationEvent) -> str:
        return reasons.describe(event.reason, event.reason_params) or "–"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
