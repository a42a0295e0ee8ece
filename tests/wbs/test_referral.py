from django.core.exceptions import ValidationError
from django.test import Client

from cegah.orgs.models import Organisation
from cegah.wbs import keys, referral, services
from cegah.wbs.models import Referral, Report, ReportKey, Status
from tests.conftest import make_user
from tests.wbs.conftest import PASSWORD, login_with_keys


def _kpk(wbs):  # type: ignore[no-untyped-def]
    kpk = Organisation.objects.create(
        slug="kpk-uji", name="KPK Uji", kind=Organisation.Kind.KPK, accepts_reports=True
    )
    officer = make_user("kpk-officer", kpk, "handler")
    keys.unlock_user_key(officer, PASSWORD)
    keys.set_up_org_key(kpk, None)
    return kpk, officer


def test_referral_to_kpk_gives_kpk_the_content_and_the_sender_the_status(
    wbs, submit, handler_client
) -> None:
    kpk, officer = _kpk(wbs)
    report = submit(
        description="Kepala dinas menerima suap proyek jalan senilai miliaran rupiah.",
        amount=3_000_000_000,
    ).report
    url = f"/wbs/{wbs.org.slug}/r/{report.public_id}"
    page = handler_client.get(f"{url}/").content.decode()
    assert "kpk-uji" in page  # KPK is offered as a referral target
    response = handler_client.post(f"{url}/refer/", {"target": "kpk-uji"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.organisation == kpk and report.status == Status.RECEIVED
    # KPK reads the content with its own key; the ciphertext was not copied.
    kpk_client = login_with_keys(officer)
    assert (
        "menerima suap proyek jalan"
        in kpk_client.get(f"/wbs/kpk-uji/r/{report.public_id}/").content.decode()
    )
    assert Report.objects.count() == 1
    # The sender no longer holds the content key, but sees the status as it changes.
    assert not ReportKey.objects.filter(report=report, organisation=wbs.org).exists()
    assert handler_client.get(f"{url}/").status_code == 404
    services.transition_report(report, Status.VERIFICATION, officer)
    status_page = handler_client.get(
        f"/wbs/{wbs.org.slug}/referred/{report.public_id}/"
    ).content.decode()
    assert "Verifikasi" in status_page and "menerima suap" not in status_page
    assert "KPK Uji" in handler_client.get(f"/wbs/{wbs.org.slug}/referred/").content.decode()


def test_reporter_sees_the_referral(wbs, submit) -> None:
    kpk, _officer = _kpk(wbs)
    submitted = submit()
    data_key = keys.report_data_key(
        submitted.report, keys.org_private_from_recovery(wbs.org, wbs.recovery)
    )
    assert data_key is not None
    referral.refer_report(submitted.report, kpk, data_key, wbs.handler)
    reporter = Client()
    reporter.post("/lapor/pantau/", {"receipt": submitted.receipt})
    page = reporter.get("/lapor/pantau/laporan/").content.decode()
    assert "KPK Uji" in page


def test_route_not_in_policy_is_refused(wbs, submit) -> None:
    report = submit().report
    data_key = keys.report_data_key(report, keys.org_private_from_recovery(wbs.org, wbs.recovery))
    assert data_key is not None
    try:
        referral.refer_report(report, wbs.other_org, data_key, wbs.handler)
    except ValidationError:
        pass
    else:
        raise AssertionError("an Inspektorat may not refer to another Inspektorat without a route")
    assert not Referral.objects.exists()


def test_admin_route_lets_the_sender_keep_the_content(wbs, submit, handler_client) -> None:
    from cegah.wbs.models import ReferralRoute

    ReferralRoute.objects.create(source=wbs.org, target=wbs.other_org, sender_keeps_content=True)
    report = submit(
        description="Isi laporan yang tetap dibaca pengirim setelah dilimpahkan."
    ).report
    handler_client.post(
        f"/wbs/{wbs.org.slug}/r/{report.public_id}/refer/", {"target": wbs.other_org.slug}
    )
    page = handler_client.get(f"/wbs/{wbs.org.slug}/referred/{report.public_id}/").content.decode()
    assert "tetap dibaca pengirim" in page


def test_oversight_for_kpk_and_inspektorat(wbs, submit, client_for) -> None:
    from cegah.orgs.services import sync_regions

    sync_regions()
    _kpk_org, officer = _kpk(wbs)
    wbs.org.region_id = "18"
    wbs.org.save()
    submit(region_code="18.71")
    submit(region_code="18.01")
    kpk_page = client_for(officer).get("/wbs/oversight/")
    assert kpk_page.status_code == 200 and "Lampung" in kpk_page.content.decode()
    map_page = client_for(officer).get("/wbs/oversight/map/?province=18")
    assert map_page.status_code == 200 and b"<path" in map_page.content
    assert b"Kota Bandar Lampung" in map_page.content
    assert (
        client_for(wbs.viewer).get("/wbs/oversight/").status_code == 200
    )  # Inspektorat of region 18
    assert client_for(officer).get("/wbs/oversight/map/?province=99").status_code == 404
    assert client_for(wbs.outsider).get("/wbs/oversight/").status_code == 404  # no region, not KPK


def _capture_pdf_html(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """Render the case PDF's HTML instead of the PDF, to read what it would show."""
    from django.template.loader import render_to_string

    from cegah.wbs import exports

    pages: list[str] = []

    def fake_pdf(request, context):  # type: ignore[no-untyped-def]
        pages.append(render_to_string("wbs/case_pdf.html", context, request=request))
        return b"%PDF-fake"

    monkeypatch.setattr(exports, "case_pdf", fake_pdf)
    return pages


def test_receiver_never_sees_the_referring_institutions_internal_notes(
    wbs, submit, handler_client, monkeypatch
) -> None:
    _kpk_org, officer = _kpk(wbs)
    submitted = submit(description="Kepala dinas menerima suap proyek jalan senilai miliaran.")
    report = submitted.report
    url = f"/wbs/{wbs.org.slug}/r/{report.public_id}"
    handler_client.post(f"{url}/message/", {"kind": "note", "body": "Pelapor mungkin Bu Sari"})
    handler_client.post(
        f"{url}/message/", {"kind": "question", "body": "Kapan uangnya diserahkan?"}
    )
    reporter = Client()
    reporter.post("/lapor/pantau/", {"receipt": submitted.receipt})
    reporter.post("/lapor/pantau/laporan/", {"body": "Hari Jumat sore di parkiran."})
    assert "Pelapor mungkin Bu Sari" in handler_client.get(f"{url}/").content.decode()
    handler_client.post(f"{url}/refer/", {"target": "kpk-uji"})

    kpk_client = login_with_keys(officer)
    kpk_url = f"/wbs/kpk-uji/r/{report.public_id}"
    kpk_client.post(f"{kpk_url}/message/", {"kind": "note", "body": "Catatan KPK sendiri"})
    page = kpk_client.get(f"{kpk_url}/").content.decode()
    # The conversation with the reporter goes along; the sender's internal note does not.
    assert "Kapan uangnya diserahkan?" in page and "Hari Jumat sore di parkiran." in page
    assert "Catatan KPK sendiri" in page
    assert "Pelapor mungkin Bu Sari" not in page
    pages = _capture_pdf_html(monkeypatch)
    assert kpk_client.get(f"{kpk_url}/pdf/").status_code == 200
    assert "Pelapor mungkin Bu Sari" not in pages[0]
    assert "Kapan uangnya diserahkan?" in pages[0]


def test_referral_form_says_what_goes_along(wbs, submit, handler_client) -> None:
    _kpk(wbs)
    report = submit().report
    page = handler_client.get(f"/wbs/{wbs.org.slug}/r/{report.public_id}/").content.decode()
    assert "percakapan dengan pelapor" in page
    assert "Catatan internal tidak ikut" in page


def test_content_export_uses_the_redacted_narrative_and_says_so(
    wbs, submit, handler_client
) -> None:
    import io

    from openpyxl import load_workbook

    redacted = submit(description="Bu Sari dari bagian keuangan melihat suap di ruang kepala.")
    full = submit(description="Suap perizinan bangunan di dinas PUPR kota setiap minggu.")
    url = f"/wbs/{wbs.org.slug}/r/{redacted.report.public_id}"
    handler_client.post(f"{url}/redact/", {"text": "Seorang pegawai melihat suap di ruang kepala."})
    xlsx = handler_client.get(f"/wbs/{wbs.org.slug}/export.xlsx?content=1")
    rows = [
        [c.value for c in row] for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows()
    ]  # type: ignore[union-attr]
    text = " ".join(str(v) for row in rows for v in row)
    assert "Bu Sari" not in text
    assert "Seorang pegawai melihat suap" in text
    assert "Suap perizinan bangunan" in text  # no redacted version: the full narrative
    header = rows[0]
    assert any("disamarkan" in str(h) for h in header)
    by_ref = {row[0]: row for row in rows[1:]}
    column = header.index("Narasi disamarkan")
    assert by_ref[redacted.report.reference][column] == "ya"
    assert by_ref[full.report.reference][column] == "tidak"


def test_redaction_help_says_where_it_is_used(wbs, submit, handler_client) -> None:
    report = submit().report
    page = handler_client.get(f"/wbs/{wbs.org.slug}/r/{report.public_id}/").content.decode()
    assert "Ekspor berisi konten dan PDF kasus" in page
    assert "Dipakai pada ekspor dan pelimpahan." not in page


def test_notes_written_before_the_migration_stay_with_the_institution_that_wrote_them(
    wbs, submit
) -> None:
    import importlib

    from django.apps import apps

    from cegah.wbs.models import Message

    kpk, officer = _kpk(wbs)
    report = submit().report
    data_key = keys.report_data_key(report, keys.org_private_from_recovery(wbs.org, wbs.recovery))
    assert data_key is not None
    before = services.post_message(report, data_key, Message.Kind.NOTE, "catatan awal", wbs.handler)
    referral.refer_report(report, kpk, data_key, wbs.handler)
    report.refresh_from_db()
    after = services.post_message(report, data_key, Message.Kind.NOTE, "catatan KPK", officer)
    Message.objects.update(organisation=None)  # as rows written before the field existed
    migration = importlib.import_module("cegah.wbs.migrations.0004_message_organisation")
    migration.backfill(apps, None)
    assert Message.objects.get(pk=before.pk).organisation_id == wbs.org.pk
    assert Message.objects.get(pk=after.pk).organisation_id == kpk.pk
    assert list(services.messages_for_organisation(report, kpk)) == [
        Message.objects.get(pk=after.pk)
    ]


def test_kpk_is_not_advised_to_refer_a_report_to_itself(wbs, submit, handler_client) -> None:
    kpk, officer = _kpk(wbs)
    report = submit(amount=3_000_000_000).report
    sender_page = handler_client.get(f"/wbs/{wbs.org.slug}/r/{report.public_id}/").content.decode()
    assert "Pertimbangkan pelimpahan" in sender_page
    handler_client.post(f"/wbs/{wbs.org.slug}/r/{report.public_id}/refer/", {"target": kpk.slug})
    kpk_page = login_with_keys(officer).get(f"/wbs/{kpk.slug}/r/{report.public_id}/")
    text = kpk_page.content.decode()
    assert "kewenangan KPK" in text  # the hints are still shown…
    assert "Pertimbangkan pelimpahan" not in text  # …without advising KPK to refer to KPK


def test_receivers_deadlines_start_afresh_after_a_referral(wbs, submit, handler_client) -> None:
    from datetime import timedelta

    from django.core import mail
    from django.utils import timezone

    from cegah.wbs.models import DeadlineNotice, Event, Message
    from cegah.wbs.tasks import send_deadline_notices

    kpk, officer = _kpk(wbs)
    officer.email = "officer@kpk.example"
    officer.save()
    report = submit().report
    data_key = keys.report_data_key(report, keys.org_private_from_recovery(wbs.org, wbs.recovery))
    assert data_key is not None
    # The Inspektorat acknowledges, examines and answers the reporter, then refers it to KPK.
    services.transition_report(report, Status.VERIFICATION, wbs.handler)
    report.refresh_from_db()
    services.transition_report(report, Status.ASSESSMENT, wbs.handler)
    report.refresh_from_db()
    services.post_message(
        report, data_key, Message.Kind.HANDLER, "Sedang kami telaah.", wbs.handler
    )
    report.refresh_from_db()
    assert report.acknowledged_at and report.examined_at and report.answered_at
    tomorrow = timezone.localdate() + timedelta(days=1)
    DeadlineNotice.objects.create(
        report=report, deadline="due_answer", kind="reminder", due=tomorrow
    )
    handler_client.post(f"/wbs/{wbs.org.slug}/r/{report.public_id}/refer/", {"target": "kpk-uji"})
    report.refresh_from_db()
    assert report.organisation == kpk
    assert (report.acknowledged_at, report.examined_at, report.answered_at) == (None, None, None)
    # The referrer's history stays.
    referred = Event.objects.get(report=report, kind="referred")
    assert set(referred.data["done_before"]) == {"acknowledged", "examined", "answered"}
    assert Event.objects.filter(report=report, kind="status_changed").count() == 2
    # KPK's page does not show its answer deadline as met.
    kpk_client = login_with_keys(officer)
    page = kpk_client.get(f"/wbs/kpk-uji/r/{report.public_id}/").content.decode()
    deadlines = page[
        page.index('class="deadlines"') : page.index("</ul>", page.index('class="deadlines"'))
    ]
    assert "Jawab pelapor paling lambat" in deadlines and "✓" not in deadlines
    # Once KPK's answer deadline passes, the report is overdue in KPK's list and its count.
    Report.objects.filter(pk=report.pk).update(due_answer=timezone.localdate() - timedelta(days=1))
    listing = kpk_client.get("/wbs/kpk-uji/?due=overdue").content.decode()
    assert report.reference in listing
    assert kpk_client.get("/wbs/kpk-uji/").context["summary"]["overdue"] == 1
    # KPK is reminded of its own deadline, even for a due date the Inspektorat was reminded of.
    Report.objects.filter(pk=report.pk).update(due_answer=tomorrow)
    mail.outbox.clear()
    send_deadline_notices.enqueue()
    assert "officer@kpk.example" in [r for m in mail.outbox for r in m.to]


def test_referral_target_is_described_by_its_help(wbs, submit, handler_client) -> None:
    import re

    _kpk(wbs)
    report = submit().report
    page = handler_client.get(f"/wbs/{wbs.org.slug}/r/{report.public_id}/").content.decode()
    select = re.search(r'<select name="target"[^>]*>', page)
    assert select is not None
    described = re.search(r'aria-describedby="([^"]+)"', select.group(0))
    assert described is not None
    help_id = described.group(1)
    assert re.search(rf'<p class="help" id="{help_id}">[^<]*percakapan dengan pelapor', page)
    assert page.count('id="id_target"') == 1


def test_a_redacted_report_exports_no_identifying_free_text_beside_its_narrative(
    wbs, submit, handler_client, monkeypatch
) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    redacted = submit(
        description="Bu Sari dari bagian keuangan melihat suap di ruang kepala.",
        reported=[
            services.ReportedParty(name="Pak Joko", position="Kabid", institution="Dinas PUPR")
        ],
        where="Ruang kepala lantai 2, sebelah meja Bu Sari",
        when="Jumat 3 Oktober sore, saat Bu Sari lembur",
        how="Bu Sari melihat amplop diserahkan di bawah meja.",
        amount=50_000_000,
    )
    full = submit(
        description="Suap perizinan bangunan di dinas PUPR kota setiap minggu.",
        where="Loket perizinan",
        how="Uang pelicin diminta di loket.",
    )
    url = f"/wbs/{wbs.org.slug}/r/{redacted.report.public_id}"
    handler_client.post(
        f"{url}/redact/", {"text": "Seorang pegawai melihat suap kepada Kabid PUPR di kantor."}
    )
    xlsx = handler_client.get(f"/wbs/{wbs.org.slug}/export.xlsx?content=1")
    rows = [
        [c.value for c in row] for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows()
    ]  # type: ignore[union-attr]
    csv_rows = list(
        csv.reader(
            io.StringIO(
                b"".join(
                    handler_client.get(
                        f"/wbs/{wbs.org.slug}/export.csv?content=1"
                    ).streaming_content  # type: ignore[attr-defined]
                ).decode()
            )
        )
    )
    for table in (rows, csv_rows):
        header = [str(h) for h in table[0]]
        by_ref = {row[0]: dict(zip(header, row, strict=True)) for row in table[1:]}
        shared = by_ref[redacted.report.reference]
        text = " ".join(str(v) for v in shared.values())
        for secret in ("Bu Sari", "Pak Joko", "Ruang kepala", "Jumat 3 Oktober", "amplop"):
            assert secret not in text, secret
        assert "Seorang pegawai melihat suap" in text
        left_out = [h for h in header if str(shared[h]).startswith("(tidak disertakan")]
        assert len(left_out) == 4  # reported parties, where, when, how
        assert str(shared[header[-1]]) == "50000000"  # the amount is a number, not free text
        # A report without a redacted narrative is exported in full.
        other = " ".join(str(v) for v in by_ref[full.report.reference].values())
        assert "Loket perizinan" in other and "Uang pelicin" in other
    # The case PDF shares the redacted narrative only, as before.
    from tests.wbs.test_referral import _capture_pdf_html

    pages = _capture_pdf_html(monkeypatch)
    handler_client.get(f"{url}/pdf/")
    assert "Pak Joko" not in pages[0] and "Ruang kepala" not in pages[0]
    # The handler is told what the narrative replaces.
    page = handler_client.get(f"{url}/").content.decode()
    assert "terlapor, tempat, waktu, dan cara tidak disertakan" in page
