"""API: health, regions and the token's own organisation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from cegah.api.auth import OrganisationToken, token_of
from cegah.orgs.access import access_token_organisation
from cegah.orgs.models import Organisation, Region

PREFIX = ""
router = Router(tags=["organisations"])


class RegionOut(Schema):
    code: str
    name: str
    level: int
    type: str
    parent_code: str | None


class OrganisationOut(Schema):
    slug: str
    name: str
    kind: str
    unit_type: str
    region_code: str | None
    parent_slug: str | None
    accepts_reports: bool


def _org_out(org: Organisation) -> dict[str, Any]:
    return {
        "slug": org.slug,
        "name": org.name,
        "kind": org.kind,
        "unit_type": org.unit_type,
        "region_code": org.region_id,
        "parent_slug": org.parent.slug if org.parent_id else None,  # type: ignore[union-attr]
        "accepts_reports": org.accepts_reports,
    }


@router.get("/health", auth=None, summary="Service health")
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


@router.get("/regions", auth=None, response=list[RegionOut], summary="Provinces and kabupaten/kota")
def regions(request: HttpRequest, province: str | None = None) -> list[dict[str, Any]]:
    """All 38 provinces and 514 kabupaten/kota by Kemendagri code, or one province's regencies."""
    qs = Region.objects.all()
    if province:
        qs = qs.filter(parent_id=province)
    return [
        {
            "code": r.code,
            "name": r.name,
            "level": r.level,
            "type": r.type,
            "parent_code": r.parent_id,
        }
        for r in qs
    ]


@router.get(
    "/me", auth=OrganisationToken(), response=OrganisationOut, summary="The token's organisation"
)
def me(request: HttpRequest) -> dict[str, Any]:
    return _org_out(token_of(request).organisation)


@router.get(
    "/organisations/{slug}/units",
    auth=OrganisationToken(),
    response=list[OrganisationOut],
    summary="Units of the token's organisation",
)
def units(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    org = access_token_organisation(token_of(request), slug)
    return [_org_out(u) for u in org.children.filter(is_active=True).select_related("parent")]
