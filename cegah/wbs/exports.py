"""Exports: the case list as CSV/XLSX (metadata, plus content for members who can decrypt) and one
case as PDF."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from cegah.core.crypto import DecryptionError
from cegah.core.spreadsheet import xlsx_row
from cegah.wbs import keys, services
from cegah.wbs.models import Report

META_COLUMNS = (
    "reference",
    "received",
    "channel",
    "category",
    "status",
    "outcome",
    "priority",
    "region",
    "reported_institution",
    "estimated_loss",
    "assignee",
    "answer_due",
    "kpk_hints",
    "labels",
)
# "description" is the handler's redacted narrative where one is saved ("redacted" says which).
CONTENT_COLUMNS = ("description", "redacted", "reported_parties", "where", "when", "how", "amount")
# A redacted narrative is the only text of its report that is shared: these free-text fields can
# name people and places as well as the full description can, and are left out beside it (the
# handler writes into the narrative what of them may be shared). The amount is a number.
REDACTION_REPLACES = ("reported_parties", "where", "when", "how")


def header(with_content: bool) -> list[str]:
    names = {
        "reference": _("Reference"),
        "received": _("Received"),
        "channel": _("Channel"),
        "category": _("Category"),
        "status": _("Status"),
        "outcome": _("Outcome"),
        "priority": _("Priority"),
        "region": _("Region"),
        "reported_institution": _("Reported institution"),
        "estimated_loss": _("Estimated loss"),
        "assignee": _("Assignee"),
        "answer_due": _("Answer due"),
        "kpk_hints": _("KPK hints"),
        "labels": _("Labels"),
        "description": _("What happened (the redacted narrative where one is saved)"),
        "redacted": _("Narrative redacted"),
        "reported_parties": _("Reported parties"),
        "where": _("Where"),
        "when": _("When"),
        "how": _("How"),
        "amount": _("Amount (Rp)"),
    }
    return [str(names[c]) for c in (*META_COLUMNS, *(CONTENT_COLUMNS if with_content else ()))]


def report_rows(reports: QuerySet[Report], org_private: bytes | None) -> Iterator[list[Any]]:
    """Yield one row per report; content columns only when ``org_private`` is given."""
    for report in reports.select_related("region", "assignee", "reported_organisation").iterator(
        chunk_size=500
    ):
        row: list[Any] = [
            report.reference,
            timezone.localtime(report.received_at).strftime("%Y-%m-%d %H:%M"),
            report.get_channel_display(),
            report.get_category_display(),
            report.get_status_display(),
            report.get_outcome_display() if report.outcome else "",
            report.get_priority_display(),
            report.region.name if report.region else "",
            report.reported_organisation.name if report.reported_organisation else "",
            report.get_amount_bucket_display() if report.amount_bucket else "",
            report.assignee.username if report.assignee else "",
            report.due_answer.isoformat() if report.due_answer else "",
            ",".join(report.kpk_hints),
            ",".join(report.labels),
        ]
        if org_private is not None:
            data_key = keys.report_data_key(report, org_private)
            content: dict[str, Any] = {}
            redacted: str | None = None
            if data_key is not None:
                try:
                    content = services.decrypt_content(report, data_key)
                    redacted = services.decrypt_redacted(report, data_key)
                except DecryptionError:
                    content, redacted = {}, None
            parties = "; ".join(
                ", ".join(x for x in (p.get("name"), p.get("position"), p.get("institution")) if x)
                for p in content.get("reported", [])
            )
            free_text = {
                "reported_parties": parties,
                "where": content.get("where", ""),
                "when": content.get("when", ""),
                "how": content.get("how", ""),
            }
            if redacted is not None:
                free_text = {
                    column: left_out() if value else "" for column, value in free_text.items()
                }
            row += [
                redacted if redacted is not None else content.get("description", ""),
                _("yes") if redacted is not None else _("no"),
                *(free_text[column] for column in REDACTION_REPLACES),
                content.get("amount") or "",
            ]
        yield row


def left_out() -> str:
    """The cell of a free-text field left out of a redacted report's row."""
    return _("(left out: the report has a redacted narrative)")


def with_header(rows: Iterable[list[Any]], with_content: bool) -> Iterator[list[Any]]:
    yield header(with_content)
    yield from rows


class Echo:
    """A file-like object whose write returns the line, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def rows_to_xlsx(rows: Iterable[list[Any]], with_content: bool) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(_("Reports"))[:31])
    for row in with_header(rows, with_content):
        sheet.append(xlsx_row(sheet, row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def case_pdf(request: HttpRequest, context: dict[str, Any]) -> bytes:
    """Render one case as PDF (WeasyPrint). Fetches nothing from the network."""
    from weasyprint import HTML

    html = render_to_string(
        "wbs/case_pdf.html", {**context, "generated": timezone.localtime()}, request=request
    )

    def no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise ValueError(f"refusing to fetch {url}")

    return HTML(string=html, url_fetcher=no_fetch).write_pdf()  # type: ignore[no-any-return]
