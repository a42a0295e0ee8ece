"""Server-rendered SVG charts (no JavaScript, no CDN): tenders per month, at-risk share."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cegah.procurement.queries import Month

MONTHS = (
    gettext_lazy("Jan"),
    gettext_lazy("Feb"),
    gettext_lazy("Mar"),
    gettext_lazy("Apr"),
    gettext_lazy("May"),
    gettext_lazy("Jun"),
    gettext_lazy("Jul"),
    gettext_lazy("Aug"),
    gettext_lazy("Sep"),
    gettext_lazy("Oct"),
    gettext_lazy("Nov"),
    gettext_lazy("Dec"),
)


def monthly_svg(months: list[Month], *, width: int = 720, height: int = 260) -> SafeString:
    """Return an accessible SVG bar chart: all tenders (light) and tenders at risk (dark) per
    month, with the at-risk count above each bar. Text is escaped; the result is safe to embed."""
    left, right, top, bottom = 48, 12, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((m.tenders for m in months), default=0) or 1
    slot = plot_w / 12
    bar = slot * 0.7
    title = escape(_("Tenders per month: all and at risk"))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-labelledby="chart-title">',
        f'<title id="chart-title">{title}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        'stroke="#888" stroke-width="1"/>',
    ]
    for tick in (0, 0.5, 1):
        y = top + plot_h - tick * plot_h
        label = round(peak * tick)
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#555">{label}</text>'
        )
    for i, m in enumerate(months):
        x = left + i * slot + (slot - bar) / 2
        h_all = plot_h * m.tenders / peak
        h_risk = plot_h * m.at_risk / peak
        name = escape(str(MONTHS[i]))
        tip = escape(
            ngettext(
                "%(month)s: %(tenders)s tender, %(at_risk)s at risk",
                "%(month)s: %(tenders)s tenders, %(at_risk)s at risk",
                m.tenders,
            )
            % {"month": str(MONTHS[i]), "tenders": m.tenders, "at_risk": m.at_risk}
        )
        parts.append(
            f"<g><title>{tip}</title>"
            f'<rect x="{x:.1f}" y="{top + plot_h - h_all:.1f}" width="{bar:.1f}" '
            f'height="{h_all:.1f}" fill="#b9cde5"/>'
            f'<rect x="{x:.1f}" y="{top + plot_h - h_risk:.1f}" width="{bar:.1f}" '
            f'height="{h_risk:.1f}" fill="#b3261e"/></g>'
        )
        if m.at_risk:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{top + plot_h - h_all - 4:.1f}" '
                f'text-anchor="middle" font-size="10" fill="#b3261e">{m.at_risk}</text>'
            )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{height - 16}" text-anchor="middle" '
            f'font-size="11" fill="#333">{name}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
