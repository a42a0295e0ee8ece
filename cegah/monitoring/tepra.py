"""TEPRA: importing a month's realisation file (read by ``tepra_files``), and the figures shown.

A file has one row per OPD × activity with cumulative figures up to the end of the month. An import
is all or nothing: a file with any bad row changes nothing and lists every problem by row and
column; a good file replaces that month's data in one transaction, so importing the same file
twice gives the same result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils.dates import MONTHS
from django.utils.translation import pgettext

from cegah.core import audit
from cegah.core.numbers import half_up
from cegah.core.tasks_glue import enqueue_on_commit
from cegah.monitoring.models import QuarterTarget, Realisation, StrategicProject, TepraImport
from cegah.monitoring.tepra_files import MAX_IMPORT_BYTES as MAX_IMPORT_BYTES
from cegah.monitoring.tepra_files import (
    CellProblem,
    Issue,
    Table,
    read_month,
    read_number,
    read_period,
    read_table,
    read_year,
)
from cegah.monitoring.tepra_files import parse_number as parse_number
from cegah.orgs.models import Organisation

if TYPE_CHECKING:
    from cegah.accounts.models import User

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
# Amounts are stored with two decimals in 18 digits (Realisation.pagu and the rest).
MONEY_DIGITS = 16
MONEY_LIMIT = Decimal(10) ** MONEY_DIGITS


@dataclass
class CleanRow:
    opd_name: str
    activity_code: str
    activity_name: str
    sub_activity_name: str
    pagu: Decimal
    financial_target: Decimal
    financial_actual: Decimal
    physical_target: Decimal
    physical_actual: Decimal


def clean_rows(
    rows: Iterable[tuple[int, dict[str, Any]]],
    table: Table | None = None,
    *,
    year: int | None = None,
    month: int | None = None,
) -> tuple[list[CleanRow], list[Issue]]:
    """Validate each row; return the good rows and one issue per problem found.

    Issues name the column as ``table`` (the file read) wrote it, else by our field name. A row
    whose month, year or period column disagrees with ``year`` and ``month`` is a problem.
    """

    def issue(row: int, name: str, code: str, **params: Any) -> Issue:
        column = table.column(name) if table is not None else None
        if column is None:
            return Issue(row, name, code, params)
        return Issue(row, column.header or column.letter, code, params, column.letter)

    good: list[CleanRow] = []
    issues: list[Issue] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    formulas: dict[int, dict[str, str]] = defaultdict(dict)
    for (number, name), formula in (table.formulas if table is not None else {}).items():
        formulas[number][name] = formula
    for number, row in rows:
        # A formula saved without its result reads as an empty cell: say so, not "missing".
        row_issues = [
            issue(number, name, "formula_without_value", formula=formula)
            for name, formula in formulas[number].items()
        ]
        row = {k: v for k, v in row.items() if k not in formulas[number]}
        row_issues += _period_issues(number, row, issue, year=year, month=month)
        opd = str(row.get("opd") or "").strip()[:200]
        activity = str(row.get("activity") or "").strip()[:300]
        sub_activity = str(row.get("sub_activity") or "").strip()[:300]
        code = str(row.get("activity_code") or "").strip()[:60]
        reported = set(formulas[number])
        if not opd and "opd" not in reported:
            row_issues.append(issue(number, "opd", "opd_missing"))
        if not activity and not sub_activity and not reported & {"activity", "sub_activity"}:
            named = "activity" if "activity" in row else "sub_activity"
            row_issues.append(issue(number, named, "activity_missing"))
        numbers: dict[str, Decimal] = {}
        for column in (
            "pagu",
            "financial_target",
            "financial_actual",
            "physical_target",
            "physical_actual",
        ):
            if column in reported:
                continue
            try:
                value = read_number(row.get(column))
            except CellProblem as problem:
                row_issues.append(issue(number, column, problem.code, **problem.params))
                continue
            if value is None and column in {"financial_target", "physical_target"}:
                value = ZERO  # targets are optional; the quarterly targets still apply
            if value is None:
                row_issues.append(issue(number, column, "required_number"))
                continue
            if value < 0:
                row_issues.append(issue(number, column, "negative"))
                continue
            if column.startswith("physical") and value > HUNDRED:
                row_issues.append(issue(number, column, "over_100"))
                continue
            if value >= MONEY_LIMIT:
                shown = str(row.get(column)).strip()[:40]
                row_issues.append(
                    issue(number, column, "too_large", value=shown, digits=MONEY_DIGITS)
                )
                continue
            numbers[column] = half_up(value, 2)
        if (
            "pagu" in numbers
            and "financial_actual" in numbers
            and numbers["financial_actual"] > numbers["pagu"]
        ):
            row_issues.append(issue(number, "financial_actual", "over_pagu"))
        key = (opd.lower(), code.lower(), activity.lower(), sub_activity.lower())
        if not row_issues and key in seen:
            named = "sub_activity" if "sub_activity" in row else "activity"
            row_issues.append(issue(number, named, "duplicate", first=seen[key]))
        if row_issues:
            issues.extend(row_issues)
            continue
        seen[key] = number
        good.append(
            CleanRow(
                opd,
                code,
                activity,
                sub_activity,
                numbers["pagu"],
                numbers["financial_target"],
                numbers["financial_actual"],
                numbers["physical_target"],
                numbers["physical_actual"],
            )
        )
    return good, issues


def _period_issues(
    number: int,
    row: dict[str, Any],
    issue: Callable[..., Issue],
    *,
    year: int | None,
    month: int | None,
) -> list[Issue]:
    """Return the problems of a row whose month or year columns disagree with the import's."""
    found: list[Issue] = []
    readers: list[tuple[str, Callable[[Any], Any]]] = [
        ("period", read_period),
        ("month", read_month),
        ("year", read_year),
    ]
    for name, reader in readers:
        if name not in row:
            continue
        try:
            value = reader(row[name])
        except CellProblem as problem:
            found.append(issue(number, name, problem.code, **problem.params))
            continue
        if value is None:
            continue
        row_year = value[0] if name == "period" else value if name == "year" else None
        row_month = value[1] if name == "period" else value if name == "month" else None
        if name == "month" and hasattr(row[name], "year"):  # a date in the month column
            row_year = int(row[name].year)
        if month is not None and row_month is not None and row_month != month:
            found.append(issue(number, name, "month_mismatch", found=row_month, chosen=month))
        if year is not None and row_year is not None and row_year != year:
            found.append(issue(number, name, "year_mismatch", found=row_year, chosen=year))
    return found


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

    All or nothing. Raises ValidationError when the file cannot be read at all; nothing is stored
    then. A file with any bad row is refused: the record lists every problem by row and column
    and the month's figures stay as they were. A good file replaces the month's figures in one
    transaction, so importing it again gives the same figures.
    """
    from cegah.monitoring import tasks

    table = read_table(file_name, data)
    rows = table.rows
    good, issues = clean_rows(rows, table, year=year, month=month)
    refused = bool(issues)
    with transaction.atomic():
        # One import per institution at a time: two imports of one month running together would
        # each delete the old rows and both insert theirs.
        list(Organisation.objects.select_for_update().filter(pk=organisation.pk).values_list("pk"))
        record = TepraImport.objects.create(
            organisation=organisation,
            year=year,
            month=month,
            file_name=PurePath(file_name).name[:200],
            rows_total=len(rows),
            rows_imported=0 if refused else len(good),
            errors=[e.as_json() for e in issues],
            warnings=[n.as_json() for n in table.notes],
            uploaded_by=actor,
        )
        replaced = 0
        if not refused:
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
                    sub_activity_name=r.sub_activity_name,
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
            "monitoring.tepra.refused" if refused else "monitoring.tepra.imported",
            actor=actor,
            organisation=organisation,
            obj=record,
            details={
                "year": year,
                "month": month,
                "rows": len(rows),
                "imported": record.rows_imported,
                "rows_with_problems": len({e.row for e in issues}),
                "problems": len(issues),
                "replaced": replaced,
            },
        )
        if not refused:
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


def month_name(month: int) -> str:
    """Return the month's name in the active language ("Maret"; never the number or English)."""
    return str(MONTHS[month]) if month in MONTHS else str(month)


def month_year(month: int, year: int) -> str:
    """Return "Maret 2026" in the active language."""
    return pgettext("month and year", "%(month)s %(year)s") % {
        "month": month_name(month),
        "year": year,
    }


def shown(value: Decimal) -> Decimal:
    """Return ``value`` rounded as the pages show percentages and deviations: one decimal, half
    up like ``floatformat``."""
    return half_up(value, 1)


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

    # A deviation is taken between the figures as shown, so that the light agrees with the page:
    # 14.96 % against a target of 20 reads "15,0" and "-5,0", which is not below -5 (the
    # unrounded -5.04 made it yellow).
    @property
    def financial_deviation(self) -> Decimal:
        return shown(self.financial_pct) - shown(self.financial_target_pct)

    @property
    def physical_deviation(self) -> Decimal:
        return shown(self.physical_pct) - shown(self.physical_target_pct)

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


def months_with_data(organisation: Organisation, year: int) -> list[int]:
    """Return the months of ``year`` with figures, in order."""
    return sorted(
        Realisation.objects.filter(organisation=organisation, year=year)
        .order_by()  # else the default ordering's columns join the DISTINCT
        .values_list("month", flat=True)
        .distinct()
    )


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
