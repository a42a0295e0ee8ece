"""Configuration of the channels layer, read lazily from ``CEGAH_WHATSAPP_*``, ``CEGAH_TWILIO_*``,
``CEGAH_EMAIL_CHANNEL_*`` and ``CEGAH_CHANNELS_*`` environment variables.

Every knob is one field of ``ChannelsConfig`` with its variable name and help text in the field's
metadata, so the list in docs/settings.md can be checked against ``KNOBS``. The variables are read
through ``cegah.core.env`` (typed, failing loudly) on first use, not at import, and tests replace
the whole configuration with ``override_config`` so they never depend on the environment.

The defaults select the local fake providers (``fake:`` API bases and the in-memory mail backend),
so a laptop works offline; production points the bases at the real APIs.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

FAKE = "fake:"
# How long a send worker may wait inline for a rate-limit token before giving a message back.
INLINE_WAIT_SECONDS = 5.0


def _knob(env: str, help: str, default: Any) -> Any:
    return field(default=default, metadata={"env": env, "help": help})


@dataclass(frozen=True)
class ChannelsConfig:
    # --- WhatsApp Business Cloud API -----------------------------------------------------------
    whatsapp_api_base: str = _knob(
        "CEGAH_WHATSAPP_API_BASE",
        "Graph API base URL (https://graph.facebook.com), or fake: for the in-process fake.",
        FAKE,
    )
    whatsapp_api_version: str = _knob(
        "CEGAH_WHATSAPP_API_VERSION", "Graph API version in request paths.", "v23.0"
    )
    whatsapp_token: str = _knob(
        "CEGAH_WHATSAPP_TOKEN", "WhatsApp Cloud API access token (system user token).", "fake-token"
    )
    whatsapp_phone_number_id: str = _knob(
        "CEGAH_WHATSAPP_PHONE_NUMBER_ID",
        "Phone-number id that sends messages (Graph API /{phone-number-id}/messages).",
        "100000000000001",
    )
    whatsapp_app_secret: str = _knob(
        "CEGAH_WHATSAPP_APP_SECRET",
        "Meta app secret that signs webhooks (X-Hub-Signature-256). Empty refuses every webhook.",
        "cegah-local-app-secret",
    )
    whatsapp_verify_token: str = _knob(
        "CEGAH_WHATSAPP_VERIFY_TOKEN",
        "Verify token of the webhook subscription handshake. Empty refuses the handshake.",
        "cegah-local-verify-token",
    )
    whatsapp_rate_per_second: int = _knob(
        "CEGAH_WHATSAPP_RATE_PER_SECOND",
        "Outbound WhatsApp messages per second, shared by all workers (Cloud API default tier: 80).",
        80,
    )
    whatsapp_templates: str = _knob(
        "CEGAH_WHATSAPP_TEMPLATES",
        "Approved template per purpose for messages outside the 24-hour window: "
        "purpose=name:language, comma separated.",
        "",
    )
    whatsapp_fake_rate_per_second: int = _knob(
        "CEGAH_WHATSAPP_FAKE_RATE_PER_SECOND",
        "Rate limit of the in-process fake Graph API (0: none); it answers 429 / 130429 above it.",
        0,
    )
    whatsapp_max_media_bytes: int = _knob(
        "CEGAH_WHATSAPP_MAX_MEDIA_BYTES", "Largest media file downloaded from WhatsApp.", 16_000_000
    )
    # --- Twilio-compatible SMS -------------------------------------------------------------------
    twilio_api_base: str = _knob(
        "CEGAH_TWILIO_API_BASE",
        "Twilio REST API base URL (https://api.twilio.com), or fake: for the in-process fake.",
        FAKE,
    )
    twilio_account_sid: str = _knob(
        "CEGAH_TWILIO_ACCOUNT_SID", "Twilio account SID.", "ACfake00000000000000000000000000"
    )
    twilio_auth_token: str = _knob(
        "CEGAH_TWILIO_AUTH_TOKEN",
        "Twilio auth token; also validates X-Twilio-Signature. Empty refuses every webhook.",
        "cegah-local-twilio-token",
    )
    twilio_from: str = _knob(
        "CEGAH_TWILIO_FROM",
        "Sender: a phone number (+62…) or a Messaging Service SID (MG…).",
        "+15005550006",
    )
    twilio_rate_per_second: int = _knob(
        "CEGAH_TWILIO_RATE_PER_SECOND", "Outbound SMS per second, shared by all workers.", 10
    )
    # --- Email -----------------------------------------------------------------------------------
    email_backend: str = _knob(
        "CEGAH_EMAIL_CHANNEL_BACKEND",
        "Mail backend class for channel email; empty uses the site's mailer (CEGAH_EMAIL_BACKEND).",
        "cegah.channels.providers.fake_email.FakeEmailBackend",
    )
    email_rate_per_second: int = _knob(
        "CEGAH_EMAIL_CHANNEL_RATE_PER_SECOND", "Outbound emails per second, all workers.", 20
    )
    # --- Common ----------------------------------------------------------------------------------
    channels_key: str = _knob(
        "CEGAH_CHANNELS_KEY",
        "Base64 32-byte key for message content at rest and sender hashes; empty derives one from "
        "CEGAH_DATA_SECRET, else CEGAH_SECRET_KEY (HKDF). Changing it makes pending content unreadable.",
        "",
    )
    public_url: str = _knob(
        "CEGAH_CHANNELS_PUBLIC_URL",
        "Public base URL the providers call (Twilio signs it); empty uses CEGAH_SITE_URL.",
        "",
    )
    http_timeout_seconds: int = _knob(
        "CEGAH_CHANNELS_HTTP_TIMEOUT", "Timeout in seconds of each provider HTTP call.", 10
    )
    lease_seconds: int = _knob(
        "CEGAH_CHANNELS_LEASE_SECONDS",
        "How long a worker owns a claimed message before another may take it over.",
        120,
    )
    reconcile_seconds: int = _knob(
        "CEGAH_CHANNELS_RECONCILE_SECONDS",
        "How long after a send whose worker died the outbox waits for the provider's status "
        "callback before sending it again (WhatsApp, SMS; email is re-sent when the lease ends).",
        600,
    )
    max_attempts: int = _knob(
        "CEGAH_CHANNELS_MAX_ATTEMPTS",
        "Failed attempts on one recipient before falling back to the next one.",
        6,
    )
    retry_base_seconds: int = _knob(
        "CEGAH_CHANNELS_RETRY_BASE_SECONDS", "First retry delay; doubles per attempt.", 15
    )
    inbound_retention_hours: int = _knob(
        "CEGAH_CHANNELS_INBOUND_RETENTION_HOURS",
        "Hours that inbound content no handler consumed is kept before it is deleted.",
        72,
    )

    def __post_init__(self) -> None:
        # A lease shorter than one send lets a second worker take a message over mid-send.
        if self.lease_seconds < self.http_timeout_seconds + INLINE_WAIT_SECONDS + 5:
            from cegah.core.env import ConfigurationError

            raise ConfigurationError(
                "CEGAH_CHANNELS_LEASE_SECONDS must exceed CEGAH_CHANNELS_HTTP_TIMEOUT by at "
                f"least {INLINE_WAIT_SECONDS + 5:g} seconds"
            )
        if self.reconcile_seconds < 0:
            from cegah.core.env import ConfigurationError

            raise ConfigurationError("CEGAH_CHANNELS_RECONCILE_SECONDS must not be negative")

    def template_for(self, purpose: str) -> tuple[str, str] | None:
        """Return (template name, language) configured for ``purpose``, or None."""
        for item in self.whatsapp_templates.split(","):
            key, _, value = item.strip().partition("=")
            if key.strip() == purpose and value:
                name, _, language = value.partition(":")
                return name.strip(), (language.strip() or "id")
        return None


KNOBS = [f for f in dataclasses.fields(ChannelsConfig) if "env" in f.metadata]

_PRODUCTION_DEFAULTS: dict[str, Any] = {
    # In production nothing secret has a usable default and the fakes are never chosen silently.
    "whatsapp_api_base": "https://graph.facebook.com",
    "whatsapp_token": "",
    "whatsapp_app_secret": "",
    "whatsapp_verify_token": "",
    "twilio_api_base": "https://api.twilio.com",
    "twilio_account_sid": "",
    "twilio_auth_token": "",
    "twilio_from": "",
    "email_backend": "",
}


def from_environment(production: bool | None = None) -> ChannelsConfig:
    """Read every knob from the environment through the typed helpers; raise ConfigurationError.

    ``cegah/settings.py`` may call it with ``production=PRODUCTION`` and keep the result as
    ``CHANNELS_CONFIG`` (then the knobs are declared, and checked, at start-up); otherwise it runs
    on first use and asks the settings whether this is production.
    """
    from cegah.core.env import env_int, env_str

    if production is None:
        from django.conf import settings

        production = bool(getattr(settings, "PRODUCTION", False))
    values: dict[str, Any] = {}
    for knob in KNOBS:
        default: Any = knob.default
        if production and knob.name in _PRODUCTION_DEFAULTS:
            default = _PRODUCTION_DEFAULTS[knob.name]
        if knob.type in (int, "int"):
            values[knob.name] = env_int(knob.metadata["env"], default, knob.metadata["help"])
        else:
            values[knob.name] = env_str(knob.metadata["env"], default, knob.metadata["help"])
    return ChannelsConfig(**values)


@functools.cache
def _cached() -> ChannelsConfig:
    from django.conf import settings

    configured = getattr(settings, "CHANNELS_CONFIG", None)
    return configured if isinstance(configured, ChannelsConfig) else from_environment()


_global_override: list[ChannelsConfig] = []


def get_config() -> ChannelsConfig:
    """Return the configuration in force: a test override, else ``settings.CHANNELS_CONFIG``, else
    the environment's (read once)."""
    if _global_override:
        return _global_override[-1]
    return _cached()


@contextmanager
def override_config(
    config: ChannelsConfig | None = None, **changes: Any
) -> Iterator[ChannelsConfig]:
    """Use ``config`` (default: the built-in local defaults) with ``changes`` inside the block."""
    base = config or (_global_override[-1] if _global_override else ChannelsConfig())
    new = dataclasses.replace(base, **changes)
    _global_override.append(new)
    try:
        yield new
    finally:
        _global_override.remove(new)
