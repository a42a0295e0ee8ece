"""Frameworks to and from spreadsheets, and saving a framework specification.

Workbook layout (one sheet each, first row is the header):
- ``framework``: two columns ``key``/``value`` with rows year, version, name, description,
  weights_are_placeholders, zone_red_below, zone_yellow_below, zone_blue_below;
- ``areas``: code, name, weight, description;
- ``indicators``: area_code, code, name, weight, description;
- ``sub_indicators``: area_code, indicator_code, code, name, weight, description, required_evidence.

An import is all or nothing: a framework with a broken row would score everyone wrongly.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cegah.core import audit
from cegah.core.spreadsheet import text_only
from cegah.monitoring.models import Area, Framework, Indicator, Period, SubIndicator

if TYPE_CHECKING:
    from cegah.accounts.models import User

SHEETS = {
    "framework": ["key", "value"],
    "areas": ["code", "name", "weight", "description"],
    "indicators": ["area_code", "code", "name", "weight", "description"],
    "sub_indicators": [
        "area_code",
        "indicator_code",
        "code",
        "name",
        "weight",
        "description",
        "required_evidence",
    ],
}


@dataclass
class SubSpec:
    code: str
    name: str
    weight: Decimal
    description: str = ""
    required_evidence: str = ""


@dataclass
class IndicatorSpec:
    code: str
    name: str
    weight: Decimal
    description: str = ""
    subs: list[SubSpec] = field(default_factory=list)


@dataclass
class AreaSpec:
    code: str
    name: str
    weight: Decimal
    description: str = ""
    indicators: list[IndicatorSpec] = field(default_factory=list)


@dataclass
class FrameworkSpec:
    year: int
    version: int
    name: str
    description: str = ""
    weights_are_placeholders: bool = True
    cutoffs: tuple[Decimal, Decimal, Decimal] = (Decimal(25), Decimal(50), Decimal(75))
    areas: list[AreaSpec] = field(default_factory=list)


@dataclass(frozen=True)
class SheetError:
    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("Sheet %(sheet)s, row %(row)s, column %(column)s: %(message)s") % {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column or "—",
            "message": self.message,
        }


class FrameworkImportError(Exception):
    def __init__(self, errors: list[SheetError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


# --- Reading -----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decimal(value: Any) -> Decimal | None:
    if value is None or _text(value) == "":
        return None
    try:
        number = Decimal(_text(value).replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _rows(ws: Any, sheet: str, errors: list[SheetError]) -> list[tuple[int, dict[str, Any]]]:
    rows = list(ws.iter_rows(values_only=True))
    if not rows:
        errors.append(SheetError(sheet, 1, "", _("The sheet is empty.")))
        return []
    header = [_text(h).lower() for h in rows[0]]
    missing = [c for c in SHEETS[sheet] if c not in header]
    for column in missing:
        errors.append(SheetError(sheet, 1, column, _("This column is missing.")))
    if missing:
        return []
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if all(_text(v) == "" for v in row):
            continue
        out.append((number, {h: (row[i] if i < len(row) else None) for i, h in enumerate(header)}))
    return out


def read_workbook(data: bytes) -> FrameworkSpec:
    """Parse a framework workbook; return its specification or raise FrameworkImportError."""
    from openpyxl import load_workbook

    errors: list[SheetError] = []
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise FrameworkImportError(
            [SheetError("—", 0, "", _("This is not an XLSX workbook."))]
        ) from exc
    for sheet in SHEETS:
        if sheet not in wb.sheetnames:
            errors.append(SheetError(sheet, 0, "", _("The sheet is missing.")))
    if errors:
        raise FrameworkImportError(errors)

    meta = {
        (_text(r.get("key"))).lower(): r.get("value")
        for _n, r in _rows(wb["framework"], "framework", errors)
    }
    year = _decimal(meta.get("year"))
    version = _decimal(meta.get("version")) or Decimal(1)
    if year is None or not 2000 <= year <= 2100 or year != year.to_integral_value():
        errors.append(SheetError("framework", 0, "year", _("Give the year, e.g. 2024.")))
    name = _text(meta.get("name"))
    if not name:
        errors.append(SheetError("framework", 0, "name", _("Give the framework a name.")))
    cutoffs = []
    for key, default in (
        ("zone_red_below", 25),
        ("zone_yellow_below", 50),
        ("zone_blue_below", 75),
    ):
        value = _decimal(meta.get(key)) if meta.get(key) is not None else Decimal(default)
        if value is None or not 0 <= value <= 100:
            errors.append(SheetError("framework", 0, key, _("Give a number from 0 to 100.")))
            value = Decimal(default)
        cutoffs.append(value)
    if not cutoffs[0] <= cutoffs[1] <= cutoffs[2]:
        errors.append(SheetError("framework", 0, "zone_red_below", _("Zone cut-offs must ascend.")))
    placeholders = _text(meta.get("weights_are_placeholders")).lower() in {
        "1",
        "true",
        "yes",
        "ya",
        "y",
    }
    spec = FrameworkSpec(
        year=int(year or 0),
        version=int(version),
        name=name,
        description=_text(meta.get("description")),
        weights_are_placeholders=placeholders,
        cutoffs=(cutoffs[0], cutoffs[1], cutoffs[2]),
    )

    def weight_of(sheet: str, number: int, row: dict[str, Any]) -> Decimal:
        weight = _decimal(row.get("weight"))
        if weight is None or weight < 0 or weight > 100:
            errors.append(SheetError(sheet, number, "weight", _("Give a number from 0 to 100.")))
            return Decimal(0)
        return weight

    def required(sheet: str, number: int, row: dict[str, Any], column: str) -> str:
        value = _text(row.get(column))
        if not value:
            errors.append(SheetError(sheet, number, column, _("This cell is required.")))
        return value

    areas: dict[str, AreaSpec] = {}
    for number, row in _rows(wb["areas"], "areas", errors):
        code = required("areas", number, row, "code")
        spec_area = AreaSpec(
            code=code,
            name=required("areas", number, row, "name"),
            weight=weight_of("areas", number, row),
            description=_text(row.get("description")),
        )
        if code in areas:
            errors.append(SheetError("areas", number, "code", _("This code is used twice.")))
        areas[code] = spec_area
    indicators: dict[tuple[str, str], IndicatorSpec] = {}
    for number, row in _rows(wb["indicators"], "indicators", errors):
        area_code = required("indicators", number, row, "area_code")
        code = required("indicators", number, row, "code")
        ind = IndicatorSpec(
            code=code,
            name=required("indicators", number, row, "name"),
            weight=weight_of("indicators", number, row),
            description=_text(row.get("description")),
        )
        if area_code and area_code not in areas:
            errors.append(
                SheetError("indicators", number, "area_code", _("No area has this code."))
            )
        elif (area_code, code) in indicators:
            errors.append(SheetError("indicators", number, "code", _("This code is used twice.")))
        else:
            indicators[(area_code, code)] = ind
            areas[area_code].indicators.append(ind)
    for number, row in _rows(wb["sub_indicators"], "sub_indicators", errors):
        ind_key = (
            required("sub_indicators", number, row, "area_code"),
            required("sub_indicators", number, row, "indicator_code"),
        )
        code = required("sub_indicators", number, row, "code")
        sub = SubSpec(
            code=code,
            name=required("sub_indicators", number, row, "name"),
            weight=weight_of("sub_indicators", number, row),
            description=_text(row.get("description")),
            required_evidence=_text(row.get("required_evidence")),
        )
        if all(ind_key) and ind_key not in indicators:
            errors.append(
                SheetError(
                    "sub_indicators", number, "indicator_code", _("No indicator has this code.")
                )
            )
        elif all(ind_key):
            if any(s.code == code for s in indicators[ind_key].subs):
                errors.append(
                    SheetError("sub_indicators", number, "code", _("This code is used twice."))
                )
            indicators[ind_key].subs.append(sub)
    if not areas and not any(e.sheet == "areas" for e in errors):
        errors.append(SheetError("areas", 2, "", _("The framework has no areas.")))
    if errors:
        raise FrameworkImportError(errors)
    spec.areas = list(areas.values())
    return spec


# --- Writing -----------------------------------------------------------------------------------


def write_workbook(framework: Framework) -> bytes:
    """Return the framework as an XLSX workbook in the import layout."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "framework"
    ws.append(SHEETS["framework"])
    for key, value in (
        ("year", framework.year),
        ("version", framework.version),
        ("name", framework.name),
        ("description", framework.description),
        ("weights_are_placeholders", "yes" if framework.weights_are_placeholders else "no"),
        ("zone_red_below", float(framework.zone_red_below)),
        ("zone_yellow_below", float(framework.zone_yellow_below)),
        ("zone_blue_below", float(framework.zone_blue_below)),
    ):
        ws.append([key, value])
    sheets = {name: wb.create_sheet(name) for name in ("areas", "indicators", "sub_indicators")}
    for name, sheet in sheets.items():
        sheet.append(SHEETS[name])
    for area in framework.areas.prefetch_related("indicators__subs"):
        sheets["areas"].append([area.code, area.name, float(area.weight), area.description])
        for ind in area.indicators.all():
            sheets["indicators"].append(
                [area.code, ind.code, ind.name, float(ind.weight), ind.description]
            )
            for sub in ind.subs.all():
                sheets["sub_indicators"].append(
                    [
                        area.code,
                        ind.code,
                        sub.code,
                        sub.name,
                        float(sub.weight),
                        sub.description,
                        sub.required_evidence,
                    ]
                )
    text_only(wb)  # text typed by verifiers stays text, even starting with "="
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- Saving ------------------------------------------------------------------------------------


def _quarter_end(year: int, quarter: int) -> dt.date:
    month = quarter * 3
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def ensure_periods(framework: Framework) -> list[Period]:
    """Create the four quarters (submission 15 days and verification 45 days after the quarter)."""
    periods = []
    for quarter in range(1, 5):
        end = _quarter_end(framework.year, quarter)
        period, _created = Period.objects.get_or_create(
            framework=framework,
            quarter=quarter,
            defaults={
                "submission_deadline": end + dt.timedelta(days=15),
                "verification_deadline": end + dt.timedelta(days=45),
            },
        )
        periods.append(period)
    return periods


def save_framework(spec: FrameworkSpec, *, actor: User | None) -> Framework:
    """Create or replace framework ``spec.year``/``spec.version``; return it.

    Replacing is refused once any assessment uses it: import a new version instead, so earlier
    scores keep the weights they were computed with.
    """
    from cegah.monitoring.models import Assessment

    with transaction.atomic():
        framework = (
            Framework.objects.select_for_update()
            .filter(year=spec.year, version=spec.version)
            .first()
        )
        replaced = framework is not None
        if framework is not None:
            if Assessment.objects.filter(period__framework=framework).exists():
                raise ValidationError(
                    _(
                        "Framework %(year)s version %(version)s is in use; import it as a new version."
                    )
                    % {"year": spec.year, "version": spec.version}
                )
            framework.areas.all().delete()
        else:
            framework = Framework(year=spec.year, version=spec.version)
        framework.name = spec.name
        framework.description = spec.description
        framework.weights_are_placeholders = spec.weights_are_placeholders
        framework.zone_red_below, framework.zone_yellow_below, framework.zone_blue_below = (
            spec.cutoffs
        )
        framework.save()
        for a_order, a in enumerate(spec.areas):
            area = Area.objects.create(
                framework=framework,
                code=a.code,
                name=a.name,
                weight=a.weight,
                description=a.description,
                order=a_order,
            )
            for i_order, i in enumerate(a.indicators):
                indicator = Indicator.objects.create(
                    area=area,
                    code=i.code,
                    name=i.name,
                    weight=i.weight,
                    description=i.description,
                    order=i_order,
                )
                SubIndicator.objects.bulk_create(
                    SubIndicator(
                        indicator=indicator,
                        code=s.code,
                        name=s.name,
                        weight=s.weight,
                        description=s.description,
                        required_evidence=s.required_evidence,
                        order=s_order,
                    )
                    for s_order, s in enumerate(i.subs)
                )
        ensure_periods(framework)
        audit.record(
            "monitoring.framework.replaced" if replaced else "monitoring.framework.created",
            actor=actor,
            obj=framework,
            details={
                "year": spec.year,
                "version": spec.version,
                "areas": len(spec.areas),
                "placeholder_weights": spec.weights_are_placeholders,
            },
        )
    return framework


def install_shipped_frameworks(actor: User | None = None) -> list[Framework]:
    """Create the shipped 2023 and 2024 frameworks if they are not there; idempotent."""
    from cegah.monitoring.shipped import shipped_specs

    frameworks = []
    for spec in shipped_specs():
        existing = Framework.objects.filter(year=spec.year, version=spec.version).first()
        frameworks.append(existing or save_framework(spec, actor=actor))
    return frameworks
