"""What every admin page of the workbench shares: labels, read-only columns, site scoping."""

from datetime import datetime

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from moderation import reasons
from moderation.models import Comment
from moderation.selectors import can_moderate, moderator_sites, site_moderators

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
    "notices": pgettext_lazy("queue", "notices"),
    "appeals": pgettext_lazy("queue", "appeals"),
}
# The workbench's buttons; what each does is services.AUTHOR_ACTIONS.
AUTHOR_ACTION_BUTTONS = {
    "ban": _("Ban the author"),
    "premoderate": _("Pre-moderate the author"),
    "restore": _("Restore the author"),
}
# Queues a moderator works through by score, worst first.
SCORED_QUEUES = {"held", "reported", "received"}


# --- columns -----------------------------------------------------------------------------------
# The models' fields carry their verbose names (French through gettext), so the admin lists
# field names as they are; the helpers below are for values Django would not show well.


def shown(name: str) -> str:
    """A field as Django shows it (kept for callers written when fields had no verbose names)."""
    return name


def shown_all(*names: str) -> list[str]:
    return list(names)


def titled(name: str) -> str:
    """A list filter on a field: Django titles it with the field's verbose name."""
    return name


def score_column(name: str, model=Comment):
    """A score rounded like every other score in the workbench (reasons.score: 0,88)."""

    def value(obj):
        return reasons.score(getattr(obj, name))

    value.__name__ = f"{name}_score"
    return admin.display(description=model._meta.get_field(name).verbose_name, ordering=name)(value)


def when(value: datetime | None) -> str:
    if value is None:
        return admin.site.empty_value_display
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


class TitledListMixin:
    """Lists titled with the plural name ("Auteurs"), not Django's "Select author to view"."""

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": capfirst(self.model._meta.verbose_name_plural), **(extra_context or {})}
        return super().changelist_view(request, extra_context)


def _id(value: str | None) -> int | None:
    if value and value.isascii() and value.isdigit() and int(value) <= 2**62:
        return int(value)
    return None


def site_filter(*paths: str) -> type[admin.SimpleListFilter]:
    """A "site" list filter offering only the user's sites (Django's lists every site's name).

    ``paths`` are the lookups to a site (several: any of them matches).
    """
    from moderation.models import Site

    class SiteFilter(admin.SimpleListFilter):
        title = Site._meta.verbose_name
        parameter_name = "site"

        def lookups(self, request, model_admin):
            return [(str(pk), name) for pk, name in moderator_sites(request.user).values_list("pk", "name")]

        def queryset(self, request, queryset):
            if self.value() is None:
                return queryset
            site_id = _id(self.value())
            if site_id is None:
                return queryset.none()
            match = Q()
            for path in paths:
                match |= Q(**{f"{path}_id": site_id})
            return queryset.filter(match)

    return SiteFilter


class ModeratorFilter(admin.SimpleListFilter):
    """A "moderator" filter offering the moderators of the user's sites, no one else
    (Django's lists every user who ever decided, the superuser included)."""

    title = _("moderator")
    parameter_name = "moderator"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in site_moderators(request.user).values_list("pk", "username")]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        moderator_id = _id(self.value())
        return queryset.none() if moderator_id is None else queryset.filter(moderator_id=moderator_id)


class SafeLookupsMixin:
    """No regular expressions from the query string.

    Django's changelist lets any lookup on a model's own fields through: ``?body__regex=(``
    was a database error (a 500) and ``^(a+)+$`` held a worker for seconds per request.
    A refused lookup is a 400 (the changelist raises DisallowedModelAdminLookup, a
    SuspiciousOperation).
    """

    denied_lookups = frozenset({"regex", "iregex"})

    def lookup_allowed(self, lookup, value, request=None):
        if self.denied_lookups & set(lookup.split("__")):
            return False
        return super().lookup_allowed(lookup, value, request)


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


class ModeratedSitesMixin(SafeLookupsMixin, TitledListMixin):
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
