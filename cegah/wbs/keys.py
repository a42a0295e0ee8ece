"""Keys of the whistleblowing module: receipts, report data keys, organisation and user keys.

Hierarchy (GlobaLeaks-style, adapted to organisations):

    report content  ──AES-GCM──  data key (one per report)
    data key  ──HPKE──>  organisation public key         (ReportKey, holder=org)
    data key  ──AES-GCM, key = Argon2id(receipt)──>       (ReportKey, holder=reporter)
    organisation private key ──HPKE──> member's UserKey  (KeyShare, one per member who may read)
    organisation private key ──AES-GCM──> recovery key    (OrgKey.recovery_wrapped, printed once)
    member's private key ──AES-GCM, key = Argon2id(password)──  (UserKey)

After login the member's private key lives in the session only sealed under a random key that
travels in an HttpOnly cookie, so neither the session table nor the cookie alone opens it.
"""

from __future__ import annotations

import base64
import os
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from cegah.accounts.permissions import ROLE_CAPS, Cap
from cegah.core import audit
from cegah.core.crypto import (
    Argon2Params,
    DecryptionError,
    derive_key,
    derived_secret,
    new_key,
    new_keypair,
    seal,
    unseal,
    unwrap,
    wrap,
)
from cegah.wbs.models import KeyShare, OrgKey, Report, ReportKey, UserKey

if TYPE_CHECKING:
    from cegah.accounts.models import User
    from cegah.orgs.models import Organisation

RECEIPT_DIGITS = 16
SESSION_FIELD = "wbs_user_key"
COOKIE_NAME = "cegah_key"
RECOVERY_PREFIX = "CGH-R-"


def argon2_params() -> Argon2Params:
    return Argon2Params(**settings.WBS_ARGON2)


# --- receipts ---------------------------------------------------------------------------------


def new_receipt() -> str:
    """Return 16 random digits from the OS CSPRNG (about 53 bits)."""
    return f"{secrets.randbelow(10**RECEIPT_DIGITS):0{RECEIPT_DIGITS}d}"


def normalise_receipt(text: str) -> str | None:
    """Return the 16 digits of a typed receipt (spaces and dashes allowed), or None."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return digits if len(digits) == RECEIPT_DIGITS else None


def format_receipt(receipt: str) -> str:
    return " ".join(receipt[i : i + 4] for i in range(0, RECEIPT_DIGITS, 4))


def receipt_lookup(receipt: str) -> str:
    """Return the deterministic Argon2id hash under which the report is found.

    Deterministic (one installation-wide salt, derived from CEGAH_DATA_SECRET) so it can be indexed;
    Argon2id so that a stolen database costs a memory-hard hash per guess of 10^16 receipts. The
    caller computes it whether or not the receipt exists, so timing reveals nothing.
    """
    salt = derived_secret(settings.DATA_SECRET.encode(), "wbs-receipt-lookup")[:16]
    return derive_key(receipt, salt, argon2_params()).hex()


def _aad(report: Report, purpose: str) -> bytes:
    return f"cegah:wbs:{report.public_id.hex}:{purpose}".encode()


def reporter_key(receipt: str, report: Report) -> bytes:
    return derive_key(receipt, bytes(report.receipt_salt), argon2_params())


def wrap_for_reporter(report: Report, data_key: bytes, receipt: str) -> bytes:
    return seal(reporter_key(receipt, report), data_key, _aad(report, "reporter-key"))


def unwrap_for_reporter(report: Report, wrapped: bytes, receipt: str) -> bytes:
    return unseal(reporter_key(receipt, report), bytes(wrapped), _aad(report, "reporter-key"))


def report_key_info(report: Report, organisation_id: int) -> bytes:
    """HPKE info binding a wrapped data key to its report and receiving organisation."""
    return _aad(report, f"org-key:{organisation_id}")


def wrap_for_organisation(report: Report, data_key: bytes, org_key: OrgKey) -> bytes:
    return wrap(
        bytes(org_key.public_key), data_key, report_key_info(report, org_key.organisation_id)
    )


# --- content ----------------------------------------------------------------------------------


def seal_field(report: Report, data_key: bytes, purpose: str, plaintext: bytes) -> bytes:
    return seal(data_key, plaintext, _aad(report, purpose))


def open_field(report: Report, data_key: bytes, purpose: str, blob: bytes) -> bytes:
    return unseal(data_key, bytes(blob), _aad(report, purpose))


def new_data_key() -> bytes:
    return new_key()


# --- user keys and the session ----------------------------------------------------------------


def _user_aad(user: User) -> bytes:
    return f"cegah:user-key:{user.pk}".encode()


def _create_user_key(user: User, password: str) -> tuple[UserKey, bytes]:
    pair = new_keypair()
    salt = os.urandom(16)
    params = argon2_params()
    kek = derive_key(password, salt, params)
    key = UserKey.objects.create(
        user=user,
        public_key=pair.public,
        private_sealed=seal(kek, pair.private, _user_aad(user)),
        salt=salt,
        params=params.__dict__,
    )
    return key, pair.private


def unlock_user_key(user: User, password: str) -> bytes:
    """Return the user's private key, creating the key pair on first use.

    If the password no longer opens the stored key (an admin reset it), the old key pair and the
    shares made to it are replaced: the member then gets fresh shares from a colleague or from the
    recovery key, and no report is lost.
    """
    with transaction.atomic():
        existing = UserKey.objects.select_for_update().filter(user=user).first()
        if existing is not None:
            kek = derive_key(password, bytes(existing.salt), Argon2Params(**existing.params))
            try:
                return unseal(kek, bytes(existing.private_sealed), _user_aad(user))
            except DecryptionError:
                KeyShare.objects.filter(user=user).delete()
                existing.delete()
                audit.record("wbs.userkey.replaced", actor=user, obj=user)
        _key, private = _create_user_key(user, password)
        return private


def reseal_user_key(user: User, private: bytes, new_password: str) -> None:
    """Seal the user's private key under a new password (after a password change)."""
    salt = os.urandom(16)
    params = argon2_params()
    kek = derive_key(new_password, salt, params)
    UserKey.objects.filter(user=user).update(
        private_sealed=seal(kek, private, _user_aad(user)), salt=salt, params=params.__dict__
    )


def remember_in_session(request: HttpRequest, response: HttpResponse, private: bytes) -> None:
    """Keep the private key for this session: sealed in the session, its key in a cookie."""
    cookie_key = new_key()
    request.session[SESSION_FIELD] = base64.b64encode(
        seal(cookie_key, private, _user_aad(request.user))  # type: ignore[arg-type]
    ).decode()
    response.set_cookie(
        COOKIE_NAME,
        base64.urlsafe_b64encode(cookie_key).decode(),
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Strict",
        max_age=None,
        path="/",
    )


def session_private_key(request: HttpRequest) -> bytes | None:
    """Return the signed-in member's private key, or None if this session holds none."""
    sealed = request.session.get(SESSION_FIELD)
    cookie = request.COOKIES.get(COOKIE_NAME)
    if not sealed or not cookie or not request.user.is_authenticated:
        return None
    try:
        return unseal(
            base64.urlsafe_b64decode(cookie),
            base64.b64decode(sealed),
            _user_aad(request.user),  # type: ignore[arg-type]
        )
    except (DecryptionError, ValueError):
        return None


# --- organisation keys ------------------------------------------------------------------------


def org_share_info(org_key: OrgKey, user_id: int) -> bytes:
    return f"cegah:org-share:{org_key.organisation_id}:{user_id}".encode()


def _recovery_aad(org: Organisation) -> bytes:
    return f"cegah:org-recovery:{org.pk}".encode()


def readers_of(org: Organisation) -> list[User]:
    """Members who may read the organisation's reports (hold Cap.REPORTS_READ)."""
    from cegah.accounts.models import User

    roles = [role for role, caps in ROLE_CAPS.items() if Cap.REPORTS_READ in caps]
    return list(
        User.objects.filter(
            memberships__organisation=org, memberships__role__in=roles, is_active=True
        ).distinct()
    )


def set_up_org_key(org: Organisation, actor: User | None) -> str:
    """Create the organisation's key pair and return the recovery key (shown once, never stored).

    Shares are made at once for every reader who already has a key pair; the others get theirs
    from the first colleague who logs in (``grant_pending_shares``) or from the recovery key.
    """
    if OrgKey.objects.filter(organisation=org).exists():
        raise ValueError("organisation already has a key")
    pair = new_keypair()
    recovery = new_key()
    with transaction.atomic():
        org_key = OrgKey.objects.create(
            organisation=org,
            public_key=pair.public,
            recovery_wrapped=seal(recovery, pair.private, _recovery_aad(org)),
            created_by=actor,
        )
        granted = _grant(org_key, pair.private)
        audit.record(
            "wbs.orgkey.created",
            actor=actor,
            organisation=org,
            obj=org_key,
            details={"shares": granted},
        )
    return RECOVERY_PREFIX + base64.b32encode(recovery).decode().rstrip("=")


def _grant(org_key: OrgKey, org_private: bytes) -> int:
    granted = 0
    have = set(KeyShare.objects.filter(org_key=org_key).values_list("user_id", flat=True))
    for user in readers_of(org_key.organisation):
        if user.pk in have:
            continue
        user_key = UserKey.objects.filter(user=user).first()
        if user_key is None:
            continue
        KeyShare.objects.create(
            org_key=org_key,
            user=user,
            wrapped=wrap(bytes(user_key.public_key), org_private, org_share_info(org_key, user.pk)),
        )
        granted += 1
    return granted


def grant_pending_shares(org: Organisation, org_private: bytes, actor: User | None) -> int:
    """Give a share to every reader who has a key pair but no share yet; return how many."""
    org_key = OrgKey.objects.filter(organisation=org).first()
    if org_key is None:
        return 0
    with transaction.atomic():
        granted = _grant(org_key, org_private)
        if granted:
            audit.record(
                "wbs.keyshare.granted", actor=actor, organisation=org, details={"shares": granted}
            )
    return granted


def revoke_stale_shares(org: Organisation, actor: User | None) -> int:
    """Remove the shares of members who may no longer read reports; return how many."""
    org_key = OrgKey.objects.filter(organisation=org).first()
    if org_key is None:
        return 0
    allowed = {u.pk for u in readers_of(org)}
    stale = KeyShare.objects.filter(org_key=org_key).exclude(user_id__in=allowed)
    count = stale.count()
    if count:
        with transaction.atomic():
            stale.delete()
            audit.record(
                "wbs.keyshare.revoked", actor=actor, organisation=org, details={"shares": count}
            )
    return count


def org_private_from_recovery(org: Organisation, recovery_text: str) -> bytes:
    """Open the organisation's private key with its recovery key; raise DecryptionError if wrong."""
    org_key = OrgKey.objects.get(organisation=org)
    raw = recovery_text.strip().upper().replace(" ", "").removeprefix(RECOVERY_PREFIX)
    try:
        recovery = base64.b32decode(raw + "=" * (-len(raw) % 8))
    except ValueError as exc:
        raise DecryptionError("not a recovery key") from exc
    return unseal(recovery, bytes(org_key.recovery_wrapped), _recovery_aad(org))


def org_private_key(request: HttpRequest, org: Organisation) -> bytes | None:
    """Return the organisation's private key for the signed-in member, or None."""
    private = session_private_key(request)
    if private is None:
        return None
    user_id = request.user.pk
    if user_id is None:
        return None
    share = (
        KeyShare.objects.filter(org_key__organisation=org, user_id=user_id)
        .select_related("org_key")
        .first()
    )
    if share is None:
        return None
    try:
        return unwrap(private, bytes(share.wrapped), org_share_info(share.org_key, user_id))
    except DecryptionError:
        return None


def report_data_key(report: Report, org_private: bytes) -> bytes | None:
    """Return the report's data key opened with the organisation's private key, or None."""
    key = ReportKey.objects.filter(report=report, organisation=report.organisation).first()
    if key is None:
        return None
    try:
        return unwrap(
            org_private, bytes(key.wrapped), report_key_info(report, report.organisation_id)
        )
    except DecryptionError:
        return None
