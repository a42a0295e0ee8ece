"""Reading a TEPRA realisation file (CSV or XLSX) and the problems found in it.

A problem is kept as a code with its parameters and the column's header as the file wrote it, and
rendered in the reader's language when shown (``issue_text``): an import made by an English
speaker is read by Indonesian colleagues.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dates import MONTHS
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000
# Sheets of a workbook looked at for the figures (a month's file has one, perhaps with notes).
MAX_SHEETS = 20

COLUMNS = (
    "opd",
    "activity_code",
    "activity",
    "sub_activity",
    "pagu",
    "financial_target",
    "financial_actual",
    "physical_target",
    "physical_actual",
)
# Headers as regional finance offices write them (lower case, units in brackets and punctuation
# dropped: "Pagu (Rp)" is "pagu"), mapped to ours. Budget nomenclature nests programme → activity
# (kegiatan) → sub-activity (sub kegiatan): the two are different columns of one row.
ALIASES = {
    "opd": "opd",
    "skpd": "opd",
    "perangkat_daerah": "opd",
    "nama_opd": "opd",
    "nama_skpd": "opd",
    "activity_code": "activity_code",
    "kode_kegiatan": "activity_code",
    "kode": "activity_code",
    "activity": "activity",
    "kegiatan": "activity",
    "nama_kegiatan": "activity",
    "sub_activity": "sub_activity",
    "sub_kegiatan": "sub_activity",
    "subkegiatan": "sub_activity",
    "nama_sub_kegiatan": "sub_activity",
    "pagu": "pagu",
    "anggaran": "pagu",
    "pagu_anggaran": "pagu",
    "financial_target": "financial_target",
    "target_keuangan": "financial_target",
    "financial_actual": "financial_actual",
    "realisasi_keuangan": "financial_actual",
    "physical_target": "physical_target",
    "target_fisik": "physical_target",
    "physical_actual": "physical_actual",
    "realisasi_fisik": "physical_actual",
    # Not stored: checked against the month and year chosen for the import.
    "month": "month",
    "bulan": "month",
    "year": "year",
    "tahun": "year",
    "tahun_anggaran": "year",
    "period": "period",
    "periode": "period",
}
# Columns saying which month a row is for: a row for another month refuses the file.
PERIOD_FIELDS = ("month", "year", "period")
# An activity or a sub-activity is required too (``read_table``).
REQUIRED = ("opd", "pagu", "financial_actual", "physical_actual")
ACTIVITY_FIELDS = ("activity", "sub_activity")

# What a column holds, to name it in a sentence ("both hold %(field)s").
FIELD_LABELS: dict[str, Promise] = {
    "opd": gettext_lazy("the OPD"),
    "activity_code": gettext_lazy("the activity code"),
    "activity": gettext_lazy("the activity (kegiatan)"),
    "sub_activity": gettext_lazy("the sub-activity (sub kegiatan)"),
    "pagu": gettext_lazy("the budget ceiling (pagu)"),
    "financial_target": gettext_lazy("the financial target"),
    "financial_actual": gettext_lazy("the financial realisation"),
    "physical_target": gettext_lazy("the physical target"),
    "physical_actual": gettext_lazy("the physical realisation"),
    "month": gettext_lazy("the month"),
    "year": gettext_lazy("the year"),
    "period": gettext_lazy("the period"),
}

# What each problem says. Stored imports keep the code and its parameters, never the sentence.
ISSUE_MESSAGES: dict[str, Promise] = {
    "opd_missing": gettext_lazy("The OPD is missing."),
    "activity_missing": gettext_lazy("The activity is missing."),
    "not_a_number": gettext_lazy("“%(value)s” is not a number."),
    "ambiguous_number": gettext_lazy(
        "“%(value)s” can be read two ways: write thousands with dots and decimals with a comma "
        "(1.234.567,89)."
    ),
    "required_number": gettext_lazy("This number is missing."),
    "negative": gettext_lazy("This must not be negative."),
    "over_100": gettext_lazy("A percentage cannot exceed 100."),
    "too_large": gettext_lazy(
        "“%(value)s” is too large: amounts have at most %(digits)s digits before the decimal comma."
    ),
    "over_pagu": gettext_lazy("The realisation exceeds the budget ceiling."),
    # Written by migration 0002 on the import that had stored the row.
    "removed_out_of_range": gettext_lazy(
        "Removed when Cegah was upgraded: “%(value)s” does not fit this column, and no page "
        "could show the month with it (%(opd)s, %(activity)s). Import the month again."
    ),
    "duplicate": gettext_lazy("This activity appears twice (first on row %(first)s)."),
    # ``found`` and ``chosen`` are stored as numbers and shown as the months' names.
    "month_mismatch": gettext_lazy("This row is for %(found)s, but the import is for %(chosen)s."),
    "year_mismatch": gettext_lazy(
        "This row is for the year %(found)s, but the import is for %(chosen)s."
    ),
    "unreadable_month": gettext_lazy("“%(value)s” is not a month (1 to 12, or its name)."),
    "unreadable_year": gettext_lazy("“%(value)s” is not a year."),
    "unreadable_period": gettext_lazy(
        "“%(value)s” is not a month and year (such as 2026-12 or Desember 2026)."
    ),
    # Notes on a file, not problems: the import goes ahead.
    "formula_without_value": gettext_lazy(
        "This cell holds a formula (%(formula)s) saved without its result. Open the file in a "
        "spreadsheet program and save it again, or paste the values, then import it."
    ),
    "sheet_read": gettext_lazy(
        "The figures were read from the sheet “%(sheet)s”: the first sheet does not have the "
        "columns."
    ),
    "unknown_column": gettext_lazy("This column is not one Cegah reads; its values were ignored."),
    "unnamed_column": gettext_lazy(
        "This column has values but no header; its values were ignored."
    ),
}


class CellProblem(ValueError):
    """A cell that cannot be read; ``code`` names the problem (see ``ISSUE_MESSAGES``)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Issue:
    """One problem found in a file: where (row, the column's header as written) and what."""

    row: int | None
    column: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    letter: str = ""  # the column's letter, as a spreadsheet shows it

    @property
    def message(self) -> str:
        return issue_message(self.code, self.params)

    def as_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "letter": self.letter,
            "code": self.code,
            "params": self.params,
        }


def issue_message(code: str, params: dict[str, Any]) -> str:
    """Return the problem's sentence in the active language."""
    template = ISSUE_MESSAGES.get(code)
    if template is None:
        return code
    if code == "month_mismatch":
        params = {
            key: str(MONTHS[value]) if value in MONTHS else value for key, value in params.items()
        }
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)


def issue_text(entry: dict[str, Any]) -> str:
    """Return a stored problem's sentence in the active language.

    Imports stored before problems were kept as codes hold the sentence itself, in the language
    of whoever uploaded the file; it is shown as it was.
    """
    if "code" in entry:
        return issue_message(str(entry["code"]), dict(entry.get("params") or {}))
    return str(entry.get("message", ""))


# --- Numbers -----------------------------------------------------------------------------------

# A number grouped in thousands: 1 to 3 digits (not starting with 0), then groups of three.
_GROUPED = {sep: re.compile(rf"[1-9]\d{{0,2}}(?:{re.escape(sep)}\d{{3}})+") for sep in ".,"}
_LEAD_GROUP = re.compile(r"[1-9]\d{0,2}")
_CURRENCY = re.compile(r"^(?:rp\.?|idr)", re.IGNORECASE)


def read_number(value: Any) -> Decimal | None:
    """Read a cell as Indonesian files write numbers: dots group thousands, a comma decimals.

    ``1.234.567,89``, ``Rp 5.000.000.000``, ``750.000`` (seven hundred and fifty thousand) and
    ``12,5`` are read that way. Writing in the English way is read where it cannot mean anything
    else: both separators (``1,234,567.89``: the last one is the decimal), a comma repeated
    (``1,234,567``), or a dot not followed by three digits (``12.5``, ``0.500``). Returns None
    for an empty cell. Raises CellProblem ``ambiguous_number`` for one comma before three digits
    (``5,000``: five in the Indonesian way, five thousand in the English way) and
    ``not_a_number`` for anything else.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellProblem("not_a_number", value=str(value))
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
        if not number.is_finite():
            raise CellProblem("not_a_number", value=str(value))
        return number
    shown = str(value).strip()[:40]
    text = "".join(str(value).split())  # spaces, also non-breaking ones, group digits too
    text = _CURRENCY.sub("", text).removesuffix("%")
    if not text:
        return None
    sign = ""
    if text[0] in "-\u2212":
        sign, text = "-", text[1:]
    if not text or not set(text) <= set("0123456789.,") or not text[0].isdigit():
        raise CellProblem("not_a_number", value=shown)
    if "." in text and "," in text:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        whole, _sep, fraction = text.rpartition(decimal_sep)
        if thousands in fraction or not fraction or not _GROUPED[thousands].fullmatch(whole):
            raise CellProblem("not_a_number", value=shown)
        digits = f"{whole.replace(thousands, '')}.{fraction}"
    elif "." in text or "," in text:
        sep = "." if "." in text else ","
        whole, _sep, fraction = text.partition(sep)
        if text.count(sep) > 1:
            if not _GROUPED[sep].fullmatch(text):
                raise CellProblem("not_a_number", value=shown)
            digits = text.replace(sep, "")
        elif len(fraction) == 3 and _LEAD_GROUP.fullmatch(whole):
            if sep == ",":
                raise CellProblem("ambiguous_number", value=shown)
            digits = whole + fraction  # 750.000: Indonesian thousands
        elif not whole or not fraction:
            raise CellProblem("not_a_number", value=shown)
        else:
            digits = f"{whole}.{fraction}"
    else:
        digits = text
    try:
        return Decimal(sign + digits)
    except InvalidOperation as exc:  # pragma: no cover - the checks above leave only digits
        raise CellProblem("not_a_number", value=shown) from exc


def parse_number(value: Any) -> Decimal | None:
    """Return ``read_number(value)``, or None when the cell is empty or cannot be read."""
    try:
        return read_number(value)
    except CellProblem:
        return None


# --- Months and years --------------------------------------------------------------------------

MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        (
            ("januari", "january", "jan"),
            ("februari", "february", "feb", "pebruari"),
            ("maret", "march", "mar"),
            ("april", "apr"),
            ("mei", "may"),
            ("juni", "june", "jun"),
            ("juli", "july", "jul"),
            ("agustus", "august", "agu", "agt", "ags", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "october", "okt", "oct"),
            ("november", "nov", "nop", "nopember"),
            ("desember", "december", "des", "dec"),
        ),
        start=1,
    )
    for name in names
}
_YEAR_MONTH = re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})")
_MONTH_YEAR = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{4})")
_NAME_YEAR = re.compile(r"([a-z]+)\.?\s*[-/ ]?\s*(\d{4})")


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    text = str(value).strip()
    # ASCII digits only: "²" passes ``str.isdigit`` and then fails ``int``.
    return int(text) if text.isascii() and text.isdigit() else None


def read_month(value: Any) -> int | None:
    """Return the month (1–12) of a cell: a number or a month's name; None when empty."""
    if value is None or str(value).strip() == "":
        return None
    if hasattr(value, "month") and hasattr(value, "year"):  # a date cell
        return int(value.month)
    number = _whole(value)
    if number is None:
        number = MONTH_NAMES.get(str(value).strip().lower().rstrip("."))
    if number is None or not 1 <= number <= 12:
        raise CellProblem("unreadable_month", value=str(value).strip()[:40])
    return number


def read_year(value: Any) -> int | None:
    """Return the year of a cell; None when empty."""
    if value is None or str(value).strip() == "":
        return None
    if hasattr(value, "month") and hasattr(value, "year"):
        return int(value.year)
    number = _whole(value)
    if number is None or not 2000 <= number <= 2100:
        raise CellProblem("unreadable_year", value=str(value).strip()[:40])
    return number


def read_period(value: Any) -> tuple[int, int] | None:
    """Return (year, month) of a cell such as 2026-12, 12/2026 or Desember 2026; None if empty."""
    if value is None or str(value).strip() == "":
        return None
    if hasattr(value, "month") and hasattr(value, "year"):
        return int(value.year), int(value.month)
    text = str(value).strip().lower()
    found: tuple[int, int] | None = None
    if match := _YEAR_MONTH.fullmatch(text):
        found = int(match[1]), int(match[2])
    elif match := _MONTH_YEAR.fullmatch(text):
        found = int(match[2]), int(match[1])
    elif (match := _NAME_YEAR.fullmatch(text)) and match[1] in MONTH_NAMES:
        found = int(match[2]), MONTH_NAMES[match[1]]
    if found is None or not 1 <= found[1] <= 12 or not 2000 <= found[0] <= 2100:
        raise CellProblem("unreadable_period", value=str(value).strip()[:40])
    return found


# --- Files -------------------------------------------------------------------------------------


def column_letter(index: int) -> str:
    """Return a spreadsheet's letter for the 0-based column ``index`` (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _key(name: Any) -> str:
    """Normalise a header: "Realisasi Fisik (%)" → "realisasi_fisik"."""
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", str(name or "").lower())
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def _expected(field: str) -> str:
    """Name a missing field by the headers that give it: "skpd/opd"."""
    names = [alias for alias, target in ALIASES.items() if target == field]
    return "/".join(dict.fromkeys([names[1] if len(names) > 1 else names[0], field]))


@dataclass(frozen=True)
class Column:
    index: int  # 0-based
    header: str  # as the file wrote it
    field: str  # ours, or the normalised header when it is not one of ours

    @property
    def letter(self) -> str:
        return column_letter(self.index)


@dataclass
class Table:
    """A file's rows keyed by our field names, where each field came from, and notes on it."""

    columns: list[Column]
    rows: list[tuple[int, dict[str, Any]]]
    notes: list[Issue] = field(default_factory=list)
    # (row number, field) → a formula the workbook holds without its result
    formulas: dict[tuple[int, str], str] = field(default_factory=dict)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.field == name), None)


def _header_problems(columns: list[Column]) -> list[str]:
    """Return what is wrong with a header: a field we need is missing, two columns hold one."""
    first: dict[str, Column] = {}
    problems = []
    for column in columns:
        if column.field not in COLUMNS and column.field not in PERIOD_FIELDS:
            continue
        if column.field in first:
            problems.append(
                _(
                    "Columns “%(first)s” (%(first_letter)s) and “%(second)s” (%(second_letter)s) "
                    "both hold %(field)s; keep one of them."
                )
                % {
                    "first": first[column.field].header,
                    "first_letter": first[column.field].letter,
                    "second": column.header,
                    "second_letter": column.letter,
                    "field": FIELD_LABELS[column.field],
                }
            )
        else:
            first[column.field] = column
    if problems:
        return problems
    missing = [_expected(f) for f in REQUIRED if f not in first]
    if not any(f in first for f in ACTIVITY_FIELDS):
        missing.insert(1, "/".join(_expected(f) for f in ACTIVITY_FIELDS))
    if missing:
        return [_("These columns are missing: %(columns)s") % {"columns": ", ".join(missing)}]
    return []


def _columns(header: list[Any] | tuple[Any, ...]) -> list[Column]:
    return [
        Column(i, str(h or "").strip(), ALIASES.get(_key(h), _key(h))) for i, h in enumerate(header)
    ]


def _sniff_delimiter(text: str) -> str:
    # The header line decides: data lines hold decimal commas ("1.234,56") in semicolon files.
    first_line = text.split("\n", 1)[0]
    return max((";", ",", "\t"), key=first_line.count)


def _csv_error(exc: csv.Error, line: int) -> ValidationError:
    """Say what is wrong with a CSV file in the user's language, naming the line."""
    reason = str(exc)
    if "unexpected end of data" in reason:
        detail = _("the quotation mark opened on line %(line)s is never closed.")
    elif "field larger than field limit" in reason:
        detail = _(
            "a field starting on line %(line)s is longer than %(limit)s characters; a quotation "
            "mark may never be closed."
        )
    elif "NUL" in reason:
        detail = _("line %(line)s holds a NUL character; is it a text file?")
    elif "expected after" in reason:
        detail = _("on line %(line)s a quoted field is followed by more text before the separator.")
    else:
        detail = _("line %(line)s cannot be read.")
    message = detail % {"line": line, "limit": f"{csv.field_size_limit():,}".replace(",", ".")}
    return ValidationError(_("This is not a valid CSV file: %(error)s") % {"error": message})


def _read_csv(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's "CSV (Comma delimited)" on Windows writes the ANSI code page, Windows-1252:
        # read as Latin-1 its dashes and quotes (0x96, 0x93) became invisible control characters
        # in OPD and activity names. Latin-1 stays the fallback for the bytes 1252 leaves unused.
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    # Strict: without it a quotation mark never closed swallows the rest of the file into one
    # field, and every row after it is reported as empty columns instead of one CSV error.
    reader = csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(text), strict=True)
    raw = []
    while True:
        start = reader.line_num + 1
        try:
            raw.append(next(reader))
        except StopIteration:
            return raw
        except csv.Error as exc:
            raise _csv_error(exc, start) from exc


def _is_formula(value: Any) -> bool:
    return (isinstance(value, str) and value.startswith("=")) or hasattr(value, "text")


@dataclass
class _Sheet:
    raw: list[list[Any]]
    name: str | None = None
    notes: list[Issue] = field(default_factory=list)
    workbook: bytes = b""  # the XLSX, to look up formulas


def _read_xlsx(data: bytes) -> _Sheet:
    """Return the rows of the sheet holding the figures: the first sheet whose header has the
    columns we need. Raise ValidationError naming each sheet when none has them, or when
    several do and the first does not (which one is the month?)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise ValidationError(_("This is not an XLSX workbook.")) from exc
    problems: dict[str, list[str]] = {}
    for ws in wb.worksheets[:MAX_SHEETS]:
        header = next(ws.iter_rows(max_row=1, values_only=True), ())
        problems[ws.title] = (
            _header_problems(_columns(header)) if header else [_("The sheet is empty.")]
        )
    fitting = [name for name, found in problems.items() if not found]
    first = wb.worksheets[0].title
    notes = []
    if first in fitting:
        chosen = first
    elif len(fitting) == 1:
        chosen = fitting[0]
        notes.append(Issue(None, "", "sheet_read", {"sheet": chosen}))
    elif fitting:
        raise ValidationError(
            _(
                "The sheets %(sheets)s all have the columns of a month, and the first sheet does "
                "not: keep the month's figures on the first sheet."
            )
            % {"sheets": ", ".join(f"“{name}”" for name in fitting)}
        )
    else:
        raise ValidationError(
            [
                _("Sheet “%(sheet)s”: %(problem)s") % {"sheet": name, "problem": problem}
                for name, found in problems.items()
                for problem in found
            ]
        )
    raw = [[_shown(cell) for cell in r] for r in wb[chosen].iter_rows()]
    return _Sheet(raw, chosen, notes, data)


def _shown(cell: Any) -> Any:
    """Return a cell's value as the sheet shows it: a number formatted as a percentage holds
    the fraction (0.425 shows "42,5%"), and percentages are read in percent, as typed."""
    value = getattr(cell, "value", None)
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and "%" in str(getattr(cell, "number_format", "") or "")
    ):
        return Decimal(str(value)) * 100
    return value


def _formulas(sheet: _Sheet, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """Return the formulas at ``wanted`` (row number, column index) cells that read as empty.

    A workbook written by a program that does not calculate (a script, some exports) keeps
    formulas without their results; read for values, those cells are empty.
    """
    if not wanted or sheet.name is None:
        return {}
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(sheet.workbook), read_only=True, data_only=False)
    found = {}
    last_row = max(row for row, _i in wanted)
    for number, values in enumerate(wb[sheet.name].iter_rows(values_only=True), start=1):
        if number > last_row:
            break
        for index, value in enumerate(values):
            if (number, index) in wanted and _is_formula(value):
                found[number, index] = str(getattr(value, "text", value))[:60]
    return found


def read_table(file_name: str, data: bytes) -> Table:
    """Return a CSV or XLSX file's rows; raise ValidationError when it cannot be read."""
    suffix = PurePath(file_name).suffix.lower()
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationError(_("The file is too large; the limit is 5 MB."))
    if suffix == ".csv":
        sheet = _Sheet(_read_csv(data))
        if sheet.raw:
            problems = _header_problems(_columns(sheet.raw[0]))
            if problems:
                raise ValidationError(problems)
    elif suffix == ".xlsx":
        sheet = _read_xlsx(data)
    else:
        raise ValidationError(_("Upload a CSV or XLSX file."))
    raw = sheet.raw
    if not raw:
        raise ValidationError(_("The file is empty."))
    columns = _columns(raw[0])
    if len(raw) - 1 > MAX_IMPORT_ROWS:
        raise ValidationError(_("The file has too many rows."))
    known = [c for c in columns if c.field in COLUMNS or c.field in PERIOD_FIELDS]
    unknown = [c for c in columns if c not in known]
    filled: set[int] = set()
    empty_cells: set[tuple[int, int]] = set()
    rows = []
    for number, values in enumerate(raw[1:], start=2):
        if all(str(v or "").strip() == "" for v in values):
            continue
        filled |= {c.index for c in unknown if str(_cell(values, c) or "").strip()}
        empty_cells |= {(number, c.index) for c in known if _cell(values, c) is None}
        rows.append((number, {c.field: _cell(values, c) for c in known}))
    if not rows:
        if sheet.name is None:
            raise ValidationError(
                _("The file has column headers but no rows of figures under them.")
            )
        raise ValidationError(
            _("Sheet “%(sheet)s” has column headers but no rows of figures under them.")
            % {"sheet": sheet.name}
        )
    by_index = {c.index: c.field for c in known}
    formulas = {
        (number, by_index[index]): formula
        for (number, index), formula in _formulas(sheet, empty_cells).items()
    }
    # A column we do not read is said, not silently dropped: it may hold what the file means
    # (a month, a unit). An unnamed column is said only when it holds something.
    notes = sheet.notes + [
        Issue(None, c.header, "unknown_column" if c.header else "unnamed_column", {}, c.letter)
        for c in unknown
        if c.header or c.index in filled
    ]
    return Table(columns, rows, notes, formulas)


def _cell(values: list[Any], column: Column) -> Any:
    return values[column.index] if column.index < len(values) else None
