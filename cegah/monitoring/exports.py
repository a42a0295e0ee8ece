"""XLSX and PDF exports for coordination meetings."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from cegah.core.spreadsheet import text_only
from cegah.monitoring.models import Period
from cegah.monitoring.scores import Standing
from cegah.monitoring.scoring import rounded
from cegah.monitoring.tepra import month_year, shown


def _zone(zone: str) -> str:
    """A zone as the pages name it (``_zone_word.html``), in the reader's language."""
    words = {"red": _("red"), "yellow": _("yellow"), "blue": _("blue"), "green": _("green")}
    return words.get(zone, _("no score"))


def _light(light: str) -> str:
    """A TEPRA light as the pages name it (``_light_word.html``)."""
    return {"red": _("lagging"), "yellow": _("watch")}.get(light, _("on track"))


# Number formats: scores keep the two decimals the pages show, TEPRA percentages are percent
# cells (0.425 shown as 42,5 %), deviations are percentage points with one decimal.
SCORE = "0.00"
PERCENT = "0.0%"
WHOLE_PERCENT = "0%"
POINTS = "0.0"
MONEY = "#,##0"


def _score(value: Decimal) -> float:
    """A score as the pages show it: two decimals, rounded half up (``round`` on a float gave
    12.04 for 12.045, which the pages show as 12,05)."""
    return float(rounded(value) or 0)


def _percent(value: Decimal) -> float:
    """A percentage (0–100) as the fraction a percent cell holds, at the one decimal shown."""
    return float(shown(value) / 100)


def _append(ws: Any, *cells: tuple[Any, str | None]) -> None:
    """Append a row of ``(value, number format)``; None leaves the cell's format as it is."""
    ws.append([value for value, _fmt in cells])
    for cell, (_value, fmt) in zip(ws[ws.max_row], cells, strict=False):
        if fmt is not None:
            cell.number_format = fmt


def _workbook() -> Any:
    from openpyxl import Workbook

    return Workbook()


def _save(wb: Any) -> bytes:
    text_only(wb)  # names and recommendations are typed by users: none may run as a formula
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def standings_xlsx(period: Period, standings: list[Standing]) -> bytes:
    """The ranking with total, self-reported total, gap, zone and each area's score."""
    wb = _workbook()
    ws = wb.active
    ws.title = _("Ranking")
    area_names = [a.name for a in standings[0].card.areas] if standings else []
    ws.append(
        [
            _("National rank"),
            _("Rank in province"),
            _("Institution"),
            _("Region code"),
            _("Status"),
            _("Verified score"),
            _("Self-reported score"),
            _("Gap"),
            _("Zone"),
            _("Answers awaiting verification"),
            *area_names,
        ]
    )
    for s in standings:
        _append(
            ws,
            (s.national_rank, None),
            (s.province_rank, None),
            (s.organisation.name, None),
            (s.organisation.region_id or "", None),
            (s.assessment.get_status_display(), None),
            (_score(s.card.total), SCORE),
            (_score(s.card.self_total), SCORE),
            (_score(s.card.gap), SCORE),
            (_zone(s.card.zone), None),
            (s.awaiting, None),
            *[(_score(a.score), SCORE) for a in s.card.areas],
        )
    ws.append([])
    ws.append([_("Period"), period.label])
    if period.framework.weights_are_placeholders:
        ws.append([_("The weights are placeholders: KPK does not publish them.")])
    return _save(wb)


def institution_xlsx(ctx: dict[str, Any]) -> bytes:
    wb = _workbook()
    ws = wb.active
    ws.title = _("Scores")
    ws.append([_("Period"), _("Verified score"), _("Self-reported score"), _("Gap"), _("Zone")])
    for period, card in ctx["history"]:
        _append(
            ws,
            (period.label, None),
            (_score(card.total), SCORE),
            (_score(card.self_total), SCORE),
            (_score(card.gap), SCORE),
            (_zone(card.zone), None),
        )
    if ctx["latest"]:
        areas = wb.create_sheet(_("Areas"))
        areas.append(
            [_("Area"), _("Weight"), _("Verified score"), _("Self-reported score"), _("Zone")]
        )
        for a in ctx["latest"][1].areas:
            _append(
                areas,
                (a.name, None),
                (float(a.weight), SCORE),
                (_score(a.score), SCORE),
                (_score(a.self_score), SCORE),
                (_zone(a.zone), None),
            )
    recs = wb.create_sheet(_("Recommendations"))
    recs.append(
        [
            _("Recommendation"),
            _("Area"),
            _("Responsible unit (OPD)"),
            _("Due date"),
            _("Status"),
            _("Progress (%)"),
            _("Overdue"),
        ]
    )
    for r in ctx["recommendations"]:
        _append(
            recs,
            (r.title, None),
            (r.area_name, None),
            (r.responsible_unit.name if r.responsible_unit else "", None),
            (r.due_date, "dd/mm/yyyy"),
            (r.get_status_display(), None),
            (r.progress / 100, WHOLE_PERCENT),
            (_("yes") if r.is_overdue(ctx["today"]) else _("no"), None),
        )
    opds = wb.create_sheet("TEPRA")
    opds.append(
        [
            _("OPD"),
            _("Budget ceiling (pagu)"),
            _("Financial (%)"),
            _("Physical (%)"),
            _("Financial deviation"),
            _("Physical deviation"),
            _("Light"),
        ]
    )
    for p in ctx["opds"]:
        _append(
            opds,
            (p.name, None),
            (float(p.pagu), MONEY),
            (_percent(p.financial_pct), PERCENT),
            (_percent(p.physical_pct), PERCENT),
            (float(p.financial_deviation), POINTS),
            (float(p.physical_deviation), POINTS),
            (_light(p.light), None),
        )
    if ctx["month"]:
        opds.append([])
        opds.append([_("Month"), month_year(ctx["month"], ctx["year"])])
    return _save(wb)


def _pdf(request: HttpRequest, template: str, ctx: dict[str, Any]) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, ctx, request=request)
    # No base_url: the summary embeds nothing external, so WeasyPrint fetches nothing.
    return bytes(HTML(string=html).write_pdf())


def standings_pdf(request: HttpRequest, ctx: dict[str, Any]) -> bytes:
    return _pdf(request, "monitoring/pdf_ranking.html", ctx)


def institution_pdf(request: HttpRequest, ctx: dict[str, Any]) -> bytes:
    return _pdf(request, "monitoring/pdf_institution.html", ctx)
