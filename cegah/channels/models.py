"""Channels models: inbound messages, conversations, the outbox and shared rate buckets.

The encryption boundary: everything a person wrote or that identifies them (text, phone, user id,
media ids, names, conversation state, outbound addresses and text) is sealed with
``cegah.channels.crypto`` into ``*_sealed`` columns. Routing and statistics metadata (provider,
kind, status, purpose, organisation, times) stays plaintext.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cegah.channels import crypto

WINDOW = timedelta(hours=24)


class Conversation(models.Model):
    """One sender on one provider, keyed by a keyed hash of their id (never the raw id)."""

    provider = models.CharField(_("provider"), max_length=32)
    channel = models.CharField(_("channel"), max_length=16)
    sender_key = models.CharField(max_length=64)
    address_sealed = models.BinaryField()
    state_sealed = models.BinaryField(null=True, blank=True)
    # Which handler owns the conversation (e.g. "wbs"); empty until one claims it.
    purpose = models.CharField(_("purpose"), max_length=32, blank=True)
    organisation = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(_("language"), max_length=8, default="id")
    last_inbound_at = models.DateTimeField(_("last inbound message"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.UniqueConstraint(fields=["provider", "sender_key"], name="channels_conv_sender")
        ]

    def __str__(self) -> str:
        return f"{self.provider} conversation #{self.pk}"

    def aad(self, what: str) -> str:
        return f"conversation:{what}:{self.provider}:{self.sender_key}"

    def address(self) -> str:
        """Return the address to reply to (phone or business-scoped user id)."""
        return str(crypto.unseal(self.address_sealed, self.aad("address")))

    def get_state(self) -> dict[str, Any]:
        """Return the decrypted handler state (empty dict when none)."""
        if self.state_sealed is None:
            return {}
        return dict(crypto.unseal(self.state_sealed, self.aad("state")))

    def set_state(self, state: dict[str, Any]) -> None:
        """Seal and save ``state`` (callers run inside their transaction)."""
        self.state_sealed = crypto.seal(state, self.aad("state"))
        self.updated_at = timezone.now()
        self.save(update_fields=["state_sealed", "updated_at"])

    def window_open(self, now: datetime | None = None) -> bool:
        """True while free-form WhatsApp messages are allowed (24 h after the last inbound)."""
        if self.last_inbound_at is None:
            return False
        return (now or timezone.now()) < self.last_inbound_at + WINDOW


class InboundMessage(models.Model):
    """One message received from a provider, recorded once per (provider, provider message id)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PROCESSED = "processed", _("processed")
        UNHANDLED = "unhandled", _("no handler")
        FAILED = "failed", _("failed")

    provider = models.CharField(_("provider"), max_length=32)
    provider_message_id = models.CharField(max_length=128)
    channel = models.CharField(_("channel"), max_length=16)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="inbound_messages"
    )
    kind = models.CharField(_("kind"), max_length=16)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    # Deleted (set to NULL) once a handler has consumed the message.
    content_sealed = models.BinaryField(null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    handled_by = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_message_id"], name="channels_inbound_once"
            )
        ]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} #{self.pk}"

    @staticmethod
    def aad_for(provider: str, provider_message_id: str) -> str:
        return f"inbound:{provider}:{provider_message_id}"

    def content(self) -> dict[str, Any]:
        """Return the decrypted content; raise ContentUnreadable once it has been deleted."""
        return dict(
            crypto.unseal(
                self.content_sealed, self.aad_for(self.provider, self.provider_message_id)
            )
        )


class OutboundMessage(models.Model):
    """One message in the outbox, sent to the first recipient that works, at most once each.

    ``attempt_started_at`` is set (and committed) just before a send is handed to the provider and
    cleared once its outcome is recorded: while it is set, the provider may have accepted the send,
    so the message is reconciled (see ``cegah.channels.outbox``) before it is sent again.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        DELIVERED = "delivered", _("delivered")
        READ = "read", _("read")
        FAILED = "failed", _("failed")

    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    idempotency_key = models.CharField(max_length=200, unique=True)
    organisation = models.ForeignKey(
        "orgs.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    purpose = models.CharField(_("purpose"), max_length=64)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound"
    )
    # Plaintext fallback order (e.g. "whatsapp,sms,email") for statistics; addresses are sealed.
    channels = models.CharField(_("channels"), max_length=64)
    recipients_sealed = models.BinaryField()
    body_sealed = models.BinaryField()
    recipient_index = models.PositiveSmallIntegerField(default=0)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)  # failures on the current recipient
    claims = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    # A send to the current recipient whose outcome is not recorded yet began at this time.
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    # Sends repeated because an earlier attempt was never confirmed within the reconcile window.
    unconfirmed_resends = models.PositiveIntegerField(default=0)
    provider = models.CharField(max_length=32, blank=True)
    provider_message_id = models.CharField(max_length=128, blank=True, db_index=True)
    last_error = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["status", "lease_until"]),
            models.Index(fields=["organisation", "purpose", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} #{self.pk} ({self.status})"

    def aad(self, what: str) -> str:
        return f"outbound:{what}:{self.reference}"

    def recipients(self) -> list[tuple[str, str]]:
        """The (channel, address) list in fallback order, unsealed once per instance."""
        cached = self.__dict__.get("_recipients")
        if cached is None:
            sealed = crypto.unseal(self.recipients_sealed, self.aad("recipients"))
            cached = self.__dict__["_recipients"] = [(c, a) for c, a in sealed]
        return list(cached)

    def body(self) -> dict[str, Any]:
        return dict(crypto.unseal(self.body_sealed, self.aad("body")))


class OutboundStatusEvent(models.Model):
    """A delivery status reported by a provider callback, kept once per message and status."""

    message = models.ForeignKey(OutboundMessage, on_delete=models.CASCADE, related_name="events")
    provider_message_id = models.CharField(max_length=128)
    status = models.CharField(_("status"), max_length=16)
    error_code = models.CharField(max_length=16, blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("delivery status")
        verbose_name_plural = _("delivery statuses")
        constraints = [
            models.UniqueConstraint(
                fields=["message", "provider_message_id", "status"], name="channels_status_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.status} #{self.message_id}"


class RateBucket(models.Model):
    """A token bucket per provider, shared by every worker through the database."""

    key = models.CharField(max_length=32, primary_key=True)
    tokens = models.FloatField(default=0.0)
    updated_at = models.DateTimeField(default=timezone.now)
    # Set when the provider itself answered 429: nobody sends before this time.
    blocked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key
