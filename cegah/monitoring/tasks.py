"""Monitoring tasks: notices on assessment events, recommendation reminders and escalation,
alerts for lagging OPDs. Each takes ids only and is safe to run twice."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from cegah.core.tasks_glue import periodic, retrying_task


@retrying_task(max_attempts=5)
def notify_assessment(assessment_id: int, kind: str) -> int:
    """Email the other side of a self-assessment event; return the number of mails sent."""
    from cegah.accounts.permissions import Cap
    from cegah.monitoring.access import coverage_filter
    from cegah.monitoring.models import Assessment, Coverage
    from cegah.monitoring.notify import notify, recipients

    assessment = (
        Assessment.objects.select_related("organisation", "period").filter(pk=assessment_id).first()
    )
    if assessment is None:
        return 0
    org = assessment.organisation
    path = reverse("monitoring:assessment", args=[org.slug, assessment.period_id])
    if kind == "assessment_submitted":
        supervisors = [
            c.supervisor
            for c in Coverage.objects.filter(coverage_filter(org)).select_related("supervisor")
        ]
        users = recipients(supervisors, Cap.MONITORING_VERIFY)
    else:
        users = recipients([org], Cap.MONITORING_EDIT)
    return notify(users, kind, org=org, path=path)


@periodic(every=timedelta(hours=24))
@retrying_task(max_attempts=3)
def remind_and_escalate_recommendations() -> dict[str, Any]:
    """Remind institutions of recommendations due within a week; escalate overdue ones.

    Escalation emails the institution's editors and the issuing organisation's verifiers. Rows are
    claimed with conditional updates, so a second run (or a second worker) sends nothing again.
    """
    from cegah.accounts.permissions import Cap
    from cegah.monitoring import services
    from cegah.monitoring.models import Recommendation
    from cegah.monitoring.notify import notify, recipients

    today = timezone.localdate()
    sent = 0
    due = services.due_for_reminder(today)
    for org_id, recs in _by_institution(due).items():
        org = recs[0].institution
        path = reverse("monitoring:recommendations", args=[org.slug])
        sent += notify(
            recipients([org], Cap.MONITORING_EDIT), "recommendation_due", org=org, path=path
        )
        del org_id
    escalated_ids = services.escalate_overdue(today)
    escalated = list(
        Recommendation.objects.filter(pk__in=escalated_ids).select_related(
            "institution", "issued_by"
        )
    )
    for recs in _by_institution(escalated).values():
        org = recs[0].institution
        issuers = {r.issued_by_id: r.issued_by for r in recs}.values()
        path = reverse("monitoring:recommendations", args=[org.slug])
        users = {u.pk: u for u in recipients([org], Cap.MONITORING_EDIT)}
        users |= {u.pk: u for u in recipients(list(issuers), Cap.MONITORING_VERIFY)}
        sent += notify(users.values(), "recommendation_overdue", org=org, path=path)
    return {"reminded": len(due), "escalated": len(escalated_ids), "mails": sent}


def _by_institution(recs: list[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for rec in recs:
        grouped[rec.institution_id].append(rec)
    return grouped


@retrying_task(max_attempts=5)
def alert_lagging_opds(import_id: int) -> int:
    """After an import, email the institution's editors if any OPD is in the red; return mails."""
    from cegah.accounts.permissions import Cap
    from cegah.monitoring.models import TepraImport
    from cegah.monitoring.notify import notify, recipients
    from cegah.monitoring.tepra import opd_progress

    record = TepraImport.objects.select_related("organisation").filter(pk=import_id).first()
    if record is None:
        return 0
    lagging = [
        p for p in opd_progress(record.organisation, record.year, record.month) if p.light == "red"
    ]
    if not lagging:
        return 0
    org = record.organisation
    path = reverse("monitoring:tepra", args=[org.slug])
    return notify(recipients([org], Cap.MONITORING_EDIT), "tepra_lagging", org=org, path=path)
