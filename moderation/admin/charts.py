"""The dashboard's charts: inline SVG drawn on the server, so the page needs no JavaScript library."""

from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from moderation.models import (
    Comment,
)

STATUS_COLOURS = {
    "published": "#4c9a6a",
    "approved": "#2f6f9f",
    "held": "#e0a526",
    "rejected": "#c0392b",
    "received": "#9e9e9e",
}
_STACK_ORDER = ["published", "approved", "held", "rejected", "received"]


def _nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 3, 4, 5, 6, 8 x 10^k at or above value: an axis in round numbers."""
    step = 1
    while True:
        for factor in (1, 2, 3, 4, 5, 6, 8):
            if step * factor >= value:
                return step * factor
        step *= 10


def _svg(width: int, height: int, label: str, body: list[SafeString]) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" role="img" '
        'aria-label="{}" class="vigie-chart"><title>{}</title>{}</svg>',
        width,
        height,
        label,
        label,
        mark_safe("".join(body)),  # noqa: S308 - every element is built with format_html
    )


def _per_day_counts(per_day: list[dict], day_list) -> list[dict]:
    rows = {row["day"]: row for row in per_day}
    keys = [*_STACK_ORDER, "classified", "held_on_arrival"]
    return [{k: rows.get(day.isoformat(), {}).get(k, 0) for k in keys} for day in day_list]


def stacked_bars_svg(per_day: list[dict], day_list) -> SafeString:
    """Comments per day, one stacked bar per day, coloured by status."""
    width, height, left, right, top, bottom = 760, 300, 44, 10, 40, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    counts = _per_day_counts(per_day, day_list)
    y_max = _nice_ceiling(max([sum(c[s] for s in _STACK_ORDER) for c in counts] + [1]))
    # Whole numbers on the axis: 1 -> 1 tick, 2 -> 2, 3 and 6 -> 3, 5 -> 5, 8 and 300 -> 4...
    ticks = next(n for n in (4, 5, 3, 2, 1) if y_max % n == 0)
    slot = plot_w / len(day_list)
    body: list[SafeString] = []
    for i in range(ticks + 1):
        value = y_max * i / ticks
        y = top + plot_h - plot_h * i / ticks
        body.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ddd"/>'
                '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#555">{}</text>',
                left,
                width - right,
                f"{y:.1f}",
                f"{y:.1f}",
                left - 6,
                f"{y + 4:.1f}",
                f"{value:g}",
            )
        )
    for index, (day, day_counts) in enumerate(zip(day_list, counts, strict=True)):
        x = left + index * slot + slot * 0.15
        y = top + plot_h
        for status in _STACK_ORDER:
            n = day_counts[status]
            if not n:
                continue
            h = plot_h * n / y_max
            y -= h
            body.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" class="vigie-bar vigie-{}">'
                    "<title>{} : {} {}</title></rect>",
                    f"{x:.1f}",
                    f"{y:.1f}",
                    f"{slot * 0.7:.1f}",
                    f"{h:.1f}",
                    STATUS_COLOURS[status],
                    status,
                    day.strftime("%d/%m"),
                    n,
                    Comment.Status(status).label,
                )
            )
        total = sum(day_counts[s] for s in _STACK_ORDER)
        if total:  # the day's count on its bar
            body.append(
                format_html(
                    '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#222" '
                    'class="vigie-bar-value">{}</text>',
                    f"{x + slot * 0.35:.1f}",
                    f"{y - 3:.1f}",
                    total,
                )
            )
        if index % 5 == 0 or index == len(day_list) - 1:
            body.append(
                format_html(
                    '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#555">{}</text>',
                    f"{x + slot * 0.35:.1f}",
                    height - bottom + 16,
                    day.strftime("%d/%m"),
                )
            )
    legend_x = left
    for status in _STACK_ORDER:
        label = str(Comment.Status(status).label)
        body.append(
            format_html(
                '<rect x="{}" y="12" width="12" height="12" fill="{}"/>'
                '<text x="{}" y="22" font-size="12" fill="#333">{}</text>',
                legend_x,
                STATUS_COLOURS[status],
                legend_x + 16,
                label,
            )
        )
        legend_x += 28 + 7 * len(label)
    return _svg(width, height, str(_("Comments per day, by status")), body)


def held_rate_svg(per_day: list[dict], day_list, overall: float) -> SafeString:
    """The share of classified comments held, per day, with the period's rate as a dashed line."""
    width, height, left, right, top, bottom = 760, 220, 44, 180, 20, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    counts = _per_day_counts(per_day, day_list)
    slot = plot_w / max(len(day_list) - 1, 1)
    body: list[SafeString] = []
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h - plot_h * pct / 100
        body.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ddd"/>'
                '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#555">{} %</text>',
                left,
                left + plot_w,
                f"{y:.1f}",
                f"{y:.1f}",
                left - 6,
                f"{y + 4:.1f}",
                pct,
            )
        )
    points = []
    for index, (day, c) in enumerate(zip(day_list, counts, strict=True)):
        x = left + index * slot
        if c["classified"]:
            rate = c["held_on_arrival"] / c["classified"]
            y = top + plot_h - plot_h * rate
            points.append(f"{x:.1f},{y:.1f}")
            body.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{} : {} %</title></circle>',
                    f"{x:.1f}",
                    f"{y:.1f}",
                    STATUS_COLOURS["held"],
                    day.strftime("%d/%m"),
                    number_format(rate * 100, 0),
                )
            )
        if index % 5 == 0 or index == len(day_list) - 1:
            body.append(
                format_html(
                    '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#555">{}</text>',
                    f"{x:.1f}",
                    height - bottom + 16,
                    day.strftime("%d/%m"),
                )
            )
    if len(points) > 1:
        body.insert(
            0,
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
                " ".join(points),
                STATUS_COLOURS["held"],
            ),
        )
    y = top + plot_h - plot_h * overall
    body.append(
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#c0392b" stroke-dasharray="6 4"/>'
            '<text x="{}" y="{}" font-size="34" font-weight="bold" fill="#c0392b">{} %</text>'
            '<text x="{}" y="{}" font-size="12" fill="#333">{}</text>',
            left,
            left + plot_w,
            f"{y:.1f}",
            f"{y:.1f}",
            left + plot_w + 14,
            top + 50,
            number_format(overall * 100, 1),
            left + plot_w + 14,
            top + 70,
            _("held overall"),
        )
    )
    return _svg(width, height, str(_("Held rate per day")), body)
