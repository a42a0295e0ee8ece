"""API: frameworks, scores and zones, recommendation status and TEPRA realisation.

A token sees its own organisation (when it is a regional government) and the regional
governments its organisation covers as a supervisor; any other slug is 404.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError

from cegah.api.auth import OrganisationToken, token_of
from cegah.monitoring import tepra
from cegah.monitoring.access import access_token_monitored, token_visible_organisations
from cegah.monitoring.models import Assessment, Framework, Period, Recommendation
from cegah.monitoring.scores import period_standings, trend
from cegah.monitoring.scoring import rounded

PREFIX = "/monitoring"
router = Router(tags=["monitoring"], auth=OrganisationToken())


class SubOut(Schema):
    code: str
    name: str
    weight: Decimal
    description: str
    required_evidence: str


class IndicatorOut(Schema):
    code: str
    name: str
    weight: Decimal
    subs: list[SubOut]


class AreaOut(Schema):
    code: str
    name: str
    weight: Decimal
    indicators: list[IndicatorOut]


class PeriodOut(Schema):
    id: int
    quarter: int
    submission_deadline: dt.date
    verification_deadline: dt.date


class FrameworkOut(Schema):
    year: int
    version: int
    name: str
    weights_are_placeholders: bool
    zone_cutoffs: list[Decimal]
    periods: list[PeriodOut]
    areas: list[AreaOut]


class AreaScoreOut(Schema):
    code: str
    name: str
    score: Decimal
    self_reported: Decimal
    zone: str


class ScoreOut(Schema):
    organisation: str
    region_code: str | None
    period_id: int
    period: str
    status: str
    score: Decimal
    self_reported: Decimal
    gap: Decimal
    zone: str
    national_rank: int | None = None
    province_rank: int | None = None
    areas: list[AreaScoreOut]


class RecommendationOut(Schema):
    id: int
    organisation: str
    issued_by: str
    area: str
    title: str
    responsible_unit: str | None
    due_date: dt.date
    status: str
    progress: int
    overdue: bool
    escalated: bool
    source_kind: str
    source_ref: str
    source_url: str


class RealisationOut(Schema):
    opd: str
    pagu: Decimal
    financial_actual: Decimal
    financial_pct: Decimal
    physical_pct: Decimal
    financial_target_pct: Decimal
    physical_target_pct: Decimal
    # One decimal, as the pages show them and the light reads them.
    financial_deviation: Decimal
    physical_deviation: Decimal
    light: str


class TepraOut(Schema):
    organisation: str
    year: int
    month: int | None
    opds: list[RealisationOut]


def _q(value: Decimal) -> Decimal:
    """Two decimals, rounded half up like the pages (the default, half even, gave 12.04 for
    12.045 where the pages show 12,05)."""
    return rounded(value) or Decimal(0)


@router.get("/frameworks", response=list[FrameworkOut], summary="MCP frameworks")
def frameworks(request: HttpRequest, year: int | None = None) -> list[dict[str, Any]]:
    """Active frameworks with their areas, indicators, sub-indicators, weights and periods."""
    qs = Framework.objects.filter(is_active=True).prefetch_related(
        "areas__indicators__subs", "periods"
    )
    if year is not None:
        qs = qs.filter(year=year)
    return [
        {
            "year": f.year,
            "version": f.version,
            "name": f.name,
            "weights_are_placeholders": f.weights_are_placeholders,
            "zone_cutoffs": list(f.cutoffs),
            "periods": list(f.periods.all()),
            "areas": [
                {
                    "code": a.code,
                    "name": a.name,
                    "weight": a.weight,
                    "indicators": [
                        {
                            "code": i.code,
                            "name": i.name,
                            "weight": i.weight,
                            "subs": list(i.subs.all()),
                        }
                        for i in a.indicators.all()
                    ],
                }
                for a in f.areas.all()
            ],
        }
        for f in qs
    ]


def _score_out(
    org: Any, assessment: Assessment, card: Any, national: int | None, province: int | None
) -> dict[str, Any]:
    return {
        "organisation": org.slug,
        "region_code": org.region_id,
        "period_id": assessment.period_id,
        "period": assessment.period.label,
        "status": assessment.status,
        "score": _q(card.total),
        "self_reported": _q(card.self_total),
        "gap": _q(card.gap),
        "zone": card.zone,
        "national_rank": national,
        "province_rank": province,
        "areas": [
            {
                "code": a.code,
                "name": a.name,
                "score": _q(a.score),
                "self_reported": _q(a.self_score),
                "zone": a.zone,
            }
            for a in card.areas
        ],
    }


@router.get("/scores", response=list[ScoreOut], summary="Scores and zones for a period")
def scores(request: HttpRequest, period_id: int | None = None) -> list[dict[str, Any]]:
    """Every visible regional government's verified score, zone and ranks in one period.

    Without ``period_id`` the latest period with submitted assessments is used.
    """
    from cegah.monitoring.scores import latest_period

    period = (
        Period.objects.select_related("framework").filter(pk=period_id).first()
        if period_id
        else latest_period()
    )
    if period is None:
        raise Http404
    visible = set(token_visible_organisations(token_of(request)).values_list("pk", flat=True))
    return [
        _score_out(s.organisation, s.assessment, s.card, s.national_rank, s.province_rank)
        for s in period_standings(period)
        if s.organisation.pk in visible
    ]


@router.get(
    "/organisations/{slug}/scores",
    response=list[ScoreOut],
    summary="One institution's scores over periods",
)
def organisation_scores(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    org = access_token_monitored(token_of(request), slug)
    assessments = {
        a.period_id: a
        for a in Assessment.objects.filter(organisation=org).select_related("period__framework")
    }
    return [
        _score_out(org, assessments[period.pk], card, None, None) for period, card in trend(org)
    ]


def _rec_out(r: Recommendation, today: dt.date) -> dict[str, Any]:
    return {
        "id": r.pk,
        "organisation": r.institution.slug,
        "issued_by": r.issued_by.slug,
        "area": r.area_name,
        "title": r.title,
        "responsible_unit": r.responsible_unit.name if r.responsible_unit else None,
        "due_date": r.due_date,
        "status": r.status,
        "progress": r.progress,
        "overdue": r.is_overdue(today),
        "escalated": r.escalated_at is not None,
        "source_kind": r.source_kind,
        "source_ref": r.source_ref,
        "source_url": r.source_url,
    }


@router.get(
    "/organisations/{slug}/recommendations",
    response=list[RecommendationOut],
    summary="Recommendations and their status",
)
def organisation_recommendations(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    org = access_token_monitored(token_of(request), slug)
    today = timezone.localdate()
    return [
        _rec_out(r, today)
        for r in Recommendation.objects.filter(institution=org).select_related(
            "institution", "issued_by", "responsible_unit"
        )
    ]


@router.get(
    "/organisations/{slug}/tepra",
    response=TepraOut,
    summary="TEPRA realisation per OPD at the latest month",
)
def organisation_tepra(
    request: HttpRequest, slug: str, year: int | None = None, month: int | None = None
) -> dict[str, Any]:
    org = access_token_monitored(token_of(request), slug)
    if month is not None and not 1 <= month <= 12:
        raise HttpError(422, "month must be 1 to 12")
    year = year or timezone.localdate().year
    month = month or tepra.latest_month(org, year)
    rows = tepra.opd_progress(org, year, month) if month else []
    return {
        "organisation": org.slug,
        "year": year,
        "month": month,
        "opds": [
            {
                "opd": p.name,
                "pagu": p.pagu,
                "financial_actual": p.financial_actual,
                "financial_pct": _q(p.financial_pct),
                "physical_pct": _q(p.physical_pct),
                "financial_target_pct": _q(p.financial_target_pct),
                "physical_target_pct": _q(p.physical_target_pct),
                "financial_deviation": p.financial_deviation,
                "physical_deviation": p.physical_deviation,
                "light": p.light,
            }
            for p in rows
        ],
    }
