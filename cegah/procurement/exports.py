"""CSV and XLSX exports of the tender list (the same columns both ways)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cegah.procurement.models import TenderRisk

MAX_ROWS = 250_000


def header() -> list[str]:
    return [
        _("ocid"),
        _("Title"),
        _("Buyer"),
        _("Buyer id"),
        _("Method"),
        _("Fiscal year"),
        _("Announced"),
        _("Pagu (Rp)"),
        _("HPS (Rp)"),
        _("Contract (Rp)"),
        _("Value (Rp)"),
        _("Registrants"),
        _("Bidders"),
        _("Winner"),
        _("Score"),
        _("Flags"),
    ]


def rows(tenders: QuerySet[TenderRisk]) -> Iterator[list[Any]]:
    for t in tenders.select_related("buyer")[:MAX_ROWS].iterator(chunk_size=2000):
        yield [
            t.ocid,
            t.title,
            t.buyer.name,
            t.buyer.buyer_id,
            t.method_details,
            t.year,
            timezone.localtime(t.announced_at).strftime("%Y-%m-%d") if t.announced_at else "",
            t.pagu,
            t.hps,
            t.contract_value,
            t.value,
            t.n_registrants,
            t.n_bidders,
            t.winner,
            t.score,
            " ".join(f"{f['code']}(+{f['points']})" for f in t.flags),
        ]


class Echo:
    def write(self, value: str) -> str:
        return value


def xlsx(tenders: QuerySet[TenderRisk]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Tenders"))
    ws.append(header())
    for row in rows(tenders):
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
