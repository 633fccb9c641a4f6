"""The dashboard: what arrived and what the classifier did with it, what moderators decided
and how fast, who decided what, how often moderators agreed with the model; as CSV too."""

import csv
from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from moderation import selectors
from moderation.admin.charts import held_rate_svg, stacked_bars_svg
from moderation.admin.common import QUEUE_LABELS, _id
from moderation.selectors import can_moderate

PERIODS = (7, 30, 90)


def percent(share: float | None) -> str:
    """A share as the reader writes it: "15,2 %" (one decimal, rounded), "–" for none."""
    if share is None:
        return "–"
    return f"{number_format(round(share * 100, 1), 1)}\xa0%"


def duration(seconds: float | None) -> str:
    """A wait as a moderator says it: "42 s", "7 min", "3 h 20 min", "2 j 4 h"."""
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return gettext("%(n)d s") % {"n": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return gettext("%(n)d min") % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return gettext("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return gettext("%(d)d d %(h)d h") % {"d": days, "h": hours}


def _filters(request) -> tuple[int, int | None, str]:
    days = _id(request.GET.get("days"))
    days = days if days is not None and 1 <= days <= 365 else 30
    site_id = _id(request.GET.get("site"))
    if site_id is not None and not selectors.moderator_sites(request.user).filter(pk=site_id).exists():
        site_id = None
    section = request.GET.get("section", "").strip()[:100].replace("\x00", "")
    return days, site_id, section


def dashboard_view(request):
    """The period's numbers (30 days by default, by site and by section), drawn on the server."""
    if not can_moderate(request.user):
        raise PermissionDenied
    days, site_id, section = _filters(request)
    dash = selectors.dashboard(user=request.user, days=days, site_id=site_id, section=section)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"tableau-de-bord-{timezone.localdate().isoformat()}-{days}j.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        writer = csv.writer(response, delimiter=";")
        writer.writerow(["section", "key", "value"])
        writer.writerows(selectors.dashboard_rows(dash))
        return response
    stats = selectors.moderation_stats(user=request.user, days=days, site_id=site_id, section=section)
    counts = selectors.queue_counts(user=request.user)
    today = timezone.localdate()
    day_list = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    arrivals = dash["arrivals"]
    classified = arrivals["classified"]

    def share(n):
        return percent(n / classified) if classified else "–"

    agreement = dash["agreement"]
    decisions = dash["decisions"]
    context = {
        **admin.site.each_context(request),
        "title": _("Moderation dashboard"),
        "days": days,
        "periods": PERIODS,
        "site_id": site_id,
        "section": section,
        "sites": list(selectors.moderator_sites(request.user).order_by("name").values_list("pk", "name")),
        "sections": selectors.dashboard_sections(user=request.user, site_id=site_id),
        "dash": dash,
        "arrival_cards": [("classified", gettext("decided by the classifier"), classified, "")]
        + [
            (key, label, arrivals[key], share(arrivals[key]))
            for key, label in (
                ("published", gettext("published on arrival")),
                ("held", gettext("held on arrival")),
                ("rejected", gettext("rejected on arrival")),
            )
        ],
        "decision_cards": [
            ("decisions", gettext("moderators' decisions"), decisions["total"]),
            ("approvals", gettext("approvals"), decisions["approvals"]),
            ("rejections", gettext("rejections"), decisions["rejections"]),
        ],
        "median": duration(decisions["time_to_decision_seconds"]["median"]),
        "p90": duration(decisions["time_to_decision_seconds"]["p90"]),
        "held_agreement": percent(agreement["held_rejected_share"]),
        "held_agreement_text": ngettext(
            "of the %(n)d comment the classifier held and a moderator decided, %(k)d rejected",
            "of the %(n)d comments the classifier held and a moderator decided, %(k)d rejected",
            agreement["held_decided"],
        )
        % {"n": agreement["held_decided"], "k": agreement["held_rejected"]},
        "published_agreement": percent(agreement["published_rejected_share"]),
        "published_agreement_text": ngettext(
            "of the %(n)d comment the classifier published, %(k)d rejected later after reports",
            "of the %(n)d comments the classifier published, %(k)d rejected later after reports",
            agreement["published"],
        )
        % {"n": agreement["published"], "k": agreement["published_rejected_after_reports"]},
        "per_day_chart": stacked_bars_svg(stats["per_day"], day_list),
        "held_rate_chart": held_rate_svg(stats["per_day"], day_list, dash["held_share"] or 0.0),
        "queue_counts": [(key, label, counts[key]) for key, label in QUEUE_LABELS.items()],
        "csv_query": request.GET.copy(),
    }
    context["csv_query"]["format"] = "csv"
    context["csv_query"] = context["csv_query"].urlencode()
    return render(request, "admin/moderation/dashboard.html", context)
