"""The Twilio SMS webhooks: X-Twilio-Signature over the public URL, TwiML, status callbacks."""

from __future__ import annotations

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from cegah.channels import inbound
from cegah.channels.models import InboundMessage, OutboundMessage
from cegah.channels.outbox import deliver, queue_message
from tests.channels.conftest import TWILIO_TOKEN

pytestmark = pytest.mark.django_db

INBOUND = "/channels/sms/twilio/webhook"
STATUS = "/channels/sms/twilio/status"
FORM = {
    "MessageSid": "SM0123456789abcdef0123456789abcdef",
    "AccountSid": "ACfake00000000000000000000000000",
    "From": "+6281298765432",
    "To": "+15005550006",
    "Body": "LAPOR ada pungli RAHASIA77",
    "NumMedia": "0",
}


def signed_post(client: Client, path: str, form: dict[str, str], token: str = TWILIO_TOKEN):
    signature = RequestValidator(token).compute_signature(f"https://cegah.example.id{path}", form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def test_inbound_sms_is_recorded_once_and_answered_with_twiml(
    client: Client, handled: list[inbound.InboundEvent], django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        responses = [signed_post(client, INBOUND, FORM) for _ in range(3)]
    assert {r.status_code for r in responses} == {200}
    assert responses[0]["Content-Type"] == "application/xml"
    assert b"<Response" in responses[0].content
    assert InboundMessage.objects.count() == 1
    assert len(handled) == 1
    assert handled[0].text == "LAPOR ada pungli RAHASIA77"
    assert handled[0].sender_address == "+6281298765432"


@pytest.mark.parametrize("token", ["wrong-token", ""])
def test_bad_twilio_signature_gets_403_and_stores_nothing(client: Client, token: str) -> None:
    if token:
        response = signed_post(client, INBOUND, FORM, token=token)
    else:
        response = client.post(INBOUND, data=FORM)
    assert response.status_code == 403
    assert InboundMessage.objects.count() == 0


def test_signature_over_another_url_gets_403(client: Client) -> None:
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        "https://evil.example.com" + INBOUND, FORM
    )
    response = client.post(INBOUND, data=FORM, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_sms_is_sent_through_the_rest_api_and_status_callbacks_update_it(
    client: Client, twilio, django_capture_on_commit_callbacks
) -> None:
    message = queue_message(
        organisation=None,
        purpose="test",
        recipients=[("sms", "+6281298765432")],
        text="Halo",
        idempotency_key="sms-1",
    )
    assert deliver(message.pk) == "sent"
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert twilio.sent[0]["to"] == "+6281298765432"
    assert twilio.per_reference[f"{message.reference}.0"] == 1
    path = f"{STATUS}?ref={message.reference}.0"
    form = {"MessageSid": message.provider_message_id, "MessageStatus": "delivered"}
    assert signed_post(client, path, form).status_code == 204
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.DELIVERED
    assert message.delivered_at is not None
