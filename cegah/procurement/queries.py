"""Read-side queries for the pages, exports and API, always within an analyst's Scope."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.dates import MONTHS

from cegah.orgs.models import Organisation
from cegah.procurement.access import Scope
from cegah.procurement.models import BuyerRisk, TenderRisk, Zone
from cegah.procurement.scoring import Policy

# TenderRisk.currency values counted as rupiah (no currency given is taken as rupiah).
RUPIAH_CODES = ("", "IDR")

SORTS = {
    "score": ("-score", "-value", "id"),
    "value": ("-value", "-score", "id"),
    "date": ("-announced_at", "-score", "id"),
    "flags": ("-n_flags", "-score", "id"),
}


def years(scope: Scope) -> list[int]:
    """Return the fiscal years with scored buyers in the scope, newest first."""
    return list(scope.buyer_risks().order_by("-year").values_list("year", flat=True).distinct())


def default_year(scope: Scope, wanted: int | None) -> int | None:
    available = years(scope)
    if wanted in available:
        return wanted
    return available[0] if available else None


def buyer_ranking(
    scope: Scope, year: int | None, *, zone: str = "", q: str = ""
) -> QuerySet[BuyerRisk]:
    qs = scope.buyer_risks().select_related("buyer", "organisation")
    if year is not None:
        qs = qs.filter(year=year)
    if zone:
        qs = qs.filter(zone=zone)
    if q:
        qs = qs.filter(Q(buyer__name__icontains=q) | Q(buyer__buyer_id__icontains=q))
    return qs.order_by("-ranked", "-score", "-value_at_risk", "buyer__name", "id")


@dataclass
class InstitutionRisk:
    organisation: Organisation | None
    year: int
    buyers: int
    tenders: int
    at_risk: int
    value_total: float
    value_at_risk: float
    score: int
    zone: str
    high_buyers: int
    # Tenders valued in another currency than rupiah, left out of the values.
    other_currency_tenders: int = 0

    @property
    def share_at_risk(self) -> float:
        return self.value_at_risk / self.value_total if self.value_total else 0.0

    @property
    def zone_label(self) -> str:
        return str(Zone(self.zone).label)

    @property
    def region_code(self) -> str:
        if self.organisation is None or self.organisation.region_id is None:
            return ""
        return str(self.organisation.region_id)


def institution_ranking(
    scope: Scope, year: int | None, policy: Policy, *, zone: str = "", q: str = ""
) -> list[InstitutionRisk]:
    """Return one row per organisation with mapped buyers (plus unmapped ones, if in scope):
    the value-weighted mean of its buyers' scores, zoned with the policy's cut-offs.

    ``zone`` keeps the institutions of that zone; ``q`` those whose name or short name contains
    it (the unmapped buyers' row has neither).
    """
    rows = [r for r in _institutions(scope, year, policy) if not zone or r.zone == zone]
    if q:
        needle = q.casefold()
        rows = [
            r
            for r in rows
            if r.organisation is not None
            and (needle in r.organisation.name.casefold() or needle in r.organisation.slug)
        ]
    return rows


def institution_zone_counts(scope: Scope, year: int | None, policy: Policy) -> dict[str, int]:
    """Return how many institutions are in each zone in ``year``."""
    counts = {"high": 0, "medium": 0, "low": 0, "few": 0}
    for row in _institutions(scope, year, policy):
        counts[row.zone] += 1
    return counts


def _institutions(scope: Scope, year: int | None, policy: Policy) -> list[InstitutionRisk]:
    qs = scope.buyer_risks()
    if year is not None:
        qs = qs.filter(year=year)
    acc: dict[tuple[int | None, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in qs.values(
        "organisation_id",
        "year",
        "tenders",
        "at_risk",
        "value_total",
        "value_at_risk",
        "score",
        "zone",
        "other_currency_tenders",
    ):
        a = acc[(row["organisation_id"], row["year"])]
        a["other_currency"] += row["other_currency_tenders"]
        weight = row["value_total"] or 0.0
        a["buyers"] += 1
        a["tenders"] += row["tenders"]
        a["at_risk"] += row["at_risk"]
        a["value_total"] += weight
        a["value_at_risk"] += row["value_at_risk"]
        a["weighted"] += row["score"] * weight
        a["plain"] += row["score"]
        a["high"] += 1 if row["zone"] == "high" else 0
    orgs = Organisation.objects.select_related("region").in_bulk(
        [k[0] for k in acc if k[0] is not None]
    )
    rows = []
    for (org_id, yr), a in acc.items():
        score = round(
            a["weighted"] / a["value_total"] if a["value_total"] else a["plain"] / a["buyers"]
        )
        rows.append(
            InstitutionRisk(
                organisation=orgs.get(org_id) if org_id is not None else None,
                year=yr,
                buyers=int(a["buyers"]),
                tenders=int(a["tenders"]),
                at_risk=int(a["at_risk"]),
                value_total=a["value_total"],
                value_at_risk=a["value_at_risk"],
                score=score,
                zone=policy.zone(score, int(a["tenders"])),
                high_buyers=int(a["high"]),
                other_currency_tenders=int(a["other_currency"]),
            )
        )
    rows.sort(
        key=lambda r: (
            r.zone == "few",
            -r.score,
            -r.value_at_risk,
            r.organisation.name if r.organisation else "",
        )
    )
    return rows


def zone_counts(scope: Scope, year: int | None) -> dict[str, int]:
    qs = scope.buyer_risks()
    if year is not None:
        qs = qs.filter(year=year)
    counts = {"high": 0, "medium": 0, "low": 0, "few": 0}
    for row in qs.values("zone").annotate(n=Count("id")):
        counts[row["zone"]] = row["n"]
    return counts


def filter_tenders(scope: Scope, data: dict[str, Any]) -> QuerySet[TenderRisk]:
    """Return the scope's tenders filtered by a cleaned TenderFilterForm."""
    qs = scope.tenders().select_related("buyer")
    if data.get("year"):
        qs = qs.filter(year=data["year"])
    if data.get("buyer"):
        qs = qs.filter(buyer_id=data["buyer"])
    if data.get("flag"):
        qs = qs.filter(codes__contains=f" {data['flag']} ")
    if data.get("min_score") is not None:
        qs = qs.filter(score__gte=data["min_score"])
    if data.get("method"):
        qs = qs.filter(method_details=data["method"])
    if data.get("q"):
        qs = qs.filter(Q(title__icontains=data["q"]) | Q(ocid=data["q"]))
    return qs.order_by(*SORTS.get(data.get("sort") or "score", SORTS["score"]))


@dataclass
class Month:
    month: int
    tenders: int
    at_risk: int
    value: float
    value_at_risk: float

    @property
    def name(self) -> str:
        """Return the month's name in the active language ("Desember")."""
        return str(MONTHS[self.month])


@dataclass
class Monthly:
    """A fiscal year month by month, with the tenders dated outside it kept apart: a package
    of next year's budget announced in December is not December's (nor a year-end rush). The
    tenders of the year with no date at all are counted apart too, and in the total."""

    months: list[Month]
    before: Month  # dated before the fiscal year (month 0)
    after: Month  # dated after it (month 13)
    undated: Month = field(default_factory=lambda: Month(0, 0, 0, 0.0, 0.0))  # no date known

    @property
    def total(self) -> Month:
        every = [*self.months, self.before, self.after, self.undated]
        return Month(
            month=0,
            tenders=sum(m.tenders for m in every),
            at_risk=sum(m.at_risk for m in every),
            value=sum(m.value for m in every),
            value_at_risk=sum(m.value_at_risk for m in every),
        )


def monthly(scope: Scope, year: int | None, at_risk: int, buyer_id: int | None = None) -> Monthly:
    """Return ``year`` month by month (1–12), and the tenders of the fiscal year dated before
    or after it, and those with no date: tenders, tenders at risk, rupiah value and value at
    risk. No year (nothing scored yet) is nothing, not the tenders without a fiscal year."""
    qs = scope.tenders().filter(year=year) if year is not None else scope.tenders().none()
    if buyer_id:
        qs = qs.filter(buyer_id=buyer_id)
    # Values in other currencies are never added into the rupiah sums.
    rupiah = Q(currency__in=RUPIAH_CODES)
    rows = {
        (r["month_year_offset"], r["month"]): r
        for r in qs.values("month_year_offset", "month").annotate(
            n=Count("id"),
            risky=Count("id", filter=Q(score__gte=at_risk)),
            v=Sum("value", filter=rupiah),
            vr=Sum("value", filter=rupiah & Q(score__gte=at_risk)),
        )
    }

    def month(number: int, keys: list[tuple[int, int | None]]) -> Month:
        found = [rows[k] for k in keys if k in rows]
        return Month(
            month=number,
            tenders=sum(r["n"] for r in found),
            at_risk=sum(r["risky"] for r in found),
            value=sum(r["v"] or 0.0 for r in found),
            value_at_risk=sum(r["vr"] or 0.0 for r in found),
        )

    return Monthly(
        months=[month(m, [(0, m)]) for m in range(1, 13)],
        before=month(0, [k for k in rows if k[0] < 0 and k[1] is not None]),
        after=month(13, [k for k in rows if k[0] > 0 and k[1] is not None]),
        undated=month(0, [k for k in rows if k[1] is None]),
    )


def other_currency_tenders(scope: Scope, year: int | None) -> int:
    """Return how many of the year's tenders are valued in a currency other than rupiah (they
    are counted, but left out of the rupiah values)."""
    qs = scope.tenders().exclude(currency__in=RUPIAH_CODES)
    if year is not None:
        qs = qs.filter(year=year)
    return qs.count()


def method_choices(scope: Scope) -> list[str]:
    # order_by(): the model's default ordering would otherwise join the DISTINCT (one row per
    # tender instead of per method).
    methods = scope.tenders().order_by().values_list("method_details", flat=True).distinct()
    return sorted(m for m in methods if m)
