"""Background jobs of the whistleblowing module. Notifications never carry report content."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cegah.core.tasks_glue import periodic, retrying_task

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from cegah.wbs.models import Report

logger = logging.getLogger("cegah.wbs")


def _send(user_email: str, language: str, subject: str, body: str) -> None:
    if user_email:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user_email])


def _case_url(report: object) -> str:
    from cegah.wbs.models import Report

    assert isinstance(report, Report)
    return settings.SITE_URL + reverse(
        "wbs:case", args=[report.organisation.slug, report.public_id]
    )


@retrying_task(max_attempts=5)
def notify_new_report(report_id: int) -> int:
    """Tell the organisation's handlers that a report arrived (reference and category only)."""
    from cegah.wbs.keys import readers_of
    from cegah.wbs.models import Category, Report

    report = Report.objects.select_related("organisation").filter(pk=report_id).first()
    if report is None:
        return 0
    sent = 0
    for user in readers_of(report.organisation):
        with translation.override(user.language):
            _send(
                user.email,
                user.language,
                _("New report %(ref)s") % {"ref": report.reference},
                _("A new report (%(category)s) was received by %(org)s. Log in to read it: %(url)s")
                % {
                    "category": Category(report.category).label,
                    "org": report.organisation.name,
                    "url": _case_url(report),
                },
            )
            sent += 1
    return sent


@retrying_task(max_attempts=5)
def notify_reporter_reply(report_id: int) -> int:
    """Tell the assignee (or the handlers) that the reporter wrote; no content."""
    from cegah.wbs.keys import readers_of
    from cegah.wbs.models import Report

    report = Report.objects.select_related("organisation", "assignee").filter(pk=report_id).first()
    if report is None:
        return 0
    recipients = [report.assignee] if report.assignee else readers_of(report.organisation)
    for user in recipients:
        with translation.override(user.language):
            _send(
                user.email,
                user.language,
                _("The reporter of %(ref)s wrote") % {"ref": report.reference},
                _("Log in to read the message: %(url)s") % {"url": _case_url(report)},
            )
    return len(recipients)


@retrying_task(max_attempts=5)
def notify_referral_status(report_id: int) -> int:
    """Tell the organisations that referred a report its new status (reference and status only)."""
    from cegah.wbs.keys import readers_of
    from cegah.wbs.models import Referral, Report

    report = Report.objects.filter(pk=report_id).first()
    if report is None:
        return 0
    sent = 0
    for referral in Referral.objects.filter(report=report).select_related("from_org"):
        for user in readers_of(referral.from_org):
            with translation.override(user.language):
                _send(
                    user.email,
                    user.language,
                    _("Referred report %(ref)s: %(status)s")
                    % {"ref": report.reference, "status": report.get_status_display()},
                    _("The report you referred to %(org)s is now “%(status)s”.")
                    % {"org": report.organisation.name, "status": report.get_status_display()},
                )
                sent += 1
    return sent


DEADLINES = ("due_ack", "due_examine", "due_answer", "due_feedback")
DONE_FIELD = {
    "due_ack": "acknowledged_at",
    "due_examine": "examined_at",
    "due_answer": "answered_at",
    "due_feedback": "answered_at",
}


def deadline_label(deadline: str) -> str:
    return {
        "due_ack": _("acknowledgement"),
        "due_examine": _("examination"),
        "due_answer": _("answer to the reporter"),
        "due_feedback": _("feedback to the reporter"),
    }[deadline]


@periodic(every=timedelta(hours=1))
@retrying_task(max_attempts=3)
def send_deadline_notices() -> dict[str, int]:
    """Remind assignees of deadlines coming up and escalate overdue ones to supervisors.

    Each (report, deadline, kind, due date) is sent once: the DeadlineNotice row is the claim.
    """
    from cegah.accounts.models import User
    from cegah.accounts.permissions import Role
    from cegah.wbs.models import DeadlineNotice, Policy, Report, Status

    today = timezone.localdate()
    counts = {"reminder": 0, "escalation": 0}
    open_reports = Report.objects.exclude(
        status__in=[Status.CLOSED, Status.ARCHIVED]
    ).select_related("organisation", "assignee")
    policies = {p.organisation_id: p for p in Policy.objects.all()}
    for deadline in DEADLINES:
        done = DONE_FIELD[deadline]
        pending = open_reports.filter(**{f"{deadline}__isnull": False, f"{done}__isnull": True})
        for report in _in_batches(pending):
            due = getattr(report, deadline)
            policy = policies.get(report.organisation_id)
            window = policy.remind_days_before if policy else 3
            if due < today:
                kind = "escalation"
                recipients = list(
                    User.objects.filter(
                        memberships__organisation=report.organisation,
                        memberships__role=Role.SUPERVISOR,
                        is_active=True,
                    ).distinct()
                )
            elif due <= today + timedelta(days=window):
                kind = "reminder"
                recipients = (
                    [report.assignee]
                    if report.assignee
                    else list(
                        User.objects.filter(
                            memberships__organisation=report.organisation,
                            memberships__role__in=[Role.HANDLER, Role.SUPERVISOR],
                            is_active=True,
                        ).distinct()
                    )
                )
            else:
                continue
            try:
                with transaction.atomic():
                    DeadlineNotice.objects.create(
                        report=report, deadline=deadline, kind=kind, due=due
                    )
            except IntegrityError:
                continue  # already sent for this due date
            for user in recipients:
                with translation.override(user.language):
                    subject = (
                        _("Overdue: %(what)s of %(ref)s")
                        if kind == "escalation"
                        else _("Due soon: %(what)s of %(ref)s")
                    ) % {"what": deadline_label(deadline), "ref": report.reference}
                    _send(
                        user.email,
                        user.language,
                        subject,
                        _("Deadline: %(due)s. %(url)s")
                        % {"due": due.isoformat(), "url": _case_url(report)},
                    )
            counts[kind] += 1
    return counts


def _in_batches(reports: QuerySet[Report], size: int = 500) -> Iterator[Report]:
    """Yield ``reports`` by batches of ``size``, each read whole before it is yielded.

    Not ``QuerySet.iterator()``: its read stays open while rows remain, and on SQLite a write on
    the same connection (the notice claimed for each report) then fails with "database is
    locked" once another process has written meanwhile.
    """
    pks = list(reports.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), size):
        yield from list(reports.filter(pk__in=pks[start : start + size]).order_by("pk"))


@periodic(every=timedelta(hours=24))
@retrying_task(max_attempts=3)
def shred_expired_reports() -> int:
    """Delete closed reports past their organisation's retention period, with their keys."""
    from cegah.wbs.services import shred_expired

    return shred_expired()


@periodic(every=timedelta(hours=1))
@retrying_task(max_attempts=3)
def prune_reporter_sessions() -> int:
    from cegah.wbs.models import ReporterSession

    deleted, _detail = ReporterSession.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
