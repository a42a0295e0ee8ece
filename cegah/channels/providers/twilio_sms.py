"""Twilio-compatible SMS: webhook signature (X-Twilio-Signature over the public URL and the form
fields), inbound messages and delivery-status callbacks, TwiML replies, and sends through the REST
API ``/2010-04-01/Accounts/{sid}/Messages.json`` at a configurable base URL.

An Indonesian aggregator with a Twilio-compatible API needs only a different base URL; one with its
own API is a sibling module of this one (see docs/channels.md).
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from cegah.channels.conf import ChannelsConfig
from cegah.channels.providers.base import (
    BadWebhook,
    Channel,
    InboundItem,
    Media,
    Outgoing,
    ParsedWebhook,
    PermanentError,
    ProviderError,
    RateLimited,
    SendResult,
    StatusItem,
    TemporaryError,
    api_client,
    http_error,
)

if TYPE_CHECKING:
    from django.http import HttpRequest

# Twilio error codes that mean "this number cannot get this SMS".
PERMANENT_CODES = {21211, 21214, 21408, 21610, 21612, 21614, 30003, 30004, 30005, 30006, 30007}
STATUS_MAP = {
    "accepted": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
}


def public_url(config: ChannelsConfig, request: HttpRequest) -> str:
    """Return the URL Twilio called, as it signed it: the configured public base plus the path."""
    from django.conf import settings

    base = (config.public_url or settings.SITE_URL).rstrip("/")
    return base + request.get_full_path()


def empty_twiml() -> str:
    """Return an empty TwiML answer: replies go through the outbox, not the webhook response."""
    return str(MessagingResponse())


def _fake_transport() -> httpx.BaseTransport:
    from cegah.channels.providers.fake_twilio import fake_twilio  # loaded only when used

    return fake_twilio().transport()


class TwilioSms(Channel):
    name = "sms"
    provider = "twilio"
    # Every send names a StatusCallback URL carrying our reference (?ref=), which Twilio calls.
    confirms_sends = True

    def __init__(self, config: ChannelsConfig, client: httpx.Client | None = None) -> None:
        self.config = config
        self.client = client or api_client(
            config.twilio_api_base,
            _fake_transport,
            "http://fake-twilio.invalid",
            timeout=config.http_timeout_seconds,
            auth=(config.twilio_account_sid, config.twilio_auth_token),
        )

    def verify_inbound(self, request: HttpRequest) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        token = self.config.twilio_auth_token
        if not token or not signature:
            return False
        validator = RequestValidator(token)
        expected = validator.compute_signature(
            public_url(self.config, request), request.POST.dict()
        )
        return hmac.compare_digest(expected, signature)

    def parse_inbound(self, request: HttpRequest) -> ParsedWebhook:
        form = request.POST
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        if not sid:
            raise BadWebhook("no MessageSid")
        parsed = ParsedWebhook()
        if "MessageStatus" in form and "Body" not in form:
            reference = parse_qs(urlsplit(request.get_full_path()).query).get("ref", [""])[0]
            parsed.statuses.append(
                StatusItem(
                    provider_message_id=sid,
                    status=STATUS_MAP.get(form["MessageStatus"], form["MessageStatus"]),
                    at=datetime.now(tz=UTC),
                    error_code=form.get("ErrorCode", ""),
                    reference=reference,
                )
            )
            return parsed
        sender = form.get("From", "")
        if not sender:
            parsed.skipped += 1
            return parsed
        try:
            media_count = min(int(form.get("NumMedia", "0") or 0), 10)
        except ValueError:
            media_count = 0
        media = [
            {"id": form.get(f"MediaUrl{i}", ""), "mime_type": form.get(f"MediaContentType{i}", "")}
            for i in range(media_count)
        ]
        content: dict[str, Any] = {"text": form.get("Body", ""), "sender": {"phone": sender}}
        if media:
            content["media"] = media
        parsed.messages.append(
            InboundItem(
                provider_message_id=sid,
                sender_id=sender,
                kind="text" if not media else "media",
                sent_at=datetime.now(tz=UTC),
                content=content,
            )
        )
        return parsed

    def send(self, message: Outgoing) -> SendResult:
        text = message.text
        if message.interactive is not None:
            text = message.interactive.as_text()
        if not text:
            raise PermanentError("no_text", "SMS needs text")
        data = {"To": message.to, "Body": text}
        sender = self.config.twilio_from
        data["MessagingServiceSid" if sender.startswith("MG") else "From"] = sender
        if message.status_callback_url:
            data["StatusCallback"] = message.status_callback_url
        path = f"/2010-04-01/Accounts/{self.config.twilio_account_sid}/Messages.json"
        try:
            response = self.client.post(path, data=data)
        except httpx.HTTPError as exc:
            raise http_error(exc) from exc
        if response.status_code >= 300:
            raise _error(response)
        try:
            body = response.json()
            return SendResult(str(body["sid"]), STATUS_MAP.get(body.get("status", ""), "sent"))
        except (ValueError, KeyError, TypeError) as exc:
            raise TemporaryError("bad_response", maybe_sent=True) from exc

    def download_media(self, media_id: str) -> Media:
        """Fetch a MediaUrl (``media_id``) with the account's credentials."""
        try:
            response = self.client.get(media_id, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise TemporaryError("network") from exc
        if response.status_code >= 300:
            raise _error(response)
        return Media(response.content, response.headers.get("Content-Type", ""))

    def rate_per_second(self) -> int:
        return self.config.twilio_rate_per_second


def _error(response: httpx.Response) -> ProviderError:
    try:
        code = int(response.json().get("code") or 0)
    except (ValueError, AttributeError, TypeError):
        code = 0
    if response.status_code == 429 or code == 20429:
        try:
            retry_after = float(response.headers.get("Retry-After", "1"))
        except ValueError:
            retry_after = 1.0
        return RateLimited(str(code or 429), retry_after=retry_after)
    if code in PERMANENT_CODES:
        return PermanentError(str(code))
    return TemporaryError(str(code or response.status_code))
