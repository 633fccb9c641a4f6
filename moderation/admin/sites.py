"""Sites and articles."""

from django.contrib import admin

from moderation.admin.common import ModeratedSitesMixin, TitledListMixin
from moderation.models import (
    Article,
    Site,
)


@admin.register(Article)
class ArticleAdmin(ModeratedSitesMixin, admin.ModelAdmin):
    list_display = ["title", "external_id", "site", "moderation_mode", "closed", "created_at"]
    list_filter = ["site", "moderation_mode", "closed", "language"]
    search_fields = ["title", "external_id", "url"]
    readonly_fields = ["site", "external_id", "created_at", "updated_at"]


@admin.register(Site)
class SiteAdmin(TitledListMixin, admin.ModelAdmin):
    list_display = ["name", "api_key_prefix", "is_active", "default_moderation_mode", "reports_to_hold"]
    readonly_fields = ["api_key_prefix", "created_at"]
    filter_horizontal = ["moderators"]

    def has_add_permission(self, request):
        # A key is shown once, at creation: `manage.py create_site NAME`.
        return False
