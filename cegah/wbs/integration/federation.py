"""Federation with institutions that run their own WBS: signed requests and the partner's pushes.

Every request is signed with the partner's Ed25519 key over::

    cegah-federation-v1\\n<METHOD>\\n<path with query>\\n<timestamp>\\n<nonce>\\n<sha256 hex of body>

and carries the headers ``X-Cegah-Partner`` (organisation slug), ``X-Cegah-Timestamp`` (Unix
seconds), ``X-Cegah-Nonce`` (16-64 URL-safe characters, new for every request) and
``X-Cegah-Signature`` (base64 of the 64-byte signature). A timestamp more than
``MAX_SKEW_SECONDS`` away from the hub's clock is refused; a nonce is refused if the partner used
it before (nonces are kept until their timestamp could no longer be accepted). The reference client
is ``examples/federation_client.py``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import APIKeyHeader

from cegah.core import audit
from cegah.orgs.models import Region
from cegah.wbs.dedup import Fingerprint as EngineFingerprint
from cegah.wbs.integration.fingerprints import dedup_key
from cegah.wbs.integration.models import (
    ExternalCase,
    FederationNonce,
    FederationPartner,
)
from cegah.wbs.integration.services import find_candidates, store_fingerprint

if TYPE_CHECKING:
    from cegah.accounts.models import User
    from cegah.orgs.models import Organisation
    from cegah.wbs.integration.models import Candidate

SIGNATURE_VERSION = b"cegah-federation-v1"
MAX_SKEW_SECONDS = 300
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# A real report names a few dozen entities at most.
MAX_ENTITY_VALUES = 500


def canonical_message(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """Return the bytes a request's signature covers (see the module docstring)."""
    return b"\n".join(
        [
            SIGNATURE_VERSION,
            method.upper().encode(),
            path.encode(),
            timestamp.encode(),
            nonce.encode(),
            hashlib.sha256(body).hexdigest().encode(),
        ]
    )


def load_public_key(raw: bytes) -> bytes:
    """Return the raw 32-byte Ed25519 public key from PEM, base64 of the raw key, or raw bytes.

    Raises ValueError for anything else.
    """
    text = raw.strip()
    if text.startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(text)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if len(raw) == 32:
        return raw
    try:
        decoded = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError("not a PEM or base64 Ed25519 public key") from exc
    if len(decoded) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return decoded


def register_partner(
    organisation: Organisation, public_key: bytes, actor: User | None = None
) -> FederationPartner:
    """Register (or re-key) ``organisation`` as a federation partner with ``public_key`` (raw)."""
    Ed25519PublicKey.from_public_bytes(public_key)  # raises ValueError if malformed
    with transaction.atomic():
        partner, created = FederationPartner.objects.update_or_create(
            organisation=organisation, defaults={"public_key": public_key, "is_active": True}
        )
        audit.record(
            "wbs.federation.partner_registered",
            actor=actor,
            organisation=organisation,
            obj=partner,
            details={
                "created": created,
                "key": hashlib.sha256(public_key).hexdigest()[:16],
            },
        )
    return partner


def verify_request(request: HttpRequest, now: float | None = None) -> FederationPartner:
    """Return the partner that signed ``request``; raise HttpError(401) if anything is off.

    The nonce is recorded only after the signature checks out, so nobody else can burn a
    partner's nonces.
    """
    headers = request.headers
    slug = headers.get("X-Cegah-Partner", "")
    stamp = headers.get("X-Cegah-Timestamp", "")
    nonce = headers.get("X-Cegah-Nonce", "")
    signature = headers.get("X-Cegah-Signature", "")
    if not (slug and stamp.isdigit() and NONCE_RE.match(nonce) and signature):
        raise HttpError(401, _("The request is not signed."))
    current = time.time() if now is None else now
    if abs(current - int(stamp)) > MAX_SKEW_SECONDS:
        raise HttpError(401, _("The request's timestamp is too old or in the future."))
    partner = (
        FederationPartner.objects.select_related("organisation")
        .filter(organisation__slug=slug, is_active=True, organisation__is_active=True)
        .first()
    )
    if partner is None:
        raise HttpError(401, _("The signature is not valid."))
    message = canonical_message(
        request.method or "GET", request.get_full_path(), stamp, nonce, request.body
    )
    try:
        raw_signature = base64.b64decode(signature, validate=True)
        Ed25519PublicKey.from_public_bytes(bytes(partner.public_key)).verify(raw_signature, message)
    except (binascii.Error, ValueError, InvalidSignature):
        raise HttpError(401, _("The signature is not valid.")) from None
    expires = datetime.fromtimestamp(int(stamp), tz=UTC) + timedelta(seconds=MAX_SKEW_SECONDS + 60)
    try:
        with transaction.atomic():
            FederationNonce.objects.create(partner=partner, nonce=nonce, expires_at=expires)
    except IntegrityError:
        raise HttpError(401, _("This request was already received (replayed nonce).")) from None
    return partner


class SignedRequest(APIKeyHeader):
    """Ninja authentication for partners: an Ed25519-signed request (see the module docstring).

    Documented in the OpenAPI schema as the ``X-Cegah-Signature`` header; the partner,
    timestamp and nonce headers are described in the endpoints' description.
    """

    param_name = "X-Cegah-Signature"

    def authenticate(self, request: HttpRequest, key: str | None) -> FederationPartner | None:
        return verify_request(request)


def partner_of(request: Any) -> FederationPartner:
    """Return the authenticated request's partner (set by SignedRequest)."""
    return request.auth  # type: ignore[no-any-return]


# --- pushes ------------------------------------------------------------------------------------


@dataclass
class CaseData:
    external_id: str
    category: str
    received_at: datetime
    status: str
    region_code: str = ""
    amount_bucket: str = ""
    fingerprint: dict[str, Any] | None = None


@dataclass
class Pushed:
    case: ExternalCase
    created: bool
    changed: bool


def parse_fingerprint(data: dict[str, Any]) -> EngineFingerprint:
    """Return the engine fingerprint a partner sent; raise ValidationError if unusable."""
    try:
        fp = EngineFingerprint.from_json(data)
    except (KeyError, TypeError, ValueError):
        raise ValidationError({"fingerprint": [_("The fingerprint is malformed.")]}) from None
    if sum(len(values) for values in fp.entities.values()) > MAX_ENTITY_VALUES:
        # Each entity value may become an indexed band row: bound what one push can store.
        raise ValidationError({"fingerprint": [_("The fingerprint is malformed.")]})
    if fp.key_id != dedup_key().key_id:
        raise ValidationError(
            {"fingerprint": [_("The fingerprint was made with another key than the hub's.")]}
        )
    return fp


def push_case(partner: FederationPartner, data: CaseData) -> Pushed:
    """Create or update the partner's case ``data.external_id``; idempotent.

    A fingerprint, if sent, replaces the stored one and is matched at once, so the response can
    list the candidates. Raises ValidationError for an unknown region or a bad fingerprint.
    """
    org = partner.organisation
    region = None
    if data.region_code:
        region = Region.objects.filter(code=data.region_code).first()
        if region is None:
            raise ValidationError({"region_code": [_("Unknown region code.")]})
    fp = parse_fingerprint(data.fingerprint) if data.fingerprint is not None else None
    received_at = data.received_at
    if timezone.is_naive(received_at):
        # A partner that sends local time without an offset means Indonesian local time.
        received_at = timezone.make_aware(received_at)
    values = {
        "category": data.category,
        "received_at": received_at,
        "status": data.status,
        "region": region,
        "amount_bucket": data.amount_bucket,
    }
    with transaction.atomic():
        case = (
            ExternalCase.objects.select_for_update()
            .filter(organisation=org, external_id=data.external_id)
            .first()
        )
        created = case is None
        changed_fields = []
        if case is None:
            case = ExternalCase.objects.create(
                organisation=org, external_id=data.external_id, **values
            )
        else:
            for name, value in values.items():
                if getattr(case, name) != value:
                    setattr(case, name, value)
                    changed_fields.append(name)
            if changed_fields:
                case.save(update_fields=[*changed_fields, "updated_at"])
        fp_changed = False
        if fp is not None:
            row, fp_changed = store_fingerprint(fp, organisation=org, external_case=case)
            if fp_changed:
                find_candidates(row.pk)
        changed = created or bool(changed_fields) or fp_changed
        if changed:
            audit.record(
                "wbs.federation.case_pushed",
                organisation=org,
                obj=case,
                details={
                    "created": created,
                    "fields": changed_fields,
                    "fingerprint": fp_changed,
                },
            )
    return Pushed(case=case, created=created, changed=changed)


def set_case_status(partner: FederationPartner, external_id: str, status: str) -> ExternalCase:
    """Change the status of the partner's case; idempotent. Raises ExternalCase.DoesNotExist."""
    with transaction.atomic():
        case = ExternalCase.objects.select_for_update().get(
            organisation=partner.organisation, external_id=external_id
        )
        if case.status != status:
            previous = case.status
            case.status = status
            case.save(update_fields=["status", "updated_at"])
            audit.record(
                "wbs.federation.status_changed",
                organisation=partner.organisation,
                obj=case,
                details={"from": previous, "to": status},
            )
    return case


def partner_candidate(partner: FederationPartner, candidate_id: int) -> tuple[Candidate, Any]:
    """Return a candidate involving one of the partner's cases and that case's fingerprint.

    Raises ExternalCase.DoesNotExist (mapped to 404) otherwise.
    """
    from cegah.wbs.integration.models import Candidate, Fingerprint

    candidate = Candidate.objects.filter(pk=candidate_id).first()
    if candidate is not None:
        side = (
            Fingerprint.objects.select_related("organisation")
            .filter(pk__in=[candidate.a_id, candidate.b_id], organisation=partner.organisation)
            .first()
        )
        if side is not None:
            return candidate, side
    raise ExternalCase.DoesNotExist
