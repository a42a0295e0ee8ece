"""Federation API for institutions that run their own WBS (mounted at /api/v1/federation).

Every endpoint needs an Ed25519-signed request (see ``cegah.wbs.integration.federation`` and
``docs/federation.md``). Partners push case metadata and keyed fingerprints, never content, and
get back the possible duplicates at other organisations: organisation, date received, category
and status only.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from cegah.wbs.dedup import THRESHOLD
from cegah.wbs.dedup.fingerprint import FORMAT_VERSION
from cegah.wbs.integration import federation, services
from cegah.wbs.integration.fingerprints import dedup_key
from cegah.wbs.integration.models import ExternalCase
from cegah.wbs.models import AmountBucket, Category, Status

PREFIX = "/federation"

SIGNING = (
    "Signed with the partner's Ed25519 key: headers `X-Cegah-Partner` (organisation slug), "
    "`X-Cegah-Timestamp` (Unix seconds, within 5 minutes of the hub's clock), `X-Cegah-Nonce` "
    "(16-64 URL-safe characters, never reused) and `X-Cegah-Signature` (base64 Ed25519 signature "
    'of "cegah-federation-v1\\nMETHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)").'
)

router = Router(tags=["federation"], auth=federation.SignedRequest())

ID_PATTERN = r"^[A-Za-z0-9._:/-]{1,100}$"


class ParametersOut(Schema):
    key_id: str = Field(..., description="Public id of the shared de-duplication key.")
    secret: str = Field(
        ...,
        description="Base64 de-duplication secret; fingerprints must be made with "
        "`cegah.wbs.dedup.DedupKey(secret)`. Keep it like a password.",
    )
    fingerprint_format: int
    threshold: float


class CaseIn(Schema):
    external_id: str = Field(..., pattern=ID_PATTERN, description="The case id in your WBS.")
    category: str = Field(..., description="One of: " + ", ".join(Category.values))
    received_at: datetime
    status: str = Field(..., description="One of: " + ", ".join(Status.values))
    region_code: str = Field("", max_length=13, description="Kemendagri code, e.g. 18.01.")
    amount_bucket: str = Field("", description="One of: " + ", ".join(AmountBucket.values))
    fingerprint: dict[str, Any] | None = Field(
        None,
        description="`cegah.wbs.dedup.fingerprint(...).to_json()` made with the hub's key "
        "(see /federation/parameters). Keyed hashes only; never send text.",
    )


class StatusIn(Schema):
    external_id: str = Field(..., pattern=ID_PATTERN)
    status: str = Field(..., description="One of: " + ", ".join(Status.values))


class DecisionIn(Schema):
    candidate_id: int
    decision: str = Field(..., pattern="^(confirm|dismiss)$")


class CandidateOut(Schema):
    candidate_id: int
    external_id: str = Field(..., description="Your case of the pair.")
    organisation: str = Field(..., description="Name of the organisation holding the other case.")
    received_on: date
    category: str
    status: str = Field(..., description="Status of the other case.")
    state: str = Field(..., description="open, confirmed or dismissed.")
    group_lead: str | None = Field(
        None, description="Organisation leading the confirmed group, if any."
    )
    group_status: str | None = Field(None, description="The lead case's status, if grouped.")


class CaseOut(Schema):
    external_id: str
    created: bool
    changed: bool
    candidates: list[CandidateOut]


def _check_choices(category: str | None, status: str | None, bucket: str | None = None) -> None:
    if category is not None and category not in Category.values:
        raise HttpError(422, _("Unknown category."))
    if status is not None and status not in Status.values:
        raise HttpError(422, _("Unknown status."))
    if bucket and bucket not in AmountBucket.values:
        raise HttpError(422, _("Unknown amount bucket."))


def _candidates(partner: Any, case: ExternalCase | None = None) -> list[dict[str, Any]]:
    """Return the candidates of the partner's cases (or of one case), other side's metadata only."""
    pairs = services.candidates_for_organisation(partner.organisation, include_confirmed=True)
    out = []
    for candidate, side_id in pairs:
        mine, other = (
            (candidate.a, candidate.b) if candidate.a_id == side_id else (candidate.b, candidate.a)
        )
        if mine.external_case is None:
            continue  # a hub report of the partner's organisation: not federated
        if case is not None and mine.external_case_id != case.pk:
            continue
        summary = services.summary_of(other)
        lead = group_status = None
        if mine.group is not None:
            lead_summary = services.group_lead(mine.group)
            if lead_summary is not None:
                lead, group_status = lead_summary.organisation.name, lead_summary.status
        out.append(
            {
                "candidate_id": candidate.pk,
                "external_id": mine.external_case.external_id,
                "organisation": summary.organisation.name,
                "received_on": summary.received_at.date(),
                "category": summary.category,
                "status": summary.status,
                "state": candidate.status,
                "group_lead": lead,
                "group_status": group_status,
            }
        )
    return out


def _case_out(
    partner: Any, pushed_case: ExternalCase, created: bool, changed: bool
) -> dict[str, Any]:
    return {
        "external_id": pushed_case.external_id,
        "created": created,
        "changed": changed,
        "candidates": _candidates(partner, pushed_case),
    }


@router.get(
    "/parameters",
    response=ParametersOut,
    summary="The shared de-duplication parameters",
    description=SIGNING,
)
def parameters(request: HttpRequest) -> dict[str, Any]:
    key = dedup_key()
    return {
        "key_id": key.key_id,
        "secret": base64.b64encode(key.secret).decode(),
        "fingerprint_format": FORMAT_VERSION,
        "threshold": THRESHOLD,
    }


@router.post(
    "/cases",
    response=CaseOut,
    summary="Create or update a case (idempotent) and list its possible duplicates",
    description=SIGNING,
)
def push_case(request: HttpRequest, payload: CaseIn) -> dict[str, Any]:
    _check_choices(payload.category, payload.status, payload.amount_bucket)
    partner = federation.partner_of(request)
    try:
        pushed = federation.push_case(
            partner,
            federation.CaseData(
                external_id=payload.external_id,
                category=payload.category,
                received_at=payload.received_at,
                status=payload.status,
                region_code=payload.region_code,
                amount_bucket=payload.amount_bucket,
                fingerprint=payload.fingerprint,
            ),
        )
    except ValidationError as exc:
        raise HttpError(422, "; ".join(exc.messages)) from exc
    return _case_out(partner, pushed.case, pushed.created, pushed.changed)


@router.post(
    "/cases/status",
    response=CaseOut,
    summary="Change a case's status (idempotent)",
    description=SIGNING,
)
def case_status(request: HttpRequest, payload: StatusIn) -> dict[str, Any]:
    _check_choices(None, payload.status)
    partner = federation.partner_of(request)
    try:
        before = ExternalCase.objects.get(
            organisation=partner.organisation, external_id=payload.external_id
        ).status
        case = federation.set_case_status(partner, payload.external_id, payload.status)
    except ExternalCase.DoesNotExist:
        raise HttpError(404, _("Not found.")) from None
    return _case_out(partner, case, False, before != case.status)


@router.get(
    "/candidates",
    response=list[CandidateOut],
    summary="Possible duplicates of all your cases",
    description=SIGNING,
)
def candidates(request: HttpRequest) -> list[dict[str, Any]]:
    return _candidates(federation.partner_of(request))


@router.post(
    "/candidates/decision",
    response=CandidateOut,
    summary="Confirm or dismiss a possible duplicate of one of your cases",
    description=SIGNING,
)
def decide(request: HttpRequest, payload: DecisionIn) -> dict[str, Any]:
    partner = federation.partner_of(request)
    try:
        candidate, side = federation.partner_candidate(partner, payload.candidate_id)
    except ExternalCase.DoesNotExist:
        raise HttpError(404, _("Not found.")) from None
    try:
        services.decide_candidate(candidate, side, payload.decision, None)
    except ValidationError as exc:
        raise HttpError(409, "; ".join(exc.messages)) from exc
    for item in _candidates(partner):
        if item["candidate_id"] == candidate.pk:
            return item
    raise HttpError(404, _("Not found."))
