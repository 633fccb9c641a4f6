"""What every admin page of the workbench shares: labels, read-only columns, site scoping."""

from datetime import datetime

from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from moderation.models import (
    Author,
    Comment,
)
from moderation.selectors import can_moderate, moderator_sites

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
}
# The workbench's buttons; what each does is services.AUTHOR_ACTIONS.
AUTHOR_ACTION_BUTTONS = {
    "ban": _("Ban the author"),
    "premoderate": _("Pre-moderate the author"),
    "restore": _("Restore the author"),
}
# Queues a moderator works through by score, worst first.
SCORED_QUEUES = {"held", "reported", "received"}


# --- labels: the models' fields have no verbose names, so the admin names them itself ----------
# (Adding verbose_name to the fields would need a migration; these are display labels only.)

LABELS = {
    "status": _("status"),
    "site": _("site"),
    "article": _("article"),
    "author": _("author"),
    "parent": _("reply to"),
    "language": _("language"),
    "open_reports": _("open reports"),
    "created_at": _("created at"),
    "decided_at": _("decided at"),
    "resolved_at": _("resolved at"),
    "reason": _("reason"),
    "text": _("text"),
    "reporter_id": _("reader"),
    "anonymous": _("anonymous"),
    "weight": _("weight"),
    "outcome": _("outcome"),
    "dismissed_count": _("dismissed reports"),
    "upheld_count": _("upheld reports"),
    "model_version": _("model version"),
    "toxicity": _("toxicity"),
    "spam": _("spam"),
    "labels": _("labels"),
    "actor": _("actor"),
    "moderator": _("moderator"),
    "action": _("action"),
    "from_status": _("from"),
    "to_status": _("to"),
    "note": _("note"),
    "external_id": _("identifier"),
    "approved_count": pgettext_lazy("count", "approved"),
    "rejected_count": pgettext_lazy("count", "rejected"),
    "moderation_mode": _("moderation"),
    "article__moderation_mode": _("moderation"),
    "name": _("name"),
    "comment": _("comment"),
}


def shown(name: str):
    """A read-only column or field for ``name`` with a translated label."""

    def value(obj):
        display = getattr(obj, f"get_{name}_display", None)
        return _readable(display() if display else getattr(obj, name))

    value.__name__ = name
    return admin.display(description=LABELS[name], ordering=name)(value)


# Status names in the event trail are stored as values; show their labels.
_STATUS_LABELS = {**dict(Author.Status.choices), **dict(Comment.Status.choices)}


def _readable(value):
    """What the admin shows for a value read by a callable (it does not format those itself)."""
    if value is None or value == "":
        return admin.site.empty_value_display
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, float):
        return number_format(value, 3)
    if isinstance(value, str) and value in _STATUS_LABELS:
        return _STATUS_LABELS[value]
    return value


def shown_all(*names: str) -> list:
    return [shown(name) for name in names]


def titled(name: str) -> tuple:
    """A list filter on a model field, as Django would pick it, titled with the translated label."""

    class Titled(admin.FieldListFilter):
        def __new__(cls, field, request, params, model, model_admin, field_path):
            # Not an instance of Titled, so __init__ is not called again on it.
            chosen = admin.FieldListFilter.create(field, request, params, model, model_admin, field_path)
            chosen.title = LABELS[name]
            return chosen

    return (name, Titled)


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


class ModeratedSitesMixin:
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
