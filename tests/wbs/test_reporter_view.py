"""What the reporter is told: a truthful timeline, referral only when the report really moved,
an open question only until it is answered, and a logout that does not sound like withdrawal."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from cegah.wbs import keys, referral, services
from cegah.wbs.models import Event, Message, Report, Status
from tests.wbs.test_referral import _kpk


def _reporter(receipt: str) -> Client:
    client = Client()
    assert client.post("/lapor/pantau/", {"receipt": receipt}).status_code == 302
    return client


def _page(client: Client) -> str:
    return client.get("/lapor/pantau/laporan/").content.decode()


def _data_key(wbs, report: Report) -> bytes:  # type: ignore[no-untyped-def]
    data_key = keys.report_data_key(report, keys.org_private_from_recovery(wbs.org, wbs.recovery))
    assert data_key is not None
    return data_key


def test_reporter_sees_a_real_referral_truthfully(wbs, submit) -> None:
    kpk, officer = _kpk(wbs)
    submitted = submit()
    report = services.transition_report(submitted.report, Status.VERIFICATION, wbs.handler)
    services.assign_report(report, wbs.handler, wbs.handler)
    referral.refer_report(report, kpk, _data_key(wbs, report), wbs.handler)
    page = _page(_reporter(submitted.receipt))
    # Where it went, when, and that the stage shown is the receiver's.
    assert "Inspektorat Uji telah menerima laporan Anda." in page
    assert "Inspektorat Uji sedang memeriksa laporan Anda" in page
    assert "Inspektorat Uji melimpahkan laporan Anda ke KPK Uji" in page
    assert "Laporan Anda dilimpahkan ke KPK Uji pada" in page
    assert "tahapannya sendiri dari awal" in page
    # Stages at KPK are told as KPK's.
    services.transition_report(Report.objects.get(pk=report.pk), Status.VERIFICATION, officer)
    page = _page(_reporter(submitted.receipt))
    assert "KPK Uji sedang memeriksa laporan Anda" in page
    # No internal detail: who handles it.
    assert "handler KANARI7731" not in page and "kpk-officer" not in page


def test_status_referred_set_before_is_not_told_as_a_move(wbs, submit) -> None:
    submitted = submit()
    report = services.transition_report(submitted.report, Status.VERIFICATION, wbs.handler)
    # As a report marked "Referred" from the status list before this was refused.
    Report.objects.filter(pk=report.pk).update(status=Status.REFERRED)
    Event.objects.create(
        report=report,
        created_at=report.received_at,
        kind="status_changed",
        visible_to_reporter=True,
        data={"from": "verification", "to": "referred", "outcome": ""},
    )
    page = _page(_reporter(submitted.receipt))
    assert "menandai laporan Anda sebagai dilimpahkan, tanpa menyebut lembaga" in page
    assert "lembaga lain" not in page and "Ditangani sekarang oleh" not in page


def test_referred_cannot_be_chosen_from_the_status_list(wbs, submit, handler_client) -> None:
    report = services.transition_report(submit().report, Status.VERIFICATION, wbs.handler)
    with pytest.raises(ValidationError):
        services.transition_report(report, Status.REFERRED, wbs.handler)
    url = f"/wbs/{wbs.org.slug}/r/{report.public_id}/"
    page = handler_client.get(url).content.decode()
    status_select = re.search(r'<select name="status".*?</select>', page, re.DOTALL)
    assert status_select is not None and 'value="referred"' not in status_select.group(0)
    handler_client.post(f"{url}status/", {"status": "referred"})
    assert Report.objects.get(pk=report.pk).status == Status.VERIFICATION


def test_the_open_question_notice_ends_when_the_reporter_answers(wbs, submit) -> None:
    submitted = submit()
    report = submitted.report
    data_key = _data_key(wbs, report)
    reporter = _reporter(submitted.receipt)
    assert "Silakan jawab di bawah" not in _page(reporter)
    services.post_message(report, data_key, Message.Kind.QUESTION, "Kapan?", wbs.handler)
    assert "Silakan jawab di bawah" in _page(reporter)
    reporter.post("/lapor/pantau/laporan/", {"body": "Hari Senin lalu."})
    assert "Silakan jawab di bawah" not in _page(reporter)
    services.post_message(report, data_key, Message.Kind.QUESTION, "Di mana?", wbs.handler)
    assert "Silakan jawab di bawah" in _page(reporter)


def test_the_timeline_tells_questions_answers_and_closing(wbs, submit) -> None:
    submitted = submit()
    report = submitted.report
    data_key = _data_key(wbs, report)
    services.post_message(report, data_key, Message.Kind.QUESTION, "Kapan?", wbs.handler)
    services.post_message(report, data_key, Message.Kind.NOTE, "catatan rahasia", wbs.handler)
    services.reporter_reply(report, data_key, "Senin.")
    for step in (Status.VERIFICATION, Status.ASSESSMENT, Status.FOLLOW_UP):
        report = services.transition_report(report, step, wbs.handler)
    services.transition_report(report, Status.CLOSED, wbs.handler, outcome="administrative")
    page = _page(_reporter(submitted.receipt))
    assert "Petugas mengajukan pertanyaan kepada Anda." in page
    assert "Anda mengirim pesan." in page
    assert (
        "Inspektorat Uji menutup laporan Anda. Hasil: Sanksi atau perbaikan administratif." in page
    )
    assert "catatan rahasia" not in page


def test_logout_says_the_report_stays(wbs, submit) -> None:
    page = _page(_reporter(submit().receipt))
    assert "Akhiri sesi (laporan Anda tetap ada)" in page
    assert "tidak ditarik" in page
    assert "Tutup laporan saya" not in page
