"""Exports that a spreadsheet cannot run: no cell becomes a formula (CSV or formula injection).

Exported text comes from reporters, e-procurement data and users; a value such as
``=HYPERLINK("https://…?"&A2, "Klik")`` would run when an analyst opens the file. Two cases:

* **CSV**: Excel and LibreOffice read a field starting with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return as a formula. ``csv_row`` prefixes such text with an apostrophe (OWASP's
  advice), and ``from_csv`` takes it off again where Cegah reads back a file it wrote (the buyer
  mapping).
* **XLSX**: text cells are never formulas, but openpyxl writes any text starting with ``=`` as a
  formula. ``xlsx_row`` (write-only sheets) and ``text_only`` (whole workbooks) keep it text,
  shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# A negative number written as text ("-1.50"): a spreadsheet reads it as a number, not a formula,
# and an apostrophe would turn it into text. ("+62812…" keeps its apostrophe: read as a number it
# would lose its plus sign, and a phone number its meaning.)
_NEGATIVE = re.compile(r"-\d+(\.\d+)?")


def _runs(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and _NEGATIVE.fullmatch(value) is None
    )


def csv_row(row: Iterable[Any]) -> list[Any]:
    """Return ``row`` with each text that a spreadsheet would run prefixed with an apostrophe
    (negative numbers written as text, such as ``-1.50``, stay as they are)."""
    return [f"'{v}" if _runs(v) else v for v in row]


def from_csv(text: str) -> str:
    """Return a value read from a CSV file written with ``csv_row`` as it was before."""
    return text[1:] if text.startswith("'") and _runs(text[1:]) else text


def xlsx_row(sheet: Any, row: Iterable[Any]) -> list[Any]:
    """Return ``row`` for ``sheet.append`` with text starting with ``=`` as text cells."""
    from openpyxl.cell import WriteOnlyCell

    out: list[Any] = []
    for value in row:
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            value = cell
        out.append(value)
    return out


def text_only(workbook: Any) -> None:
    """Turn every formula cell of a (not write-only) workbook into a text cell."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
