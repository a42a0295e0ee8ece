"""XLSX and PDF exports for coordination meetings."""

from __future__ import annotations

import io
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from cegah.core.spreadsheet import text_only
from cegah.monitoring.models import Period
from cegah.monitoring.scores import Standing


def _zone(zone: str) -> str:
    """A zone as the pages name it (``_zone_word.html``), in the reader's language."""
    words = {"red": _("red"), "yellow": _("yellow"), "blue": _("blue"), "green": _("green")}
    return words.get(zone, _("no score"))


def _light(light: str) -> str:
    """A TEPRA light as the pages name it (``_light_word.html``)."""
    return {"red": _("lagging"), "yellow": _("watch")}.get(light, _("on track"))


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
        ws.append(
            [
                s.national_rank,
                s.province_rank,
                s.organisation.name,
                s.organisation.region_id or "",
                s.assessment.get_status_display(),
                round(float(s.card.total), 2),
                round(float(s.card.self_total), 2),
                round(float(s.card.gap), 2),
                _zone(s.card.zone),
                s.awaiting,
                *[round(float(a.score), 2) for a in s.card.areas],
            ]
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
        ws.append(
            [
                period.label,
                round(float(card.total), 2),
                round(float(card.self_total), 2),
                round(float(card.gap), 2),
                _zone(card.zone),
            ]
        )
    if ctx["latest"]:
        areas = wb.create_sheet(_("Areas"))
        areas.append(
            [_("Area"), _("Weight"), _("Verified score"), _("Self-reported score"), _("Zone")]
        )
        for a in ctx["latest"][1].areas:
            areas.append(
                [
                    a.name,
                    float(a.weight),
                    round(float(a.score), 2),
                    round(float(a.self_score), 2),
                    _zone(a.zone),
                ]
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
        recs.append(
            [
                r.title,
                r.area_name,
                r.responsible_unit.name if r.responsible_unit else "",
                r.due_date,
                r.get_status_display(),
                r.progress,
                _("yes") if r.is_overdue(ctx["today"]) else _("no"),
            ]
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
        opds.append(
            [
                p.name,
                float(p.pagu),
                round(float(p.financial_pct), 2),
                round(float(p.physical_pct), 2),
                round(float(p.financial_deviation), 2),
                round(float(p.physical_deviation), 2),
                _light(p.light),
            ]
        )
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
