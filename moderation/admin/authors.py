"""Authors: their record and the ban / pre-moderate / restore actions."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from moderation import selectors, services
from moderation.admin.common import ModeratedSitesMixin, shown, shown_all, site_filter, titled
from moderation.errors import VigieError
from moderation.models import (
    Author,
)


@admin.register(Author)
class AuthorAdmin(ModeratedSitesMixin, admin.ModelAdmin):
    list_display = [
        shown("name"),
        *shown_all("external_id", "site", "status", "approved_count", "rejected_count", "created_at"),
    ]
    list_filter = [titled("status"), site_filter("site")]
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
