"""Webhooks: the sites' endpoints (flagged when disabled) and their deliveries, with redelivery.

Sites manage their endpoints over the API; moderators see them here, enable one the site
has fixed, and redeliver events. Nothing here edits a row directly: the actions call services.
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from moderation import services
from moderation.admin.common import ModeratedSitesMixin, ReadOnlyInline
from moderation.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class ReadOnlyAdmin(ModeratedSitesMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EndpointStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("disabled", _("disabled")), ("failing", _("failing")), ("ok", _("working"))]

    def queryset(self, request, queryset):
        if self.value() == "disabled":
            return queryset.filter(disabled_at__isnull=False)
        if self.value() == "failing":
            return queryset.filter(disabled_at__isnull=True, failing_since__isnull=False)
        if self.value() == "ok":
            return queryset.filter(disabled_at__isnull=True, failing_since__isnull=True)
        return queryset


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "site", "state", "event_list", "failing_since", "created_at", "deliveries_link"]
    list_filter = [EndpointStateFilter]
    list_select_related = ["site"]
    search_fields = ["url"]
    fields = readonly_fields = [
        "site",
        "url",
        "event_list",
        "state",
        "failing_since",
        "disabled_at",
        "created_at",
    ]
    actions = ["enable"]

    @admin.display(description=_("state"))
    def state(self, endpoint: WebhookEndpoint):
        if endpoint.disabled_at is not None:
            return format_html('<strong style="color:#ba2121">⚠ {}</strong>', gettext("disabled"))
        if endpoint.failing_since is not None:
            return format_html('<span style="color:#b56a00">{}</span>', gettext("failing"))
        return gettext("working")

    @admin.display(description=_("events"))
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events)

    @admin.display(description=_("deliveries"))
    def deliveries_link(self, endpoint: WebhookEndpoint):
        url = reverse("admin:moderation_webhookdelivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("deliveries"))

    @admin.action(description=_("Enable the selected endpoints again"), permissions=["moderate"])
    def enable(self, request, queryset):
        ids = list(queryset.filter(disabled_at__isnull=False).values_list("pk", flat=True))
        for endpoint_id in ids:
            services.webhook_endpoint_enable(endpoint_id=endpoint_id)
        self.message_user(
            request,
            ngettext("%(n)d endpoint enabled.", "%(n)d endpoints enabled.", len(ids)) % {"n": len(ids)},
        )


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = readonly_fields = ["started_at", "status_code", "duration_ms", "error", "response_excerpt"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    site_lookup = "endpoint__site"
    list_display = [
        "message_id",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "event_type"]
    list_select_related = ["endpoint"]
    search_fields = ["message_id"]
    date_hierarchy = "created_at"
    fields = readonly_fields = [
        "endpoint",
        "event_type",
        "message_id",
        "status",
        "attempts",
        "next_attempt_at",
        "retry_until",
        "created_at",
        "delivered_at",
        "body",
    ]
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    @admin.action(description=_("Redeliver the selected events"), permissions=["moderate"])
    def redeliver(self, request, queryset):
        count = services.webhooks_redeliver(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(n)d event will be sent again.", "%(n)d events will be sent again.", count)
            % {"n": count},
            level=messages.SUCCESS,
        )
