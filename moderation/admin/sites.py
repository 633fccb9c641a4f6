"""Sites and articles."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from moderation import selectors, services
from moderation.admin.common import ModeratedSitesMixin, SafeLookupsMixin, TitledListMixin, site_filter
from moderation.models import (
    Article,
    SectionPolicy,
    Site,
)


@admin.register(Article)
class ArticleAdmin(ModeratedSitesMixin, admin.ModelAdmin):
    list_display = ["title", "external_id", "site", "section", "moderation_mode", "closed", "created_at"]
    list_filter = [site_filter("site"), "section", "moderation_mode", "closed", "language"]
    search_fields = ["title", "external_id", "url"]
    readonly_fields = ["site", "external_id", "created_at", "updated_at"]


# What a site manager tunes on their own sites; the rest (name, key, moderators) is the
# superuser's: a manager adding users to a site's moderators would be granting access.
TUNING = [
    "default_moderation_mode",
    "toxicity_hold",
    "toxicity_reject",
    "spam_hold",
    "spam_reject",
    "reports_to_hold",
    "banned_words",
    "suspect_words",
    "close_after_days",
    "retention_days",
]
THRESHOLDS = ["toxicity_hold", "toxicity_reject", "spam_hold", "spam_reject"]


@admin.register(Site)
class SiteAdmin(SafeLookupsMixin, TitledListMixin, admin.ModelAdmin):
    """Superusers manage every site; a site manager (moderation.manage_site, or
    change_site) sees and tunes only the sites they moderate."""

    list_display = ["name", "api_key_prefix", "is_active", "default_moderation_mode", "reports_to_hold"]
    filter_horizontal = ["moderators"]
    actions = ["rotate_key"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=selectors.managed_sites(request.user))

    def has_view_permission(self, request, obj=None):
        return selectors.can_manage_sites(request.user)

    def has_change_permission(self, request, obj=None):
        # Which objects: get_queryset (another site's page is "not found").
        return selectors.can_manage_sites(request.user)

    def has_rotate_permission(self, request):
        return selectors.can_manage_sites(request.user)

    def has_add_permission(self, request):
        # A key is shown once, at creation: `manage.py create_site NAME`.
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_fields(self, request, obj=None):
        if request.user.is_superuser:
            # public_cache_seconds: whether shared caches (a CDN) may keep the readers' lists.
            return [
                "name",
                "is_active",
                "api_key_prefix",
                *TUNING,
                "public_cache_seconds",
                "moderators",
                "created_at",
            ]
        return ["name", "api_key_prefix", *TUNING, "created_at"]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ["api_key_prefix", "created_at"]
        return ["name", "api_key_prefix", "created_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        defaults = _model_thresholds()
        for name in THRESHOLDS:
            if name in form.base_fields:
                form.base_fields[name].help_text = (
                    gettext("Empty: the model's default, %(value)s.")
                    % {"value": number_format(round(defaults[name], 3), 3)}
                    if name in defaults
                    else gettext("Empty: the model's default.")
                )
        return form

    @admin.action(description=_("Give the selected sites a new API key"), permissions=["rotate"])
    def rotate_key(self, request, queryset):
        """The new keys go into this response only (never a message stored in a cookie or the
        session): whoever rotates copies them now; the old keys stop working at once."""
        keys = [(site, services.site_rotate_key(site=site)) for site in queryset]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("New API keys"),
            "opts": self.model._meta,
            "keys": keys,
        }
        return TemplateResponse(request, "admin/moderation/site/rotated_keys.html", context)


@admin.register(SectionPolicy)
class SectionPolicyAdmin(SafeLookupsMixin, TitledListMixin, admin.ModelAdmin):
    """A section's own thresholds (the articles' ``section``, set by the site): site managers
    edit those of the sites they manage; an empty threshold is the site's."""

    list_display = ["section", "site", *THRESHOLDS, "updated_at"]
    list_filter = [site_filter("site")]
    fields = ["site", "section", *THRESHOLDS]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(site__in=selectors.managed_sites(request.user))

    def has_view_permission(self, request, obj=None):
        return selectors.can_manage_sites(request.user)

    def has_add_permission(self, request):
        return selectors.can_manage_sites(request.user)

    def has_change_permission(self, request, obj=None):
        return selectors.can_manage_sites(request.user)

    def has_delete_permission(self, request, obj=None):
        return selectors.can_manage_sites(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "site":
            kwargs["queryset"] = selectors.managed_sites(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        services.section_policy_save(policy=obj, user=request.user)


def _model_thresholds() -> dict:
    try:
        return dict(services.get_model().thresholds)
    except Exception:  # noqa: BLE001 - a model that does not load must not break the form
        return {}
