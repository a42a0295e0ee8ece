"""The outbox: idempotent queueing, fallback, the 24-hour window, retries, rate limits, claims,
stale-lease recovery, delivery statuses and the status signal."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from cegah.channels import crypto, ratelimit
from cegah.channels.models import Conversation, OutboundMessage, RateBucket
from cegah.channels.outbox import (
    apply_status,
    attempt_reference,
    claim,
    deliver,
    dispatch_due,
    queue_message,
)
from cegah.channels.providers import fake_email
from cegah.channels.providers.base import Choice, Interactive, StatusItem, Template
from cegah.channels.signals import message_status_changed
from tests.channels.conftest import payload, post_signed

pytestmark = pytest.mark.django_db
S = OutboundMessage.Status
PHONE = "6281234567890"


def queue(key: str = "k1", **kwargs) -> OutboundMessage:
    defaults = {
        "organisation": None,
        "purpose": "survey.invitation",
        "recipients": [("whatsapp", PHONE), ("sms", "+" + PHONE), ("email", "a@example.id")],
        "text": "Undangan survei RAHASIA99",
        "template": Template("spi_undangan", "id", ("Budi",)),
        "idempotency_key": key,
    }
    defaults.update(kwargs)
    return queue_message(**defaults)


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Deliver as a worker does: outside a transaction, so follow-up sends run at once."""

    def run(message_id: int) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            return deliver(message_id)

    return run


def open_window(address: str = PHONE) -> Conversation:
    conversation = Conversation(
        provider="whatsapp_cloud",
        channel="whatsapp",
        sender_key=crypto.sender_key("whatsapp_cloud", address),
        last_inbound_at=timezone.now() - timedelta(hours=1),
    )
    conversation.address_sealed = crypto.seal(address, conversation.aad("address"))
    conversation.save()
    return conversation


def test_queueing_twice_with_one_key_returns_the_same_message(
    django_capture_on_commit_callbacks, graph
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = queue()
        second = queue(text="something else")
    assert first.pk == second.pk
    assert OutboundMessage.objects.count() == 1
    assert len(graph.sent) == 1  # sent by the task enqueued on commit, once


def test_addresses_and_text_are_sealed(graph) -> None:
    queue()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM channels_outboundmessage")
        dump = repr(cursor.fetchall())
    for secret in (PHONE, "a@example.id", "RAHASIA99", "Budi"):
        assert secret not in dump


def test_outside_the_window_whatsapp_gets_the_template(send, graph) -> None:
    message = queue()
    assert send(message.pk) == "sent"
    sent = graph.sent[0]
    assert sent["type"] == "template"
    assert sent["payload"]["template"]["name"] == "spi_undangan"
    assert sent["payload"]["template"]["components"][0]["parameters"][0]["text"] == "Budi"
    assert sent["reference"] == f"{message.reference}.0"  # the message and its recipient


def test_inside_the_window_whatsapp_gets_free_text(send, graph) -> None:
    message = queue(conversation=open_window())
    send(message.pk)
    assert graph.sent[0]["type"] == "text"
    assert graph.sent[0]["payload"]["text"]["body"] == "Undangan survei RAHASIA99"


def test_window_found_from_the_address_when_no_conversation_is_given(send, graph) -> None:
    open_window()
    send(queue().pk)
    assert graph.sent[0]["type"] == "text"


def test_interactive_buttons_inside_the_window(send, graph) -> None:
    menu = Interactive("Pilih kategori", (Choice("suap", "Suap"), Choice("lain", "Lainnya")))
    message = queue(text="", template=None, interactive=menu, conversation=open_window())
    send(message.pk)
    interactive = graph.sent[0]["payload"]["interactive"]
    assert interactive["type"] == "button"
    assert interactive["action"]["buttons"][0]["reply"] == {"id": "suap", "title": "Suap"}


def test_purpose_template_is_used_when_none_is_given(send, graph, channels_config) -> None:
    from cegah.channels.conf import override_config

    with override_config(whatsapp_templates="wbs.reply=wbs_balasan:id, other=x:en"):
        message = queue(purpose="wbs.reply", template=None)
        send(message.pk)
    assert graph.sent[0]["payload"]["template"]["name"] == "wbs_balasan"


def test_no_template_outside_the_window_falls_back_to_sms(send, graph, twilio) -> None:
    message = queue(template=None)
    assert send(message.pk) == "fallback"  # immediate re-send is inline in tests
    message.refresh_from_db()
    assert graph.sent == []
    assert len(twilio.sent) == 1
    assert message.channel == "sms"
    assert message.status == S.SENT


def test_unreachable_recipients_fall_back_in_order_to_email(send, graph, twilio) -> None:
    graph.unreachable.add(PHONE)
    twilio.unreachable.add("+" + PHONE)
    message = queue()
    send(message.pk)
    message.refresh_from_db()
    assert message.status == S.SENT
    assert message.channel == "email"
    assert fake_email.OUTBOX[0].to == ["a@example.id"]
    assert fake_email.OUTBOX[0].body == "Undangan survei RAHASIA99"


def test_window_closed_by_whatsapp_retries_with_the_template(send, graph) -> None:
    graph.window_closed.add(PHONE)
    message = queue(conversation=open_window())
    send(message.pk)
    assert [s["type"] for s in graph.sent] == ["template"]
    message.refresh_from_db()
    assert message.status == S.SENT


def test_send_is_retried_after_a_provider_error(send, graph) -> None:
    graph.fail_next.append((500, 131000))
    message = queue()
    assert send(message.pk) == "retry"
    message.refresh_from_db()
    assert message.status == S.QUEUED
    assert message.attempts == 1
    assert message.last_error == "131000"
    assert message.next_attempt_at > timezone.now()  # backoff
    assert send(message.pk) == "not_claimed"  # not due yet
    OutboundMessage.objects.update(next_attempt_at=timezone.now())
    assert send(message.pk) == "sent"
    assert graph.per_reference[attempt_reference(message)] == 1


def test_repeated_errors_move_on_to_the_next_recipient(send, graph, twilio) -> None:
    message = queue()
    for _ in range(3):  # max_attempts in the test configuration
        graph.fail_next.append((503, 2))
        send(message.pk)
        OutboundMessage.objects.update(next_attempt_at=timezone.now())
    message.refresh_from_db()
    assert message.channel == "sms"
    assert message.status == S.SENT
    assert len(twilio.sent) == 1


def test_provider_429_is_respected_and_not_counted_as_a_failure(send, graph) -> None:
    graph.fail_next.append((429, 130429))
    message = queue()
    assert send(message.pk) == "rate_limited"
    message.refresh_from_db()
    assert message.status == S.QUEUED
    assert message.attempts == 0
    bucket = RateBucket.objects.get(key="whatsapp_cloud")
    assert bucket.blocked_until is not None and bucket.blocked_until > timezone.now()


def test_fake_rate_limit_answers_429_with_130429(send, graph) -> None:
    graph.reset(rate_per_second=1)
    first, second = queue("a"), queue("b")
    assert send(first.pk) == "sent"
    assert send(second.pk) == "rate_limited"
    assert graph.rate_limited == 1


def test_no_duplicate_send_when_one_message_is_claimed_twice(send, graph) -> None:
    message = queue()
    first = claim(message.pk)
    assert first is not None
    assert claim(message.pk) is None  # a second worker racing for the same row
    assert send(message.pk) == "not_claimed"
    assert graph.sent == []


def test_a_stale_claim_is_recovered_after_the_lease(send, graph) -> None:
    message = queue()
    assert claim(message.pk) is not None  # this worker is then killed mid-send
    assert send(message.pk) == "not_claimed"
    OutboundMessage.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    assert send(message.pk) == "sent"
    message.refresh_from_db()
    assert message.status == S.SENT
    assert message.claims == 2
    assert graph.per_reference[attempt_reference(message)] == 1


def test_a_worker_that_lost_its_lease_cannot_overwrite_the_outcome(send, graph) -> None:
    message = queue()
    stale = claim(message.pk)
    assert stale is not None
    OutboundMessage.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    assert send(message.pk) == "sent"
    from cegah.channels.outbox import _finish_failed

    _finish_failed(stale, "late")
    message.refresh_from_db()
    assert message.status == S.SENT


def test_dispatch_due_sends_everything_due(graph) -> None:
    for i in range(5):
        queue(f"m{i}")
    assert dispatch_due(10) == 5
    assert len(graph.per_reference) == 5
    assert graph.duplicates() == 0


def test_shared_token_bucket_limits_the_rate() -> None:
    waits = [ratelimit.acquire("test", 10) for _ in range(3)]
    assert waits[0] == 0.0
    assert waits[-1] > 0.0  # burst of 2 at 10/s, then wait


def test_status_callbacks_move_forward_and_signal(
    send, client: Client, graph, django_capture_on_commit_callbacks
) -> None:
    message = queue()
    send(message.pk)
    message.refresh_from_db()
    seen: list[tuple[str, str]] = []

    def receiver(sender, message, status, previous, **kwargs) -> None:
        seen.append((previous, status))

    message_status_changed.connect(receiver)
    try:
        for status in ("delivered", "read", "delivered", "sent"):
            body = payload(
                f"status_{status}",
                STATUS_PLACEHOLDER=message.provider_message_id.removeprefix("wamid."),
                REFERENCE_PLACEHOLDER=str(message.reference),
            )
            with django_capture_on_commit_callbacks(execute=True):
                assert post_signed(client, body).status_code == 200
    finally:
        message_status_changed.disconnect(receiver)
    message.refresh_from_db()
    assert message.status == S.READ
    assert message.delivered_at is not None and message.read_at is not None
    assert message.events.count() == 3  # sent, delivered, read: the repeat is dropped
    assert seen == [("sent", "delivered"), ("delivered", "read")]


def test_failed_status_falls_back_to_the_next_recipient(
    send, client: Client, graph, twilio, django_capture_on_commit_callbacks
) -> None:
    message = queue()
    send(message.pk)
    message.refresh_from_db()
    body = payload(
        "status_failed",
        STATUS_PLACEHOLDER=message.provider_message_id.removeprefix("wamid."),
        REFERENCE_PLACEHOLDER=str(message.reference),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, body).status_code == 200
    message.refresh_from_db()
    assert message.channel == "sms"
    assert message.status == S.SENT
    assert len(twilio.sent) == 1


def test_status_for_a_send_the_worker_has_not_recorded_is_matched_by_reference(graph) -> None:
    message = queue()
    claimed = claim(message.pk)
    assert claimed is not None
    # A bare message reference (as sent before recipient indexes) still names the current send.
    item = StatusItem("wamid.EARLY", "delivered", timezone.now(), reference=str(message.reference))
    assert apply_status("whatsapp_cloud", item) is not None
    message.refresh_from_db()
    assert message.provider_message_id == "wamid.EARLY"
    assert message.status == S.DELIVERED


def test_a_lease_shorter_than_a_send_is_refused() -> None:
    from cegah.channels.conf import ChannelsConfig
    from cegah.core.env import ConfigurationError

    with pytest.raises(ConfigurationError, match="LEASE"):
        ChannelsConfig(lease_seconds=12, http_timeout_seconds=10)


def test_unknown_status_is_ignored() -> None:
    item = StatusItem("wamid.UNKNOWN", "delivered", timezone.now())
    assert apply_status("whatsapp_cloud", item) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"recipients": []},
        {"recipients": [("fax", "1")]},
        {"recipients": [("sms", " ")]},
        {"text": "", "template": None},
        {"idempotency_key": ""},
    ],
)
def test_bad_input_is_refused(kwargs) -> None:
    with pytest.raises(ValueError):
        queue(**kwargs)


def test_staff_message_is_audited_without_content(personas) -> None:
    from cegah.core.models import AuditEntry

    queue(organisation=personas.org, actor=personas.handler)
    entry = AuditEntry.objects.get(action="channels.message.queued")
    assert PHONE not in json.dumps(entry.details)
    assert entry.details["channels"] == "whatsapp,sms,email"


def test_queue_many_inserts_once_and_drains(graph, django_capture_on_commit_callbacks) -> None:
    from cegah.channels.outbox import Bulk, queue_many

    items = [
        Bulk([("whatsapp", f"62812000{i:04d}")], f"inv-{i}", template=Template("spi_undangan"))
        for i in range(20)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_many(organisation=None, purpose="survey.invitation", messages=items) == 20
    assert (
        queue_many(organisation=None, purpose="survey.invitation", messages=items, drainers=0) == 0
    )
    assert OutboundMessage.objects.filter(status=S.SENT).count() == 20
    assert len(graph.per_reference) == 20 and graph.duplicates() == 0


def test_a_send_confirmed_by_callback_is_not_repeated_after_a_crash(send, graph) -> None:
    message = queue()
    assert claim(message.pk) is not None
    # The worker sent it and died before recording; the provider's callback names our reference.
    item = StatusItem("wamid.BEFORECRASH", "sent", timezone.now(), reference=str(message.reference))
    apply_status("whatsapp_cloud", item)
    OutboundMessage.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    assert send(message.pk) == "not_claimed"  # the callback already completed it
    message.refresh_from_db()
    assert message.status == S.SENT
    assert message.provider_message_id == "wamid.BEFORECRASH"
    assert graph.sent == []


def test_a_claim_too_short_for_a_send_is_given_back_unsent(graph) -> None:
    from cegah.channels.outbox import _attempt

    message = queue()
    claimed = claim(message.pk)
    assert claimed is not None
    # Claimed in a group, it waited behind the others: too little lease is left for a send.
    claimed.lease_until = timezone.now() + timedelta(seconds=3)
    OutboundMessage.objects.update(lease_until=claimed.lease_until)
    assert _attempt(claimed) == "retry"
    message.refresh_from_db()
    assert message.status == S.QUEUED and message.attempts == 0
    assert graph.sent == []


def test_workers_share_the_rate_through_tokens_taken_in_advance(graph) -> None:
    from cegah.channels import outbox

    outbox._TOKENS.clear()
    assert outbox._take_token("test-pool", 100) == 0.0  # takes 5 from the bucket, keeps 4
    assert RateBucket.objects.get(key="test-pool").tokens == pytest.approx(15.0, abs=0.1)
    for _ in range(4):
        assert outbox._take_token("test-pool", 100) == 0.0
    assert RateBucket.objects.get(key="test-pool").tokens == pytest.approx(15.0, abs=0.1)
    outbox._TOKENS.clear()
