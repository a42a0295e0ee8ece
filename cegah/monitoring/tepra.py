"""TEPRA: reading a month's realisation file, importing it, and the figures shown from it.

A file has one row per OPD × activity with cumulative figures up to the end of the month. Bad rows
are reported by row and column and left out; the good rows replace that month's data in one
transaction, so importing the same file twice gives the same result.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from cegah.core import audit
from cegah.core.tasks_glue import enqueue_on_commit
from cegah.monitoring.models import QuarterTarget, Realisation, StrategicProject, TepraImport
from cegah.orgs.models import Organisation

if TYPE_CHECKING:
    from cegah.accounts.models import User

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000

COLUMNS = (
    "opd",
    "activity_code",
    "activity",
    "pagu",
    "financial_target",
    "financial_actual",
    "physical_target",
    "physical_actual",
)
# Headers as regional finance offices write them, mapped to ours.
ALIASES = {
    "opd": "opd",
    "skpd": "opd",
    "perangkat_daerah": "opd",
    "activity_code": "activity_code",
    "kode_kegiatan": "activity_code",
    "kode": "activity_code",
    "activity": "activity",
    "kegiatan": "activity",
    "sub_kegiatan": "activity",
    "pagu": "pagu",
    "anggaran": "pagu",
    "financial_target": "financial_target",
    "target_keuangan": "financial_target",
    "financial_actual": "financial_actual",
    "realisasi_keuangan": "financial_actual",
    "physical_target": "physical_target",
    "target_fisik": "physical_target",
    "physical_actual": "physical_actual",
    "realisasi_fisik": "physical_actual",
}
REQUIRED = ("opd", "activity", "pagu", "financial_actual", "physical_actual")

# Cumulative targets (%) at the end of each quarter when an institution has set none; one
# province's practice (Kalteng 2018: 20, 50, 85, 100).
DEFAULT_TARGETS: dict[int, tuple[Decimal, Decimal]] = {
    1: (Decimal(20), Decimal(20)),
    2: (Decimal(50), Decimal(50)),
    3: (Decimal(85), Decimal(85)),
    4: (Decimal(100), Decimal(100)),
}
# Traffic lights on the deviation (actual − target, percentage points).
YELLOW_BELOW = Decimal(-5)
RED_BELOW = Decimal(-15)

HUNDRED = Decimal(100)
ZERO = Decimal(0)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


def _header(name: Any) -> str:
    key = str(name or "").strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


class CellProblem(ValueError):
    """A cell that cannot be read; ``code`` names the problem (see ``ISSUE_MESSAGES``)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


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


def read_rows(file_name: str, data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """Return ``(row number, {column: value})`` for a CSV or XLSX file; raise ValidationError."""
    suffix = PurePath(file_name).suffix.lower()
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationError(_("The file is too large; the limit is 5 MB."))
    raw: list[list[Any]]
    if suffix == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        sample = text[:4096]
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        try:
            raw = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        except csv.Error as exc:  # an unclosed quote (the rest read as one field), a NUL byte, …
            raise ValidationError(
                _("This is not a valid CSV file: %(error)s") % {"error": exc}
            ) from exc
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
            raise ValidationError(_("This is not an XLSX workbook.")) from exc
        ws = wb.worksheets[0]
        raw = [list(r) for r in ws.iter_rows(values_only=True)]
    else:
        raise ValidationError(_("Upload a CSV or XLSX file."))
    if not raw:
        raise ValidationError(_("The file is empty."))
    header = [_header(h) for h in raw[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValidationError(
            _("These columns are missing: %(columns)s") % {"columns": ", ".join(missing)}
        )
    if len(raw) - 1 > MAX_IMPORT_ROWS:
        raise ValidationError(_("The file has too many rows."))
    rows = []
    for number, values in enumerate(raw[1:], start=2):
        if all(str(v or "").strip() == "" for v in values):
            continue
        rows.append(
            (number, {h: (values[i] if i < len(values) else None) for i, h in enumerate(header)})
        )
    return rows


@dataclass
class CleanRow:
    opd_name: str
    activity_code: str
    activity_name: str
    pagu: Decimal
    financial_target: Decimal
    financial_actual: Decimal
    physical_target: Decimal
    physical_actual: Decimal


def clean_rows(rows: Iterable[tuple[int, dict[str, Any]]]) -> tuple[list[CleanRow], list[RowError]]:
    """Validate each row; return the good rows and one error per problem found."""
    good: list[CleanRow] = []
    errors: list[RowError] = []
    seen: set[tuple[str, str, str]] = set()
    for number, row in rows:
        row_errors: list[RowError] = []
        opd = str(row.get("opd") or "").strip()[:200]
        activity = str(row.get("activity") or "").strip()[:300]
        code = str(row.get("activity_code") or "").strip()[:60]
        if not opd:
            row_errors.append(RowError(number, "opd", _("The OPD is missing.")))
        if not activity:
            row_errors.append(RowError(number, "activity", _("The activity is missing.")))
        numbers: dict[str, Decimal] = {}
        for column in (
            "pagu",
            "financial_target",
            "financial_actual",
            "physical_target",
            "physical_actual",
        ):
            try:
                value = read_number(row.get(column))
            except CellProblem as problem:
                if problem.code == "ambiguous_number":
                    message = _(
                        "“%(value)s” can be read two ways: write thousands with dots and "
                        "decimals with a comma (1.234.567,89)."
                    ) % {"value": problem.params["value"]}
                else:
                    message = _("This is not a number.")
                row_errors.append(RowError(number, column, message))
                continue
            if value is None and column in {"financial_target", "physical_target"}:
                value = ZERO  # targets are optional; the quarterly targets still apply
            if value is None:
                row_errors.append(RowError(number, column, _("This is not a number.")))
                continue
            if value < 0:
                row_errors.append(RowError(number, column, _("This must not be negative.")))
                continue
            if column.startswith("physical") and value > HUNDRED:
                row_errors.append(RowError(number, column, _("A percentage cannot exceed 100.")))
                continue
            numbers[column] = value
        if (
            "pagu" in numbers
            and "financial_actual" in numbers
            and numbers["financial_actual"] > numbers["pagu"]
        ):
            row_errors.append(
                RowError(
                    number, "financial_actual", _("The realisation exceeds the budget ceiling.")
                )
            )
        key = (opd.lower(), code.lower(), activity.lower())
        if not row_errors and key in seen:
            row_errors.append(RowError(number, "activity", _("This activity appears twice.")))
        if row_errors:
            errors.extend(row_errors)
            continue
        seen.add(key)
        good.append(
            CleanRow(
                opd,
                code,
                activity,
                numbers["pagu"],
                numbers["financial_target"],
                numbers["financial_actual"],
                numbers["physical_target"],
                numbers["physical_actual"],
            )
        )
    return good, errors


def import_realisation(
    *,
    organisation: Organisation,
    year: int,
    month: int,
    file_name: str,
    data: bytes,
    actor: User | None,
) -> TepraImport:
    """Import one month's realisation for ``organisation``; return the import record.

    Raises ValidationError when the file cannot be read at all (nothing changes then). Otherwise
    the good rows replace the month's data and the bad ones are listed on the record. A file in
    which every row is bad leaves the month's data as it was.
    """
    from cegah.monitoring import tasks

    rows = read_rows(file_name, data)
    good, errors = clean_rows(rows)
    with transaction.atomic():
        record = TepraImport.objects.create(
            organisation=organisation,
            year=year,
            month=month,
            file_name=PurePath(file_name).name[:200],
            rows_total=len(rows),
            rows_imported=len(good),
            errors=[e.as_json() for e in errors],
            uploaded_by=actor,
        )
        replaced = 0
        if good:
            replaced, _by_type = Realisation.objects.filter(
                organisation=organisation, year=year, month=month
            ).delete()
            Realisation.objects.bulk_create(
                Realisation(
                    organisation=organisation,
                    year=year,
                    month=month,
                    opd_name=r.opd_name,
                    activity_code=r.activity_code,
                    activity_name=r.activity_name,
                    pagu=r.pagu,
                    financial_target=r.financial_target,
                    financial_actual=r.financial_actual,
                    physical_target=r.physical_target,
                    physical_actual=r.physical_actual,
                    source=record,
                )
                for r in good
            )
        audit.record(
            "monitoring.tepra.imported",
            actor=actor,
            organisation=organisation,
            obj=record,
            details={
                "year": year,
                "month": month,
                "rows": len(rows),
                "imported": len(good),
                "refused": len({e.row for e in errors}),
                "replaced": replaced,
            },
        )
        if good:
            enqueue_on_commit(tasks.alert_lagging_opds, record.pk)
    return record


# --- Strategic projects ------------------------------------------------------------------------


def save_project(
    *,
    organisation: Organisation,
    actor: User,
    project: StrategicProject | None = None,
    **fields: Any,
) -> StrategicProject:
    """Create or update a strategic procurement package; return it."""
    with transaction.atomic():
        created = project is None
        if project is None:
            project = StrategicProject(organisation=organisation)
        old_status = project.status
        for key, value in fields.items():
            setattr(project, key, value)
        project.save()
        audit.record(
            "monitoring.project.created" if created else "monitoring.project.updated",
            actor=actor,
            organisation=organisation,
            obj=project,
            details={"status": project.status, "previous_status": None if created else old_status},
        )
    return project


# --- Figures -----------------------------------------------------------------------------------


def quarter_targets(
    organisation: Organisation | None, year: int
) -> dict[int, tuple[Decimal, Decimal]]:
    """Return quarter → (financial %, physical %): the institution's, else the defaults."""
    if organisation is None:
        return quarter_targets_of([], year)[None]
    return quarter_targets_of([organisation], year)[organisation.pk]


def quarter_targets_of(
    organisations: Iterable[Organisation], year: int
) -> dict[int | None, dict[int, tuple[Decimal, Decimal]]]:
    """Return ``quarter_targets`` for many institutions in one query, by primary key (and the
    defaults under None)."""
    pks = [org.pk for org in organisations]
    rows = QuarterTarget.objects.filter(year=year).filter(
        Q(organisation__isnull=True) | Q(organisation__in=pks)
    )
    defaults = dict(DEFAULT_TARGETS)
    own: dict[int, dict[int, tuple[Decimal, Decimal]]] = defaultdict(dict)
    for row in rows:
        value = (row.financial_pct, row.physical_pct)
        if row.organisation_id is None:
            defaults[row.quarter] = value
        else:
            own[row.organisation_id][row.quarter] = value
    out: dict[int | None, dict[int, tuple[Decimal, Decimal]]] = {None: defaults}
    for pk in pks:
        out[pk] = {**defaults, **own.get(pk, {})}
    return out


def target_at(targets: dict[int, tuple[Decimal, Decimal]], month: int) -> tuple[Decimal, Decimal]:
    """Interpolate the cumulative targets linearly between quarter ends (0 % before January)."""
    quarter, within = divmod(month, 3)
    if within == 0:
        return targets[quarter] if quarter else (ZERO, ZERO)
    lo = targets[quarter] if quarter else (ZERO, ZERO)
    hi = targets[quarter + 1]
    fraction = Decimal(within) / 3
    return (
        lo[0] + (hi[0] - lo[0]) * fraction,
        lo[1] + (hi[1] - lo[1]) * fraction,
    )


def light(deviation: Decimal) -> str:
    """Return "green", "yellow" or "red" for a deviation in percentage points."""
    if deviation < RED_BELOW:
        return "red"
    if deviation < YELLOW_BELOW:
        return "yellow"
    return "green"


@dataclass
class Progress:
    name: str
    pagu: Decimal
    financial_actual: Decimal
    financial_pct: Decimal
    physical_pct: Decimal
    financial_target_pct: Decimal
    physical_target_pct: Decimal

    @property
    def financial_deviation(self) -> Decimal:
        return self.financial_pct - self.financial_target_pct

    @property
    def physical_deviation(self) -> Decimal:
        return self.physical_pct - self.physical_target_pct

    @property
    def light(self) -> str:
        return light(min(self.financial_deviation, self.physical_deviation))


def aggregate(name: str, rows: Iterable[Realisation], target: tuple[Decimal, Decimal]) -> Progress:
    """Sum rows into one Progress: financial % of pagu, physical % weighted by pagu."""
    pagu = actual = physical = ZERO
    count = 0
    physical_plain = ZERO
    for r in rows:
        pagu += r.pagu
        actual += r.financial_actual
        physical += r.physical_actual * r.pagu
        physical_plain += r.physical_actual
        count += 1
    financial_pct = actual / pagu * HUNDRED if pagu else ZERO
    if pagu:
        physical_pct = physical / pagu
    else:
        physical_pct = physical_plain / count if count else ZERO
    return Progress(name, pagu, actual, financial_pct, physical_pct, target[0], target[1])


def latest_month(organisation: Organisation, year: int) -> int | None:
    row = (
        Realisation.objects.filter(organisation=organisation, year=year)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    return row


def opd_progress(organisation: Organisation, year: int, month: int) -> list[Progress]:
    """Return each OPD's progress at ``month``, worst deviation first."""
    target = target_at(quarter_targets(organisation, year), month)
    by_opd: dict[str, list[Realisation]] = defaultdict(list)
    for r in Realisation.objects.filter(organisation=organisation, year=year, month=month):
        by_opd[r.opd_name].append(r)
    rows = [aggregate(name, items, target) for name, items in by_opd.items()]
    rows.sort(key=lambda p: (min(p.financial_deviation, p.physical_deviation), p.name))
    return rows


def s_curve(organisation: Organisation, year: int) -> list[dict[str, Decimal | int | None]]:
    """Return the 12 months with cumulative financial and physical % and their targets."""
    targets = quarter_targets(organisation, year)
    by_month: dict[int, list[Realisation]] = defaultdict(list)
    for r in Realisation.objects.filter(organisation=organisation, year=year):
        by_month[r.month].append(r)
    points: list[dict[str, Decimal | int | None]] = []
    for month in range(1, 13):
        target = target_at(targets, month)
        if by_month.get(month):
            p = aggregate("", by_month[month], target)
            points.append(
                {
                    "month": month,
                    "financial": p.financial_pct,
                    "physical": p.physical_pct,
                    "financial_target": target[0],
                    "physical_target": target[1],
                }
            )
        else:
            points.append(
                {
                    "month": month,
                    "financial": None,
                    "physical": None,
                    "financial_target": target[0],
                    "physical_target": target[1],
                }
            )
    return points


def regional_progress(
    organisations: Iterable[Organisation], year: int
) -> list[tuple[Organisation, int, Progress]]:
    """Return each institution's total at its latest month of ``year`` (those with data only)."""
    orgs = list(organisations)
    latest = dict(
        Realisation.objects.filter(organisation__in=orgs, year=year)
        .order_by()
        .values_list("organisation_id")
        .annotate(Max("month"))
    )
    newest = Realisation.objects.filter(organisation=OuterRef("organisation"), year=year).order_by(
        "-month"
    )
    rows_by_org: dict[int, list[Realisation]] = defaultdict(list)
    for r in Realisation.objects.filter(
        organisation__in=orgs, year=year, month=Subquery(newest.values("month")[:1])
    ):
        rows_by_org[r.organisation_id].append(r)
    targets = quarter_targets_of(orgs, year)
    out = []
    for org in orgs:
        if org.pk not in latest:
            continue
        target = target_at(targets[org.pk], latest[org.pk])
        out.append((org, latest[org.pk], aggregate(org.name, rows_by_org[org.pk], target)))
    out.sort(key=lambda t: (min(t[2].financial_deviation, t[2].physical_deviation), t[0].name))
    return out


TEMPLATE_CSV = (
    "opd,activity_code,activity,pagu,financial_target,financial_actual,physical_target,physical_actual\n"
    "Dinas Pekerjaan Umum,1.03.02.2.01.01,Pembangunan jalan kabupaten,5000000000,2500000000,2100000000,50,42\n"
    "Dinas Kesehatan,1.02.02.2.02.01,Penyediaan obat puskesmas,1200000000,600000000,640000000,50,55\n"
)
