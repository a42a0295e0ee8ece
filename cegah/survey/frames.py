"""Read a population list (CSV or XLSX: name, unit, group, phone, email) into clean rows.

Every problem is reported by row and column (file-level problems have no row) and never quotes
the cell: the cell is personal data and problem lists are stored and shown in plaintext. A list
with any problem is refused whole by ``services.import_frame``, so the rows returned here are
only used when there is none.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from cegah.survey.textfiles import UndecodableText, decode_text

COLUMNS = ("name", "unit", "group", "phone", "email")
# Header texts accepted for each column, after lower-casing and turning "_", "-" and "." into
# spaces: the English names and the Indonesian ones coordinators use.
HEADER_ALIASES = {
    "name": ("name", "nama", "nama lengkap", "nama responden"),
    "unit": ("unit", "unit kerja", "satuan kerja", "satker", "opd", "unit layanan"),
    "group": ("group", "kelompok", "kelompok responden", "jenis responden"),
    "phone": (
        "phone",
        "telepon",
        "telpon",
        "telp",
        "no telepon",
        "nomor telepon",
        "hp",
        "no hp",
        "nomor hp",
        "ponsel",
        "whatsapp",
        "wa",
        "no wa",
        "nomor whatsapp",
    ),
    "email": ("email", "e mail", "surel", "alamat email", "alamat surel"),
}
_HEADER = {alias: column for column, aliases in HEADER_ALIASES.items() for alias in aliases}
# How a missing column is named in the problem: the English name and the Indonesian one.
_NAMED = {
    "name": "name (nama)",
    "unit": "unit (unit kerja)",
    "group": "group (kelompok)",
    "phone": "phone (telepon)",
    "email": "email (surel)",
}
GROUP_ALIASES = {
    "internal": "internal",
    "pegawai": "internal",
    "internal (pegawai)": "internal",
    "external": "external",
    "eksternal": "external",
    "pengguna layanan": "external",
    "expert": "expert",
    "eksper": "expert",
    "ahli": "expert",
}
MAX_ROWS = 200_000
# Problem codes, stored with each import and translated when shown (``problem_text``).
PROBLEMS = {
    "unreadable": _("The file could not be read as CSV or XLSX."),
    "xls": _("This is an old Excel file (.xls): save it as .xlsx or as CSV and import that."),
    "encoding": _(
        "This line has bytes that are not text in UTF-8, UTF-16 or Windows-1252: save the file "
        'as "CSV UTF-8" and import it again.'
    ),
    "empty": _("The file is empty."),
    "no_rows": _("The file has a header but no rows."),
    "header": _(
        "The header lacks the columns %(columns)s. The columns are name (nama), unit (unit "
        "kerja, optional), group (kelompok) and phone (telepon) and/or email (surel)."
    ),
    "header_twice": _("This column repeats a column named before it in the header."),
    "too_many": _(
        "The list has more than %(max)s rows; nothing was imported. Split it, for example by "
        "unit, and import each part."
    ),
    "group": _("Unknown group; use internal, external or expert."),
    "phone": _("Not a valid Indonesian phone number."),
    "email": _("Not a valid email address."),
    "no_contact": _("No phone number or email."),
    "name": _("The name is empty."),
    "unit": _(
        "Unknown unit of this institution: give the unit's short name or name, or leave it "
        "blank for the institution itself."
    ),
    "formula": _(
        "A formula whose value was never calculated (the file was not saved by a spreadsheet "
        "program): open it in Excel or LibreOffice and save it, or paste the values."
    ),
    # CSV syntax: the reader stops at the first, which concerns every row after it.
    "csv_quote": _(
        "This is not a valid CSV file: the quotation mark opened on line %(line)s is never "
        "closed, so the rows after it cannot be told apart. Close it (or remove it) and import "
        "the file again."
    ),
    "csv_after_quote": _(
        "This is not a valid CSV file: on line %(line)s a quoted field is followed by more text "
        "before the separator. Put the whole field in quotation marks, or remove them."
    ),
    "csv_field_limit": _(
        "This is not a valid CSV file: a field starting on line %(line)s is longer than "
        "%(limit)s characters; a quotation mark may never be closed."
    ),
    "csv_nul": _("This is not a valid CSV file: line %(line)s holds a NUL character."),
    "csv": _("This is not a valid CSV file: line %(line)s cannot be read."),
}
# Codes that concern the whole file; the others are per row.
FILE_PROBLEMS = {
    "unreadable",
    "xls",
    "encoding",
    "empty",
    "no_rows",
    "header",
    "too_many",
    "csv_quote",
    "csv_after_quote",
    "csv_field_limit",
    "csv_nul",
    "csv",
}


def problem_text(problem: dict[str, Any]) -> str:
    """Return a stored problem's text in the current language."""
    text = PROBLEMS.get(str(problem.get("code")))
    if text is None:
        return str(problem.get("code", ""))
    params = {
        k: number_format(v, force_grouping=True) if isinstance(v, int) else v
        for k, v in (problem.get("params") or {}).items()
    }
    return str(text) % params if params else str(text)


@dataclass(frozen=True)
class FrameRow:
    line: int
    name: str
    unit: str
    group: str
    phone: str  # E.164 (+62…) or ''
    email: str


@dataclass
class ParsedFrame:
    rows: list[FrameRow] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0  # data rows (not blank) read
    encoding: str = ""  # of a text file; '' for XLSX

    def problem(self, row: int | None, column: str, code: str, **params: Any) -> None:
        entry: dict[str, Any] = {"row": row, "column": column, "code": code}
        if params:
            entry["params"] = params
        self.problems.append(entry)

    @property
    def rows_with_problems(self) -> int:
        """Data rows with at least one problem (what the count next to the list says)."""
        return len({p["row"] for p in self.problems if p["code"] not in FILE_PROBLEMS})


class _Refused(Exception):
    def __init__(self, code: str, row: int | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.row = row
        self.params = params


# A cell holding a formula whose value was never calculated (openpyxl reads it as None).
UNEVALUATED = object()


def _text(value: Any) -> Any:
    if value is UNEVALUATED:
        return value
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone typed as a number: 81234567890.0 is 81234567890
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def _xlsx(content: bytes) -> list[list[Any]]:
    """Return the first sheet's rows (text, or UNEVALUATED for a formula without a value)."""
    from openpyxl import load_workbook

    def read(data_only: bool) -> tuple[list[list[Any]], set[tuple[int, int]]]:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=data_only)
        try:
            rows: list[list[Any]] = []
            formulas: set[tuple[int, int]] = set()
            filled = 0
            for r, row in enumerate(workbook.worksheets[0].iter_rows()):
                values = []
                for c, cell in enumerate(row):
                    if getattr(cell, "data_type", None) == "f":
                        formulas.add((r, c))
                    values.append(getattr(cell, "value", None))
                rows.append(values)
                filled += any(v not in (None, "") for v in values)
                if filled > MAX_ROWS + 1:  # the header and one row too many: enough to refuse
                    break
            return rows, formulas
        finally:
            workbook.close()

    rows, formulas = read(data_only=False)
    if formulas:
        # The values that the spreadsheet program calculated and saved, if it did.
        cached, _none = read(data_only=True)
        for r, c in formulas:
            value = cached[r][c] if r < len(cached) and c < len(cached[r]) else None
            rows[r][c] = UNEVALUATED if value is None else value
    return [[_text(v) for v in row] for row in rows]


def _delimiter(text: str) -> str:
    """The separator of the header line (the first line with anything on it): the most frequent
    of comma, semicolon and tab there, comma if it has none.

    Guessing from the first rows (csv.Sniffer) gave up on a semicolon list whose rows leave out
    empty trailing fields, and chose the comma where names hold commas and quotes
    (``Budi, "Bob", Santoso``); the header is the line the coordinator's columns are named on.
    """
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _csv_refusal(exc: csv.Error, line: int) -> _Refused:
    """The problem of a CSV syntax error found at ``line`` (where the record began)."""
    reason = str(exc)
    if "unexpected end of data" in reason:
        return _Refused("csv_quote", line, line=line)
    if "field larger than field limit" in reason:
        return _Refused("csv_field_limit", line, line=line, limit=csv.field_size_limit())
    if "NUL" in reason:
        return _Refused("csv_nul", line, line=line)
    if "expected after" in reason:
        return _Refused("csv_after_quote", line, line=line)
    return _Refused("csv", line, line=line)


def _csv(content: bytes) -> tuple[list[list[Any]], str]:
    try:
        decoded = decode_text(content)
    except UndecodableText as exc:
        raise _Refused("encoding" if exc.line else "unreadable", exc.line) from exc
    text = decoded.text
    # Strict: otherwise a quotation mark never closed swallows the rows after it into one field,
    # and they are reported as an unknown group and a missing phone instead of one CSV error.
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text), strict=True)
    rows: list[list[Any]] = []
    filled = 0
    while True:
        line = reader.line_num + 1  # where the next record begins
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _csv_refusal(exc, line) from exc
        rows.append(row)
        filled += any(v.strip() for v in row)
        if filled > MAX_ROWS + 1:
            break
    return rows, decoded.encoding


def _read(filename: str, content: bytes) -> tuple[list[list[Any]], str]:
    """Return the rows of the file and the encoding it was read in ('' for XLSX)."""
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise _Refused("xls")
    if content.startswith(b"PK\x03\x04"):  # XLSX is a zip, whatever the file is called
        try:
            return _xlsx(content), ""
        except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
            raise _Refused("unreadable") from exc
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise _Refused("unreadable")
    return _csv(content)


def _normal(header: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[_.\-]", " ", str(header).strip().lower())).strip()


def _email_ok(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(at and local and "." in domain and " " not in value and len(value) <= 254)


def parse_frame(filename: str, content: bytes, units: Container[str] | None = None) -> ParsedFrame:
    """Return the valid rows and every problem (row number as in a spreadsheet, header = 1).

    ``units`` (lower-cased unit slugs and names; '' for the institution itself), if given, is
    what the unit column may say.
    """
    # Imported here: lokal loads its data at import (a quarter of a second), which every Django
    # start would otherwise pay.
    from lokal import parse_phone

    out = ParsedFrame()
    try:
        table, out.encoding = _read(filename, content)
    except _Refused as exc:
        out.problem(exc.row, "", exc.code, **exc.params)
        return out
    start = next((i for i, row in enumerate(table) if any(_filled(v) for v in row)), None)
    if start is None:
        out.problem(None, "", "empty")
        return out
    at: dict[str, int] = {}
    for i, text in enumerate(table[start]):
        column = _HEADER.get(_normal(text)) if isinstance(text, str) else None
        if column is None:
            continue
        if column in at:
            out.problem(start + 1, _letter(i), "header_twice")
        else:
            at[column] = i
    missing = [_NAMED[c] for c in ("name", "group") if c not in at]
    if "phone" not in at and "email" not in at:
        missing.append(f"{_NAMED['phone']}/{_NAMED['email']}")
    if missing:
        out.problem(start + 1, "", "header", columns=", ".join(missing))
    if out.problems:
        return out
    data = [(n, raw) for n, raw in enumerate(table[start + 1 :], start=start + 2)]
    data = [(n, raw) for n, raw in data if any(_filled(v) for v in raw)]
    if len(data) > MAX_ROWS:
        out.problem(None, "", "too_many", max=MAX_ROWS)
        return out
    if not data:
        out.problem(None, "", "no_rows")
        return out
    letters = {c: _letter(i) for c, i in at.items()}
    for number, raw in data:
        out.total += 1

        def cell(column: str, raw: list[Any] = raw, number: int = number) -> str:
            i = at.get(column)
            value = raw[i] if i is not None and i < len(raw) else ""
            if value is UNEVALUATED:
                out.problem(number, letters[column], "formula")
                return ""
            return str(value).strip()

        before = len(out.problems)
        name, unit, group_text = cell("name"), cell("unit"), cell("group").lower()
        phone_text, email = cell("phone"), cell("email").lower()
        group = GROUP_ALIASES.get(group_text)
        if group is None and not _formula_at(out, before, letters.get("group")):
            out.problem(number, letters["group"], "group")
        phone = ""
        if phone_text:
            info = parse_phone(phone_text)
            if info.valid and info.e164:
                phone = info.e164
            else:
                out.problem(number, letters["phone"], "phone")
        if email and not _email_ok(email):
            out.problem(number, letters["email"], "email")
        contact_column = letters.get("phone") or letters["email"]
        if not phone_text and not email and not _formula_at(out, before, contact_column):
            out.problem(number, contact_column, "no_contact")
        if not name and not _formula_at(out, before, letters["name"]):
            out.problem(number, letters["name"], "name")
        if (
            units is not None
            and unit.lower() not in units
            and not _formula_at(out, before, letters.get("unit"))
        ):
            out.problem(number, letters.get("unit", ""), "unit")
        if len(out.problems) > before:
            continue
        out.rows.append(FrameRow(number, name[:200], unit[:200], group or "", phone, email))
    return out


def _filled(value: Any) -> bool:
    return value is UNEVALUATED or bool(str(value).strip())


def _formula_at(parsed: ParsedFrame, since: int, column: str | None) -> bool:
    """Whether this row's cell in ``column`` was already reported as an unevaluated formula."""
    return any(p["code"] == "formula" and p["column"] == column for p in parsed.problems[since:])


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
