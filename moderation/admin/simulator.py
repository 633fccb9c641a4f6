"""The threshold simulator: sliders over a site's thresholds, what its recent comments would
have become (selectors.simulate_thresholds, the API's /moderation/simulate), and for a site
manager "apply to this site" (services.site_apply_thresholds, with an event)."""

import math

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from moderation import reasons, selectors, services
from moderation.admin.common import _id
from moderation.errors import VigieError
from moderation.selectors import can_apply_thresholds, can_moderate

LABELS = {
    "toxicity_hold": _("toxicity: hold from"),
    "toxicity_reject": _("toxicity: reject from"),
    "spam_hold": _("spam: hold from"),
    "spam_reject": _("spam: reject from"),
}
OUTCOMES = (("published", "#4c9a6a"), ("held", "#e0a526"), ("rejected", "#c0392b"))


def _unit(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw and raw.isascii() and len(raw) <= 20 else math.nan
    except ValueError:
        value = math.nan
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else None


def outcome_bars_svg(current: dict, simulated: dict) -> SafeString:
    """Published, held and rejected today and with the sliders' thresholds: two bars each,
    with their values (the script redraws the "simulated" ones as the sliders move)."""
    width, row, left = 640, 54, 120
    top = max([current[k] for k, _ in OUTCOMES] + [simulated[k] for k, _ in OUTCOMES] + [1])
    body = []
    labels = {"published": _("published"), "held": _("held"), "rejected": _("rejected")}
    for index, (key, colour) in enumerate(OUTCOMES):
        y = 10 + index * row
        for offset, (which, data, opacity) in enumerate(
            (("current", current, "0.45"), ("simulated", simulated, "1"))
        ):
            w = (width - left - 60) * data[key] / top
            body.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="18" fill="{}" fill-opacity="{}" '
                    'class="vigie-sim-bar vigie-sim-{}" data-key="{}"/>'
                    '<text x="{}" y="{}" font-size="12" class="vigie-sim-value vigie-sim-{}" '
                    'data-key="{}">{}</text>',
                    left,
                    y + offset * 20,
                    f"{w:.1f}",
                    colour,
                    opacity,
                    which,
                    key,
                    f"{left + w + 6:.1f}",
                    y + offset * 20 + 14,
                    which,
                    key,
                    data[key],
                )  # fmt: skip
            )
        body.append(
            format_html(
                '<text x="{}" y="{}" font-size="13" text-anchor="end" fill="#333">{}</text>',
                left - 8,
                y + 24,
                labels[key],
            )  # fmt: skip
        )
    body.append(
        format_html(
            '<text x="{}" y="{}" font-size="11" fill="#555">{}</text>',
            left,
            10 + 3 * row + 6,
            gettext("pale: today's thresholds · dark: the sliders'"),
        )  # fmt: skip
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" role="img" '
        'aria-label="{}" class="vigie-chart vigie-sim-chart" data-max="{}" data-width="{}" '
        'data-left="{}"><title>{}</title>{}</svg>',
        width, 10 + 3 * row + 16, gettext("Outcomes with these thresholds"), top,
        width - left - 60, left, gettext("Outcomes with these thresholds"),
        mark_safe("".join(body)),  # noqa: S308 - every element above is built with format_html
    )  # fmt: skip


def simulator_view(request):
    if not can_moderate(request.user):
        raise PermissionDenied
    sites = selectors.moderator_sites(request.user).order_by("name")
    site_id = _id(request.GET.get("site"))
    site = sites.filter(pk=site_id).first() if site_id else sites.first()
    context = {**admin.site.each_context(request), "title": gettext("Threshold simulator")}
    if site is None:
        return render(request, "admin/moderation/simulator.html", {**context, "site": None})
    days = _id(request.GET.get("days"))
    days = days if days is not None and 1 <= days <= 365 else 30
    current = selectors.current_thresholds(site, services.get_model().thresholds)
    thresholds = {}
    for name in services.THRESHOLD_NAMES:
        value = _unit(request.GET.get(name))
        thresholds[name] = current[name] if value is None else value
    simulated = selectors.simulate_thresholds(site=site, thresholds=thresholds, days=days)
    today = selectors.simulate_thresholds(site=site, thresholds=current, days=days)

    def pct(value):
        return "–" if value is None else f"{number_format(round(value * 100, 1), 1)}\xa0%"

    context.update(
        {
            "site": site,
            "sites": list(sites.values_list("pk", "name")),
            "days": days,
            "sliders": [
                {
                    "name": name,
                    "label": LABELS[name],
                    "value": f"{thresholds[name]:.2f}",
                    "shown": reasons.score(thresholds[name]),
                    "current": reasons.score(current[name]),
                }
                for name in services.THRESHOLD_NAMES
            ],
            "simulated": simulated,
            "today": today,
            "precision": pct(simulated["estimated_precision"]),
            "recall": pct(simulated["estimated_recall"]),
            "held_per_day": number_format(simulated["held_per_day"], 1),
            "chart": outcome_bars_svg(today, simulated),
            "api_url": reverse("moderation-simulate"),
            "can_apply": can_apply_thresholds(request.user),
            "apply_url": reverse("vigie-simulator-apply"),
            "sections": selectors.dashboard_sections(user=request.user, site_id=site.pk),
        }
    )
    return render(request, "admin/moderation/simulator.html", context)


def simulator_apply_view(request):
    """A site manager applies the sliders' thresholds to the site (or one of its sections)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not can_apply_thresholds(request.user):
        raise PermissionDenied
    site_id = _id(request.POST.get("site"))
    values = {name: _unit(request.POST.get(name)) for name in services.THRESHOLD_NAMES}
    section = request.POST.get("section", "").strip()[:100].replace("\x00", "")
    back = reverse("vigie-simulator") + "?" + urlencode({"site": site_id or ""})
    if site_id is None or None in values.values():
        messages.error(request, gettext("Every threshold must be a number from 0 to 1."))
        return HttpResponseRedirect(back)
    try:
        site = services.site_apply_thresholds(
            site_id=site_id, user=request.user, thresholds=values, section=section
        )
    except VigieError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    if section:
        done = gettext("Thresholds applied to the section %(section)s of %(site)s.") % {
            "section": section,
            "site": site.name,
        }
    else:
        done = gettext("Thresholds applied to %(site)s.") % {"site": site.name}
    messages.success(request, done)
    return HttpResponseRedirect(back + "&" + urlencode({k: f"{v:.2f}" for k, v in values.items()}))
