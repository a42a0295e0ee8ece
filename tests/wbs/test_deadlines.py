from datetime import date, timedelta

from django.core import mail
from django.utils import timezone

from cegah.wbs import services
from cegah.wbs.deadlines import add_working_days, deadlines_for
from cegah.wbs.models import DeadlineNotice, Policy, Report, Status
from cegah.wbs.tasks import send_deadline_notices, shred_expired_reports


def test_working_days_skip_weekends_and_holidays() -> None:
    # Friday 14 Aug 2026 + 1 working day: Mon 17 Aug is Independence Day, so Tuesday 18 Aug.
    assert add_working_days(date(2026, 8, 14), 1) == date(2026, 8, 18)
    assert add_working_days(date(2026, 11, 2), 5) == date(2026, 11, 9)


def test_profiles() -> None:
    received = date(2026, 11, 2)
    pp43 = deadlines_for("pp43", received)
    assert pp43.examine == received + timedelta(days=30)
    assert pp43.answer is not None and pp43.answer > received + timedelta(days=40)
    eu = deadlines_for("eu", received)
    assert eu.ack == received + timedelta(days=7) and eu.feedback == received + timedelta(days=91)
    lapor = deadlines_for("lapor", received)
    assert lapor.ack == date(2026, 11, 5) and lapor.answer == date(2026, 11, 9)


def test_reminders_and_escalations_are_sent_once(wbs, submit) -> None:
    from cegah.accounts.models import Membership

    Membership.objects.create(user=wbs.admin, organisation=wbs.org, role="supervisor")
    wbs.handler.email = "handler@example.org"
    wbs.handler.save()
    wbs.admin.email = "super@example.org"
    wbs.admin.save()
    report = submit().report
    services.assign_report(report, wbs.handler, wbs.admin)
    today = timezone.localdate()
    Report.objects.filter(pk=report.pk).update(
        due_answer=today + timedelta(days=1), due_examine=today - timedelta(days=1)
    )
    mail.outbox.clear()
    counts = send_deadline_notices.enqueue().return_value
    assert counts == {"reminder": 1, "escalation": 1}
    recipients = sorted(r for m in mail.outbox for r in m.to)
    assert recipients == ["handler@example.org", "super@example.org"]
    assert all("Pungli" not in m.body and "uang" not in m.body for m in mail.outbox)
    assert send_deadline_notices.enqueue().return_value == {"reminder": 0, "escalation": 0}
    assert DeadlineNotice.objects.count() == 2


def test_reports_are_read_in_whole_batches(wbs, submit) -> None:
    from cegah.wbs.tasks import _in_batches

    reports = [submit().report for _ in range(5)]
    batches = _in_batches(Report.objects.all(), size=2)
    assert [r.pk for r in batches] == sorted(r.pk for r in reports)


def test_retention_shreds_closed_reports_with_their_keys(
    wbs, submit, django_capture_on_commit_callbacks
) -> None:
    from pathlib import Path

    from django.conf import settings

    from cegah.core.models import AuditEntry
    from tests.wbs.test_intake import PNG

    report = submit(files=[services.IncomingFile("a.png", PNG)]).report
    for step in (Status.VERIFICATION, Status.ASSESSMENT, Status.FOLLOW_UP):
        report = services.transition_report(report, step, wbs.handler)
    report = services.transition_report(report, Status.CLOSED, wbs.handler, outcome="unfounded")
    policy = Policy.objects.get(organisation=wbs.org)
    policy.retention_days = 30
    policy.save()
    Report.objects.filter(pk=report.pk).update(closed_at=timezone.now() - timedelta(days=31))
    keep = submit().report
    with django_capture_on_commit_callbacks(execute=True):
        assert shred_expired_reports.enqueue().return_value == 1
    assert not Report.objects.filter(pk=report.pk).exists()
    assert Report.objects.filter(pk=keep.pk).exists()
    assert not (Path(settings.MEDIA_ROOT) / "wbs" / report.public_id.hex).exists()
    assert AuditEntry.objects.filter(action="wbs.report.shredded").count() == 1


def test_working_days_between_inverts_add_working_days() -> None:
    from cegah.wbs.deadlines import working_days_between

    start = date(2026, 8, 14)  # Friday before Independence Day
    for days in range(40):
        assert working_days_between(start, add_working_days(start, days)) == days
    assert working_days_between(date(2026, 11, 9), date(2026, 11, 2)) == 0


def test_deadline_countdown_is_in_working_days() -> None:
    from django.utils.translation import override

    from cegah.wbs.templatetags.wbs_deadlines import working_days_left

    friday = date(2026, 8, 14)
    with override("id"):
        assert working_days_left(date(2026, 8, 18), friday) == "1 hari kerja lagi"  # 17 Aug off
        assert working_days_left(friday, friday) == "jatuh tempo hari ini"
        assert working_days_left(date(2026, 8, 11), friday) == "lewat tenggat 3 hari kerja"
    with override("en"):
        assert working_days_left(date(2026, 8, 18), friday) == "1 working day left"
        assert working_days_left(date(2026, 8, 20), friday) == "3 working days left"


def test_case_page_and_list_show_working_days_left(wbs, submit, handler_client) -> None:
    from cegah.wbs.deadlines import working_days_between

    today = timezone.localdate()
    soon = submit().report
    late = submit().report
    Report.objects.filter(pk=soon.pk).update(due_answer=add_working_days(today, 6))
    overdue = today - timedelta(days=10)
    Report.objects.filter(pk=late.pk).update(due_answer=overdue)
    late_days = working_days_between(overdue, today)
    page = handler_client.get(f"/wbs/{wbs.org.slug}/r/{soon.public_id}/").content.decode()
    assert "6 hari kerja lagi" in page
    listing = handler_client.get(f"/wbs/{wbs.org.slug}/").content.decode()
    assert "6 hari kerja lagi" in listing and f"lewat tenggat {late_days} hari kerja" in listing
    assert "dalam 7 hari kerja" in listing
    # "Due soon" counts working days: six working days ahead may be more than a calendar week.
    due_soon = handler_client.get(f"/wbs/{wbs.org.slug}/?due=soon").content.decode()
    assert soon.reference in due_soon and late.reference not in due_soon
