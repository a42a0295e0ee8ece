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
