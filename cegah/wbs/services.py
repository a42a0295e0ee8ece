"""Whistleblowing services: intake, reporter follow-up, case handling, retention.

Every write happens in a transaction with its audit entry. Report content is encrypted here, while
the plaintext is in memory, and never leaves this module unencrypted except to the caller that
holds the data key. Audit details and events carry metadata only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cegah.core import audit
from cegah.core.crypto import DecryptionError, derived_secret, keyed_digest, seal, unseal
from cegah.core.tasks_glue import enqueue_on_commit
from cegah.orgs.models import Organisation, Region
from cegah.wbs import keys
from cegah.wbs.deadlines import deadlines_for
from cegah.wbs.hooks import INTAKE_HOOKS
from cegah.wbs.intake import amount_bucket, check_attachment, kpk_hints
from cegah.wbs.metadata import strip_metadata
from cegah.wbs.models import (
    Attachment,
    Category,
    Channel,
    Event,
    Message,
    OrgKey,
    Outcome,
    Policy,
    Priority,
    Report,
    ReporterSession,
    ReportKey,
    Status,
    SubmissionClaim,
)

if TYPE_CHECKING:
    from cegah.accounts.models import User

logger = logging.getLogger("cegah.wbs")

# Which status may follow which: KPK's stages, with archive as the exit. Referral is not a status
# to pick: it happens only through referral.refer_report, which records where the report goes
# (a bare "Referred" told the reporter it had moved when it had not). "Referred" remains for
# reports set so before, which can still move on.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.RECEIVED: frozenset({Status.VERIFICATION, Status.ARCHIVED}),
    Status.VERIFICATION: frozenset({Status.ASSESSMENT, Status.ARCHIVED}),
    Status.ASSESSMENT: frozenset({Status.FOLLOW_UP, Status.ARCHIVED}),
    Status.FOLLOW_UP: frozenset({Status.ARCHIVED, Status.CLOSED}),
    Status.REFERRED: frozenset({Status.FOLLOW_UP, Status.CLOSED}),
    Status.ARCHIVED: frozenset({Status.VERIFICATION, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


# The shortest description accepted (the form states it and checks it in the same round).
DESCRIPTION_MIN_LENGTH = 20


class NotAccepting(ValidationError):
    """The organisation does not accept reports (inactive, or its keys are not set up)."""


class AlreadySubmitted(Exception):
    """The report form carrying this token was filed already (a reload, a double tap)."""


class StaleForm(ValueError):
    """The report form's token is missing, forged, or older than SUBMISSION_MAX_AGE."""


# How long a report form's token is accepted, and its claim kept.
SUBMISSION_MAX_AGE = timedelta(days=1)
_SUBMISSION_SALT = "cegah.wbs.submission"


@dataclass(frozen=True)
class SubmissionClaimKey:
    token_hash: str
    expires_at: Any


@dataclass
class ReportedParty:
    name: str = ""
    position: str = ""
    institution: str = ""


@dataclass
class ReportInput:
    category: str
    description: str
    reported: list[ReportedParty] = field(default_factory=list)
    region_code: str = ""
    where: str = ""
    when: str = ""
    how: str = ""
    amount: int | None = None
    reported_organisation: str = ""
    reported_institution_text: str = ""
    other_agency: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    identity_name: str = ""
    identity_details: str = ""
    contact: str = ""


@dataclass
class IncomingFile:
    name: str
    data: bytes


@dataclass(frozen=True)
class AcceptedFile:
    """A file that passed the intake checks, its metadata removed: the only kind stored."""

    name: str
    data: bytes


def accept_file(incoming: IncomingFile) -> AcceptedFile:
    """Check a file (size, type by its first bytes) and remove its metadata (GPS position, phone
    model) without touching its pixels. Every channel's files come through here before anything
    is stored.

    Raises intake.AttachmentRejected, or metadata.MetadataNotRemovable (a subclass) for a photo
    too damaged to find its metadata in.
    """
    check_attachment(incoming.name, incoming.data[:8192], len(incoming.data))
    return AcceptedFile(incoming.name, strip_metadata(incoming.name, incoming.data))


@dataclass
class Submitted:
    report: Report
    receipt: str
    # (name, stored size) of each file received, for the receipt page: never stored in plaintext.
    files: list[tuple[str, int]] = field(default_factory=list)


def audit_report(
    action: str,
    *,
    obj: Report,
    actor: User | None = None,
    organisation: Organisation | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write an audit entry about a report, naming it by its reference (WBS-…) first.

    The audit trail shows an object as its type and id ("wbs.report 12"), which no one can look
    up; the reference is what handlers see everywhere else, and it reveals nothing.
    """
    audit.record(
        action,
        actor=actor,
        organisation=organisation,
        obj=obj,
        details={"reference": obj.reference, **(details or {})},
    )


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def accepting_organisations() -> Any:
    """Organisations that accept reports: active, accepting, and with report keys set up."""
    return (
        Organisation.objects.filter(accepts_reports=True, is_active=True, wbs_key__isnull=False)
        .select_related("region")
        .order_by("name")
    )


def policy_for(org: Organisation) -> Policy:
    policy, _created = Policy.objects.get_or_create(organisation=org)
    return policy


def validate_input(data: ReportInput) -> None:
    """Raise ValidationError (field → messages) for input no form should have let through."""
    errors: dict[str, list[str]] = {}
    if data.category not in Category.values:
        errors["category"] = [_("Choose a category.")]
    if len(data.description.strip()) < DESCRIPTION_MIN_LENGTH:
        errors["description"] = [_("Describe what happened in at least 20 characters.")]
    if len(data.description) > 20000:
        errors["description"] = [_("The description is too long (at most 20,000 characters).")]
    if data.amount is not None and (data.amount < 0 or data.amount > 10**16):
        errors["amount"] = [_("Enter the estimated loss in rupiah, for example 250000000.")]
    if data.region_code and not Region.objects.filter(code=data.region_code).exists():
        errors["region_code"] = [_("Unknown region code.")]
    if len(data.reported) > 20:
        errors["reported"] = [_("At most 20 reported parties.")]
    if errors:
        raise ValidationError(errors)


def new_submission_token() -> str:
    """Return a fresh one-time token for a report form (random, signed with its time)."""
    return signing.TimestampSigner(salt=_SUBMISSION_SALT).sign(secrets.token_urlsafe(18))


def submission_claim(token: str) -> SubmissionClaimKey:
    """Return what claiming the form token ``token`` will store; raise StaleForm if it is not a
    token we issued within SUBMISSION_MAX_AGE."""
    signer = signing.TimestampSigner(salt=_SUBMISSION_SALT)
    try:
        raw = signer.unsign(token, max_age=SUBMISSION_MAX_AGE)
    except signing.BadSignature as exc:  # also SignatureExpired
        raise StaleForm(type(exc).__name__) from exc
    # "raw:timestamp:signature", the signature checked above.
    issued = datetime.fromtimestamp(signing.b62_decode(token.split(":")[-2]), tz=UTC)
    key = derived_secret(settings.DATA_SECRET.encode(), "wbs-submission")
    return SubmissionClaimKey(
        token_hash=keyed_digest(key, raw.encode()), expires_at=issued + SUBMISSION_MAX_AGE
    )


def _claim_submission(claim: SubmissionClaimKey) -> None:
    """Claim the form token inside the filing transaction; raise AlreadySubmitted if it was.

    The unique hash makes the claim atomic: of two concurrent posts of one form, the second
    waits for the first's transaction and then fails on the index.
    """
    SubmissionClaim.objects.filter(expires_at__lt=timezone.now()).delete()
    try:
        with transaction.atomic():
            SubmissionClaim.objects.create(token_hash=claim.token_hash, expires_at=claim.expires_at)
    except IntegrityError as exc:
        raise AlreadySubmitted from exc


def submit_report(
    organisation: Organisation,
    data: ReportInput,
    files: list[IncomingFile] | None = None,
    *,
    channel: str = Channel.WEB,
    actor: User | None = None,
    claim: SubmissionClaimKey | None = None,
) -> Submitted:
    """Create a report with its keys and attachments, atomically; return it and its receipt.

    ``claim`` is the report form's one-time token (see submission_claim): it is claimed in the
    same transaction, so a form posted twice files one report.

    Raises NotAccepting, ValidationError, intake.AttachmentRejected (before anything is stored)
    or AlreadySubmitted (nothing stored).
    """
    files = files or []
    if not accepting_organisations().filter(pk=organisation.pk).exists():
        raise NotAccepting(_("This organisation does not accept reports."))
    if claim is not None and SubmissionClaim.objects.filter(token_hash=claim.token_hash).exists():
        raise AlreadySubmitted  # early, before the slow work; claimed for real below
    validate_input(data)
    if len(files) > settings.WBS_ATTACHMENT_MAX_COUNT:
        raise ValidationError(
            {"attachments": [_("At most %(n)s files.") % {"n": settings.WBS_ATTACHMENT_MAX_COUNT}]}
        )
    accepted = [accept_file(incoming) for incoming in files]

    reported_org = None
    if data.reported_organisation:
        reported_org = Organisation.objects.filter(
            slug=data.reported_organisation, is_active=True
        ).first()
        if reported_org is None:
            raise ValidationError({"reported_organisation": [_("Unknown institution.")]})

    org_key = OrgKey.objects.get(organisation=organisation)
    policy = policy_for(organisation)
    now = timezone.now()
    due = deadlines_for(policy.profile, timezone.localdate(now))
    content = asdict(data)
    written: list[Path] = []
    for _attempt in range(3):
        receipt = keys.new_receipt()
        lookup = keys.receipt_lookup(receipt)
        data_key = keys.new_data_key()
        report = Report(
            organisation=organisation,
            receipt_lookup=lookup,
            receipt_salt=secrets.token_bytes(16),
            channel=channel,
            category=data.category,
            region_id=data.region_code or None,
            reported_organisation=reported_org,
            amount_bucket=amount_bucket(data.amount),
            has_identity=bool(data.identity_name or data.contact),
            kpk_hints=kpk_hints(data.amount, [p.position for p in data.reported]),
            received_at=now,
            due_examine=due.examine,
            due_answer=due.answer,
            due_ack=due.ack,
            due_feedback=due.feedback,
        )
        report.content_ct = keys.seal_field(
            report, data_key, "content", json.dumps(content).encode()
        )
        # Everything slow (Argon2id for the reporter's key, HPKE, encrypting and writing files)
        # happens before the transaction: on SQLite a write transaction holds the database lock.
        org_wrapped = keys.wrap_for_organisation(report, data_key, org_key)
        reporter_wrapped = keys.wrap_for_reporter(report, data_key, receipt)
        try:
            prepared = []
            for upload in accepted:
                prepared.append(
                    _prepare_attachment(report, data_key, upload, from_reporter=True, now=now)
                )
                written.append(prepared[-1][1])
            with transaction.atomic():
                if claim is not None:
                    _claim_submission(claim)
                report.save(force_insert=True)
                ReportKey.objects.create(
                    report=report,
                    holder=ReportKey.Holder.ORGANISATION,
                    organisation=organisation,
                    wrapped=org_wrapped,
                )
                ReportKey.objects.create(
                    report=report, holder=ReportKey.Holder.REPORTER, wrapped=reporter_wrapped
                )
                for attachment, _path in prepared:
                    attachment.report = report
                    attachment.save(force_insert=True)
                for hook in INTAKE_HOOKS:
                    hook(report, data)
                Event.objects.create(
                    report=report,
                    created_at=now,
                    kind="received",
                    visible_to_reporter=True,
                    data={"channel": channel, "attachments": len(files)},
                )
                audit_report(
                    "wbs.report.received",
                    actor=actor,
                    organisation=organisation,
                    obj=report,
                    details={
                        "channel": channel,
                        "category": data.category,
                        "attachments": len(files),
                    },
                )
                from cegah.wbs.tasks import notify_new_report

                enqueue_on_commit(notify_new_report, report.pk)
        except IntegrityError:
            _remove_files(written)
            written.clear()
            # A receipt lookup collision (1 in 10^16) is the only expected integrity error; retry.
            if Report.objects.filter(receipt_lookup=lookup).exists():
                continue
            raise
        except BaseException:
            _remove_files(written)
            raise
        return Submitted(
            report=report,
            receipt=receipt,
            files=[
                (incoming.name, attachment.size)
                for incoming, (attachment, _path) in zip(accepted, prepared, strict=True)
            ],
        )
    raise RuntimeError("could not allocate a unique receipt")


def _prepare_attachment(
    report: Report, data_key: bytes, incoming: AcceptedFile, *, from_reporter: bool, now: Any
) -> tuple[Attachment, Path]:
    """Encrypt and write an attachment's file; return the unsaved row and the file's path.

    Only an AcceptedFile (``accept_file``: checked, its metadata removed) can be stored.
    """
    data = incoming.data
    attachment = Attachment(
        report=report, size=len(data), from_reporter=from_reporter, created_at=now
    )
    attachment.name_ct = keys.seal_field(
        report, data_key, f"attachment-name:{attachment.public_id.hex}", incoming.name.encode()
    )
    path = _media_root() / attachment.storage_path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(
        keys.seal_field(report, data_key, f"attachment:{attachment.public_id.hex}", data)
    )
    tmp.replace(path)
    return attachment, path


def _store_attachment(
    report: Report, data_key: bytes, incoming: AcceptedFile, *, from_reporter: bool, now: Any
) -> Path:
    attachment, path = _prepare_attachment(
        report, data_key, incoming, from_reporter=from_reporter, now=now
    )
    attachment.save(force_insert=True)
    return path


def _remove_files(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


# --- reading -----------------------------------------------------------------------------------


def decrypt_content(report: Report, data_key: bytes) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(
        keys.open_field(report, data_key, "content", bytes(report.content_ct))
    )
    return content


def decrypt_redacted(report: Report, data_key: bytes) -> str | None:
    if not report.redacted_ct:
        return None
    return keys.open_field(report, data_key, "redacted", bytes(report.redacted_ct)).decode()


def messages_for_organisation(report: Report, organisation: Organisation) -> Any:
    """The report's messages a member of ``organisation`` may read: the conversation with the
    reporter and the organisation's own internal notes, never another institution's notes."""
    return report.messages.exclude(
        Q(kind=Message.Kind.NOTE) & (~Q(organisation=organisation) | Q(organisation__isnull=True))
    )


def decrypt_message(message: Message, data_key: bytes) -> str:
    return keys.open_field(
        message.report, data_key, f"message:{message.public_id.hex}", bytes(message.body_ct)
    ).decode()


def read_attachment(attachment: Attachment, data_key: bytes) -> tuple[str, bytes]:
    """Return the attachment's file name and bytes, decrypted."""
    report = attachment.report
    name = keys.open_field(
        report, data_key, f"attachment-name:{attachment.public_id.hex}", bytes(attachment.name_ct)
    )
    blob = (_media_root() / attachment.storage_path).read_bytes()
    return name.decode(), keys.open_field(
        report, data_key, f"attachment:{attachment.public_id.hex}", blob
    )


def reporter_files(report: Report, data_key: bytes) -> list[tuple[str, int]]:
    """Return (name, size) of the files the reporter sent, oldest first, for their own page."""
    return [
        (attachment_name(attachment, data_key), attachment.size)
        for attachment in report.attachments.filter(from_reporter=True).select_related("report")
    ]


def attachment_name(attachment: Attachment, data_key: bytes) -> str:
    return keys.open_field(
        attachment.report,
        data_key,
        f"attachment-name:{attachment.public_id.hex}",
        bytes(attachment.name_ct),
    ).decode()


# --- reporter sessions -------------------------------------------------------------------------


# However active, a reporter's session ends this long after it was opened (the receipt opens a
# new one): a phone left unlocked does not keep the report open for a day.
SESSION_MAX_MINUTES = 180


def _session_key(token: str) -> bytes:
    return derived_secret(token.encode(), "wbs-reporter-session")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_reporter_session(receipt_text: str) -> tuple[str, ReporterSession] | None:
    """Return a session token and its row if the receipt opens a report, else None.

    Costs one Argon2id whether or not the receipt exists or is well-formed, so the answer time
    says nothing about which receipts exist.
    """
    receipt = keys.normalise_receipt(receipt_text)
    lookup = keys.receipt_lookup(receipt or "0" * keys.RECEIPT_DIGITS)
    report = Report.objects.filter(receipt_lookup=lookup).first() if receipt else None
    if report is None:
        return None
    wrapped = ReportKey.objects.filter(report=report, holder=ReportKey.Holder.REPORTER).first()
    if wrapped is None:
        return None
    try:
        data_key = keys.unwrap_for_reporter(report, bytes(wrapped.wrapped), receipt)  # type: ignore[arg-type]
    except DecryptionError:
        return None
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    session = ReporterSession.objects.create(
        token_hash=_token_hash(token),
        report=report,
        sealed_key=seal(_session_key(token), data_key, b"cegah:wbs:reporter-session"),
        started_at=now,
        expires_at=now + timedelta(minutes=settings.WBS_SESSION_MINUTES),
    )
    ReporterSession.objects.filter(expires_at__lt=timezone.now()).delete()
    return token, session


def reporter_context(token: str | None) -> tuple[Report, bytes] | None:
    """Return the report and its data key for a live reporter session token, else None.

    Each use extends the session (a reporter writing a long answer is not cut off): it ends
    WBS_SESSION_MINUTES after the last request, and at the latest SESSION_MAX_MINUTES after it
    was opened.
    """
    if not token:
        return None
    now = timezone.now()
    session = (
        ReporterSession.objects.select_related("report", "report__organisation")
        .filter(token_hash=_token_hash(token), expires_at__gt=now)
        .first()
    )
    if session is None:
        return None
    try:
        data_key = unseal(
            _session_key(token), bytes(session.sealed_key), b"cegah:wbs:reporter-session"
        )
    except DecryptionError:
        return None
    extended = min(
        now + timedelta(minutes=settings.WBS_SESSION_MINUTES),
        session.started_at + timedelta(minutes=SESSION_MAX_MINUTES),
    )
    if extended > session.expires_at:
        ReporterSession.objects.filter(pk=session.pk).update(expires_at=extended)
    return session.report, data_key


def close_reporter_session(token: str) -> None:
    ReporterSession.objects.filter(token_hash=_token_hash(token)).delete()


# --- messages ----------------------------------------------------------------------------------


def _create_message(
    report: Report, data_key: bytes, kind: str, body: str, author: User | None
) -> Message:
    message = Message(
        report=report,
        kind=kind,
        author=author,
        organisation_id=report.organisation_id,
        created_at=timezone.now(),
    )
    message.body_ct = keys.seal_field(
        report, data_key, f"message:{message.public_id.hex}", body.encode()
    )
    message.save(force_insert=True)
    return message


def _check_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise ValidationError({"body": [_("Write a message.")]})
    if len(body) > 10000:
        raise ValidationError({"body": [_("The message is too long (at most 10,000 characters).")]})
    return body


def reporter_reply(
    report: Report, data_key: bytes, body: str, files: list[IncomingFile] | None = None
) -> Message:
    """The reporter answers or adds information (and evidence) to their report."""
    body = _check_body(body)
    files = files or []
    if len(files) > settings.WBS_ATTACHMENT_MAX_COUNT:
        raise ValidationError(
            {"attachments": [_("At most %(n)s files.") % {"n": settings.WBS_ATTACHMENT_MAX_COUNT}]}
        )
    accepted = [accept_file(incoming) for incoming in files]
    written: list[Path] = []
    now = timezone.now()
    try:
        with transaction.atomic():
            message = _create_message(report, data_key, Message.Kind.REPORTER, body, None)
            for upload in accepted:
                written.append(
                    _store_attachment(report, data_key, upload, from_reporter=True, now=now)
                )
            Event.objects.create(
                report=report,
                created_at=now,
                kind="reporter_message",
                visible_to_reporter=True,
                data={"attachments": len(files)},
            )
            audit_report(
                "wbs.report.reporter_replied",
                organisation=report.organisation,
                obj=report,
                details={"attachments": len(files)},
            )
            from cegah.wbs.tasks import notify_reporter_reply

            enqueue_on_commit(notify_reporter_reply, report.pk)
    except BaseException:
        _remove_files(written)
        raise
    return message


def mark_read_by_reporter(report: Report) -> None:
    Message.objects.filter(report=report, read_by_reporter=False).exclude(
        kind=Message.Kind.NOTE
    ).update(read_by_reporter=True)


def post_message(report: Report, data_key: bytes, kind: str, body: str, actor: User) -> Message:
    """A handler writes to the reporter (message or question) or adds an internal note."""
    if kind not in {Message.Kind.HANDLER, Message.Kind.QUESTION, Message.Kind.NOTE}:
        raise ValidationError({"kind": [_("Unknown message kind.")]})
    body = _check_body(body)
    now = timezone.now()
    with transaction.atomic():
        message = _create_message(report, data_key, kind, body, actor)
        updates = []
        if kind != Message.Kind.NOTE:
            if report.answered_at is None:
                report.answered_at = now
                updates.append("answered_at")
            if report.acknowledged_at is None:
                report.acknowledged_at = now
                updates.append("acknowledged_at")
        if updates:
            report.save(update_fields=[*updates, "updated_at"])
        Event.objects.create(
            report=report,
            created_at=now,
            actor=actor,
            kind=f"message_{kind}",
            visible_to_reporter=kind != Message.Kind.NOTE,
        )
        if kind != Message.Kind.NOTE and report.channel in (Channel.WHATSAPP, Channel.SMS):
            from cegah.wbs.conversation import relay_to_reporter

            relay_to_reporter(report, data_key, message)
        audit_report(
            f"wbs.report.{'noted' if kind == Message.Kind.NOTE else 'messaged'}",
            actor=actor,
            organisation=report.organisation,
            obj=report,
            details={"kind": kind},
        )
    return message


# --- handling ----------------------------------------------------------------------------------


def allowed_transitions(report: Report) -> list[str]:
    return sorted(TRANSITIONS.get(report.status, frozenset()), key=list(Status.values).index)


def transition_report(report: Report, to_status: str, actor: User, *, outcome: str = "") -> Report:
    """Move the report to ``to_status`` if the workflow allows it; audit and notify the reporter."""
    if to_status == Status.REFERRED:
        raise ValidationError(
            {
                "status": [
                    _(
                        "A report is referred with “Refer to”, which records the institution "
                        "that receives it."
                    )
                ]
            }
        )
    if to_status not in TRANSITIONS.get(report.status, frozenset()):
        raise ValidationError(
            {
                "status": [
                    _("A report in “%(from)s” cannot move to “%(to)s”.")
                    % {
                        "from": Status(report.status).label,
                        "to": Status(to_status).label if to_status in Status.values else to_status,
                    }
                ]
            }
        )
    if to_status == Status.CLOSED and outcome not in Outcome.values:
        raise ValidationError({"outcome": [_("Choose the outcome when closing a report.")]})
    now = timezone.now()
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.status != report.status:
            raise ValidationError({"status": [_("The report changed meanwhile; reload the page.")]})
        previous = locked.status
        locked.status = to_status
        fields = ["status", "updated_at"]
        if to_status == Status.CLOSED:
            locked.closed_at = now
            locked.outcome = outcome
            fields += ["closed_at", "outcome"]
        if locked.acknowledged_at is None:
            locked.acknowledged_at = now
            fields.append("acknowledged_at")
        if locked.examined_at is None and to_status in {
            Status.ASSESSMENT,
            Status.FOLLOW_UP,
            Status.REFERRED,
            Status.ARCHIVED,
            Status.CLOSED,
        }:
            locked.examined_at = now
            fields.append("examined_at")
        locked.save(update_fields=fields)
        Event.objects.create(
            report=locked,
            created_at=now,
            actor=actor,
            kind="status_changed",
            visible_to_reporter=True,
            data={"from": previous, "to": to_status, "outcome": outcome},
        )
        from cegah.wbs.referral import notify_senders

        notify_senders(locked)
        audit_report(
            "wbs.report.status_changed",
            actor=actor,
            organisation=locked.organisation,
            obj=locked,
            details={"from": previous, "to": to_status, "outcome": outcome},
        )
    return locked


def assign_report(report: Report, assignee: User | None, actor: User) -> None:
    """Assign (or unassign) a handler; the assignee must be allowed to handle the organisation's reports."""
    from cegah.accounts.permissions import Cap, has_cap

    if assignee is not None and not has_cap(assignee, report.organisation, Cap.REPORTS_HANDLE):
        raise ValidationError(
            {"assignee": [_("This person cannot handle this organisation's reports.")]}
        )
    with transaction.atomic():
        previous = report.assignee.username if report.assignee_id else None  # type: ignore[union-attr]
        report.assignee = assignee
        report.save(update_fields=["assignee", "updated_at"])
        Event.objects.create(
            report=report,
            created_at=timezone.now(),
            actor=actor,
            kind="assigned",
            data={"to": assignee.username if assignee else None, "from": previous},
        )
        audit_report(
            "wbs.report.assigned",
            actor=actor,
            organisation=report.organisation,
            obj=report,
            details={"to": assignee.username if assignee else None, "from": previous},
        )


def reassign_departed(organisation: Organisation, user: User, actor: User | None) -> int:
    """Unassign a member's open reports when they leave (or lose the role); return how many.

    The reports go back to the unassigned queue that supervisors see first.
    """
    open_reports = Report.objects.filter(organisation=organisation, assignee=user).exclude(
        status__in=[Status.CLOSED, Status.ARCHIVED]
    )
    count = 0
    for report in open_reports:
        with transaction.atomic():
            report.assignee = None
            report.save(update_fields=["assignee", "updated_at"])
            Event.objects.create(
                report=report,
                created_at=timezone.now(),
                actor=actor,
                kind="unassigned",
                data={"from": user.username, "reason": "member_left"},
            )
            audit_report(
                "wbs.report.unassigned",
                actor=actor,
                organisation=organisation,
                obj=report,
                details={"from": user.username, "reason": "member_left"},
            )
            count += 1
    return count


def set_priority(report: Report, priority: int, actor: User) -> None:
    if priority not in Priority.values:
        raise ValidationError({"priority": [_("Unknown priority.")]})
    with transaction.atomic():
        previous = report.priority
        report.priority = priority
        report.save(update_fields=["priority", "updated_at"])
        Event.objects.create(
            report=report,
            created_at=timezone.now(),
            actor=actor,
            kind="priority_changed",
            data={"from": previous, "to": priority},
        )
        audit_report(
            "wbs.report.prioritised",
            actor=actor,
            organisation=report.organisation,
            obj=report,
            details={"from": previous, "to": priority},
        )


def set_labels(report: Report, labels: list[str], actor: User) -> None:
    """Labels are the organisation's own short tags (metadata: do not put content in them)."""
    cleaned = sorted({label.strip().lower()[:30] for label in labels if label.strip()})[:10]
    with transaction.atomic():
        report.labels = cleaned
        report.save(update_fields=["labels", "updated_at"])
        Event.objects.create(
            report=report,
            created_at=timezone.now(),
            actor=actor,
            kind="labels_changed",
            data={"labels": cleaned},
        )
        audit_report(
            "wbs.report.labelled",
            actor=actor,
            organisation=report.organisation,
            obj=report,
            details={"labels": cleaned},
        )


def redact_report(report: Report, data_key: bytes, text: str, actor: User) -> None:
    """Store the handler's redacted narrative, encrypted. Exports with content and the case PDF
    show it instead of the full description; a referral hands over the full report."""
    with transaction.atomic():
        report.redacted_ct = (
            keys.seal_field(report, data_key, "redacted", text.encode()) if text.strip() else None
        )
        report.save(update_fields=["redacted_ct", "updated_at"])
        Event.objects.create(report=report, created_at=timezone.now(), actor=actor, kind="redacted")
        audit_report(
            "wbs.report.redacted", actor=actor, organisation=report.organisation, obj=report
        )


def add_handler_attachment(
    report: Report, data_key: bytes, incoming: IncomingFile, actor: User
) -> None:
    upload = accept_file(incoming)
    written: list[Path] = []
    try:
        with transaction.atomic():
            now = timezone.now()
            written.append(
                _store_attachment(report, data_key, upload, from_reporter=False, now=now)
            )
            Event.objects.create(
                report=report, created_at=now, actor=actor, kind="attachment_added"
            )
            audit_report(
                "wbs.report.attachment_added",
                actor=actor,
                organisation=report.organisation,
                obj=report,
            )
    except BaseException:
        _remove_files(written)
        raise


# --- policy ------------------------------------------------------------------------------------


def update_policy(policy: Policy, data: dict[str, Any], actor: User) -> Policy:
    """Save an organisation's deadlines, retention and form adjustments; audit the change."""
    with transaction.atomic():
        policy.profile = data["profile"]
        policy.remind_days_before = data["remind_days_before"]
        policy.retention_days = data["retention_days"]
        if data.get("receives_channel_reports"):
            # One organisation answers the shared line: taking it over releases the others.
            Policy.objects.exclude(pk=policy.pk).update(receives_channel_reports=False)
        policy.receives_channel_reports = bool(data.get("receives_channel_reports"))
        form_config = {
            "fields": {name: {"required": True} for name in data.get("required_fields", [])},
            "extra": data.get("extra_fields", []),
        }
        for name, text in (data.get("help_texts") or {}).items():
            form_config["fields"].setdefault(name, {"required": False})["help_id"] = text
        policy.form = form_config
        policy.save()
        audit.record(
            "wbs.policy.updated",
            actor=actor,
            organisation=policy.organisation,
            obj=policy,
            details={
                "profile": policy.profile,
                "retention_days": policy.retention_days,
                "required": sorted(data.get("required_fields", [])),
                "extra": [e["name"] for e in data.get("extra_fields", [])],
            },
        )
    return policy


# --- retention ---------------------------------------------------------------------------------


def shred_report(report: Report, actor: User | None, reason: str) -> None:
    """Delete a report with its keys and files (crypto-shredding); keep an audit entry."""
    directory = _media_root() / "wbs" / report.public_id.hex
    reference = report.reference
    organisation = report.organisation
    with transaction.atomic():
        ReportKey.objects.filter(report=report).delete()
        audit.record(
            "wbs.report.shredded",
            actor=actor,
            organisation=organisation,
            details={"reference": reference, "reason": reason},
        )
        report.delete()
        transaction.on_commit(lambda: _remove_tree(directory))


def _remove_tree(directory: Path) -> None:
    if directory.is_dir():
        for child in directory.iterdir():
            child.unlink(missing_ok=True)
        directory.rmdir()


def shred_expired(now: Any = None) -> int:
    """Shred every closed report whose organisation's retention period has passed; return the count."""
    now = now or timezone.now()
    count = 0
    for policy in Policy.objects.select_related("organisation"):
        cutoff = now - timedelta(days=policy.retention_days)
        for report in Report.objects.filter(
            organisation=policy.organisation, status=Status.CLOSED, closed_at__lt=cutoff
        ):
            shred_report(report, None, "retention")
            count += 1
    return count
