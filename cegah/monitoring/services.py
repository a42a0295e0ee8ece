"""Monitoring services: self-assessment, evidence, verification, coverage, recommendations.

Every function writes inside a transaction, writes an audit entry and enqueues notices on commit.
Views, the API, tasks and the demo all call these.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cegah.core import audit
from cegah.core.tasks_glue import enqueue_on_commit
from cegah.monitoring.models import (
    Answer,
    Assessment,
    Coverage,
    Evidence,
    Meeting,
    Period,
    ProgressUpdate,
    Recommendation,
    SubIndicator,
)
from cegah.monitoring.uploads import check_upload
from cegah.orgs.models import Organisation, Region

if TYPE_CHECKING:
    from cegah.accounts.models import User


def _audit_org(assessment: Assessment) -> Organisation:
    return assessment.organisation


# --- Coverage ----------------------------------------------------------------------------------


def grant_coverage(
    *,
    supervisor: Organisation,
    actor: User | None,
    region: Region | None = None,
    organisation: Organisation | None = None,
    nationwide: bool = False,
) -> Coverage:
    """Let ``supervisor`` follow and verify a region, one organisation, or every one; idempotent."""
    if sum([region is not None, organisation is not None, nationwide]) != 1:
        raise ValidationError(_("Give exactly one of: a region, an organisation, nationwide."))
    with transaction.atomic():
        coverage, created = Coverage.objects.get_or_create(
            supervisor=supervisor,
            nationwide=nationwide,
            region=region,
            organisation=organisation,
            defaults={"created_by": actor},
        )
        if created:
            audit.record(
                "monitoring.coverage.granted",
                actor=actor,
                organisation=supervisor,
                obj=coverage,
                details={
                    "nationwide": nationwide,
                    "region": region.code if region else None,
                    "organisation": organisation.slug if organisation else None,
                },
            )
    return coverage


def revoke_coverage(*, coverage: Coverage, actor: User | None) -> None:
    with transaction.atomic():
        audit.record(
            "monitoring.coverage.revoked",
            actor=actor,
            organisation=coverage.supervisor,
            obj=coverage,
            details={"region": coverage.region_id, "organisation": coverage.organisation_id},
        )
        coverage.delete()


# --- Self-assessment ---------------------------------------------------------------------------


def _editable_assessment(organisation: Organisation, period: Period) -> Assessment:
    assessment, created = Assessment.objects.select_for_update().get_or_create(
        organisation=organisation, period=period
    )
    if created:
        audit.record(
            "monitoring.assessment.started",
            organisation=organisation,
            obj=assessment,
            details={"period": period.label},
        )
    if not assessment.editable_by_institution:
        raise ValidationError(
            _("This self-assessment is with the verifier; it can be changed once it is returned.")
        )
    return assessment


def save_answer(
    *,
    organisation: Organisation,
    period: Period,
    sub: SubIndicator,
    actor: User,
    value: Decimal | None,
    note: str = "",
    pending_document: bool = False,
    response: str = "",
) -> Answer:
    """Save the self-reported value of one sub-indicator as a draft; return the answer.

    Changing an answer the verifier already judged sends it back for verification (its last
    verified value stays in force until then). Raises ValidationError if the assessment is locked.
    """
    with transaction.atomic():
        assessment = _editable_assessment(organisation, period)
        answer, _created = Answer.objects.select_for_update().get_or_create(
            assessment=assessment, sub_indicator=sub
        )
        before = (answer.value, answer.note, answer.pending_document, answer.response)
        answer.value = value
        answer.note = note
        answer.pending_document = pending_document
        answer.response = response
        if before == (value, note, pending_document, response):
            return answer
        answer.reported_at = timezone.now()
        if answer.verdict:
            answer.verdict = Answer.Verdict.NONE
        answer.save()
        audit.record(
            "monitoring.answer.saved",
            actor=actor,
            organisation=organisation,
            obj=answer,
            details={
                "period": period.label,
                "sub": sub.code,
                "value": None if value is None else str(value),
                "pending_document": pending_document,
                "responded": bool(response),
            },
        )
    return answer


def _answer_for_evidence(organisation: Organisation, period: Period, sub: SubIndicator) -> Answer:
    assessment = _editable_assessment(organisation, period)
    answer, _created = Answer.objects.select_for_update().get_or_create(
        assessment=assessment, sub_indicator=sub
    )
    return answer


def _reopen(answer: Answer) -> bool:
    """Send a judged answer back for verification after its evidence changed; return whether it
    was. Its last verified value stays in force until the verifier reviews it again."""
    if not answer.verdict:
        return False
    answer.verdict = Answer.Verdict.NONE
    answer.reported_at = timezone.now()
    answer.save(update_fields=["verdict", "reported_at"])
    return True


def _digest(handle: Any) -> str:
    """Return the SHA-256 of a file's content, read in chunks from the start."""
    handle.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def _attached_copy(answer: Answer, upload: UploadedFile) -> Evidence | None:
    """Return the answer's evidence file with the same content as ``upload``, if any.

    Only files of the same size are read, so a new file costs no reading.
    """
    same_size = [
        e for e in answer.evidence.filter(kind=Evidence.Kind.FILE, size=upload.size or 0) if e.file
    ]
    if not same_size:
        return None
    wanted = _digest(upload)
    for evidence in same_size:
        try:
            with evidence.file.open("rb") as stored:
                if _digest(stored) == wanted:
                    return evidence
        except FileNotFoundError:
            continue
    return None


def add_evidence_file(
    *,
    organisation: Organisation,
    period: Period,
    sub: SubIndicator,
    upload: UploadedFile,
    actor: User,
    description: str = "",
) -> Evidence:
    """Check and store an evidence file under a random name; return it.

    Raises ValidationError for a refused file before anything is written to disk, and for a file
    the answer already has (a second click, a re-upload): stored again it would count twice and
    send a judged answer back for verification though nothing changed.
    """
    name, content_type = check_upload(upload)
    with transaction.atomic():
        answer = _answer_for_evidence(organisation, period, sub)
        copy = _attached_copy(answer, upload)
        if copy is not None:
            raise ValidationError(
                _("This file is already attached to this sub-indicator as “%(name)s”.")
                % {"name": copy.original_name}
            )
        evidence = Evidence(
            answer=answer,
            kind=Evidence.Kind.FILE,
            original_name=name,
            content_type=content_type,
            size=upload.size or 0,
            description=description,
            uploaded_by=actor,
        )
        evidence.file.save(name, upload, save=False)
        # If the transaction fails after this point the stored file is orphaned, never exposed.
        evidence.save()
        audit.record(
            "monitoring.evidence.added",
            actor=actor,
            organisation=organisation,
            obj=evidence,
            details={
                "sub": sub.code,
                "period": period.label,
                "kind": "file",
                "size": evidence.size,
                "reopened": _reopen(answer),
            },
        )
    return evidence


def add_evidence_link(
    *,
    organisation: Organisation,
    period: Period,
    sub: SubIndicator,
    url: str,
    actor: User,
    description: str = "",
) -> Evidence:
    """Attach a link as evidence; return it.

    Raises ValidationError for a link the answer already has (see ``add_evidence_file``).
    """
    with transaction.atomic():
        answer = _answer_for_evidence(organisation, period, sub)
        if answer.evidence.filter(kind=Evidence.Kind.LINK, url=url).exists():
            raise ValidationError(_("This link is already attached to this sub-indicator."))
        evidence = Evidence.objects.create(
            answer=answer,
            kind=Evidence.Kind.LINK,
            url=url,
            description=description,
            uploaded_by=actor,
        )
        audit.record(
            "monitoring.evidence.added",
            actor=actor,
            organisation=organisation,
            obj=evidence,
            details={
                "sub": sub.code,
                "period": period.label,
                "kind": "link",
                "reopened": _reopen(answer),
            },
        )
    return evidence


def remove_evidence(*, evidence: Evidence, actor: User) -> None:
    """Remove a piece of evidence; a judged answer goes back for verification."""
    assessment = evidence.answer.assessment
    with transaction.atomic():
        if not Assessment.objects.select_for_update().get(pk=assessment.pk).editable_by_institution:
            raise ValidationError(_("Evidence cannot be removed while the verifier has it."))
        answer = Answer.objects.select_for_update().get(pk=evidence.answer_id)
        audit.record(
            "monitoring.evidence.removed",
            actor=actor,
            organisation=assessment.organisation,
            obj=evidence,
            details={
                "kind": evidence.kind,
                "sub": evidence.answer.sub_indicator.code,
                "reopened": _reopen(answer),
            },
        )
        stored = evidence.file.name if evidence.file else ""
        evidence.delete()
        if stored:
            storage = evidence.file.storage
            transaction.on_commit(lambda: storage.delete(stored))


def submit_assessment(*, assessment: Assessment, actor: User) -> Assessment:
    """Send a draft or returned self-assessment to the verifiers.

    Raises ValidationError when nothing is filled in, or when a value above zero has neither
    evidence nor a pending-document mark.
    """
    from cegah.monitoring import tasks

    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if not assessment.editable_by_institution:
            raise ValidationError(_("This self-assessment was already submitted."))
        answers = list(
            assessment.answers.select_related("sub_indicator__indicator__area").prefetch_related(
                "evidence"
            )
        )
        if not any(a.value is not None for a in answers):
            raise ValidationError(_("Fill in at least one value before submitting."))
        missing = sorted(
            a.sub_indicator.full_code
            for a in answers
            if a.value and not a.pending_document and not a.evidence.all()
        )
        if missing:
            raise ValidationError(
                _("Add evidence or mark the document as pending for: %(codes)s")
                % {"codes": ", ".join(missing)}
            )
        resubmission = assessment.status == Assessment.Status.RETURNED
        assessment.status = Assessment.Status.SUBMITTED
        assessment.submitted_at = timezone.now()
        assessment.save(update_fields=["status", "submitted_at"])
        audit.record(
            "monitoring.assessment.submitted",
            actor=actor,
            organisation=assessment.organisation,
            obj=assessment,
            details={"period": assessment.period.label, "resubmission": resubmission},
        )
        enqueue_on_commit(tasks.notify_assessment, assessment.pk, "assessment_submitted")
    return assessment


# --- Verification ------------------------------------------------------------------------------


def verify_answer(
    *,
    answer: Answer,
    actor: User,
    verdict: str,
    verified_value: Decimal | None = None,
    note: str = "",
    pending_document: bool | None = None,
) -> Answer:
    """Accept, adjust or reject one answer; return it.

    Accept takes the self-reported value, adjust needs a value and a note, reject needs a note and
    scores 0. Raises ValidationError when the assessment is not with the verifiers.
    """
    if verdict not in {v.value for v in Answer.Verdict if v.value}:
        raise ValidationError(_("Choose accept, adjust or reject."))
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().get(pk=answer.assessment_id)
        if not assessment.open_for_verification:
            raise ValidationError(_("Only a submitted self-assessment can be verified."))
        answer = (
            Answer.objects.select_for_update().select_related("sub_indicator").get(pk=answer.pk)
        )
        if verdict == Answer.Verdict.ACCEPTED:
            if answer.value is None:
                raise ValidationError(_("There is no value to accept; adjust or reject it."))
            value = answer.value
        elif verdict == Answer.Verdict.ADJUSTED:
            if verified_value is None:
                raise ValidationError(_("Give the verified value."))
            if not note.strip():
                raise ValidationError(_("Say why the value is adjusted."))
            value = verified_value
        else:
            if not note.strip():
                raise ValidationError(_("Say why the value is rejected."))
            value = Decimal(0)
        answer.verdict = verdict
        answer.verified_value = value
        answer.verifier_note = note
        answer.verified_at = timezone.now()
        answer.verified_by = actor
        fields = ["verdict", "verified_value", "verifier_note", "verified_at", "verified_by"]
        if pending_document is not None:
            answer.pending_document = pending_document
            fields.append("pending_document")
        answer.save(update_fields=fields)
        audit.record(
            "monitoring.answer.verified",
            actor=actor,
            organisation=assessment.organisation,
            obj=answer,
            details={
                "sub": answer.sub_indicator.code,
                "verdict": verdict,
                "self_reported": None if answer.value is None else str(answer.value),
                "verified": str(value),
            },
        )
    return answer


def return_assessment(*, assessment: Assessment, actor: User) -> Assessment:
    """Send the assessment back to the institution to respond to adjusted or rejected answers."""
    from cegah.monitoring import tasks

    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if not assessment.open_for_verification:
            raise ValidationError(_("Only a submitted self-assessment can be returned."))
        assessment.status = Assessment.Status.RETURNED
        assessment.save(update_fields=["status"])
        audit.record(
            "monitoring.assessment.returned",
            actor=actor,
            organisation=assessment.organisation,
            obj=assessment,
            details={"period": assessment.period.label},
        )
        enqueue_on_commit(tasks.notify_assessment, assessment.pk, "assessment_returned")
    return assessment


def complete_verification(*, assessment: Assessment, actor: User) -> Assessment:
    """Close verification; every answer to review must have a verdict first.

    To review: an answer with a value and no verdict, and one changed since its verdict (its
    value, evidence or response; the verdict was cleared, the verified value kept), even when its
    value was emptied. Raises ValidationError naming them.
    """
    from cegah.monitoring import tasks

    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if not assessment.open_for_verification:
            raise ValidationError(_("Only a submitted self-assessment can be verified."))
        open_codes = sorted(
            a.sub_indicator.full_code
            for a in assessment.answers.filter(Answer.awaiting_review()).select_related(
                "sub_indicator__indicator__area"
            )
        )
        if open_codes:
            raise ValidationError(
                _("Verify these first: %(codes)s") % {"codes": ", ".join(open_codes)}
            )
        assessment.status = Assessment.Status.VERIFIED
        assessment.verified_at = timezone.now()
        assessment.save(update_fields=["status", "verified_at"])
        audit.record(
            "monitoring.assessment.verified",
            actor=actor,
            organisation=assessment.organisation,
            obj=assessment,
            details={"period": assessment.period.label},
        )
        enqueue_on_commit(tasks.notify_assessment, assessment.pk, "assessment_verified")
    return assessment


# --- Meetings, recommendations, progress -------------------------------------------------------


def create_meeting(
    *,
    convened_by: Organisation,
    title: str,
    held_on: dt.date,
    actor: User,
    minutes: UploadedFile | None = None,
) -> Meeting:
    """Record a coordination meeting with its minutes (checked like evidence); return it."""
    checked = check_upload(minutes) if minutes is not None else None
    with transaction.atomic():
        meeting = Meeting(convened_by=convened_by, title=title, held_on=held_on, created_by=actor)
        if minutes is not None and checked is not None:
            meeting.minutes_name, meeting.minutes_type = checked
            meeting.minutes.save(checked[0], minutes, save=False)
        meeting.save()
        audit.record(
            "monitoring.meeting.created",
            actor=actor,
            organisation=convened_by,
            obj=meeting,
            details={"held_on": held_on.isoformat(), "minutes": bool(minutes)},
        )
    return meeting


def create_recommendation(
    *,
    institution: Organisation,
    issued_by: Organisation,
    actor: User | None,
    title: str,
    due_date: dt.date,
    area_name: str = "",
    description: str = "",
    responsible_unit: Organisation | None = None,
    meeting: Meeting | None = None,
    source_kind: str = Recommendation.SourceKind.MEETING,
    source_ref: str = "",
    source_url: str = "",
) -> Recommendation:
    """Record a recommendation for ``institution``; return it.

    The responsible unit must be one of the institution's own units.
    """
    if responsible_unit is not None and responsible_unit.parent_id != institution.pk:
        raise ValidationError(_("The responsible unit must belong to the institution."))
    if meeting is not None and meeting.convened_by_id != issued_by.pk:
        raise ValidationError(_("The meeting must be one your organisation convened."))
    with transaction.atomic():
        rec = Recommendation.objects.create(
            institution=institution,
            issued_by=issued_by,
            meeting=meeting,
            title=title,
            description=description,
            area_name=area_name,
            responsible_unit=responsible_unit,
            due_date=due_date,
            source_kind=source_kind,
            source_ref=source_ref,
            source_url=source_url,
            created_by=actor,
        )
        audit.record(
            "monitoring.recommendation.created",
            actor=actor,
            organisation=institution,
            obj=rec,
            details={
                "issued_by": issued_by.slug,
                "due_date": due_date.isoformat(),
                "source_kind": source_kind,
                "source_ref": source_ref,
            },
        )
    return rec


def add_progress(
    *,
    recommendation: Recommendation,
    actor: User,
    note: str,
    progress: int,
    upload: UploadedFile | None = None,
    url: str = "",
) -> ProgressUpdate:
    """Report progress on a recommendation (the institution); return the update."""
    checked = check_upload(upload) if upload is not None else None
    with transaction.atomic():
        rec = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
        if rec.is_closed:
            raise ValidationError(_("This recommendation is closed."))
        update = ProgressUpdate(
            recommendation=rec, note=note, progress=progress, url=url, author=actor
        )
        if upload is not None and checked is not None:
            update.file_name, update.file_type = checked
            update.file.save(checked[0], upload, save=False)
        update.save()
        rec.progress = progress
        if rec.status == Recommendation.Status.OPEN:
            rec.status = Recommendation.Status.IN_PROGRESS
        rec.save(update_fields=["progress", "status"])
        audit.record(
            "monitoring.recommendation.progressed",
            actor=actor,
            organisation=rec.institution,
            obj=rec,
            details={"progress": progress, "file": bool(upload), "link": bool(url)},
        )
    return update


def set_recommendation_status(
    *, recommendation: Recommendation, actor: User, status: str
) -> Recommendation:
    """Close (done, cancelled) or reopen a recommendation (the issuing organisation).

    Setting the status it already has changes nothing: a second click on *Done* kept moving the
    completion date and wrote another audit entry.
    """
    if status not in Recommendation.Status.values:
        raise ValidationError(_("Unknown status."))
    with transaction.atomic():
        rec = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
        old = rec.status
        if old == status:
            return rec
        rec.status = status
        rec.completed_at = timezone.now() if status == Recommendation.Status.DONE else None
        fields = ["status", "completed_at"]
        if status == Recommendation.Status.DONE:
            rec.progress = 100
            fields.append("progress")
        elif old == Recommendation.Status.DONE:
            # Reopened: back to what the institution last reported, not the 100 % of "done".
            last = rec.updates.order_by("-created_at", "-pk").values_list("progress", flat=True)
            rec.progress = last.first() or 0
            fields.append("progress")
        rec.save(update_fields=fields)
        audit.record(
            "monitoring.recommendation.status_changed",
            actor=actor,
            organisation=rec.institution,
            obj=rec,
            details={"from": old, "to": status},
        )
    return rec


def escalate_overdue(today: dt.date) -> list[int]:
    """Mark every overdue, not yet escalated recommendation as escalated; return their ids.

    Claimed with a conditional UPDATE per row, so two workers never escalate one item twice.
    """
    now = timezone.now()
    escalated: list[int] = []
    candidates = Recommendation.objects.filter(
        escalated_at__isnull=True,
        due_date__lt=today,
        status__in=[Recommendation.Status.OPEN, Recommendation.Status.IN_PROGRESS],
    ).select_related("institution")
    for rec in candidates:
        with transaction.atomic():
            claimed = Recommendation.objects.filter(pk=rec.pk, escalated_at__isnull=True).update(
                escalated_at=now
            )
            if not claimed:
                continue
            audit.record(
                "monitoring.recommendation.escalated",
                organisation=rec.institution,
                obj=rec,
                details={
                    "due_date": rec.due_date.isoformat(),
                    "days_late": (today - rec.due_date).days,
                },
            )
        escalated.append(rec.pk)
    return escalated


def due_for_reminder(today: dt.date, within_days: int = 7) -> list[Recommendation]:
    """Claim open recommendations due within ``within_days`` not reminded in a week; return them."""
    now = timezone.now()
    week_ago = now - dt.timedelta(days=7)
    claimed: list[Recommendation] = []
    candidates = Recommendation.objects.filter(
        due_date__gte=today,
        due_date__lte=today + dt.timedelta(days=within_days),
        status__in=[Recommendation.Status.OPEN, Recommendation.Status.IN_PROGRESS],
    ).select_related("institution")
    for rec in candidates:
        if rec.reminded_at and rec.reminded_at > week_ago:
            continue
        updated = Recommendation.objects.filter(pk=rec.pk, reminded_at=rec.reminded_at).update(
            reminded_at=now
        )
        if updated:
            claimed.append(rec)
    return claimed
