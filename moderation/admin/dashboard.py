"""The dashboard: comments per day by status and the held rate."""

from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation import selectors
from moderation.admin.charts import held_rate_svg, stacked_bars_svg
from moderation.admin.common import QUEUE_LABELS
from moderation.selectors import can_moderate


def dashboard_view(request):
    """Comments per day by status and the held rate, drawn as SVG on the server."""
    if not can_moderate(request.user):
        raise PermissionDenied
    days = 30
    stats = selectors.moderation_stats(user=request.user, days=days)
    counts = selectors.queue_counts(user=request.user)
    today = timezone.localdate()
    day_list = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    context = {
        **admin.site.each_context(request),
        "title": _("Moderation dashboard"),
        "stats": stats,
        "per_day_chart": stacked_bars_svg(stats["per_day"], day_list),
        "held_rate_chart": held_rate_svg(stats["per_day"], day_list, stats["held_rate"]),
        "queue_counts": [(key, label, counts[key]) for key, label in QUEUE_LABELS.items()],
    }
    return render(request, "admin/moderation/dashboard.html", context)
