"""A worker killed mid-send: the outbox reconciles with the provider's status callbacks before it
sends again, so the message goes out once whether or not the provider had accepted it.

"Killed" is a BaseException raised at the exact point a SIGKILL would stop the worker, so no
handler of the outbox runs after it; the row is left as the dead worker left it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from cegah.channels import outbox
from cegah.channels.models import OutboundMessage
from cegah.channels.outbox import (
    apply_status,
    attempt_reference,
    claim,
    claim_many,
    deliver,
    dispatch_due,
    queue_message,
)
from cegah.channels.providers import fake_email
from cegah.channels.providers.base import Outgoing, StatusItem, Template, http_error
from cegah.channels.providers.email import message_id
from cegah.channels.providers.fake_twilio import FakeTwilioAPI
from cegah.channels.providers.fake_whatsapp import FakeGraphAPI
from cegah.channels.providers.twilio_sms import TwilioSms
from cegah.channels.providers.whatsapp import WhatsAppCloud, parse_payload, sign
from tests.channels.conftest import APP_SECRET, WEBHOOK

pytestmark = pytest.mark.django_db
S = OutboundMessage.Status
PHONE = "6281234567890"
WINDOW = 600  # CEGAH_CHANNELS_RECONCILE_SECONDS, the default


class Killed(BaseException):
    """Stands for SIGKILL: nothing in the outbox catches it."""


def die(*args: object, **kwargs: object) -> None:
    raise Killed


def queue(key: str = "k1", **kwargs) -> OutboundMessage:
    defaults = {
        "organisation": None,
        "purpose": "survey.invitation",
        "recipients": [("whatsapp", PHONE), ("sms", "+" + PHONE)],
        "text": "Undangan survei",
        "template": Template("spi_undangan", "id", ("Budi",)),
        "idempotency_key": key,
    }
    defaults.update(kwargs)
    return queue_message(**defaults)


def row(message: OutboundMessage) -> OutboundMessage:
    return OutboundMessage.objects.get(pk=message.pk)


def expire_lease() -> None:
    OutboundMessage.objects.update(lease_until=timezone.now() - timedelta(seconds=1))


def pass_reconcile_window() -> None:
    """Move the unconfirmed attempt and its retry time back past the reconcile window."""
    long_ago = timezone.now() - timedelta(seconds=WINDOW + 1)
    OutboundMessage.objects.filter(attempt_started_at__isnull=False).update(
        attempt_started_at=long_ago, next_attempt_at=timezone.now()
    )


def killed_after_the_provider_accepted(message: OutboundMessage, monkeypatch) -> None:
    """Claim and send ``message``; the worker dies once the provider has answered 200."""
    claimed = claim(message.pk)
    assert claimed is not None
    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_record_sent", die)
        with pytest.raises(Killed):
            outbox._attempt(claimed)


def killed_before_the_provider_accepted(message: OutboundMessage, monkeypatch, channel) -> None:
    """Claim ``message``; the worker dies after marking the attempt, before the request leaves."""
    claimed = claim(message.pk)
    assert claimed is not None
    with monkeypatch.context() as patch:
        patch.setattr(channel, "send", die)
        with pytest.raises(Killed):
            outbox._attempt(claimed)


@pytest.fixture
def send(django_capture_on_commit_callbacks) -> Callable[[int], str]:
    def run(message_id: int) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            return deliver(message_id)

    return run


@pytest.fixture
def webhooks(
    client: Client, graph: FakeGraphAPI, django_capture_on_commit_callbacks
) -> Callable[[], int]:
    """Post the fake Graph API's pending status webhooks to our webhook; return how many."""

    def post(body: bytes, headers: dict[str, str]) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                WEBHOOK,
                data=body,
                content_type="application/json",
                headers={"X-Hub-Signature-256": headers["X-Hub-Signature-256"]},
            ).status_code

    return lambda: graph.deliver_webhooks(post)


@pytest.fixture
def callbacks(
    client: Client, twilio: FakeTwilioAPI, django_capture_on_commit_callbacks
) -> Callable[[], int]:
    """Make the fake Twilio's pending StatusCallback calls to our status URL; return how many."""

    def post(url: str, form: dict[str, str], headers: dict[str, str]) -> int:
        parts = urlsplit(url)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                f"{parts.path}?{parts.query}", data=form, headers=headers
            ).status_code

    return lambda: twilio.deliver_callbacks(post)


# --- the provider accepted, the worker died before recording it -------------------------------
def test_killed_after_the_provider_accepted_is_completed_by_the_callback_not_resent(
    send, graph: FakeGraphAPI, webhooks, monkeypatch
) -> None:
    message = queue()
    killed_after_the_provider_accepted(message, monkeypatch)
    assert len(graph.sent) == 1
    left = row(message)
    assert left.status == S.SENDING and left.attempt_started_at is not None
    assert left.provider_message_id == ""
    # The lease runs out before Meta's webhook arrives: the recovering worker must not send.
    expire_lease()
    assert send(message.pk) == "reconciling"
    assert len(graph.sent) == 1
    parked = row(message)
    assert parked.status == S.QUEUED and parked.next_attempt_at > timezone.now()
    assert parked.attempt_started_at is not None  # still to be reconciled
    # Meta's status webhooks (sent, delivered) echo our reference: that is the outcome.
    assert webhooks() == 2
    done = row(message)
    assert done.status == S.DELIVERED
    assert done.provider_message_id == graph.sent[0]["id"]
    assert done.channel == "whatsapp" and done.provider == "whatsapp_cloud"
    assert done.sent_at is not None and done.attempt_started_at is None
    # Nothing is left to send, even after the reconcile window.
    pass_reconcile_window()
    OutboundMessage.objects.update(next_attempt_at=timezone.now())
    assert dispatch_due(10) == 0
    assert graph.per_reference[attempt_reference(message)] == 1
    assert graph.duplicates() == 0
    assert done.unconfirmed_resends == 0


def test_a_callback_before_the_lease_runs_out_leaves_nothing_to_recover(
    send, graph: FakeGraphAPI, webhooks, monkeypatch
) -> None:
    message = queue()
    killed_after_the_provider_accepted(message, monkeypatch)
    assert webhooks() == 2
    assert row(message).status == S.DELIVERED
    expire_lease()
    assert send(message.pk) == "not_claimed"
    assert len(graph.sent) == 1


def test_killed_after_twilio_accepted_is_completed_by_its_status_callback(
    send, twilio: FakeTwilioAPI, callbacks, monkeypatch
) -> None:
    message = queue(recipients=[("sms", "+" + PHONE)], template=None)
    killed_after_the_provider_accepted(message, monkeypatch)
    assert len(twilio.sent) == 1
    expire_lease()
    assert send(message.pk) == "reconciling"
    assert callbacks() == 2  # sent, delivered; signed over the StatusCallback URL with ?ref=
    done = row(message)
    assert done.status == S.DELIVERED
    assert done.provider_message_id == twilio.sent[0]["sid"]
    assert done.channel == "sms"
    pass_reconcile_window()
    OutboundMessage.objects.update(next_attempt_at=timezone.now())
    assert dispatch_due(10) == 0
    assert twilio.per_reference[attempt_reference(message)] == 1


def test_a_queued_status_from_the_provider_confirms_the_send(
    twilio: FakeTwilioAPI, callbacks, monkeypatch
) -> None:
    twilio.status_flow = ("queued",)  # Twilio's first callback for a Messaging Service send
    message = queue(recipients=[("sms", "+" + PHONE)], template=None)
    killed_after_the_provider_accepted(message, monkeypatch)
    assert callbacks() == 1
    assert row(message).status == S.SENT


# --- the worker died before the provider accepted ----------------------------------------------
def test_killed_before_the_provider_accepted_is_sent_once_after_the_reconcile_window(
    send, graph: FakeGraphAPI, webhooks, monkeypatch
) -> None:
    message = queue()
    killed_before_the_provider_accepted(message, monkeypatch, WhatsAppCloud)
    assert graph.sent == []
    assert row(message).attempt_started_at is not None
    expire_lease()
    assert send(message.pk) == "reconciling"  # it may have gone out: wait for a callback
    assert webhooks() == 0  # none comes
    assert send(message.pk) == "not_claimed"  # not due before the window ends
    pass_reconcile_window()
    assert send(message.pk) == "sent"
    done = row(message)
    assert done.status == S.SENT and done.attempt_started_at is None
    assert done.unconfirmed_resends == 1
    assert graph.per_reference[attempt_reference(message)] == 1
    assert webhooks() == 2
    assert row(message).status == S.DELIVERED


def test_claimed_but_never_attempted_is_sent_as_soon_as_the_lease_runs_out(
    graph: FakeGraphAPI,
) -> None:
    first, second = queue("a"), queue("b")
    assert len(claim_many([first.pk, second.pk])) == 2  # then the worker dies before sending
    expire_lease()
    assert dispatch_due(10) == 2
    assert {row(m).status for m in (first, second)} == {S.SENT}
    assert {row(m).unconfirmed_resends for m in (first, second)} == {0}
    assert graph.duplicates() == 0 and len(graph.per_reference) == 2


def test_mail_has_no_callback_so_it_is_resent_after_the_lease_with_the_same_message_id(
    send, monkeypatch
) -> None:
    message = queue(recipients=[("email", "a@example.id")], template=None)
    killed_after_the_provider_accepted(message, monkeypatch)
    expire_lease()
    assert send(message.pk) == "sent"
    assert len(fake_email.OUTBOX) == 2  # the documented at-least-once edge of email
    first, second = (m.extra_headers["Message-ID"] for m in fake_email.OUTBOX)
    assert first == second == message_id(attempt_reference(message), settings.DEFAULT_FROM_EMAIL)
    assert row(message).unconfirmed_resends == 1


# --- callbacks ---------------------------------------------------------------------------------
def test_repeated_and_reordered_callbacks_change_nothing_more(
    client: Client, graph: FakeGraphAPI, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    message = queue()
    killed_after_the_provider_accepted(message, monkeypatch)
    bodies = graph.webhook_bodies()
    assert [b[1][0]["status"] for b in bodies] == ["sent", "delivered"]
    # Meta retries and does not promise the order: delivered first, then everything again.
    for body, _statuses in [bodies[1], bodies[0], bodies[1], bodies[0]]:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                WEBHOOK,
                data=body,
                content_type="application/json",
                headers=graph.webhook_headers(body),
            )
        assert response.status_code == 200
    done = row(message)
    assert done.status == S.DELIVERED
    assert done.sent_at is not None and done.delivered_at is not None
    assert done.events.count() == 2
    assert done.provider_message_id == graph.sent[0]["id"]


def test_a_late_callback_for_an_earlier_recipient_does_not_confirm_the_current_one(
    send, graph: FakeGraphAPI, twilio: FakeTwilioAPI, monkeypatch
) -> None:
    message = queue()
    assert send(message.pk) == "sent"  # WhatsApp accepted it ...
    wamid = row(message).provider_message_id
    whatsapp_ref = attempt_reference(row(message))
    failed = StatusItem(wamid, "failed", timezone.now(), "131026", reference=whatsapp_ref)
    apply_status("whatsapp_cloud", failed)  # ... then could not deliver it: on to SMS
    assert row(message).recipient_index == 1
    killed_before_the_provider_accepted(message, monkeypatch, TwilioSms)
    # A late "delivered" of the WhatsApp send names recipient 0, not the SMS in doubt.
    late = StatusItem(wamid, "delivered", timezone.now(), reference=whatsapp_ref)
    apply_status("whatsapp_cloud", late)
    left = row(message)
    assert left.status == S.SENDING and left.provider_message_id == ""
    expire_lease()
    assert send(message.pk) == "reconciling"
    pass_reconcile_window()
    assert send(message.pk) == "sent"
    assert row(message).channel == "sms"
    assert twilio.per_reference[attempt_reference(row(message))] == 1


def test_a_timeout_after_the_request_left_is_reconciled_not_retried_blind(
    send, graph: FakeGraphAPI, webhooks, monkeypatch
) -> None:
    original = WhatsAppCloud.send

    def accepted_then_timed_out(self, outgoing):
        original(self, outgoing)  # the fake accepts it; the answer never reaches us
        raise http_error(httpx.ReadTimeout("read timed out"))

    message = queue()
    monkeypatch.setattr(WhatsAppCloud, "send", accepted_then_timed_out)
    assert send(message.pk) == "retry"
    monkeypatch.setattr(WhatsAppCloud, "send", original)
    waiting = row(message)
    assert waiting.status == S.QUEUED and waiting.attempt_started_at is not None
    assert waiting.last_error == "timeout" and waiting.attempts == 1
    # The backoff passes before any callback: the retry waits for the reconcile window.
    OutboundMessage.objects.update(next_attempt_at=timezone.now())
    assert send(message.pk) == "reconciling"
    assert webhooks() == 2
    assert row(message).status == S.DELIVERED
    pass_reconcile_window()
    OutboundMessage.objects.update(next_attempt_at=timezone.now())
    assert dispatch_due(10) == 0
    assert graph.per_reference[attempt_reference(message)] == 1


def test_only_a_failure_to_connect_proves_the_request_never_left() -> None:
    request = httpx.Request("POST", "https://graph.facebook.com/v23.0/1/messages")
    assert not http_error(httpx.ConnectError("refused", request=request)).maybe_sent
    assert not http_error(httpx.ConnectTimeout("slow", request=request)).maybe_sent
    assert http_error(httpx.ReadTimeout("slow", request=request)).maybe_sent
    assert http_error(httpx.RemoteProtocolError("gone", request=request)).maybe_sent


def test_unconfirmed_after_the_last_attempt_falls_back_instead_of_resending(
    send, graph: FakeGraphAPI, twilio: FakeTwilioAPI, monkeypatch
) -> None:
    message = queue()
    killed_before_the_provider_accepted(message, monkeypatch, WhatsAppCloud)
    OutboundMessage.objects.update(attempts=3)  # max_attempts in the test configuration
    expire_lease()
    pass_reconcile_window()
    assert send(message.pk) == "fallback"
    done = row(message)
    assert done.channel == "sms" and done.status == S.SENT
    assert graph.sent == [] and len(twilio.sent) == 1


# --- the fake behaves like Meta ----------------------------------------------------------------
def test_fake_graph_status_webhooks_echo_the_reference_and_are_signed(graph: FakeGraphAPI) -> None:
    channel = WhatsAppCloud(outbox.get_config())
    result = channel.send(Outgoing(to=PHONE, text="x", reference="ref-123.0"))
    [(body, _)] = graph.webhook_bodies()[:1]
    assert graph.webhook_headers(body)["X-Hub-Signature-256"] == sign(body, APP_SECRET)
    statuses = parse_payload(json.loads(body)).statuses
    assert [(s.provider_message_id, s.status, s.reference) for s in statuses] == [
        (result.provider_message_id, "sent", "ref-123.0")
    ]


def test_fake_graph_keeps_a_refused_webhook_for_later(graph: FakeGraphAPI) -> None:
    WhatsAppCloud(outbox.get_config()).send(Outgoing(to=PHONE, text="x", reference="r.0"))
    assert graph.deliver_webhooks(lambda body, headers: 503) == 0
    assert len(graph.pending) == 2
    seen: list[bytes] = []
    assert graph.deliver_webhooks(lambda body, headers: seen.append(body) or 200) == 2
    assert len(seen) == 2 and not graph.pending
