"""Plant canary strings in every kind of report content, then look for them everywhere at rest:
the whole database, the attachment storage and the logs. None may be found."""

import logging
import re
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from cegah.wbs import keys, services
from cegah.wbs.models import Message, Report
from tests.wbs.conftest import form_token

CANARIES = {
    "narrative": "KANARI-NARASI-5501",
    "party": "KANARI-TERLAPOR-5502",
    "contact": "KANARI-KONTAK-5503",
    "message": "KANARI-PESAN-5504",
    "reply": "KANARI-BALASAN-5505",
    "attachment_name": "KANARI-BERKAS-5506",
    "attachment_bytes": "KANARI-ISI-BERKAS-5507",
    "note": "KANARI-CATATAN-5508",
}


def _dump_database() -> bytes:
    """Every row of every table, binary columns as raw bytes and as hex, as one blob."""
    chunks: list[bytes] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview | bytearray):
                        raw = bytes(value)
                        chunks += [raw, raw.hex().encode()]
                    else:
                        chunks.append(str(value).encode())
    return b"\n".join(chunks)


def _files(root: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_no_canary_at_rest_or_in_logs(wbs, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    pdf = b"%PDF-1.4\n" + CANARIES["attachment_bytes"].encode() + b"\n%%EOF"
    client = Client()
    response = client.post(
        f"/lapor/{wbs.org.slug}/",
        {
            "submission": form_token(client, f"/lapor/{wbs.org.slug}/"),
            "category": "suap",
            "description": f"Suap di dinas perizinan {CANARIES['narrative']} setiap minggu.",
            "party_count": "1",
            "party_0_name": CANARIES["party"],
            "contact": CANARIES["contact"],
            "consent": "on",
            "attachments": [
                SimpleUploadedFile(
                    f"{CANARIES['attachment_name']}.pdf", pdf, content_type="application/pdf"
                )
            ],
        },
        REMOTE_ADDR="203.0.113.77",
        HTTP_USER_AGENT="KANARI-UA-5509",
    )
    assert response.status_code == 201
    receipt = re.search(rb'class="receipt-code">([\d ]+)<', response.content).group(1).decode()  # type: ignore[union-attr]
    report = Report.objects.get()
    data_key = keys.report_data_key(report, keys.org_private_from_recovery(wbs.org, wbs.recovery))
    assert data_key is not None
    services.post_message(report, data_key, Message.Kind.QUESTION, CANARIES["message"], wbs.handler)
    services.post_message(report, data_key, Message.Kind.NOTE, CANARIES["note"], wbs.handler)
    reporter = Client()
    reporter.post("/lapor/pantau/", {"receipt": receipt}, REMOTE_ADDR="203.0.113.77")
    reporter.post("/lapor/pantau/laporan/", {"body": CANARIES["reply"]}, REMOTE_ADDR="203.0.113.77")

    # The content is really there, encrypted: decrypting finds it.
    assert CANARIES["narrative"] in services.decrypt_content(report, data_key)["description"]

    database = _dump_database()
    storage = _files(Path(settings.MEDIA_ROOT))
    logs = "\n".join(r.getMessage() for r in caplog.records).encode()
    assert storage, "the attachment should be stored (encrypted)"
    for name, canary in CANARIES.items():
        for where, blob in (("database", database), ("storage", storage), ("logs", logs)):
            assert canary.encode() not in blob, f"{name} canary found in {where}"
            assert canary.encode().hex().encode() not in blob, (
                f"{name} canary found hex-encoded in {where}"
            )
    for where, blob in (("database", database), ("logs", logs)):
        assert b"203.0.113.77" not in blob, f"client address stored in {where}"
        assert b"KANARI-UA-5509" not in blob, f"user agent stored in {where}"
    assert receipt.replace(" ", "").encode() not in database
