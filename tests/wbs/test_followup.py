"""The reporter's follow-up: the receipt form, the session that slides with use, and a reply
that survives the end of the session."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django.utils.translation import override

from cegah.wbs import keys, services
from cegah.wbs.models import Message, ReporterSession
from tests.wbs.images import small_png
from tests.wbs.test_canary import _dump_database


def _open(client: Client, receipt: str) -> ReporterSession:
    assert client.post("/lapor/pantau/", {"receipt": receipt}).status_code == 302
    return ReporterSession.objects.latest("id")


def test_each_request_of_the_reporter_extends_the_session(wbs, submit, settings) -> None:
    submitted = submit()
    client = Client()
    session = _open(client, submitted.receipt)
    soon = timezone.now() + timedelta(minutes=1)
    ReporterSession.objects.filter(pk=session.pk).update(expires_at=soon)
    response = client.get("/lapor/pantau/laporan/")
    assert response.status_code == 200
    session.refresh_from_db()
    expected = timezone.now() + timedelta(minutes=settings.WBS_SESSION_MINUTES)
    assert abs((session.expires_at - expected).total_seconds()) < 5
    assert response.cookies["cegah_lapor"]["max-age"] == settings.WBS_SESSION_MINUTES * 60


def test_the_session_never_extends_beyond_its_cap(wbs, submit) -> None:
    submitted = submit()
    client = Client()
    session = _open(client, submitted.receipt)
    started = timezone.now() - timedelta(minutes=services.SESSION_MAX_MINUTES - 5)
    ReporterSession.objects.filter(pk=session.pk).update(
        started_at=started, expires_at=timezone.now() + timedelta(minutes=1)
    )
    client.get("/lapor/pantau/laporan/")
    session.refresh_from_db()
    assert session.expires_at == started + timedelta(minutes=services.SESSION_MAX_MINUTES)


def test_a_reply_sent_after_the_session_ended_is_kept_and_sent_with_the_receipt(
    wbs, submit
) -> None:
    submitted = submit()
    client = Client()
    session = _open(client, submitted.receipt)
    ReporterSession.objects.filter(pk=session.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    text = "Uangnya diserahkan di parkiran KANARI-BALASAN-7702 hari Jumat."
    photo = SimpleUploadedFile("parkiran.png", small_png(), "image/png")
    response = client.post("/lapor/pantau/laporan/", {"body": text, "attachments": [photo]})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Sesi Anda berakhir" in page and "kode tanda terima" in page
    assert text in page  # carried in the page…
    assert "parkiran.png" in page  # …the file named, to be chosen again
    assert not Message.objects.filter(kind=Message.Kind.REPORTER).exists()
    assert b"KANARI-BALASAN-7702" not in _dump_database()  # …and nowhere on the server

    sent = client.post(
        "/lapor/pantau/", {"receipt": submitted.receipt, "pending_body": text}, follow=True
    )
    assert sent.status_code == 200
    assert "Pesan Anda sudah terkirim" in sent.content.decode()
    [reply] = Message.objects.filter(kind=Message.Kind.REPORTER)
    data_key = keys.report_data_key(
        submitted.report, keys.org_private_from_recovery(wbs.org, wbs.recovery)
    )
    assert data_key is not None
    assert services.decrypt_message(reply, data_key) == text


def test_an_ended_session_sends_the_reporter_to_the_receipt_form_with_a_word(wbs, submit) -> None:
    submitted = submit()
    client = Client()
    session = _open(client, submitted.receipt)
    ReporterSession.objects.filter(pk=session.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    page = client.get("/lapor/pantau/laporan/", follow=True).content.decode()
    assert "Sesi Anda berakhir" in page and 'name="receipt"' in page


def test_malformed_codes_get_their_own_message_and_are_not_counted(wbs, submit) -> None:
    submitted = submit()
    client = Client()
    for typed, expected in (
        ("1234", "Anda mengetik 4 angka"),
        ("1234 5678 9012 3456 7", "Anda mengetik 17 angka"),
        ("1234 5678 9O12 3456", "hanya berisi angka"),
    ):
        for _ in range(3):  # more than the free wrong guesses
            response = client.post("/lapor/pantau/", {"receipt": typed})
            page = response.content.decode()
            assert response.status_code == 200
            assert expected in page, typed
            assert "tidak membuka laporan" not in page
            assert f'value="{typed}"' in page  # what was typed stays
    # Nothing was counted as a wrong guess: the right code opens the report at once.
    assert client.post("/lapor/pantau/", {"receipt": submitted.receipt}).status_code == 302


def test_wrong_codes_still_slow_down_and_the_wait_keeps_the_code(wbs) -> None:
    client = Client()
    for i in range(3):
        client.post("/lapor/pantau/", {"receipt": f"{i:016d}"})
    response = client.post("/lapor/pantau/", {"receipt": "1111 2222 3333 4444"})
    page = response.content.decode()
    assert response.status_code == 429
    assert re.search(r"tunggu \d+ detik", page)
    assert 'value="1111 2222 3333 4444"' in page


def test_wait_is_said_in_seconds_or_minutes_with_the_right_plural() -> None:
    from cegah.wbs.public_views import _wait_text

    with override("en"):
        assert _wait_text(1) == "For your safety, wait 1 second before you try again."
        assert _wait_text(45) == "For your safety, wait 45 seconds before you try again."
        assert _wait_text(60) == "For your safety, wait 1 minute before you try again."
        assert _wait_text(61) == "For your safety, wait 2 minutes before you try again."
        assert _wait_text(3600) == "For your safety, wait 60 minutes before you try again."
    with override("id"):
        assert _wait_text(3600) == "Demi keamanan Anda, tunggu 60 menit sebelum mencoba lagi."
