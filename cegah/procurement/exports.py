"""CSV and XLSX exports of the tender list (the same columns both ways)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cegah.core.spreadsheet import xlsx_row
from cegah.procurement.models import METHOD_LABELS, TenderRisk

# Rows of an XLSX file: building one takes about 0.15 ms a row, before the first byte is sent
# (or, beyond ``services.EXPORT_DIRECT_ROWS``, in a task). The CSV has no limit.
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
        _("Pagu"),
        _("HPS"),
        _("Contract"),
        _("Value"),
        _("Currency"),
        _("Registrants"),
        _("Bidders"),
        _("Winner"),
        _("Score"),
        _("Flags"),
    ]


# The columns read, in the order of ``header``: only these, not whole rows (a tender's ``bids`` is
# a JSON list of up to 60 offers, which decoding for every row made exports twice as slow).
_FIELDS = (
    "ocid",
    "title",
    "buyer__name",
    "buyer__buyer_id",
    "method_details",
    "year",
    "announced_at",
    "pagu",
    "hps",
    "contract_value",
    "value",
    "currency",
    "n_registrants",
    "n_bidders",
    "winner",
    "score",
    "flags",
)
_ANNOUNCED = _FIELDS.index("announced_at")
_METHOD = _FIELDS.index("method_details")
_CURRENCY = _FIELDS.index("currency")
# Amounts are stored as floats; a whole amount is written as a whole number ("1500000000", not
# "1500000000.0", which a spreadsheet in Indonesian reads as text or as 15 billion).
_AMOUNTS = tuple(_FIELDS.index(f) for f in ("pagu", "hps", "contract_value", "value"))


def rows(tenders: QuerySet[TenderRisk], limit: int | None) -> Iterator[list[Any]]:
    """Yield the export rows of ``tenders``, at most ``limit`` (None: all, for the CSV, which is
    streamed as it is read)."""
    if limit is not None:
        tenders = tenders[:limit]
    for values in tenders.values_list(*_FIELDS, "method").iterator(chunk_size=2000):
        row = list(values)
        method = row.pop()
        # Without procurementMethodDetails, the OCDS method in the reader's language.
        row[_METHOD] = row[_METHOD] or str(METHOD_LABELS.get(method, method or ""))
        announced = row[_ANNOUNCED]
        row[_ANNOUNCED] = timezone.localtime(announced).strftime("%Y-%m-%d") if announced else ""
        # The amounts' currency, stated on every row (no currency given is taken as rupiah).
        row[_CURRENCY] = row[_CURRENCY] or "IDR"
        for index in _AMOUNTS:
            row[index] = whole(row[index])
        row[-1] = " ".join(f"{f['code']}(+{f['points']})" for f in row[-1])
        yield row


def whole(value: float | None) -> float | int | None:
    """Return a whole amount as an int (written without ".0"), any other as it is."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class Echo:
    def write(self, value: str) -> str:
        return value


def xlsx(tenders: QuerySet[TenderRisk]) -> bytes:
    """Return the XLSX of ``tenders`` (for small lists; see ``services.request_export``)."""
    buffer = io.BytesIO()
    save_xlsx(tenders, buffer)
    return buffer.getvalue()


# How often ``save_xlsx`` reports its progress, in rows.
PROGRESS_EVERY = 5000


def save_xlsx(
    tenders: QuerySet[TenderRisk],
    target: str | Path | IO[bytes],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the XLSX of ``tenders`` (at most ``MAX_ROWS``) to ``target``; return the row count.

    ``progress`` is called with the rows written so far, every ``PROGRESS_EVERY`` rows.
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Tenders"))
    ws.append(header())
    written = 0
    for row in rows(tenders, MAX_ROWS):
        ws.append(xlsx_row(ws, row))
        written += 1
        if progress is not None and written % PROGRESS_EVERY == 0:
            progress(written)
    wb.save(target)
    return written
