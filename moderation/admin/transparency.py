"""The transparency report (DSA art. 15 and 24): counts per site and period, as a page and a CSV."""

import csv
from datetime import date, timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation import selectors
from moderation.models import Appeal, Notice
from moderation.selectors import can_moderate
from moderation.services.compliance import REASON_LABELS

CSV_HEADERS = (_("site"), _("section"), _("item"), _("outcome"), _("count"))
SECTIONS = {
    "notices": _("notices of illegal content"),
    "restrictions": _("restrictions"),
    "decisions": _("moderators' decisions"),
    "appeals": _("appeals"),
}
# What each row's key means: notices are by ground, restrictions by reason code.
SECTION_KEYS = {"notices": dict(Notice.Ground.choices), "restrictions": REASON_LABELS}
KEYS = {
    "median_time_to_decision_seconds": _("median time to decision (seconds)"),
    "held": _("held"),
    "rejected": _("rejected"),
    "automated": _("automated"),
    "human": _("by a moderator"),
    "total": _("total"),
    "moderator_approvals": _("approvals"),
    "moderator_rejections": _("rejections"),
    "reversals": _("reversals"),
    "open": _("open"),
    "upheld": _("upheld"),
    "dismissed": _("dismissed"),
}
OUTCOMES = {
    **{f"notice:{k}": v for k, v in Notice.Status.choices},
    "automated": _("automated"),
    "human": _("by a moderator"),
}


def period(request) -> tuple[date, date]:
    """The ?from=&to= dates (YYYY-MM-DD), by default the last 30 days; ValueError if invalid."""
    today = timezone.localdate()
    date_to = date.fromisoformat(request.GET["to"]) if request.GET.get("to") else today
    date_from = (
        date.fromisoformat(request.GET["from"]) if request.GET.get("from") else date_to - timedelta(days=29)
    )
    if date_from > date_to or (date_to - date_from).days > 3660:
        raise ValueError("from must be on or before to, within ten years")
    return date_from, date_to


def _label(mapping: dict, key: str) -> str:
    return str(mapping.get(key, key)) if key else ""


def transparency_view(request):
    if not can_moderate(request.user):
        raise PermissionDenied
    try:
        date_from, date_to = period(request)
    except ValueError:
        date_to = timezone.localdate()
        date_from = date_to - timedelta(days=29)
    report = selectors.transparency_report(user=request.user, date_from=date_from, date_to=date_to)
    rows = [
        (
            site,
            _label(SECTIONS, section),
            _label({**KEYS, **SECTION_KEYS.get(section, {})}, key),
            _label(OUTCOMES, f"notice:{outcome}" if section == "notices" else outcome),
            "" if value is None else value,
        )
        for site, section, key, outcome, value in selectors.transparency_rows(report)
    ]
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"transparence-{date_from.isoformat()}-{date_to.isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response.write("\ufeff")  # so that a spreadsheet opens the accents right
        writer = csv.writer(response, delimiter=";")
        writer.writerow([str(header) for header in CSV_HEADERS])
        writer.writerows(rows)
        return response
    context = {
        **admin.site.each_context(request),
        "title": _("Transparency report"),
        "date_from": date_from,
        "date_to": date_to,
        "rows": rows,
        "appeal_statuses": Appeal.Status.choices,
    }
    return render(request, "admin/moderation/transparency.html", context)
