"""Read a population list (CSV or XLSX: name, unit, group, phone, email) into clean rows.

Problems are reported by row and column and never quote the cell: the cell is personal data
and problem lists are stored and shown in plaintext.
"""

from __future__ import annotations

import contextlib
import csv
import io
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

COLUMNS = ("name", "unit", "group", "phone", "email")
GROUP_ALIASES = {
    "internal": "internal",
    "internal ": "internal",
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
# Problem codes, stored with each import and translated when shown.
PROBLEMS = {
    "unreadable": _("The file could not be read as CSV or XLSX."),
    "empty": _("The file is empty."),
    "header": _("The header must name the columns name, unit, group and phone and/or email."),
    "too_many": _("Too many rows; split the list."),
    "group": _("Unknown group; use internal, external or expert."),
    "phone": _("Not a valid Indonesian phone number."),
    "email": _("Not a valid email address."),
    "no_contact": _("No phone number or email."),
    "name": _("The name is empty."),
    "unit": _("Unknown unit of this institution."),
}


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
    problems: list[dict[str, object]] = field(default_factory=list)
    total: int = 0

    def problem(self, line: int, column: str, code: str) -> None:
        self.problems.append({"row": line, "column": column, "code": code})


def _table(filename: str, content: bytes) -> list[list[str]]:
    if filename.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        return [
            ["" if cell is None else str(cell) for cell in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    text = content.decode("utf-8-sig", errors="replace")
    dialect: type[csv.Dialect] | csv.Dialect = csv.excel
    with contextlib.suppress(csv.Error):
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    return [list(row) for row in csv.reader(io.StringIO(text), dialect)]


def _email_ok(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(at and local and "." in domain and " " not in value and len(value) <= 254)


def parse_frame(filename: str, content: bytes) -> ParsedFrame:
    """Return the valid rows and the problems (row number as in a spreadsheet, header = 1)."""
    # Imported here: lokal loads its data at import (a quarter of a second), which every Django
    # start would otherwise pay.
    from lokal import parse_phone

    out = ParsedFrame()
    try:
        table = _table(filename, content)
    except Exception:
        out.problem(0, "", "unreadable")
        return out
    if not table:
        out.problem(1, "", "empty")
        return out
    header = [h.strip().lower() for h in table[0]]
    missing = [c for c in ("name", "unit", "group") if c not in header]
    if missing or not ({"phone", "email"} & set(header)):
        out.problem(
            1,
            "",
            "header",
        )
        return out
    at = {c: header.index(c) for c in COLUMNS if c in header}
    letters = {c: _letter(i) for c, i in at.items()}
    for number, raw in enumerate(table[1:], start=2):
        if number - 1 > MAX_ROWS:
            out.problem(number, "", "too_many")
            break

        def cell(column: str, raw: list[str] = raw) -> str:
            i = at.get(column)
            return raw[i].strip() if i is not None and i < len(raw) else ""

        if not any(value.strip() for value in raw):
            continue
        out.total += 1
        name, unit, group_text = cell("name"), cell("unit"), cell("group").lower()
        phone_text, email = cell("phone"), cell("email").lower()
        bad = False
        group = GROUP_ALIASES.get(group_text)
        if group is None:
            out.problem(
                number,
                letters["group"],
                "group",
            )
            bad = True
        phone = ""
        if phone_text:
            info = parse_phone(phone_text)
            if info.valid and info.e164:
                phone = info.e164
            else:
                out.problem(number, letters["phone"], "phone")
                bad = bad or not email
        if email and not _email_ok(email):
            out.problem(number, letters["email"], "email")
            email = ""
            bad = bad or not phone
        if not phone and not email and not bad:
            out.problem(number, letters.get("phone", ""), "no_contact")
            bad = True
        if not name:
            out.problem(number, letters["name"], "name")
            bad = True
        if bad:
            continue
        out.rows.append(FrameRow(number, name[:200], unit[:200], group or "", phone, email))
    return out


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
