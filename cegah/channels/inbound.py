"""The inbound pipeline: record each provider message once, sealed, and hand it to the handlers.

``receive`` runs in the webhook request: it records messages (idempotent on the provider's message
id) and statuses, and enqueues the rest on commit, so the provider gets its 200 at once. The
handlers (the WBS conversation, survey opt-outs, …) run in ``process_conversation``, one
conversation at a time and in the order the user wrote, each message in its own transaction. A
handler that consumes a message makes its content be deleted in that same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from cegah.channels import crypto
from cegah.channels.conf import get_config
from cegah.channels.models import Conversation, InboundMessage
from cegah.channels.providers import get_channel
from cegah.channels.providers.base import Channel, InboundItem, Media, ParsedWebhook
from cegah.core.tasks_glue import enqueue_on_commit

logger = logging.getLogger("cegah.channels")

I = InboundMessage.Status  # noqa: E741 - short alias of the status enum


@dataclass
class InboundEvent:
    """What a handler receives: the recorded message, its conversation and the decrypted content."""

    message: InboundMessage
    conversation: Conversation
    content: dict[str, Any]

    @property
    def channel(self) -> str:
        return self.message.channel

    @property
    def kind(self) -> str:
        """text, reply, image, document, audio, video, sticker, media, location, reaction,
        system or unsupported."""
        return self.message.kind

    @property
    def text(self) -> str:
        return str(self.content.get("text", ""))

    @property
    def reply_id(self) -> str:
        """The id of the button or list row the user picked ('' if none)."""
        return str((self.content.get("reply") or {}).get("id", ""))

    @property
    def media(self) -> list[dict[str, str]]:
        """Attachments: dicts with ``id``, ``mime_type`` and where known ``sha256``, ``filename``."""
        return list(self.content.get("media", []))

    @property
    def sender_address(self) -> str:
        """The address to answer (phone or business-scoped user id): contact data, keep sealed."""
        return self.conversation.address()

    def download_media(self, media_id: str) -> Media:
        """Fetch an attachment's bytes from the provider; raise ProviderError."""
        return get_channel(self.channel).download_media(media_id)


Handler = Callable[[InboundEvent], bool]


@dataclass(order=True)
class _Registered:
    priority: int
    name: str
    handler: Handler = field(compare=False)


_HANDLERS: list[_Registered] = []


def register_inbound_handler(
    handler: Handler, *, name: str | None = None, priority: int = 100
) -> Handler:
    """Register ``handler`` for inbound messages; return it (usable as a decorator).

    Handlers are asked in ascending ``priority`` until one returns True ("consumed"). A handler
    must be idempotent for a message id: a crash after it acted but before the commit runs it
    again. Registering the same ``name`` again replaces the earlier one (module reloads, tests).
    """
    key = name or f"{handler.__module__}.{handler.__qualname__}"
    _HANDLERS[:] = [r for r in _HANDLERS if r.name != key]
    _HANDLERS.append(_Registered(priority, key, handler))
    _HANDLERS.sort()
    return handler


def unregister_inbound_handler(name: str) -> None:
    _HANDLERS[:] = [r for r in _HANDLERS if r.name != name]


# --- recording ---------------------------------------------------------------------------------
@dataclass
class Received:
    new: int = 0
    duplicates: int = 0
    statuses: int = 0
    skipped: int = 0


def receive(channel: Channel, parsed: ParsedWebhook) -> Received:
    """Record what a verified webhook carried; return counts (never content)."""
    from cegah.channels.outbox import apply_status

    result = Received(skipped=parsed.skipped)
    for item in parsed.messages:
        _message, created = record_inbound(channel, item)
        if created:
            result.new += 1
        else:
            result.duplicates += 1
    for status in parsed.statuses:
        if apply_status(channel.provider, status) is not None:
            result.statuses += 1
    return result


def _touch_conversation(channel: Channel, item: InboundItem) -> Conversation:
    key = crypto.sender_key(channel.provider, item.sender_id)
    now = timezone.now()
    at = min(item.sent_at or now, now)
    reply_to = item.reply_to or item.sender_id
    conversation = (
        Conversation.objects.select_for_update()
        .filter(provider=channel.provider, sender_key=key)
        .first()
    )
    if conversation is None:
        conversation = Conversation(
            provider=channel.provider,
            channel=channel.name,
            sender_key=key,
            last_inbound_at=at,
            created_at=now,
            updated_at=now,
        )
        conversation.address_sealed = crypto.seal(reply_to, conversation.aad("address"))
        try:
            with transaction.atomic():
                conversation.save(force_insert=True)
            return conversation
        except IntegrityError:
            conversation = Conversation.objects.select_for_update().get(
                provider=channel.provider, sender_key=key
            )
    fields = ["updated_at"]
    conversation.updated_at = now
    if conversation.last_inbound_at is None or at > conversation.last_inbound_at:
        conversation.last_inbound_at = at
        fields.append("last_inbound_at")
    if conversation.address() != reply_to:
        conversation.address_sealed = crypto.seal(reply_to, conversation.aad("address"))
        fields.append("address_sealed")
    conversation.save(update_fields=fields)
    return conversation


def record_inbound(channel: Channel, item: InboundItem) -> tuple[InboundMessage, bool]:
    """Record ``item`` once per (provider, provider message id); return it and whether it is new.

    The content is sealed with the message id as associated data. Processing is enqueued when the
    transaction commits.
    """
    lookup = {"provider": channel.provider, "provider_message_id": item.provider_message_id}
    existing = InboundMessage.objects.filter(**lookup).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        conversation = _touch_conversation(channel, item)
        message = InboundMessage(
            **lookup,
            channel=channel.name,
            conversation=conversation,
            kind=item.kind[:16],
            sent_at=item.sent_at,
            content_sealed=crypto.seal(
                item.content, InboundMessage.aad_for(channel.provider, item.provider_message_id)
            ),
        )
        try:
            with transaction.atomic():
                message.save(force_insert=True)
        except IntegrityError:
            # A concurrent delivery of the same message won the insert.
            return InboundMessage.objects.get(**lookup), False
        from cegah.channels.tasks import process_conversation

        enqueue_on_commit(process_conversation, conversation.pk)
    return message, True


# --- dispatching -------------------------------------------------------------------------------
def _dispatch_one(conversation_id: int, message_id: int) -> None:
    with transaction.atomic():
        # Locks the conversation: its messages are handled one at a time, in order.
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        message = InboundMessage.objects.filter(pk=message_id, status=I.PENDING).first()
        if message is None:
            return  # another worker handled it
        event = InboundEvent(message, conversation, message.content())
        consumed_by = ""
        for registered in list(_HANDLERS):
            if registered.handler(event):
                consumed_by = registered.name
                break
        now = timezone.now()
        if consumed_by:
            InboundMessage.objects.filter(pk=message.pk).update(
                status=I.PROCESSED, handled_by=consumed_by, content_sealed=None, processed_at=now
            )
        else:
            # Kept (sealed) until the retention sweep, in case a handler is deployed late.
            InboundMessage.objects.filter(pk=message.pk).update(
                status=I.UNHANDLED, processed_at=now
            )
            logger.info("inbound: %s message %s had no handler", message.kind, message.pk)


def process_conversation(conversation_id: int, max_attempts: int | None = None) -> int:
    """Hand every pending message of a conversation to the handlers, oldest first.

    Return how many were handled. A handler that raises stops the conversation (later messages
    must not overtake it) and the exception propagates so the task is retried with backoff; after
    ``max_attempts`` the message is marked failed and the next ones go ahead.
    """
    limit = max_attempts or get_config().max_attempts
    handled = 0
    pending = list(
        InboundMessage.objects.filter(conversation_id=conversation_id, status=I.PENDING)
        .order_by("sent_at", "id")
        .values_list("pk", flat=True)
    )
    for message_id in pending:
        try:
            _dispatch_one(conversation_id, message_id)
        except Exception:
            InboundMessage.objects.filter(pk=message_id).update(attempts=F("attempts") + 1)
            attempts = InboundMessage.objects.get(pk=message_id).attempts
            if attempts < limit:
                raise
            logger.exception("inbound: message %s failed after %d attempts", message_id, attempts)
            InboundMessage.objects.filter(pk=message_id).update(status=I.FAILED)
            continue
        handled += 1
    return handled


def sweep(older_than: timedelta = timedelta(minutes=5)) -> int:
    """Re-enqueue processing for conversations with messages pending too long (lost tasks)."""
    from cegah.channels.tasks import process_conversation as task

    cutoff = timezone.now() - older_than
    ids = set(
        InboundMessage.objects.filter(status=I.PENDING, received_at__lt=cutoff).values_list(
            "conversation_id", flat=True
        )[:1000]
    )
    for conversation_id in ids:
        task.enqueue(conversation_id)
    return len(ids)


def purge_unconsumed() -> int:
    """Delete the content of messages no handler consumed once the retention period is over."""
    cutoff = timezone.now() - timedelta(hours=get_config().inbound_retention_hours)
    return InboundMessage.objects.filter(
        status__in=[I.UNHANDLED, I.FAILED], received_at__lt=cutoff, content_sealed__isnull=False
    ).update(content_sealed=None)
