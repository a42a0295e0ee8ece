"""The oversight dashboard: volumes, funnel, overdue cases and the map of vulnerable points.

Metadata only. KPK members see every connected organisation; an Inspektorat's members see the
organisations in its region. Content stays behind each organisation's keys.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from cegah.accounts.permissions import Cap, has_cap
from cegah.orgs.models import Organisation, Region
from cegah.wbs.models import Category, Report, Status

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from cegah.accounts.models import User

HEAT_CLASSES = 6


@dataclass
class Scope:
    label: str
    national: bool
    region_codes: list[str] = field(default_factory=list)

    def reports(self) -> QuerySet[Report]:
        if self.national:
            return Report.objects.all()
        query = Q()
        for code in self.region_codes:
            query |= Q(organisation__region_id=code) | Q(organisation__region__parent_id=code)
        return Report.objects.filter(query) if self.region_codes else Report.objects.none()


def oversight_scope(user: User | AnonymousUser) -> Scope | None:
    """Return what the user may oversee, or None: KPK → national; an Inspektorat → its region."""
    if not user.is_authenticated:
        return None
    orgs = Organisation.objects.filter(memberships__user=user).distinct().select_related("region")
    regions: list[str] = []
    labels: list[str] = []
    for org in orgs:
        if not has_cap(user, org, Cap.REPORTS_STATS):
            continue
        if org.kind == Organisation.Kind.KPK:
            return Scope(label=org.name, national=True)
        if org.unit_type == "inspektorat" and org.region_id:
            regions.append(org.region_id)
            labels.append(org.region.name if org.region else org.name)
    if not regions:
        return None
    return Scope(label=", ".join(labels), national=False, region_codes=regions)


def dashboard(scope: Scope) -> dict[str, Any]:
    """Return the figures of the oversight dashboard for ``scope``."""
    reports = scope.reports()
    today = timezone.localdate()
    since = today.replace(day=1) - timedelta(days=365)
    by_month = list(
        reports.filter(received_at__date__gte=since)
        .annotate(month=TruncMonth("received_at"))
        .values("month")
        .annotate(n=Count("id"))
        .order_by("month")
    )
    categories = dict(Category.choices)
    by_category = [
        {"label": categories.get(row["category"], row["category"]), "n": row["n"]}
        for row in reports.values("category").annotate(n=Count("id")).order_by("-n")
    ]
    statuses = dict(Status.choices)
    counts = {row["status"]: row["n"] for row in reports.values("status").annotate(n=Count("id"))}
    funnel = [{"status": s, "label": statuses[s], "n": counts.get(s, 0)} for s in Status.values]
    open_reports = reports.exclude(status__in=[Status.CLOSED, Status.ARCHIVED])
    overdue = list(
        open_reports.filter(due_answer__lt=today, answered_at__isnull=True)
        .values("organisation__name", "organisation__slug")
        .annotate(n=Count("id"))
        .order_by("-n")[:20]
    )
    open_by_org = list(
        open_reports.values("organisation__name").annotate(n=Count("id")).order_by("-n")[:20]
    )
    by_institution = list(
        reports.exclude(reported_organisation__isnull=True)
        .values("reported_organisation__name")
        .annotate(n=Count("id"))
        .order_by("-n")[:10]
    )
    return {
        "total": reports.count(),
        "open": open_reports.count(),
        "kpk_hints": reports.exclude(kpk_hints=[]).count(),
        "by_month": by_month,
        "max_month": max((row["n"] for row in by_month), default=0),
        "by_category": by_category,
        "funnel": funnel,
        "overdue": overdue,
        "open_by_org": open_by_org,
        "by_institution": by_institution,
        "by_region": region_counts(scope, None)[:15],
        "duplicate_groups": _duplicate_groups(),
        "referrals": reports.filter(referrals__isnull=False).distinct().count(),
    }


def _duplicate_groups() -> int | None:
    """Number of confirmed duplicate groups, when the integration module provides them."""
    label: str = "wbs_integration.DuplicateGroup"  # optional module: looked up, not imported
    try:
        model = apps.get_model(label)
    except LookupError:
        return None
    return int(model.objects.count())


class RegionCounts(list[tuple[str, str, int]]):
    """Reports per region as (code, name, count); in one province, ``province_level`` holds the
    reports placed at the province itself (code, name, count), which no kab/kota shape shows."""

    province_level: tuple[str, str, int] | None = None

    @property
    def legend(self) -> list[tuple[str, str]]:
        """The map's legend for these counts (``heat_legend`` of the largest)."""
        return heat_legend(max((n for _code, _name, n in self), default=0))


def region_counts(scope: Scope, province: str | None) -> RegionCounts:
    """Reports per province (or per kab/kota of ``province``) as (code, name, count), largest first.

    The place is the incident's region when the reporter gave one, else the receiving
    organisation's region. In a province, reports placed at the province itself (a reporter who
    chose "whole province", a provincial organisation) are counted in ``province_level``, so that
    the rows add up to the province's count on the national map.
    """
    counter: Counter[str] = Counter()
    at_province = 0
    rows = scope.reports().values_list("region_id", "organisation__region_id")
    for incident, org_region in rows:
        code = incident or org_region
        if not code:
            continue
        if province is None:
            counter[code[:2]] += 1
        elif code == province:
            at_province += 1
        elif code.startswith(province + "."):
            counter[code[:5]] += 1
    wanted = [*counter, *([province] if at_province and province else [])]
    names = dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))
    counts = RegionCounts(
        sorted(((c, names.get(c, c), n) for c, n in counter.items()), key=lambda r: -r[2])
    )
    if at_province and province:
        name = _("%(name)s (whole province)") % {"name": names.get(province, province)}
        counts.province_level = (province, name, at_province)
    return counts


def heat_class(count: int, maximum: int) -> str:
    """Return the CSS class of a region's shade: heat-0 (none) to heat-5 (the most reports)."""
    if count <= 0 or maximum <= 0:
        return "heat-0"
    return f"heat-{min(HEAT_CLASSES - 1, 1 + int((HEAT_CLASSES - 2) * count / maximum))}"


def heat_legend(maximum: int) -> list[tuple[str, str]]:
    """Return (CSS class, the counts it stands for) for each shade a count up to ``maximum`` can
    take, as ``heat_class`` assigns them; a shade no count can take is left out."""
    legend = [("heat-0", "0")]
    if maximum <= 0:
        return legend
    steps = HEAT_CLASSES - 2
    for shade in range(1, HEAT_CLASSES - 1):
        low = max(1, -(-(shade - 1) * maximum // steps))
        high = min(maximum - 1, -(-shade * maximum // steps) - 1)
        if low <= high:
            legend.append((f"heat-{shade}", str(low) if low == high else f"{low}–{high}"))
    legend.append((f"heat-{HEAT_CLASSES - 1}", _("most (%(maximum)s)") % {"maximum": maximum}))
    return legend
