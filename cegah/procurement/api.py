"""Procurement risk API for the integrated risk map (token auth, read-only).

GET /api/v1/procurement/institutions?year=   institutions (organisations) with score and zone
GET /api/v1/procurement/buyers?year=&zone=   satker (buyers) with counts, value at risk, zone

A token sees what its organisation's analysts see (KPK: everything, unmapped buyers included;
others: buyers mapped to the organisation and its subtree). See cegah/procurement/access.py.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from cegah.api.auth import OrganisationToken, token_of
from cegah.procurement import queries, services
from cegah.procurement.access import scope_of
from cegah.procurement.scoring import Policy

PREFIX = "/procurement"
# A fiscal year past this is refused (422), not handed to the database (a 500).
YEAR_MAX = 9999
# The largest ``offset`` of /buyers used as is; beyond it every page is empty anyway.
MAX_OFFSET = 10**9
router = Router(tags=["procurement risk"], auth=OrganisationToken())


class InstitutionRiskOut(Schema):
    organisation: str | None
    name: str | None
    region_code: str
    year: int
    buyers: int
    tenders: int
    tenders_at_risk: int
    value_total: float
    value_at_risk: float
    share_at_risk: float
    score: int
    zone: str
    # Values are rupiah; tenders valued in another currency are counted here, not in them.
    other_currency_tenders: int


class BuyerRiskOut(Schema):
    buyer_id: str
    name: str
    organisation: str | None
    region_code: str
    year: int
    tenders: int
    tenders_flagged: int
    tenders_at_risk: int
    value_total: float
    value_at_risk: float
    share_at_risk: float
    score: int
    zone: str
    flags: list[str]
    other_currency_tenders: int


class PageOut(Schema):
    year: int | None
    count: int
    cutoffs: dict[str, int]
    items: list[BuyerRiskOut]


def _policy() -> Policy:
    run = services.current_run()
    return Policy.from_dict(run.policy) if run else Policy()


def _cutoffs(policy: Policy) -> dict[str, int]:
    return {"high": policy.high, "medium": policy.medium, "tender_at_risk": policy.at_risk}


@router.get(
    "/institutions",
    response=list[InstitutionRiskOut],
    summary="Procurement risk per institution and year",
)
def institutions(
    request: HttpRequest, year: int | None = Query(None, ge=1, le=YEAR_MAX)
) -> list[dict[str, Any]]:
    """Each organisation with mapped satker, per fiscal year (all years unless ``year``): the
    value-weighted mean of its satker scores and the zone. ``organisation`` is null for the
    unmapped satker (only for tokens that see everything)."""
    scope = scope_of(token_of(request).organisation)
    return [
        {
            "organisation": r.organisation.slug if r.organisation else None,
            "name": r.organisation.name if r.organisation else None,
            "region_code": r.region_code,
            "year": r.year,
            "buyers": r.buyers,
            "tenders": r.tenders,
            "tenders_at_risk": r.at_risk,
            "value_total": r.value_total,
            "value_at_risk": r.value_at_risk,
            "share_at_risk": round(r.share_at_risk, 4),
            "score": r.score,
            "zone": r.zone,
            "other_currency_tenders": r.other_currency_tenders,
        }
        for r in queries.institution_ranking(scope, year, _policy())
    ]


@router.get("/buyers", response=PageOut, summary="Procurement risk per satker (buyer) and year")
def buyers(
    request: HttpRequest,
    year: int | None = Query(None, ge=1, le=YEAR_MAX),
    zone: str = "",
    limit: int = 500,
    offset: int = 0,
) -> dict[str, Any]:
    """Satker ranked by score for a fiscal year (the newest by default), ``limit`` ≤ 5000."""
    scope = scope_of(token_of(request).organisation)
    year = queries.default_year(scope, year)
    qs = queries.buyer_ranking(scope, year, zone=zone)
    limit = max(1, min(limit, 5000))
    # Past every row is an empty page, never a number the database cannot take (a 500).
    offset = max(0, min(offset, MAX_OFFSET))
    rows = qs[offset : offset + limit]
    return {
        "year": year,
        "count": qs.count(),
        "cutoffs": _cutoffs(_policy()),
        "items": [
            {
                "buyer_id": r.buyer.buyer_id,
                "name": r.buyer.name,
                "organisation": r.organisation.slug if r.organisation else None,
                "region_code": r.region_code,
                "year": r.year,
                "tenders": r.tenders,
                "tenders_flagged": r.flagged,
                "tenders_at_risk": r.at_risk,
                "value_total": r.value_total,
                "value_at_risk": r.value_at_risk,
                "share_at_risk": round(r.share_at_risk, 4),
                "score": r.score,
                "zone": r.zone,
                "flags": [f["code"] for f in r.flags],
                "other_currency_tenders": r.other_currency_tenders,
            }
            for r in rows
        ],
    }
