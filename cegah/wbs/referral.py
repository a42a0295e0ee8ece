"""Referral of reports between organisations under the forwarding policy.

On referral the receiving organisation gets the report's data key wrapped for its own key; the
ciphertext is not copied. Handling moves to the receiver (its status, deadlines and assignee); the
sender keeps the status and, only if the route allows, the content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cegah.core.tasks_glue import enqueue_on_commit
from cegah.orgs.models import Organisation
from cegah.wbs import keys
from cegah.wbs.deadlines import deadlines_for
from cegah.wbs.models import (
    DeadlineNotice,
    Event,
    OrgKey,
    Referral,
    ReferralRoute,
    Report,
    ReportKey,
    Status,
)

if TYPE_CHECKING:
    from cegah.accounts.models import User


@dataclass(frozen=True)
class Target:
    organisation: Organisation
    sender_keeps_content: bool
    reason: str


def _is_inspektorat(org: Organisation) -> bool:
    return org.unit_type == "inspektorat"


def referral_targets(report: Report) -> list[Target]:
    """Return the organisations this report may be referred to, with the route's terms.

    Built in: any organisation → KPK (reason: KPK jurisdiction); KPK → any Inspektorat and any law
    enforcement organisation. ReferralRoute rows add routes. Only organisations with report keys
    can receive (they must be able to read what they get).
    """
    source = report.organisation
    with_keys = Organisation.objects.filter(is_active=True, wbs_key__isnull=False).exclude(
        pk=source.pk
    )
    targets: dict[int, Target] = {}
    if source.kind != Organisation.Kind.KPK:
        for kpk in with_keys.filter(kind=Organisation.Kind.KPK):
            targets[kpk.pk] = Target(kpk, False, Referral.Reason.KPK_JURISDICTION)
    else:
        for org in with_keys.filter(
            Q(unit_type="inspektorat") | Q(kind=Organisation.Kind.LAW_ENFORCEMENT)
        ):
            reason = (
                Referral.Reason.REGIONAL
                if _is_inspektorat(org)
                else Referral.Reason.LAW_ENFORCEMENT
            )
            targets[org.pk] = Target(org, False, reason)
    for route in ReferralRoute.objects.filter(source=source, target__in=with_keys).select_related(
        "target"
    ):
        targets[route.target_id] = Target(
            route.target, route.sender_keeps_content, Referral.Reason.OTHER_AGENCY
        )
    return sorted(
        targets.values(),
        key=lambda t: (t.organisation.kind != Organisation.Kind.KPK, t.organisation.name),
    )


def refer_report(
    report: Report, target_org: Organisation, data_key: bytes, actor: User
) -> Referral:
    """Refer ``report`` to ``target_org``; return the referral.

    ``data_key`` is the report's key, opened by the sender's member (so only someone who can read
    the report can hand it on). Raises ValidationError if the policy does not allow the route.
    """
    allowed = {t.organisation.pk: t for t in referral_targets(report)}
    target = allowed.get(target_org.pk)
    if target is None:
        raise ValidationError(
            _("Your organisation may not refer reports to %(org)s.") % {"org": target_org.name}
        )
    if not report.is_open and report.status != Status.REFERRED:
        raise ValidationError(_("A closed or archived report cannot be referred."))
    org_key = OrgKey.objects.get(organisation=target_org)
    source = report.organisation
    now = timezone.now()
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.organisation_id != source.pk:
            raise ValidationError(_("The report changed meanwhile; reload the page."))
        ReportKey.objects.update_or_create(
            report=locked,
            organisation=target_org,
            defaults={
                "holder": ReportKey.Holder.ORGANISATION,
                "wrapped": keys.wrap_for_organisation(locked, data_key, org_key),
            },
        )
        if not target.sender_keeps_content:
            ReportKey.objects.filter(report=locked, organisation=source).delete()
        referral = Referral.objects.create(
            report=locked,
            from_org=source,
            to_org=target_org,
            reason=target.reason,
            sender_keeps_content=target.sender_keeps_content,
            created_by=actor,
            created_at=now,
        )
        from cegah.wbs.services import policy_for

        due = deadlines_for(policy_for(target_org).profile, timezone.localdate(now))
        # What the referrer had done stays in the history (its status changes and messages are
        # events already; its marks go with this one) ...
        done = {
            mark: getattr(locked, f"{mark}_at").isoformat()
            for mark in ("acknowledged", "examined", "answered")
            if getattr(locked, f"{mark}_at") is not None
        }
        Event.objects.create(
            report=locked,
            created_at=now,
            actor=actor,
            kind="referred",
            visible_to_reporter=True,
            data={
                "from": source.name,
                "to": target_org.name,
                "reason": target.reason,
                **({"done_before": done} if done else {}),
            },
        )
        # ... while the receiver's clock starts afresh: its deadlines are not met by the
        # referrer's acknowledgement, examination or answer (the case list's overdue and due-soon
        # counts, the oversight dashboard and the reminders read these marks).
        locked.organisation = target_org
        locked.status = Status.RECEIVED
        locked.assignee = None
        locked.due_examine, locked.due_answer, locked.due_ack, locked.due_feedback = (
            due.examine,
            due.answer,
            due.ack,
            due.feedback,
        )
        locked.acknowledged_at = locked.examined_at = locked.answered_at = None
        locked.save(
            update_fields=[
                "organisation",
                "status",
                "assignee",
                "due_examine",
                "due_answer",
                "due_ack",
                "due_feedback",
                "acknowledged_at",
                "examined_at",
                "answered_at",
                "updated_at",
            ]
        )
        # The reminders already sent were the referrer's: the receiver's are sent afresh, even
        # for a due date that happens to equal one of them (the notice is the claim).
        DeadlineNotice.objects.filter(report=locked).delete()
        from cegah.wbs.services import audit_report

        for org in (source, target_org):
            audit_report(
                "wbs.report.referred",
                actor=actor,
                organisation=org,
                obj=locked,
                details={
                    "from": source.slug,
                    "to": target_org.slug,
                    "reason": target.reason,
                    "sender_keeps_content": target.sender_keeps_content,
                },
            )
        from cegah.wbs.tasks import notify_new_report

        enqueue_on_commit(notify_new_report, locked.pk)
    return referral


def referred_out(org: Organisation) -> QuerySet[Referral]:
    """The referrals an organisation made, newest first, with the report's live status."""
    return Referral.objects.filter(from_org=org).select_related(
        "report", "to_org", "report__organisation"
    )


def notify_senders(report: Report) -> None:
    """Queue a status notice (no content) to every organisation that referred this report."""
    if Referral.objects.filter(report=report).exists():
        from cegah.wbs.tasks import notify_referral_status

        enqueue_on_commit(notify_referral_status, report.pk)
