"""The whistleblowing demo: reports received on different days carry the history and the
deadlines of those days, some answer is overdue, and loading twice changes nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cegah.core.demo import load_organisations, load_users
from cegah.wbs import services
from cegah.wbs.deadlines import deadlines_for
from cegah.wbs.demo import load_demo
from cegah.wbs.integration.demo import load_demo as load_duplicates_demo
from cegah.wbs.models import Event, Message, Report, Status


def _snapshot() -> list[tuple[object, ...]]:
    return [
        (
            r.pk,
            r.received_at,
            r.due_answer,
            r.status,
            Event.objects.filter(report=r).count(),
            Message.objects.filter(report=r).count(),
        )
        for r in Report.objects.order_by("pk")
    ]


@pytest.mark.slow
def test_demo_reports_are_dated_consistently_and_some_are_overdue(db: None) -> None:
    load_organisations()
    load_users()
    load_demo()
    load_duplicates_demo()
    now = timezone.now()
    today = timezone.localdate()
    reports = list(Report.objects.select_related("organisation"))
    assert len(reports) >= 7
    for report in reports:
        events = list(report.events.order_by("created_at", "id"))
        assert events[0].kind == "received" and events[0].created_at == report.received_at
        assert all(report.received_at <= e.created_at <= now for e in events)
        for message in report.messages.all():
            assert report.received_at <= message.created_at <= now
        referral = report.referrals.order_by("-created_at").first()
        start = referral.created_at if referral else report.received_at
        due = deadlines_for(
            services.policy_for(report.organisation).profile, timezone.localdate(start)
        )
        assert (report.due_examine, report.due_answer) == (due.examine, due.answer)
        for stamp in (report.acknowledged_at, report.answered_at, report.closed_at):
            assert stamp is None or report.received_at <= stamp <= now
    assert len({r.due_answer for r in reports}) > 2  # not one date for all
    overdue = [
        r
        for r in reports
        if r.due_answer < today
        and r.answered_at is None
        and r.status not in {Status.CLOSED, Status.ARCHIVED}
    ]
    assert overdue  # the case list's overdue filter has something to show

    before = _snapshot()
    load_demo()
    load_duplicates_demo()
    assert _snapshot() == before
