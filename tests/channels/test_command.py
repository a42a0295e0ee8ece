from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from cegah.channels.models import OutboundMessage
from cegah.channels.outbox import queue_message
from cegah.channels.providers.base import Template

pytestmark = pytest.mark.django_db


def test_drain_until_empty_sends_everything_queued(graph) -> None:
    for i in range(3):
        queue_message(
            organisation=None,
            purpose="survey.invitation",
            recipients=[("whatsapp", f"62812{i:08d}")],
            template=Template("spi_undangan"),
            idempotency_key=f"cmd-{i}",
        )
    out = StringIO()
    call_command("channels", "drain", "--until-empty", "--idle", "0", stdout=out)
    assert "drained 3" in out.getvalue()
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {"sent"}
    assert graph.duplicates() == 0


def test_sweep_reports_what_it_enqueued() -> None:
    out = StringIO()
    call_command("channels", "sweep", stdout=out)
    assert out.getvalue().strip() == "outbound 0, inbound 0"


def test_the_served_fake_answers_over_http_after_its_latency() -> None:
    import threading
    import time

    import httpx

    from cegah.channels.providers.fake_whatsapp import FakeGraphAPI, serve

    server = serve(FakeGraphAPI(), latency=0.2)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        started = time.monotonic()
        response = httpx.post(
            base + "/v21.0/123/messages",
            json={
                "messaging_product": "whatsapp",
                "to": "6281234567890",
                "type": "text",
                "text": {"body": "halo"},
            },
            timeout=5,
        )
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200
    assert response.json()["messages"][0]["id"]
    assert elapsed >= 0.2
