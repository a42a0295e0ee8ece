"""The one ``Channel`` interface every provider module implements, and the values it exchanges.

A provider module verifies and parses what its provider posts to our webhooks, and sends what the
outbox hands it. It holds no state of its own and touches no model: recording, idempotency,
retries and rate limits belong to the services (``cegah.channels.inbound`` and ``.outbox``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from cegah.channels.conf import FAKE

if TYPE_CHECKING:
    from django.http import HttpRequest


def api_client(
    api_base: str,
    fake_transport: Callable[[], httpx.BaseTransport],
    fake_base: str,
    *,
    timeout: float,
    path: str = "",
    **options: Any,
) -> httpx.Client:
    """Return the HTTP client of a provider's API.

    ``api_base`` ``fake:`` selects the local fake (``fake_transport()``, in-process, reached at
    ``fake_base``); anything else is the real API's base URL. ``path`` is appended to the base;
    ``options`` (auth, headers) go to ``httpx.Client``.
    """
    if api_base.startswith(FAKE):
        transport: httpx.BaseTransport | None = fake_transport()
        base = fake_base
    else:
        transport, base = None, api_base.rstrip("/")
    return httpx.Client(
        base_url=f"{base}{path}", transport=transport, timeout=httpx.Timeout(timeout), **options
    )


# --- Errors a send may raise; the outbox decides what each means for the message --------------
class ProviderError(Exception):
    """A send failed. ``code`` is the provider's error code (never message content).

    ``maybe_sent`` is True when the request may have reached the provider and been accepted all
    the same (a read timeout, a connection lost after the request went out, a 2xx answer we
    could not read): the outbox then reconciles before it sends again instead of retrying blind.
    """

    retryable = True

    def __init__(self, code: str = "", detail: str = "", *, maybe_sent: bool = False) -> None:
        super().__init__(f"{code} {detail}".strip())
        self.code = code
        self.maybe_sent = maybe_sent


class TemporaryError(ProviderError):
    """Network error, timeout or 5xx: the same recipient may work later."""


def http_error(exc: Exception) -> TemporaryError:
    """Map an httpx exception raised by a send to a TemporaryError, saying whether it may have
    been delivered: only a failure to connect proves that the provider never saw the request."""
    import httpx

    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return TemporaryError("network" if isinstance(exc, httpx.ConnectError) else "timeout")
    code = "timeout" if isinstance(exc, httpx.TimeoutException) else "network"
    return TemporaryError(code, maybe_sent=True)


class RateLimited(ProviderError):
    """The provider said slow down (HTTP 429, WhatsApp 130429/131056, Twilio 20429)."""

    def __init__(self, code: str = "", detail: str = "", retry_after: float = 1.0) -> None:
        super().__init__(code, detail)
        self.retry_after = retry_after


class PermanentError(ProviderError):
    """The recipient cannot be reached this way (bad number, not on WhatsApp, unsubscribed)."""

    retryable = False


class WindowClosed(PermanentError):
    """WhatsApp refused free-form text outside the 24-hour window (131047): use a template."""


class BadWebhook(Exception):
    """The webhook body is malformed (HTTP 400)."""


# --- Outbound ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Template:
    """An approved WhatsApp template: body parameters fill {{1}}, {{2}}, … in order."""

    name: str
    language: str = "id"
    params: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "language": self.language, "params": list(self.params)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Template:
        return cls(data["name"], data.get("language", "id"), tuple(data.get("params", ())))


@dataclass(frozen=True)
class Choice:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class Interactive:
    """Reply buttons (up to 3 choices) or a list (up to 10 rows, one ``button`` label to open it)."""

    body: str
    choices: tuple[Choice, ...]
    button: str = ""  # non-empty: a list message opened by this label

    def as_json(self) -> dict[str, Any]:
        return {
            "body": self.body,
            "button": self.button,
            "choices": [[c.id, c.title, c.description] for c in self.choices],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Interactive:
        return cls(data["body"], tuple(Choice(*c) for c in data["choices"]), data.get("button", ""))

    def as_text(self) -> str:
        """Plain rendering for channels without buttons: the body and numbered choices."""
        lines = [self.body, *(f"{i}. {c.title}" for i, c in enumerate(self.choices, 1))]
        return "\n".join(lines)


@dataclass(frozen=True)
class Outgoing:
    """One message to one address, already decided: exactly one of text/template/interactive."""

    to: str
    text: str = ""
    template: Template | None = None
    interactive: Interactive | None = None
    subject: str = ""
    # Our id of this message to this recipient (``<message reference>.<recipient index>``),
    # echoed back by the provider in status callbacks where it can be.
    reference: str = ""
    status_callback_url: str = ""


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    status: str = "sent"


# --- Inbound -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class InboundItem:
    """One message a user sent. ``content`` is sensitive and is sealed before it is stored."""

    provider_message_id: str
    sender_id: str  # the key of the conversation: business-scoped user id, else phone
    kind: str
    sent_at: datetime | None
    content: dict[str, Any] = field(default_factory=dict)
    reply_to: str = ""  # where answers go (phone if known, else the user id); default sender_id


@dataclass(frozen=True)
class StatusItem:
    """A delivery status of one of our messages, as the provider reported it."""

    provider_message_id: str
    status: str  # sent / delivered / read / failed
    at: datetime | None
    error_code: str = ""
    reference: str = ""


@dataclass
class ParsedWebhook:
    messages: list[InboundItem] = field(default_factory=list)
    statuses: list[StatusItem] = field(default_factory=list)
    skipped: int = 0  # entries we could not use (no sender id, unknown fields)


@dataclass(frozen=True)
class Media:
    content: bytes
    mime_type: str
    sha256: str = ""


class Channel(ABC):
    """What every provider module offers. ``name`` is the channel (whatsapp, sms, email) and
    ``provider`` the implementation (whatsapp_cloud, twilio, email), used for idempotency keys and
    shared rate limits."""

    name: ClassVar[str]
    provider: ClassVar[str]
    supports_inbound: ClassVar[bool] = True
    # True when the provider posts a status callback for every send it accepted, carrying
    # ``Outgoing.reference`` (WhatsApp's biz_opaque_callback_data, Twilio's StatusCallback URL):
    # a send whose worker died before recording it is then confirmed by the callback, and the
    # outbox waits CEGAH_CHANNELS_RECONCILE_SECONDS for it before sending again.
    confirms_sends: ClassVar[bool] = False

    @abstractmethod
    def verify_inbound(self, request: HttpRequest) -> bool:
        """Return True if the request carries the provider's valid signature. Constant time."""

    @abstractmethod
    def parse_inbound(self, request: HttpRequest) -> ParsedWebhook:
        """Return the messages and statuses in a verified request; raise BadWebhook."""

    @abstractmethod
    def send(self, message: Outgoing) -> SendResult:
        """Send one message; return the provider's id or raise a ProviderError subclass."""

    def download_media(self, media_id: str) -> Media:
        """Return the bytes of an inbound attachment; raise ProviderError."""
        raise PermanentError("unsupported", "this channel has no media")

    def rate_per_second(self) -> int:
        """Shared send rate across all workers (0: unlimited)."""
        return 0
