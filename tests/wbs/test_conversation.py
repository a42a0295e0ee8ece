"""Reporting and following up over WhatsApp and SMS, end to end through the signed webhooks and the
local fake providers."""

from __future__ import annotations

import json
import re
import time
from itertools import count
from typing import Any

import pytest
from django.test import Client

from cegah.wbs import keys, services
from cegah.wbs.models import Message, Policy, Report
from tests.channels.conftest import (  # noqa: F401 - fixtures
    PAYLOADS,
    TWILIO_TOKEN,
    channels_config,
    fakes,
    graph,
    post_signed,
    twilio,
)

_ids = count(1)


def _message(kind: str, **fields: Any) -> dict[str, Any]:
    data = json.loads((PAYLOADS / "text.json").read_text())
    message = data["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] = f"wamid.CONV{next(_ids):06d}"
    message["timestamp"] = str(int(time.time()))  # inside WhatsApp's 24-hour window
    message.pop("text", None)
    message["type"] = kind
    message.update(fields)
    return data


class Line:
    """A reporter's phone: each message is posted to the signed webhook and its tasks run at once."""

    def __init__(self, capture: Any) -> None:
        self.client = Client()
        self.capture = capture

    def post(self, body: dict[str, Any]) -> None:
        with self.capture(execute=True):
            assert post_signed(self.client, body).status_code == 200

    def say(self, text: str) -> None:
        self.post(_message("text", text={"body": text}))

    def pick(self, reply_id: str, kind: str = "list_reply") -> None:
        self.post(
            _message(
                "interactive", interactive={"type": kind, kind: {"id": reply_id, "title": reply_id}}
            )
        )


def _last_text(fake) -> str:  # type: ignore[no-untyped-def]
    payload = fake.sent[-1]["payload"]
    if payload.get("type") == "text":
        return str(payload["text"]["body"])
    return json.dumps(payload)


@pytest.fixture
def line(wbs, django_capture_on_commit_callbacks) -> Line:  # type: ignore[no-untyped-def]
    Policy.objects.update_or_create(
        organisation=wbs.org, defaults={"receives_channel_reports": True}
    )
    return Line(django_capture_on_commit_callbacks)


def test_whatsapp_report_with_photo_then_follow_up_both_ways(wbs, graph, line) -> None:  # noqa: F811
    from tests.wbs.images import jpeg_with_gps

    line.say("halo")
    assert "Lapor" in json.dumps(graph.sent[-1]["payload"]) or graph.sent
    line.say("LAPOR")
    line.pick("suap")
    line.say("Petugas dinas meminta uang suap agar izin usaha kami cepat keluar.")
    line.say("Pak Joko, kepala seksi, Dinas Perizinan")
    line.say("Kantor Dinas Perizinan Kota Bandar Lampung")
    line.say("Oktober 2026")
    media_id = graph.add_media(jpeg_with_gps(), "image/jpeg")
    line.post(_message("image", image={"id": media_id, "mime_type": "image/jpeg", "sha256": "x"}))
    line.say("SELESAI")
    assert "Pak Joko" in json.dumps(graph.sent[-1]["payload"])  # the summary to confirm
    line.pick("kirim", kind="button_reply")

    report = Report.objects.get()
    assert report.channel == "whatsapp" and report.category == "suap"
    assert report.attachments.count() == 1
    receipt_text = _last_text(graph)
    receipt = re.search(r"(\d{4} \d{4} \d{4} \d{4})", receipt_text).group(1)  # type: ignore[union-attr]
    data_key = keys.report_data_key(report, keys.org_private_from_recovery(wbs.org, wbs.recovery))
    assert data_key is not None
    content = services.decrypt_content(report, data_key)
    assert (
        content["contact"].startswith("whatsapp:") and content["reported"][0]["name"] == "Pak Joko"
    )
    assert b"6281234567890" not in bytes(report.content_ct)

    # The handler asks; the reporter gets it on WhatsApp.
    with line.capture(execute=True):
        services.post_message(
            report, data_key, Message.Kind.QUESTION, "Berapa yang diminta?", wbs.handler
        )
    assert "Berapa yang diminta?" in _last_text(graph)
    # The reporter opens the report with the receipt and answers.
    line.say(f"STATUS {receipt}")
    assert "Diterima" in _last_text(graph) or "Received" in _last_text(graph)
    line.say("Dua juta rupiah.")
    replies = [
        services.decrypt_message(m, data_key)
        for m in report.messages.filter(kind=Message.Kind.REPORTER)
    ]
    assert replies == ["Dua juta rupiah."]


def test_cancel_at_any_step_sends_nothing(wbs, graph, line) -> None:  # noqa: F811
    line.say("LAPOR")
    line.pick("pemerasan")
    line.say("BATAL")
    assert not Report.objects.exists()
    assert "Dibatalkan" in _last_text(graph) or "Cancelled" in _last_text(graph)


def test_english_on_request(wbs, graph, line) -> None:  # noqa: F811
    line.say("EN")
    assert "corruption reporting line" in json.dumps(graph.sent[-1]["payload"])


def test_sms_keyword_flow(wbs, twilio, line) -> None:  # noqa: F811
    from twilio.request_validator import RequestValidator

    url = "https://cegah.example.id/channels/sms/twilio/webhook"

    def sms(body: str, sid: str) -> None:
        params = {
            "MessageSid": sid,
            "From": "+6281211112222",
            "To": "+62800",
            "Body": body,
            "AccountSid": "AC1",
        }
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
        with line.capture(execute=True):
            response = line.client.post(
                "/channels/sms/twilio/webhook", params, headers={"X-Twilio-Signature": signature}
            )
        assert response.status_code == 200

    sms("LAPOR kepala desa memotong bantuan sosial warga Rp50.000 per keluarga", "SM1")
    report = Report.objects.get()
    assert report.channel == "sms"
    assert "Receipt" in str(twilio.sent[-1]) or "Tanda" in str(twilio.sent[-1]) or twilio.sent
    sms("BANTUAN", "SM2")
    assert len(twilio.sent) >= 2


def test_stickers_get_a_polite_answer_and_keep_the_step(wbs, graph, line) -> None:  # noqa: F811
    line.say("LAPOR")
    line.post(
        _message("sticker", sticker={"id": "123", "mime_type": "image/webp", "animated": False})
    )
    assert "BANTUAN" in _last_text(graph)
    line.pick("suap")  # still at the category step
    assert "Apa yang terjadi" in _last_text(graph) or "What happened" in _last_text(graph)


def test_whatsapp_photo_and_follow_up_photo_are_stored_without_gps(wbs, graph, line) -> None:  # noqa: F811
    from tests.wbs.images import AUTHOR, GPS_IFD, MODEL, exif_of, jpeg_with_gps, pixels

    original = jpeg_with_gps()
    line.say("LAPOR")
    line.pick("suap")
    line.say("Petugas dinas meminta uang suap agar izin usaha kami cepat keluar.")
    line.say("-")
    line.say("-")
    line.say("-")
    media_id = graph.add_media(original, "image/jpeg")
    line.post(_message("image", image={"id": media_id, "mime_type": "image/jpeg", "sha256": "x"}))
    line.say("SELESAI")
    line.pick("kirim", kind="button_reply")
    report = Report.objects.get()
    receipt = re.search(r"(\d{4} \d{4} \d{4} \d{4})", _last_text(graph)).group(1)  # type: ignore[union-attr]
    # A second photo, sent while following the report up.
    line.say(f"STATUS {receipt}")
    follow_up_id = graph.add_media(original, "image/jpeg")
    line.post(
        _message("image", image={"id": follow_up_id, "mime_type": "image/jpeg", "sha256": "y"})
    )
    data_key = keys.report_data_key(report, keys.org_private_from_recovery(wbs.org, wbs.recovery))
    assert data_key is not None
    stored = [services.read_attachment(a, data_key)[1] for a in report.attachments.all()]
    assert len(stored) == 2
    for data in stored:
        assert MODEL.encode() not in data and AUTHOR.encode() not in data
        assert exif_of(data).get_ifd(GPS_IFD) == {}
        assert pixels(data) == pixels(original)


def test_whatsapp_follow_up_with_a_damaged_photo_is_answered_and_stores_nothing(
    wbs,
    graph,  # noqa: F811
    line,
) -> None:
    from tests.wbs.images import jpeg_with_gps

    submitted = services.submit_report(
        wbs.org,
        services.ReportInput(
            category="suap", description="Petugas dinas meminta uang suap untuk izin usaha."
        ),
    )
    line.say(f"STATUS {submitted.receipt}")
    jpeg = jpeg_with_gps()
    tables = jpeg.index(b"\xff\xdb")
    damaged = jpeg[:tables] + b"\x00\x00" + jpeg[tables + 2 :]
    media_id = graph.add_media(damaged, "image/jpeg")
    line.post(_message("image", image={"id": media_id, "mime_type": "image/jpeg", "sha256": "z"}))
    reply = _last_text(graph)
    assert reply.startswith("Tidak terkirim ke penangan") and "tangkapan layar" in reply
    assert not submitted.report.attachments.exists()
    assert not submitted.report.messages.exists()
    line.say("Ini tangkapan layarnya nanti saya kirim.")  # the session is still open
    assert submitted.report.messages.count() == 1
