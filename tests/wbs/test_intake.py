import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cegah.core.audit import verify_chain
from cegah.wbs import services
from cegah.wbs.intake import AttachmentRejected
from cegah.wbs.models import Attachment, Event, Report, ReportKey
from tests.wbs.conftest import form_token
from tests.wbs.images import small_png

PNG = small_png()


def _form_post(client: Client, slug: str, **extra: object) -> object:
    data = {
        "category": "pemerasan",
        "description": "Petugas loket meminta uang Rp100.000 agar surat izin cepat keluar.",
        "party_count": "1",
        "party_0_name": "Pak Budi",
        "party_0_position": "Kepala Seksi",
        "party_0_institution": "Dinas Perizinan",
        "submission": form_token(client, f"/lapor/{slug}/"),
        **extra,
    }
    return client.post(f"/lapor/{slug}/", data)


def test_anonymous_report_with_photo_gets_a_receipt_that_opens_it(wbs) -> None:
    client = Client()
    assert client.get(f"/lapor/{wbs.org.slug}/").status_code == 200
    photo = SimpleUploadedFile("bukti.png", PNG, content_type="image/png")
    response = _form_post(client, wbs.org.slug, attachments=[photo])
    assert response.status_code == 201
    receipt = re.search(rb'class="receipt-code">([\d ]+)<', response.content).group(1).decode()  # type: ignore[union-attr]
    assert len(receipt.replace(" ", "")) == 16
    report = Report.objects.get(organisation=wbs.org)
    assert report.attachments.count() == 1
    assert not report.has_identity
    assert ReportKey.objects.filter(report=report).count() == 2
    assert response["Cache-Control"].startswith("no-store")

    opened = client.post("/lapor/pantau/", {"receipt": receipt})
    assert opened.status_code == 302
    page = client.get("/lapor/pantau/laporan/")
    assert page.status_code == 200
    assert report.reference.encode() in page.content


def test_receipt_is_stored_only_as_a_hash(wbs, submit) -> None:
    submitted = submit()
    report = Report.objects.get(pk=submitted.report.pk)
    assert submitted.receipt not in report.receipt_lookup
    assert len(report.receipt_lookup) == 64


def test_wrong_receipt_is_refused_with_the_same_message(wbs, submit) -> None:
    submit()
    client = Client()
    response = client.post("/lapor/pantau/", {"receipt": "1234 5678 9012 3456"})
    assert response.status_code == 200
    assert "tidak membuka laporan" in response.content.decode()
    assert client.post("/lapor/pantau/", {"receipt": "12"}).status_code == 200


def test_repeated_wrong_receipts_make_the_client_wait(wbs) -> None:
    client = Client()
    codes = [client.post("/lapor/pantau/", {"receipt": f"{i:016d}"}).status_code for i in range(6)]
    assert codes[:3] == [200, 200, 200]
    assert 429 in codes[3:]


def test_consent_is_required_to_give_identity(wbs) -> None:
    response = _form_post(Client(), wbs.org.slug, identity_name="Siti", contact="0812")
    assert response.status_code == 200
    assert not Report.objects.exists()


def test_add_party_button_adds_a_row_without_javascript(wbs) -> None:
    response = _form_post(Client(), wbs.org.slug, add_party="1")
    assert response.status_code == 200
    assert b'name="party_1_name"' in response.content
    assert not Report.objects.exists()


def test_wrong_file_type_is_refused_before_storage(wbs) -> None:
    fake = SimpleUploadedFile("foto.png", b"MZ\x90\x00 this is an exe", content_type="image/png")
    response = _form_post(Client(), wbs.org.slug, attachments=[fake])
    assert response.status_code == 200
    assert not Report.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / "wbs").exists() or not any(
        (Path(settings.MEDIA_ROOT) / "wbs").rglob("*.bin")
    )


def test_oversize_file_is_refused(wbs, settings) -> None:
    settings.WBS_ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(AttachmentRejected):
        services.submit_report(
            wbs.org,
            services.ReportInput(category="suap", description="x" * 30),
            [services.IncomingFile("a.png", PNG)],
        )
    assert not Report.objects.exists()


def test_submission_is_atomic_when_a_later_step_fails(wbs, monkeypatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Event.objects, "create", boom)
    with pytest.raises(RuntimeError):
        services.submit_report(
            wbs.org,
            services.ReportInput(
                category="suap", description="Suap di kantor camat setiap pengurusan."
            ),
            [services.IncomingFile("a.png", PNG)],
        )
    assert not Report.objects.exists()
    assert not Attachment.objects.exists()
    root = Path(settings.MEDIA_ROOT) / "wbs"
    assert not root.exists() or not any(root.rglob("*.bin"))


def test_organisation_without_key_does_not_accept(personas) -> None:
    assert Client().get(f"/lapor/{personas.org.slug}/").status_code == 404
    with pytest.raises(services.NotAccepting):
        services.submit_report(
            personas.org, services.ReportInput(category="suap", description="x" * 30)
        )


def test_kpk_hint_and_amount_bucket(wbs, submit) -> None:
    report = submit(
        amount=2_500_000_000,
        reported=[services.ReportedParty(name="X", position="Bupati", institution="Pemkab")],
    ).report
    assert set(report.kpk_hints) == {"loss_ge_1b", "official"}
    assert report.amount_bucket == "lt10m"
    small = submit(amount=5_000_000).report
    assert small.kpk_hints == [] and small.amount_bucket == "lt10jt"


def test_intake_is_audited_without_content(wbs, submit) -> None:
    from cegah.core.models import AuditEntry

    submit(description="Pungli di sekolah negeri untuk seragam KANARIAUDIT setiap tahun.")
    entry = AuditEntry.objects.get(action="wbs.report.received")
    assert "KANARIAUDIT" not in str(entry.details)
    assert verify_chain().ok


def test_operator_records_a_phone_report_and_gets_the_receipt(wbs, handler_client) -> None:
    page = handler_client.get(f"/wbs/{wbs.org.slug}/intake/")
    assert page.status_code == 200
    response = handler_client.post(
        f"/wbs/{wbs.org.slug}/intake/",
        {
            "channel": "phone",
            "category": "pemerasan",
            "party_count": "1",
            "submission": form_token(handler_client, f"/wbs/{wbs.org.slug}/intake/"),
            "description": "Penelepon melaporkan pungutan di sekolah negeri untuk ijazah.",
        },
    )
    assert response.status_code == 201
    report = Report.objects.get()
    assert report.channel == "phone"
    receipt = re.search(rb'class="receipt-code">([\d ]+)<', response.content).group(1).decode()  # type: ignore[union-attr]
    assert services.open_reporter_session(receipt) is not None


def test_viewer_cannot_record_reports(wbs, client_for) -> None:
    assert client_for(wbs.viewer).get(f"/wbs/{wbs.org.slug}/intake/").status_code == 404
