"""Recommendations: recording, progress, reminders and escalation of overdue items."""

import datetime as dt

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from cegah.core.models import AuditEntry
from cegah.monitoring import services, tasks
from cegah.monitoring.models import Recommendation


def fetch(client, url: str) -> int:
    """GET a download and read it to the end, which closes the file.

    The test client closes a streamed response once it is consumed, with the database connection
    kept; calling ``close()`` directly would close the test transaction's connection too.
    """
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code


def _rec(mcp, days: int, title: str = "Tetapkan SOP benturan kepentingan") -> Recommendation:
    return mcp.recommend(title=title, days=days, area_name="Pengadaan")


def test_overdue_recommendation_is_escalated_once_without_content_in_the_mail(mcp) -> None:
    overdue = _rec(mcp, -3, title="RAHASIA judul")
    _rec(mcp, 30)
    result = tasks.remind_and_escalate_recommendations.call()
    assert result["escalated"] == 1
    overdue.refresh_from_db()
    assert overdue.escalated_at is not None
    assert AuditEntry.objects.filter(
        action="monitoring.recommendation.escalated", object_id=str(overdue.pk)
    ).exists()
    recipients = {addr for m in mail.outbox for addr in m.to}
    assert {"admin.city@example.org", "kpk.verifier@example.org"} <= recipients
    assert all("RAHASIA" not in m.body and "RAHASIA" not in m.subject for m in mail.outbox)
    sent = len(mail.outbox)
    assert tasks.remind_and_escalate_recommendations.call()["escalated"] == 0
    assert len(mail.outbox) == sent


def test_notifications_use_the_recipients_language(mcp) -> None:
    mcp.city_admin.language = "en"
    mcp.city_admin.save(update_fields=["language"])
    _rec(mcp, -1)
    tasks.remind_and_escalate_recommendations.call()
    by_address = {m.to[0]: m for m in mail.outbox}
    assert "overdue" in by_address["admin.city@example.org"].subject
    assert "overdue" not in by_address["kpk.verifier@example.org"].subject


def test_due_soon_is_reminded_once_a_week(mcp) -> None:
    _rec(mcp, 3)
    assert tasks.remind_and_escalate_recommendations.call()["reminded"] == 1
    assert tasks.remind_and_escalate_recommendations.call()["reminded"] == 0


def test_institution_reports_progress_and_issuer_closes(mcp, client_for) -> None:
    rec = _rec(mcp, 10)
    city = client_for(mcp.city_admin)
    upload = SimpleUploadedFile("bukti.pdf", b"%PDF-1.4 x")
    response = city.post(
        f"/monitoring/recommendations/{rec.pk}/progress/",
        {"note": "Draf SOP", "progress": 50, "file": upload},
    )
    assert response.status_code == 302
    rec.refresh_from_db()
    assert (rec.status, rec.progress) == ("in_progress", 50)
    update = rec.updates.get()
    assert fetch(city, f"/monitoring/progress/{update.pk}/file/") == 200
    # The institution cannot close it; the issuing verifier can.
    assert (
        city.post(f"/monitoring/recommendations/{rec.pk}/status/", {"status": "done"}).status_code
        == 404
    )
    client_for(mcp.verifier).post(
        f"/monitoring/recommendations/{rec.pk}/status/", {"status": "done"}
    )
    rec.refresh_from_db()
    assert (rec.status, rec.progress) == ("done", 100)
    # Another kab/kota sees none of it.
    other = client_for(mcp.regency_admin)
    assert other.get(f"/monitoring/recommendations/{rec.pk}/").status_code == 404
    assert fetch(other, f"/monitoring/progress/{update.pk}/file/") == 404


def test_verifier_records_a_recommendation_with_a_source_link(mcp, client_for) -> None:
    client = client_for(mcp.verifier)
    url = f"/monitoring/{mcp.city.slug}/recommendations/"
    response = client.post(
        url,
        {
            "issued_by": mcp.kpk.pk,
            "title": "Tinjau paket penawar tunggal",
            "due_date": "2030-01-31",
            "source_kind": "procurement",
            "source_ref": "R018",
            "source_url": "https://example.org/flags/1",
        },
    )
    assert response.status_code == 302
    rec = Recommendation.objects.get()
    assert (rec.institution, rec.issued_by, rec.source_kind) == (mcp.city, mcp.kpk, "procurement")
    # The city itself cannot issue recommendations to itself.
    assert client_for(mcp.city_admin).post(url, {"title": "x"}).status_code == 404


def test_meeting_minutes_are_checked_and_shared_with_the_institutions(mcp, client_for) -> None:
    kpk = client_for(mcp.verifier)
    response = kpk.post(
        "/monitoring/coverage/meetings/",
        {
            "convened_by": mcp.kpk.pk,
            "title": "Rakor Lampung",
            "held_on": "2026-03-01",
            "minutes": SimpleUploadedFile("notulen.pdf", b"%PDF-1.4 notulen"),
        },
    )
    assert response.status_code == 302
    meeting = mcp.kpk.mcp_meetings.get()
    assert fetch(kpk, f"/monitoring/meetings/{meeting.pk}/minutes/") == 200
    city = client_for(mcp.city_admin)
    assert fetch(city, f"/monitoring/meetings/{meeting.pk}/minutes/") == 404
    services.create_recommendation(
        institution=mcp.city,
        issued_by=mcp.kpk,
        actor=mcp.verifier,
        title="X",
        due_date=dt.date(2030, 1, 1),
        meeting=meeting,
    )
    assert fetch(city, f"/monitoring/meetings/{meeting.pk}/minutes/") == 200


def test_minutes_open_for_whoever_sees_a_recommendation_of_the_meeting_and_no_one_else(
    mcp, client_for
) -> None:
    from cegah.accounts.models import Membership, User
    from cegah.accounts.permissions import Role
    from cegah.orgs.models import Organisation, Region

    def member(username: str, org: Organisation, role: str) -> User:
        user = User.objects.create_user(username=username, password="x-long-password-1")
        Membership.objects.create(user=user, organisation=org, role=role)
        return user

    inspektorat = Organisation.objects.create(
        slug="inspektorat-lampung", name="Inspektorat Lampung", kind="unit"
    )
    services.grant_coverage(supervisor=inspektorat, region=mcp.city.region.parent, actor=None)
    kemendagri = Organisation.objects.create(slug="kemendagri", name="Kemendagri", kind="kl")
    services.grant_coverage(supervisor=kemendagri, nationwide=True, actor=None)
    jabar = Region.objects.create(code="32", name="Jawa Barat", level=1, type="provinsi")
    elsewhere = Organisation.objects.create(
        slug="inspektorat-jabar", name="Insp Jabar", kind="unit"
    )
    services.grant_coverage(supervisor=elsewhere, region=jabar, actor=None)

    meeting = services.create_meeting(
        convened_by=mcp.kpk,
        title="Rakor Lampung",
        held_on=dt.date(2026, 3, 1),
        minutes=SimpleUploadedFile("notulen.pdf", b"%PDF-1.4 notulen"),
        actor=mcp.verifier,
    )
    rec = services.create_recommendation(
        institution=mcp.city,
        issued_by=mcp.kpk,
        actor=mcp.verifier,
        title="X",
        due_date=dt.date(2030, 1, 1),
        meeting=meeting,
    )
    minutes = f"/monitoring/meetings/{meeting.pk}/minutes/"
    for user in (
        member("pemantau", inspektorat, Role.VIEWER),
        member("verifikator.kemendagri", kemendagri, Role.VERIFIER),
    ):
        client = client_for(user)
        page = client.get(f"/monitoring/recommendations/{rec.pk}/").content.decode()
        assert minutes in page
        assert fetch(client, minutes) == 200, user
    for user in (mcp.regency_admin, member("pemantau.jabar", elsewhere, Role.VIEWER)):
        client = client_for(user)
        assert client.get(f"/monitoring/recommendations/{rec.pk}/").status_code == 404
        assert fetch(client, minutes) == 404, user
