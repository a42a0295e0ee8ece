"""WhatsApp Business Cloud API: the webhook (handshake, X-Hub-Signature-256, payload) and sends
through the Graph API ``/{phone-number-id}/messages`` endpoint.

The 2026 payloads carry a business-scoped user id (BSUID, ``contacts[].user_id`` and
``messages[].from_user_id``) and may omit the phone (``wa_id``/``from``) for users with a
username. We key a sender on the user id and fall back to the phone; we reply to a BSUID through
the ``recipient`` field, since ``to`` treats its value as a phone number.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

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
    WindowClosed,
    api_client,
    http_error,
)

if TYPE_CHECKING:
    from django.http import HttpRequest

BSUID = re.compile(r"^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$")
MEDIA_KINDS = {"image", "document", "audio", "video", "sticker"}
# Graph API error codes: throughput and pair limits are "slow down"; these are "not this way".
RATE_LIMIT_CODES = {4, 80007, 130429, 131048, 131056}
PERMANENT_CODES = {100, 131008, 131009, 131021, 131026, 131030, 131045, 131051, 132000, 132001}
WINDOW_CLOSED = 131047
# Service hiccups that Meta reports as errors of their own: try the same recipient again later.
TEMPORARY_CODES = {1, 2, 131000, 131016, 133004}


def _timestamp(raw: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _contact_for(message: dict[str, Any], contacts: list[dict[str, Any]]) -> dict[str, Any]:
    for contact in contacts:
        if (message.get("from") and contact.get("wa_id") == message.get("from")) or (
            message.get("from_user_id") and contact.get("user_id") == message.get("from_user_id")
        ):
            return contact
    return contacts[0] if len(contacts) == 1 else {}


def _content(message: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    """Return our kind for the message and the content worth keeping (sealed later)."""
    raw = message.get(kind)
    body: dict[str, Any] = raw if isinstance(raw, dict) else {}
    content: dict[str, Any] = {}
    if message.get("context", {}).get("id"):
        content["context_id"] = message["context"]["id"]
    if kind == "text":
        content["text"] = str(body.get("body", ""))
        return "text", content
    if kind == "interactive":
        reply = body.get("button_reply") or body.get("list_reply") or {}
        content["reply"] = {"id": str(reply.get("id", "")), "title": str(reply.get("title", ""))}
        content["text"] = content["reply"]["title"]
        return "reply", content
    if kind == "button":  # quick-reply button of a template message
        content["reply"] = {"id": str(body.get("payload", "")), "title": str(body.get("text", ""))}
        content["text"] = content["reply"]["title"]
        return "reply", content
    if kind in MEDIA_KINDS:
        content["media"] = [
            {
                "id": str(body.get("id", "")),
                "mime_type": str(body.get("mime_type", "")),
                "sha256": str(body.get("sha256", "")),
                "filename": str(body.get("filename", "")),
            }
        ]
        if body.get("caption"):
            content["text"] = str(body["caption"])
        return kind, content
    if kind == "location":
        content["location"] = {
            k: body.get(k) for k in ("latitude", "longitude", "name", "address") if k in body
        }
        return "location", content
    if kind == "reaction":
        content["reaction"] = {
            "message_id": body.get("message_id", ""),
            "emoji": body.get("emoji", ""),
        }
        return "reaction", content
    if kind == "system":
        content["system"] = {
            k: body.get(k) for k in ("type", "body", "wa_id", "customer", "user_id") if k in body
        }
        return "system", content
    return "unsupported", content


def parse_payload(payload: Any) -> ParsedWebhook:
    """Return the messages and statuses of a Cloud API webhook body (already JSON-decoded)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry", []), list):
        raise BadWebhook("not a webhook object")
    parsed = ParsedWebhook()
    if payload.get("object") != "whatsapp_business_account":
        return parsed
    for entry in payload.get("entry", []):
        for change in entry.get("changes", []) if isinstance(entry, dict) else []:
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = change.get("value") or {}
            contacts = [c for c in value.get("contacts", []) if isinstance(c, dict)]
            for message in value.get("messages", []):
                if not isinstance(message, dict) or not message.get("id"):
                    parsed.skipped += 1
                    continue
                contact = _contact_for(message, contacts)
                user_id = message.get("from_user_id") or contact.get("user_id") or ""
                wa_id = message.get("from") or contact.get("wa_id") or ""
                sender = str(user_id or wa_id)
                if not sender:
                    parsed.skipped += 1
                    continue
                kind, content = _content(message, str(message.get("type", "unknown")))
                content["sender"] = {
                    "user_id": str(user_id),
                    "wa_id": str(wa_id),
                    "name": str((contact.get("profile") or {}).get("name", "")),
                }
                parsed.messages.append(
                    InboundItem(
                        provider_message_id=str(message["id"]),
                        sender_id=sender,
                        kind=kind,
                        sent_at=_timestamp(message.get("timestamp")),
                        content=content,
                        reply_to=str(wa_id or user_id),
                    )
                )
            for status in value.get("statuses", []):
                if not isinstance(status, dict) or not status.get("id"):
                    parsed.skipped += 1
                    continue
                errors = status.get("errors") or [{}]
                parsed.statuses.append(
                    StatusItem(
                        provider_message_id=str(status["id"]),
                        status=str(status.get("status", "")),
                        at=_timestamp(status.get("timestamp")),
                        error_code=str(errors[0].get("code", "")) if errors else "",
                        reference=str(status.get("biz_opaque_callback_data", "")),
                    )
                )
    return parsed


def sign(body: bytes, app_secret: str) -> str:
    """Return the X-Hub-Signature-256 header value Meta sends for ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _fake_transport() -> httpx.BaseTransport:
    from cegah.channels.providers.fake_whatsapp import fake_graph  # loaded only when used

    return fake_graph().transport()


class WhatsAppCloud(Channel):
    name = "whatsapp"
    provider = "whatsapp_cloud"
    # Every accepted message gets a "sent" status webhook echoing biz_opaque_callback_data.
    confirms_sends = True

    def __init__(self, config: ChannelsConfig, client: httpx.Client | None = None) -> None:
        self.config = config
        self.client = client or api_client(
            config.whatsapp_api_base,
            _fake_transport,
            "http://fake-graph.invalid",
            timeout=config.http_timeout_seconds,
            path=f"/{config.whatsapp_api_version}",
            headers={"Authorization": f"Bearer {config.whatsapp_token}"},
        )

    # --- inbound ---------------------------------------------------------------------------
    def verify_handshake(self, mode: str, token: str) -> bool:
        expected = self.config.whatsapp_verify_token
        return bool(expected) and mode == "subscribe" and hmac.compare_digest(token, expected)

    def verify_inbound(self, request: HttpRequest) -> bool:
        header = request.headers.get("X-Hub-Signature-256", "")
        secret = self.config.whatsapp_app_secret
        if not secret or not header.startswith("sha256="):
            return False
        return hmac.compare_digest(sign(request.body, secret), header)

    def parse_inbound(self, request: HttpRequest) -> ParsedWebhook:
        try:
            payload = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadWebhook("malformed JSON") from exc
        return parse_payload(payload)

    # --- outbound --------------------------------------------------------------------------
    def build_payload(self, message: Outgoing) -> dict[str, Any]:
        payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
        if BSUID.match(message.to):
            payload["recipient"] = message.to
        else:
            payload["to"] = message.to.lstrip("+")
        if message.reference:
            payload["biz_opaque_callback_data"] = message.reference
        if message.template is not None:
            template: dict[str, Any] = {
                "name": message.template.name,
                "language": {"code": message.template.language},
            }
            if message.template.params:
                template["components"] = [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": p} for p in message.template.params
                        ],
                    }
                ]
            payload.update(type="template", template=template)
        elif message.interactive is not None:
            menu = message.interactive
            if menu.button:
                action: dict[str, Any] = {
                    "button": menu.button[:20],
                    "sections": [
                        {
                            "title": menu.button[:24],
                            "rows": [
                                {
                                    "id": c.id,
                                    "title": c.title[:24],
                                    "description": c.description[:72],
                                }
                                for c in menu.choices[:10]
                            ],
                        }
                    ],
                }
                kind = "list"
            else:
                action = {
                    "buttons": [
                        {"type": "reply", "reply": {"id": c.id, "title": c.title[:20]}}
                        for c in menu.choices[:3]
                    ]
                }
                kind = "button"
            payload.update(
                type="interactive",
                interactive={"type": kind, "body": {"text": menu.body}, "action": action},
            )
        else:
            payload.update(type="text", text={"body": message.text, "preview_url": False})
        return payload

    def send(self, message: Outgoing) -> SendResult:
        path = f"/{self.config.whatsapp_phone_number_id}/messages"
        try:
            response = self.client.post(path, json=self.build_payload(message))
        except httpx.HTTPError as exc:
            raise http_error(exc) from exc
        if response.status_code >= 300:
            raise _error(response)
        try:
            return SendResult(str(response.json()["messages"][0]["id"]))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            # Accepted (2xx) but without an id we can read: the status webhook will name it.
            raise TemporaryError("bad_response", maybe_sent=True) from exc

    def download_media(self, media_id: str) -> Media:
        """Fetch ``/{media-id}`` for the short-lived URL, then the bytes (size and hash checked)."""
        limit = self.config.whatsapp_max_media_bytes
        try:
            meta = self.client.get(f"/{media_id}")
            if meta.status_code >= 300:
                raise _error(meta)
            info = meta.json()
            if int(info.get("file_size") or 0) > limit:
                raise PermanentError("too_large")
            with self.client.stream("GET", info["url"], follow_redirects=True) as response:
                if response.status_code >= 300:
                    raise _error(response)
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise PermanentError("too_large")
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise TemporaryError("network") from exc
        except (ValueError, KeyError) as exc:
            raise TemporaryError("bad_response") from exc
        content = b"".join(chunks)
        digest = hashlib.sha256(content).hexdigest()
        if info.get("sha256") and info["sha256"] != digest:
            raise TemporaryError("hash_mismatch")
        return Media(content, str(info.get("mime_type", "application/octet-stream")), digest)

    def rate_per_second(self) -> int:
        return self.config.whatsapp_rate_per_second


def _error(response: httpx.Response) -> ProviderError:
    """Map a Graph API error response to the exception the outbox understands."""
    try:
        error = response.json().get("error", {})
        code = int(error.get("code", 0))
    except (ValueError, AttributeError, TypeError):
        code = 0
    retry_after = _retry_after(response)
    if response.status_code == 429 or code in RATE_LIMIT_CODES:
        return RateLimited(str(code or 429), retry_after=retry_after or 1.0)
    if code == WINDOW_CLOSED:
        return WindowClosed(str(code))
    if code in TEMPORARY_CODES:
        return TemporaryError(str(code))
    if code in PERMANENT_CODES or (response.status_code in (400, 404) and code):
        return PermanentError(str(code))
    if response.status_code in (401, 403):
        # A bad token is our configuration, not the recipient: retry, and the log tells us.
        return TemporaryError(str(code or response.status_code), "authentication")
    return TemporaryError(str(code or response.status_code))


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "0")))
    except ValueError:
        return 0.0
