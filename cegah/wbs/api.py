"""Public JSON API for reporters and partner apps (the web form uses the same services).

GET  /api/v1/public/organisations
POST /api/v1/public/reports                   → 201 {receipt, reference, status}
POST /api/v1/public/session                   → {token, expires_at}
GET  /api/v1/public/session/report            (Authorization: Bearer <token>)
POST /api/v1/public/session/messages          (Bearer)
POST /api/v1/public/session/attachments       (Bearer, multipart)
"""

import base64
import binascii
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_ratelimit.decorators import ratelimit
from ninja import Field, File, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.security import HttpBearer

from cegah.orgs.models import Organisation
from cegah.wbs import services, throttle
from cegah.wbs.intake import AttachmentRejected
from cegah.wbs.models import Category, Message, Report

PREFIX = "/public"
router = Router(tags=["public reporting"])


class OrganisationOut(Schema):
    slug: str
    name: str
    kind: str
    region_code: str | None
    region_name: str | None


class PartyIn(Schema):
    name: str = Field("", max_length=200)
    position: str = Field("", max_length=200)
    institution: str = Field("", max_length=200)


class AttachmentIn(Schema):
    name: str = Field(..., max_length=200)
    content_base64: str


class ReportIn(Schema):
    organisation: str = Field(
        ..., description="Slug of the receiving organisation (see /public/organisations)."
    )
    category: str = Field(..., description="One of: " + ", ".join(Category.values))
    description: str = Field(
        ..., max_length=20000, description="What happened (at least 20 characters)."
    )
    reported: list[PartyIn] = Field(default_factory=list, max_length=20)
    region_code: str = Field("", max_length=13, description="Kemendagri code, e.g. 18 or 18.71.")
    where: str = Field("", max_length=500)
    when: str = Field("", max_length=200)
    how: str = Field("", max_length=10000)
    amount: int | None = Field(None, ge=0, le=10**16, description="Estimated loss in rupiah.")
    reported_organisation: str = Field("", max_length=80)
    reported_institution_text: str = Field("", max_length=300)
    other_agency: str = Field("", max_length=300)
    extra: dict[str, str] = Field(default_factory=dict)
    identity_name: str = Field("", max_length=200)
    identity_details: str = Field("", max_length=300)
    contact: str = Field("", max_length=200)
    consent: bool = Field(False, description="Required when identity_name or contact is given.")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=5)


class SubmittedOut(Schema):
    receipt: str = Field(..., description="16 digits. Shown once: the reporter must keep it.")
    reference: str
    status: str


class SessionIn(Schema):
    receipt: str


class SessionOut(Schema):
    token: str
    expires_at: datetime


class MessageOut(Schema):
    kind: str
    created_at: datetime
    body: str


class EventOut(Schema):
    kind: str
    created_at: datetime
    data: dict[str, Any]


class ReportStatusOut(Schema):
    reference: str
    organisation: str
    status: str
    status_label: str
    category: str
    received_at: datetime
    messages: list[MessageOut]
    events: list[EventOut]


class MessageIn(Schema):
    body: str = Field(..., max_length=10000)


class OkOut(Schema):
    ok: bool


class ReporterToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> tuple[Report, bytes] | None:
        return services.reporter_context(token)


def _raise_validation(exc: ValidationError) -> None:
    raise HttpError(422, "; ".join(exc.messages))


@router.get(
    "/organisations",
    auth=None,
    response=list[OrganisationOut],
    summary="Organisations that accept reports",
)
def organisations(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "slug": o.slug,
            "name": o.name,
            "kind": o.kind,
            "region_code": o.region_id,
            "region_name": o.region.name if o.region else None,
        }
        for o in services.accepting_organisations()
    ]


@router.post("/reports", auth=None, response={201: SubmittedOut}, summary="Submit a report")
@ratelimit(key="ip", rate="20/h", block=True)
@ratelimit(key=lambda group, request: "all", rate="600/m", block=True)
def submit(request: HttpRequest, payload: ReportIn) -> Status:
    org = Organisation.objects.filter(slug=payload.organisation).first()
    if org is None:
        raise HttpError(422, _("Unknown organisation."))
    if (payload.identity_name or payload.contact) and not payload.consent:
        raise HttpError(422, _("Consent is required to store an identity or contact."))
    files = []
    for item in payload.attachments:
        try:
            files.append(
                services.IncomingFile(
                    item.name, base64.b64decode(item.content_base64, validate=True)
                )
            )
        except (binascii.Error, ValueError) as exc:
            raise HttpError(
                422, _("Attachment “%(name)s” is not valid base64.") % {"name": item.name}
            ) from exc
    data = services.ReportInput(
        category=payload.category,
        description=payload.description,
        reported=[services.ReportedParty(**p.dict()) for p in payload.reported],
        region_code=payload.region_code,
        where=payload.where,
        when=payload.when,
        how=payload.how,
        amount=payload.amount,
        reported_organisation=payload.reported_organisation,
        reported_institution_text=payload.reported_institution_text,
        other_agency=payload.other_agency,
        extra=payload.extra,
        identity_name=payload.identity_name,
        identity_details=payload.identity_details,
        contact=payload.contact,
    )
    try:
        submitted = services.submit_report(org, data, files, channel="api")
    except AttachmentRejected as exc:
        raise HttpError(422, str(exc)) from exc
    except ValidationError as exc:
        _raise_validation(exc)
        raise
    return Status(
        201,
        {
            "receipt": submitted.receipt,
            "reference": submitted.report.reference,
            "status": submitted.report.status,
        },
    )


@router.post(
    "/session", auth=None, response=SessionOut, summary="Open a follow-up session with the receipt"
)
@ratelimit(key="ip", rate="30/h", block=True)
def open_session(request: HttpRequest, payload: SessionIn) -> dict[str, Any]:
    wait = throttle.wait_seconds(request)
    if wait:
        raise HttpError(429, _("Too many wrong receipts. Wait %(s)s seconds.") % {"s": wait})
    opened = services.open_reporter_session(payload.receipt)
    if opened is None:
        throttle.record_failure(request)
        raise HttpError(404, _("This receipt code does not open a report."))
    throttle.record_success(request)
    token, session = opened
    return {"token": token, "expires_at": session.expires_at}


@router.get(
    "/session/report", auth=ReporterToken(), response=ReportStatusOut, summary="Status and messages"
)
def session_report(request: HttpRequest) -> dict[str, Any]:
    report, data_key = request.auth  # type: ignore[attr-defined]
    messages = [
        {"kind": m.kind, "created_at": m.created_at, "body": services.decrypt_message(m, data_key)}
        for m in report.messages.exclude(kind=Message.Kind.NOTE)
    ]
    services.mark_read_by_reporter(report)
    return {
        "reference": report.reference,
        "organisation": report.organisation.name,
        "status": report.status,
        "status_label": str(report.get_status_display()),
        "category": report.category,
        "received_at": report.received_at,
        "messages": messages,
        "events": [
            {"kind": e.kind, "created_at": e.created_at, "data": e.data}
            for e in report.events.filter(visible_to_reporter=True)
        ],
    }


@router.post(
    "/session/messages",
    auth=ReporterToken(),
    response={201: OkOut},
    summary="Reply or add information",
)
def session_message(request: HttpRequest, payload: MessageIn) -> Status:
    report, data_key = request.auth  # type: ignore[attr-defined]
    try:
        services.reporter_reply(report, data_key, payload.body)
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, {"ok": True})


@router.post(
    "/session/attachments", auth=ReporterToken(), response={201: OkOut}, summary="Add evidence"
)
def session_attachment(request: HttpRequest, file: File[UploadedFile], note: str = "") -> Status:
    report, data_key = request.auth  # type: ignore[attr-defined]
    try:
        services.reporter_reply(
            report,
            data_key,
            note or _("(evidence added)"),
            [services.IncomingFile(file.name or "file", file.read())],
        )
    except AttachmentRejected as exc:
        raise HttpError(422, str(exc)) from exc
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, {"ok": True})
