"""Exports: the response-rate workbook for follow-up meetings and the PDF report per institution."""

from __future__ import annotations

import io
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from cegah.core.spreadsheet import xlsx_row
from cegah.survey.models import GROUP_SHORT, Edition, IndexRun, Locus
from cegah.survey.services import RateRow


def rates_xlsx(edition: Edition, rows: list[RateRow]) -> bytes:
    """Return the per-unit response rates (counts only) as XLSX."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(_("Response rates"))[:31])
    sheet.append(
        [
            str(_("Institution")),
            str(_("Unit")),
            str(_("Group")),
            str(_("Population")),
            str(_("Target")),
            str(_("Invited")),
            str(_("Opened")),
            str(_("Started")),
            str(_("Completed")),
            str(_("Opted out")),
            str(_("Completed / target")),
            str(_("Lagging")),
        ]
    )
    groups = dict(GROUP_SHORT)
    for r in rows:
        ratio = WriteOnlyCell(sheet, value=round(r.progress, 3))
        ratio.number_format = "0%"
        sheet.append(
            xlsx_row(
                sheet,
                [
                    r.locus.organisation.name,
                    r.unit.name if r.unit else "",
                    str(groups.get(r.group, r.group)),
                    r.frame,
                    r.target,
                    r.invited,
                    r.opened,
                    r.started,
                    r.completed,
                    r.opted_out,
                    ratio,
                    str(_("yes")) if r.lagging(edition.lagging_below) else "",
                ],
            )
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def report_pdf(request: HttpRequest, locus: Locus, run: IndexRun, result: dict[str, Any]) -> bytes:
    """Render one institution's report as PDF (WeasyPrint). Fetches nothing from the network."""
    from weasyprint import HTML

    from cegah.survey.indexing import dimension_label

    lang = getattr(request, "LANGUAGE_CODE", "id")
    dims = [
        {"label": dimension_label(d, lang), "score": s, "width": max(0.0, min(100.0, s))}
        for d, s in result.get("dimensions", {}).items()
    ]
    html = render_to_string(
        "survey/report_pdf.html",
        {
            "locus": locus,
            "edition": locus.edition,
            "run": run,
            "r": result,
            "dims": dims,
            "lang": lang,
            "generated": timezone.localtime(),
        },
        request=request,
    )

    def no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise ValueError(f"refusing to fetch {url}")

    return HTML(string=html, url_fetcher=no_fetch).write_pdf()  # type: ignore[no-any-return]
