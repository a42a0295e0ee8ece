"""The WhatsApp webhook: handshake, signatures, idempotent recording, sealed content, kinds."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection
from django.test import Client

from cegah.channels import crypto, inbound
from cegah.channels.models import Conversation, InboundMessage
from tests.channels.conftest import VERIFY_TOKEN, WEBHOOK, payload, post_signed

pytestmark = pytest.mark.django_db


def test_handshake_answers_the_challenge_with_the_right_token(client: Client) -> None:
    response = client.get(
        WEBHOOK,
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
def test_handshake_with_a_wrong_token_gets_403(client: Client, params: dict[str, str]) -> None:
    response = client.get(WEBHOOK, params)
    assert response.status_code == 403
    assert b"1" not in response.content


def test_three_deliveries_of_one_message_record_one_message(
    client: Client, handled: list[inbound.InboundEvent], django_capture_on_commit_callbacks
) -> None:
    body = json.dumps(payload("text")).encode()
    with django_capture_on_commit_callbacks(execute=True):
        responses = [post_signed(client, body) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert InboundMessage.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert len(handled) == 1
    assert handled[0].text == "Ada pungli di kantor desa RAHASIA42"


@pytest.mark.parametrize(
    "signature", ["", "sha256=" + "0" * 64, "sha1=abc", "sha256=not-hex", "garbage"]
)
def test_bad_or_missing_signature_gets_403_and_stores_nothing(
    client: Client, signature: str
) -> None:
    headers = {"X-Hub-Signature-256": signature} if signature else {}
    response = client.post(
        WEBHOOK, data=json.dumps(payload("text")), content_type="application/json", headers=headers
    )
    assert response.status_code == 403
    assert InboundMessage.objects.count() == 0
    assert Conversation.objects.count() == 0


def test_signature_with_another_secret_gets_403(client: Client) -> None:
    response = post_signed(client, payload("text"), secret="someone-elses-secret")
    assert response.status_code == 403
    assert InboundMessage.objects.count() == 0


def test_malformed_json_gets_400_and_a_log_line_without_content(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="cegah.channels"):
        response = post_signed(client, b'{"object": "whatsapp_business_account", "entry": [RAHASIA')
    assert response.status_code == 400
    assert InboundMessage.objects.count() == 0
    assert "malformed" in caplog.text
    assert "RAHASIA" not in caplog.text


def test_content_and_sender_are_never_stored_in_plaintext(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        assert post_signed(client, payload("text")).status_code == 200
    conversation = Conversation.objects.get()
    # Keyed on the business-scoped user id, through a keyed hash only.
    assert conversation.sender_key == crypto.sender_key("whatsapp_cloud", "ID.1502576394655843")
    assert conversation.address() == "6281234567890"  # the phone is where replies go
    with connection.cursor() as cursor:
        dump = []
        for table in ("channels_inboundmessage", "channels_conversation"):
            cursor.execute(f"SELECT * FROM {table}")
            dump.extend(repr(row) for row in cursor.fetchall())
    text = "\n".join(dump)
    for secret in ("RAHASIA42", "6281234567890", "1502576394655843", "Pelapor Uji"):
        assert secret not in text
        assert secret not in caplog.text


def test_message_without_wa_id_is_keyed_on_the_user_id(
    client: Client, handled: list[inbound.InboundEvent], django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, payload("text_without_wa_id")).status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.sender_key == crypto.sender_key("whatsapp_cloud", "ID.998877665544")
    assert conversation.address() == "ID.998877665544"
    assert handled[0].sender_address == "ID.998877665544"
    assert handled[0].content["sender"]["wa_id"] == ""


@pytest.mark.parametrize(
    ("name", "kind", "check"),
    [
        (
            "image",
            "image",
            lambda e: e.media[0]["id"] == "1479537139650973" and e.text == "bukti transfer",
        ),
        ("document", "document", lambda e: e.media[0]["filename"] == "kontrak.pdf"),
        ("button_reply", "reply", lambda e: e.reply_id == "cat_suap"),
        ("list_reply", "reply", lambda e: e.reply_id == "cat_gratifikasi"),
        ("location", "location", lambda e: e.content["location"]["name"] == "Kantor Desa"),
        ("reaction", "reaction", lambda e: e.content["reaction"]["message_id"] == "wamid.OURS01"),
        ("sticker", "sticker", lambda e: e.media[0]["mime_type"] == "image/webp"),
        ("unsupported", "unsupported", lambda e: e.text == ""),
        (
            "user_changed_number",
            "system",
            lambda e: e.content["system"]["type"] == "user_changed_number",
        ),
    ],
)
def test_each_message_kind_reaches_the_handler(
    client: Client,
    handled: list[inbound.InboundEvent],
    django_capture_on_commit_callbacks,
    name: str,
    kind: str,
    check,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, payload(name)).status_code == 200
    assert len(handled) == 1
    assert handled[0].kind == kind
    assert check(handled[0])


def test_consumed_content_is_deleted(
    client: Client, handled: list[inbound.InboundEvent], django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, payload("text"))
    message = InboundMessage.objects.get()
    assert message.status == InboundMessage.Status.PROCESSED
    assert message.handled_by == "test.consume-all"
    assert message.content_sealed is None


def test_unhandled_content_is_kept_sealed_until_the_retention_purge(
    client: Client, django_capture_on_commit_callbacks, channels_config
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, payload("text"))
    message = InboundMessage.objects.get()
    assert message.status == InboundMessage.Status.UNHANDLED
    assert message.content()["text"].endswith("RAHASIA42")
    assert inbound.purge_unconsumed() == 0
    InboundMessage.objects.update(received_at=timezone.now() - timedelta(hours=73))
    assert inbound.purge_unconsumed() == 1
    assert InboundMessage.objects.get().content_sealed is None


def test_a_failing_handler_is_retried_and_nothing_is_lost(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    calls: list[str] = []

    def flaky(event: inbound.InboundEvent) -> bool:
        calls.append(event.text)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return True

    inbound.register_inbound_handler(flaky, name="test.flaky")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            post_signed(client, payload("text"))
        # The inline test backend runs the retry at once; a worker would wait for the backoff.
        message = InboundMessage.objects.get()
        assert message.attempts == 1
    finally:
        inbound.unregister_inbound_handler("test.flaky")
    assert len(calls) == 2
    assert InboundMessage.objects.get().status == InboundMessage.Status.PROCESSED


def test_messages_of_a_conversation_are_handled_in_the_order_written(
    client: Client, handled: list[inbound.InboundEvent], django_capture_on_commit_callbacks
) -> None:
    first = payload("text", **{"wamid.HBgNTEXT01": "wamid.B", "RAHASIA42": "kedua"})
    second = payload("text", **{"wamid.HBgNTEXT01": "wamid.A", "RAHASIA42": "pertama"})
    second["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = "1794999999"
    # Both are recorded before processing starts, as when a worker falls behind.
    post_signed(client, first)
    post_signed(client, second)
    with django_capture_on_commit_callbacks(execute=True):
        inbound.process_conversation(Conversation.objects.get().pk)
    assert [e.text.split()[-1] for e in handled] == ["pertama", "kedua"]


def test_media_is_downloaded_through_the_graph_media_endpoint(
    client: Client, graph, handled: list[inbound.InboundEvent], django_capture_on_commit_callbacks
) -> None:
    media_id = graph.add_media(b"\x89PNG fake bytes", "image/png")
    body = payload("image", **{"1479537139650973": media_id, '"abc"': '""'})
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, body)
    media = handled[0].download_media(handled[0].media[0]["id"])
    assert media.content == b"\x89PNG fake bytes"
    assert media.mime_type == "image/png"


def test_refused_calls_are_limited_per_address_but_signed_calls_never(client: Client) -> None:
    # An address of its own, so that the refusal counter cannot reach the other tests.
    address = {"REMOTE_ADDR": "203.0.113.9"}
    body = json.dumps(payload("text"))
    refused = [
        client.post(
            WEBHOOK,
            data=body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": "sha256=" + "0" * 64},
            **address,
        ).status_code
        for _ in range(61)
    ]
    assert refused == [403] * 60 + [429]
    # A burst of genuine calls from the very same address is recorded in full.
    statuses = [
        post_signed(client, payload("status_sent"), **address).status_code for _ in range(80)
    ]
    assert statuses == [200] * 80
    assert post_signed(client, payload("text"), **address).status_code == 200
    assert InboundMessage.objects.count() == 1
