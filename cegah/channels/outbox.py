"""The reliable outbox: queue a message once, send it at most once per recipient, fall back in
order, retry with backoff, respect shared and provider rate limits, record delivery statuses.

How a message is kept from going out twice:
- ``queue_message`` is idempotent on the caller's ``idempotency_key`` (a unique column).
- A worker sends only after claiming the row with one conditional UPDATE (status and due time, or
  an expired lease, in the WHERE clause). Two workers racing for a row: one UPDATE matches.
- A claim is a lease. A worker killed mid-send leaves the row in ``sending``; once the lease has
  run out another worker takes it over. Every later write is conditional on the claim token, so a
  worker whose lease was taken over cannot overwrite the new owner's outcome.
- Just before handing a send to the provider the worker commits ``attempt_started_at``; the
  outcome clears it. A row taken over with the mark still set is the one send in flight when its
  worker died: it may or may not have reached the provider. Each send carries a reference
  (``<message reference>.<recipient index>``) that the provider echoes in its status callbacks
  (WhatsApp's ``biz_opaque_callback_data``, the ``?ref=`` of Twilio's StatusCallback URL), and
  ``apply_status`` records a callback matching the current recipient as the send's outcome, even
  when the worker never did. So instead of sending again, the new owner reconciles: if the
  callback has come the message is already sent; otherwise it waits until
  ``CEGAH_CHANNELS_RECONCILE_SECONDS`` after the attempt began, and only then sends again
  (counted in ``unconfirmed_resends``). The same holds for a send that failed in a way that may
  still have reached the provider (a read timeout, a 2xx we could not read).
- What is left of at-least-once: a provider that accepted a send and whose callback arrives only
  after the reconcile window (or never) gets it twice; email, which has no callback, is sent again
  once the lease has run out, with the same Message-ID.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.tasks import task_backends
from django.urls import reverse
from django.utils import timezone

from cegah.channels import crypto, ratelimit
from cegah.channels.conf import INLINE_WAIT_SECONDS, get_config
from cegah.channels.models import Conversation, OutboundMessage, OutboundStatusEvent
from cegah.channels.providers import CHANNELS, get_channel
from cegah.channels.providers.base import (
    Interactive,
    Outgoing,
    PermanentError,
    ProviderError,
    RateLimited,
    StatusItem,
    Template,
    WindowClosed,
)
from cegah.channels.signals import message_status_changed
from cegah.core import audit
from cegah.core.tasks_glue import backoff_delay, enqueue_on_commit

if TYPE_CHECKING:
    from cegah.accounts.models import User
    from cegah.orgs.models import Organisation

logger = logging.getLogger("cegah.channels")

S = OutboundMessage.Status
RANK = {S.QUEUED: 0, S.SENDING: 1, S.SENT: 2, S.DELIVERED: 3, S.READ: 4}
OPEN = (S.QUEUED, S.SENDING)
# A worker waits this long inline for a rate token before giving the message back.
MAX_INLINE_WAIT = INLINE_WAIT_SECONDS
CLAIM_GROUP = 10


def queue_message(
    *,
    organisation: Organisation | None,
    purpose: str,
    recipients: list[tuple[str, str]],
    idempotency_key: str,
    text: str = "",
    template: Template | None = None,
    interactive: Interactive | None = None,
    subject: str = "",
    conversation: Conversation | None = None,
    actor: User | None = None,
) -> OutboundMessage:
    """Queue one message for the first recipient (channel, address) that works; return it.

    WhatsApp gets ``text`` or ``interactive`` inside the 24-hour window of ``conversation`` (or of
    the conversation the address belongs to), otherwise ``template`` or the template configured
    for ``purpose``; SMS and email get ``text`` (or ``interactive`` as numbered text). A second call
    with the same ``idempotency_key`` returns the first message unchanged. Sending starts after
    the caller's transaction commits. Raises ValueError on an empty or unknown recipient list or
    when there is nothing to send.

    Staff-driven messages pass ``actor`` and are audited; bulk system messages (survey invitations)
    are not, so a 100,000-message blast does not serialise on the audit chain.
    """
    if not idempotency_key or len(idempotency_key) > 200:
        raise ValueError("idempotency_key must be 1-200 characters")
    if not recipients:
        raise ValueError("at least one recipient is needed")
    for channel, address in recipients:
        if channel not in CHANNELS or not address.strip():
            raise ValueError(f"bad recipient for channel {channel!r}")
    if not (text or template or interactive):
        raise ValueError("nothing to send: give text, template or interactive")
    existing = OutboundMessage.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    message = OutboundMessage(
        reference=uuid.uuid4(),
        idempotency_key=idempotency_key,
        organisation=organisation,
        purpose=purpose,
        conversation=conversation,
        channels=",".join(channel for channel, _ in recipients)[:64],
    )
    message.recipients_sealed = crypto.seal(
        [[channel, address.strip()] for channel, address in recipients], message.aad("recipients")
    )
    body: dict[str, Any] = {"text": text, "subject": subject}
    if template is not None:
        body["template"] = template.as_json()
    if interactive is not None:
        body["interactive"] = interactive.as_json()
    message.body_sealed = crypto.seal(body, message.aad("body"))
    with transaction.atomic():
        try:
            with transaction.atomic():
                message.save(force_insert=True)
        except IntegrityError:
            # Another process queued the same key between our check and our insert.
            return OutboundMessage.objects.get(idempotency_key=idempotency_key)
        if actor is not None:
            audit.record(
                "channels.message.queued",
                actor=actor,
                organisation=organisation,
                obj=message,
                details={"purpose": purpose, "channels": message.channels},
            )
        from cegah.channels.tasks import send_outbound

        enqueue_on_commit(send_outbound, message.pk)
    return message


@dataclass(frozen=True)
class Bulk:
    """One message of a bulk queueing (see ``queue_many``)."""

    recipients: list[tuple[str, str]]
    idempotency_key: str
    text: str = ""
    template: Template | None = None
    subject: str = ""


def queue_many(
    *,
    organisation: Organisation | None,
    purpose: str,
    messages: list[Bulk],
    drainers: int = 2,
) -> int:
    """Queue many messages at once (survey invitations); return how many were new.

    Same rules as ``queue_message`` (keys already queued are skipped), but rows are inserted in
    batches and, instead of one task per message, ``drainers`` ``drain_outbox`` tasks are enqueued
    on commit; each sends due messages until none is left. Not audited: the caller audits the
    blast as one action.
    """
    from cegah.channels.tasks import drain_outbox

    rows = []
    for item in messages:
        if not item.recipients or not (item.text or item.template):
            raise ValueError("every message needs recipients and text or a template")
        for channel, address in item.recipients:
            if channel not in CHANNELS or not address.strip():
                raise ValueError(f"bad recipient for channel {channel!r}")
        row = OutboundMessage(
            reference=uuid.uuid4(),
            idempotency_key=item.idempotency_key,
            organisation=organisation,
            purpose=purpose,
            channels=",".join(channel for channel, _ in item.recipients)[:64],
        )
        row.recipients_sealed = crypto.seal(
            [[c, a.strip()] for c, a in item.recipients], row.aad("recipients")
        )
        body: dict[str, Any] = {"text": item.text, "subject": item.subject}
        if item.template is not None:
            body["template"] = item.template.as_json()
        row.body_sealed = crypto.seal(body, row.aad("body"))
        rows.append(row)
    before = OutboundMessage.objects.count()
    with transaction.atomic():
        OutboundMessage.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
        for _ in range(max(0, drainers)):
            enqueue_on_commit(drain_outbox)
    return OutboundMessage.objects.count() - before


# --- claiming ----------------------------------------------------------------------------------
def _due(now: Any) -> Q:
    return Q(status=S.QUEUED, next_attempt_at__lte=now) | Q(status=S.SENDING, lease_until__lt=now)


def claim_many(ids: list[int]) -> list[OutboundMessage]:
    """Claim those of ``ids`` that are due or whose lease expired, in one conditional UPDATE.

    Return the claimed messages (they share one claim token). A row another worker claimed first
    no longer matches the WHERE clause, so each message has one owner.
    """
    if not ids:
        return []
    now = timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        ratelimit.relaxed_commit()
        claimed = OutboundMessage.objects.filter(_due(now), pk__in=ids).update(
            status=S.SENDING,
            claim_token=token,
            lease_until=now + timedelta(seconds=get_config().lease_seconds),
            claims=F("claims") + 1,
            updated_at=now,
        )
    if not claimed:
        return []
    messages = list(
        OutboundMessage.objects.select_related("conversation")
        .filter(claim_token=token)
        .order_by("next_attempt_at", "pk")
    )
    _find_conversations(messages)
    return messages


def claim(message_id: int) -> OutboundMessage | None:
    """Claim message ``message_id`` if it is due or its lease expired; else return None."""
    claimed = claim_many([message_id])
    return claimed[0] if claimed else None


def attempt_reference(message: OutboundMessage) -> str:
    """Return the reference sent with a send of ``message`` to its current recipient."""
    return f"{message.reference}.{message.recipient_index}"


def parse_reference(value: str) -> tuple[uuid.UUID, int | None] | None:
    """Return (message reference, recipient index or None) of an echoed reference, or None.

    A bare message reference (sent before recipient indexes were added) gives index None.
    """
    head, dot, tail = value.strip().rpartition(".")
    raw, index = (head, int(tail)) if dot and tail.isdigit() else (value.strip(), None)
    try:
        return uuid.UUID(raw), index
    except ValueError:
        return None


def _owned(message: OutboundMessage) -> Any:
    return OutboundMessage.objects.filter(pk=message.pk, claim_token=message.claim_token)


def _notify(message: OutboundMessage, status: str, previous: str, **written: Any) -> None:
    """Send ``message_status_changed`` once the transaction commits.

    Listeners get the instance this process holds, with ``status`` and the other fields just
    written (``written``) set on it, rather than a fresh read: one query less per send of a blast.
    """
    message.status = status
    for name, value in written.items():
        setattr(message, name, value)
    if not message_status_changed.has_listeners(OutboundMessage):
        return

    def send() -> None:
        message_status_changed.send(
            sender=OutboundMessage, message=message, status=status, previous=previous
        )

    transaction.on_commit(send)


def _schedule(message_id: int, delay: float) -> None:
    """Enqueue another send attempt after ``delay`` seconds.

    Backends without deferred tasks (the inline test backend) get only immediate re-sends; the
    periodic sweep picks up the rest, so nothing depends on this enqueue succeeding.
    """
    from cegah.channels.tasks import send_outbound

    backend = task_backends[send_outbound.backend]
    if delay <= 0:
        enqueue_on_commit(send_outbound, message_id)
    elif backend.supports_defer:
        run_after = timezone.now() + timedelta(seconds=delay)
        enqueue_on_commit(send_outbound.using(run_after=run_after), message_id)


# --- sending -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    channel_name: str
    outgoing: Outgoing


def _conversation_for(message: OutboundMessage, address: str) -> Conversation | None:
    if message.conversation is not None:
        return message.conversation
    from cegah.channels.providers.whatsapp import WhatsAppCloud

    key = crypto.sender_key(WhatsAppCloud.provider, address)
    known: dict[str, Conversation] | None = message.__dict__.get("_conversations")
    if known is not None:  # looked up with the rest of its claim (see _find_conversations)
        return known.get(key)
    return Conversation.objects.filter(provider=WhatsAppCloud.provider, sender_key=key).first()


def _find_conversations(messages: list[OutboundMessage]) -> None:
    """Look up, in one query, the WhatsApp conversations (whose 24-hour window decides between
    free text and a template) of claimed messages that have none of their own."""
    from cegah.channels.providers.whatsapp import WhatsAppCloud

    keys: dict[str, list[OutboundMessage]] = {}
    for message in messages:
        recipients = message.recipients()
        if message.conversation_id is not None or message.recipient_index >= len(recipients):
            continue
        channel_name, address = recipients[message.recipient_index]
        if channel_name == "whatsapp":
            keys.setdefault(crypto.sender_key(WhatsAppCloud.provider, address), []).append(message)
    if not keys:
        return
    found = {
        c.sender_key: c
        for c in Conversation.objects.filter(provider=WhatsAppCloud.provider, sender_key__in=keys)
    }
    for key, claimed in keys.items():
        for message in claimed:
            message.__dict__["_conversations"] = {key: found[key]} if key in found else {}


def _plan(message: OutboundMessage, channel_name: str, address: str) -> Outgoing:
    """Decide what exactly goes to ``address`` on ``channel_name``; raise PermanentError if nothing can."""
    body = message.body()
    text = body.get("text", "")
    interactive = Interactive.from_json(body["interactive"]) if body.get("interactive") else None
    reference = attempt_reference(message)
    if channel_name == "whatsapp":
        conversation = _conversation_for(message, address)
        in_window = (
            conversation is not None
            and conversation.window_open()
            and not body.get("force_template")
        )
        if in_window and (text or interactive):
            return Outgoing(to=address, text=text, interactive=interactive, reference=reference)
        if body.get("template"):
            return Outgoing(
                to=address, template=Template.from_json(body["template"]), reference=reference
            )
        configured = get_config().template_for(message.purpose)
        if configured is not None:
            return Outgoing(to=address, template=Template(*configured), reference=reference)
        raise PermanentError("no_template", "outside the 24-hour window and no template")
    if not (text or interactive):
        raise PermanentError("no_text")
    callback = ""
    if channel_name == "sms":
        from django.conf import settings

        base = (get_config().public_url or settings.SITE_URL).rstrip("/")
        callback = f"{base}{reverse('channels:twilio_status')}?ref={reference}"
    return Outgoing(
        to=address,
        text=text,
        interactive=interactive,
        subject=body.get("subject", ""),
        reference=reference,
        status_callback_url=callback,
    )


def deliver(message_id: int) -> str:
    """Claim and try to send message ``message_id`` once; return what happened.

    Outcomes: ``sent``, ``retry``, ``rate_limited``, ``fallback``, ``failed``, ``reconciling``
    (an earlier send may have reached the provider: waiting for its callback) or ``not_claimed``
    (another worker has it, or it is not due). Must run outside a transaction, so that the claim
    is visible to other workers at once.
    """
    message = claim(message_id)
    if message is None:
        return "not_claimed"
    return _attempt(message)


def _attempt(message: OutboundMessage) -> str:
    recipients = message.recipients()
    if message.recipient_index >= len(recipients):
        return _finish_failed(message, message.last_error or "no_recipient")
    channel_name, address = recipients[message.recipient_index]
    channel = get_channel(channel_name)
    if message.provider_message_id:
        # A status callback (matched by our reference) proved that the provider accepted an
        # earlier attempt whose worker died before recording it: record it, do not send again.
        return _record_sent(message, channel_name, channel.provider, message.provider_message_id)
    resend = False
    if message.attempt_started_at is not None:
        # The last send to this recipient may have reached the provider (its worker died, or
        # the call failed without a clear answer) and no callback has confirmed it yet.
        config = get_config()
        if channel.confirms_sends:
            until = message.attempt_started_at + timedelta(seconds=config.reconcile_seconds)
            if until > timezone.now():
                _park(message, until)
                return "reconciling"
        if message.attempts >= config.max_attempts:
            return _advance(message, message.last_error or "unconfirmed")
        resend = True
    try:
        outgoing = _plan(message, channel_name, address)
    except PermanentError as exc:
        return _advance(message, exc.code)
    waited = 0.0
    while (wait := _take_token(channel.provider, channel.rate_per_second())) > 0:
        if waited + wait > MAX_INLINE_WAIT:
            _release(message, delay=wait, error="throttled", count=False)
            return "rate_limited"
        time.sleep(wait)
        waited += wait
    if not _lease_left_for_a_send(message):
        # Claimed in a batch and waited too long: another worker may take it over while we
        # send, so give it back instead of risking a double send.
        _release(message, delay=1.0, error="lease", count=False)
        return "retry"
    if not _begin_attempt(message, resend):
        return "not_claimed"  # a callback completed it, or the lease was taken over
    try:
        result = channel.send(outgoing)
    except RateLimited as exc:
        ratelimit.block(channel.provider, exc.retry_after)
        _release(message, delay=exc.retry_after, error=exc.code, count=False, settled=True)
        return "rate_limited"
    except WindowClosed as exc:
        body = message.body()
        if outgoing.template is None and not body.get("force_template"):
            # Our clock said the window was open, WhatsApp's said not: go again with a template.
            body["force_template"] = True
            _owned(message).update(body_sealed=crypto.seal(body, message.aad("body")))
            _release(message, delay=0, error=exc.code, count=False, settled=True)
            return "retry"
        return _advance(message, exc.code)
    except PermanentError as exc:
        return _advance(message, exc.code)
    except ProviderError as exc:
        return _fail_attempt(message, exc.code or "provider", maybe_sent=exc.maybe_sent)
    except Exception:
        # A bug in a provider module must not lose the message: log (no content) and retry,
        # reconciling first, since we cannot tell whether the provider got it.
        logger.exception("outbox: provider %s raised", channel.provider)
        return _fail_attempt(message, "internal", maybe_sent=True)
    return _record_sent(message, channel_name, channel.provider, result.provider_message_id)


def _begin_attempt(message: OutboundMessage, resend: bool) -> bool:
    """Commit that a send to the current recipient is being handed to the provider now.

    Committed on its own, with a durable commit, before the provider call: whoever takes the
    message over after a crash must know that this send may have gone out. Return False (send
    nothing) if the claim is no longer ours or a callback has already completed the message.
    """
    now = timezone.now()
    fields: dict[str, Any] = {"attempt_started_at": now}
    if resend:
        fields["unconfirmed_resends"] = F("unconfirmed_resends") + 1
    marked = _owned(message).filter(status=S.SENDING, provider_message_id="").update(**fields)
    if not marked:
        return False
    if resend:
        logger.warning(
            "outbox: message %s sent again: the send begun at %s was never confirmed",
            message.pk,
            message.attempt_started_at,
        )
    message.attempt_started_at = now
    return True


def _park(message: OutboundMessage, until: Any) -> None:
    """Give a message whose last send is unconfirmed back until ``until``, keeping the mark: a
    status callback arriving meanwhile completes it; if none does, it is sent again then."""
    now = timezone.now()
    _owned(message).update(
        status=S.QUEUED,
        next_attempt_at=until,
        lease_until=None,
        claim_token=None,
        last_error="unconfirmed",
        updated_at=now,
    )
    _schedule(message.pk, (until - now).total_seconds())


def _record_sent(
    message: OutboundMessage, channel_name: str, provider: str, provider_message_id: str
) -> str:
    now = timezone.now()
    with transaction.atomic():
        # Not waiting for the WAL flush: if the database itself crashes in the next instant and
        # loses this record, the attempt mark committed before the send is still there, and the
        # provider's status callback (or, failing that, the reconcile window) settles it.
        ratelimit.relaxed_commit()
        updated = _owned(message).update(
            # A fast delivery callback may already have moved the status on; keep the later one.
            status=Case(When(status=S.SENDING, then=Value(S.SENT)), default=F("status")),
            channel=channel_name,
            provider=provider,
            provider_message_id=provider_message_id,
            sent_at=now,
            lease_until=None,
            claim_token=None,
            attempt_started_at=None,
            last_error="",
            updated_at=now,
        )
    if updated != 1:
        logger.warning("outbox: message %s sent after its lease was taken over", message.pk)
        return "sent"
    _notify(
        message,
        S.SENT,
        S.QUEUED,
        channel=channel_name,
        provider=provider,
        provider_message_id=provider_message_id,
        sent_at=now,
    )
    return "sent"


# Tokens this process took from the shared bucket in advance, per provider: [count, valid until].
_TOKENS: dict[str, list[float]] = {}


def _take_token(provider: str, rate: int) -> float:
    """Take one send token for ``provider``; return 0.0, or the seconds to wait for one.

    Tokens are fetched from the shared bucket a few at a time (about 50 ms of the rate) so a fast
    worker does not write the bucket row for every message; unspent ones lapse after a second,
    which keeps the combined rate of all workers at or below ``rate``.
    """
    if rate <= 0:
        return 0.0
    pool = _TOKENS.get(provider)
    if pool is not None and pool[0] >= 1 and time.monotonic() < pool[1]:
        pool[0] -= 1
        return 0.0
    granted, wait = ratelimit.take(provider, rate, max(1, rate // 20))
    if not granted:
        return wait
    _TOKENS[provider] = [granted - 1, time.monotonic() + 1.0]
    return 0.0


def _lease_left_for_a_send(message: OutboundMessage) -> bool:
    """True if the claim outlives one more provider call (with its timeout) by a margin."""
    if message.lease_until is None:
        return False
    needed = get_config().http_timeout_seconds + 2.0
    return (message.lease_until - timezone.now()).total_seconds() > needed


def _release(
    message: OutboundMessage, *, delay: float, error: str, count: bool, settled: bool = False
) -> None:
    """Give the message back to the queue for ``delay`` seconds. ``settled``: the provider
    answered that it did not take this send, so the attempt mark is cleared."""
    now = timezone.now()
    fields: dict[str, Any] = {}
    if settled:
        fields["attempt_started_at"] = None
    _owned(message).update(
        status=S.QUEUED,
        next_attempt_at=now + timedelta(seconds=delay),
        lease_until=None,
        claim_token=None,
        last_error=error[:64],
        attempts=F("attempts") + 1 if count else F("attempts"),
        updated_at=now,
        **fields,
    )
    _schedule(message.pk, delay)


def _fail_attempt(message: OutboundMessage, code: str, *, maybe_sent: bool = False) -> str:
    attempt = message.attempts + 1
    config = get_config()
    delay = backoff_delay(attempt, config.retry_base_seconds)
    if maybe_sent:
        # Perhaps accepted: keep the mark, so the retry reconciles first (and waits for the
        # callback up to the reconcile window) instead of sending blind or falling back.
        _release(message, delay=delay, error=code, count=True)
        return "retry"
    if attempt >= config.max_attempts:
        return _advance(message, code)
    _release(message, delay=delay, error=code, count=True, settled=True)
    return "retry"


def _advance(message: OutboundMessage, code: str) -> str:
    """Give up on the current recipient: go on to the next one, or fail the message."""
    if message.recipient_index + 1 < len(message.recipients()):
        now = timezone.now()
        _owned(message).update(
            status=S.QUEUED,
            recipient_index=F("recipient_index") + 1,
            attempts=0,
            next_attempt_at=now,
            lease_until=None,
            claim_token=None,
            attempt_started_at=None,
            last_error=code[:64],
            updated_at=now,
        )
        _schedule(message.pk, 0)
        return "fallback"
    return _finish_failed(message, code)


def _finish_failed(message: OutboundMessage, code: str) -> str:
    now = timezone.now()
    if _owned(message).update(
        status=S.FAILED,
        failed_at=now,
        lease_until=None,
        claim_token=None,
        attempt_started_at=None,
        last_error=code[:64],
        updated_at=now,
    ):
        logger.warning("outbox: message %s failed (%s)", message.pk, code)
        _notify(message, S.FAILED, S.SENDING, failed_at=now, last_error=code[:64])
    return "failed"


# --- draining and sweeping ---------------------------------------------------------------------
def due_ids(limit: int = 200) -> list[int]:
    """Return ids of messages whose lease expired, then of those due, oldest first.

    Two queries, each served by its own index, rather than one OR that makes the database scan
    the whole outbox on every call of a busy send loop.
    """
    now = timezone.now()
    stale = list(
        OutboundMessage.objects.filter(status=S.SENDING, lease_until__lt=now)
        .order_by("lease_until")
        .values_list("pk", flat=True)[:limit]
    )
    due = list(
        OutboundMessage.objects.filter(status=S.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: max(0, limit - len(stale))]
    )
    return stale + due


def dispatch_due(batch: int = 50) -> int:
    """Try to send up to ``batch`` due messages; return how many this worker sent or retried.

    Candidates are shuffled so that workers draining together rarely race for the same row (the
    claim settles it when they do).
    """
    ids = due_ids(batch * 4)
    random.shuffle(ids)
    done = 0
    # Claimed a few at a time: one UPDATE per group instead of per message, while a killed
    # worker strands only a small group until its lease runs out.
    for start in range(0, min(len(ids), batch), CLAIM_GROUP):
        for message in claim_many(ids[start : start + CLAIM_GROUP]):
            _attempt(message)
            done += 1
    return done


def drain(seconds: float = 50.0, batch: int = 50) -> int:
    """Send due messages for up to ``seconds``; return how many were handled."""
    deadline = time.monotonic() + seconds
    total = 0
    while time.monotonic() < deadline:
        done = dispatch_due(batch)
        if done == 0:
            break
        total += done
    return total


def sweep(limit: int = 1000) -> int:
    """Enqueue a send for every due or stale-claimed message (lost tasks, killed workers)."""
    from cegah.channels.tasks import send_outbound

    ids = due_ids(limit)
    for message_id in ids:
        send_outbound.enqueue(message_id)
    return len(ids)


# --- delivery statuses -------------------------------------------------------------------------
def _is_current_send(
    message: OutboundMessage, provider: str, index: int | None
) -> tuple[bool, str]:
    """Whether a callback naming ``message`` (with recipient ``index``, None if unknown) is about
    the send to its current recipient that no worker has recorded yet; and that channel."""
    if message.status not in OPEN:
        return False, ""
    recipients = message.recipients()
    if message.recipient_index >= len(recipients):
        return False, ""
    channel_name = recipients[message.recipient_index][0]
    if index is not None and index != message.recipient_index:
        return False, ""
    return get_channel(channel_name).provider == provider, channel_name


def apply_status(provider: str, item: StatusItem) -> OutboundMessage | None:
    """Record a delivery status from a provider callback; return the message (as read, with what
    was written set on it), or None if unknown.

    Idempotent: a repeated callback changes nothing. Statuses only move forward (sent → delivered
    → read). A ``failed`` status falls back to the next recipient when there is one. A callback
    whose reference names the current recipient of a message no worker has recorded as sent (its
    worker died mid-send, or it waits to be reconciled) is that send's outcome: the message is
    recorded as sent with the provider's id and is not sent again.
    """
    parsed = parse_reference(item.reference) if item.reference else None
    now = timezone.now()
    with transaction.atomic():
        locked = OutboundMessage.objects.select_for_update()
        message = locked.filter(
            provider=provider, provider_message_id=item.provider_message_id
        ).first()
        if message is None and parsed is not None:
            message = locked.filter(reference=parsed[0]).first()
        if message is None:
            return None
        try:
            with transaction.atomic():
                OutboundStatusEvent.objects.create(
                    message=message,
                    provider_message_id=item.provider_message_id,
                    status=item.status[:16],
                    error_code=item.error_code[:16],
                    at=item.at or now,
                )
        except IntegrityError:
            return message  # the same callback again
        status = item.status
        if not message.provider_message_id:
            current, channel_name = _is_current_send(
                message, provider, parsed[1] if parsed else None
            )
            if not current:
                return message  # about an earlier recipient's send; kept as history only
            # The provider accepted the send the worker has not recorded: that is its outcome.
            confirm: dict[str, Any] = {
                "provider_message_id": item.provider_message_id,
                "provider": provider,
                "channel": channel_name,
                "attempt_started_at": None,
                "last_error": "",
            }
            if message.lease_until is None or message.lease_until < now:
                confirm.update(lease_until=None, claim_token=None)  # no live owner
            OutboundMessage.objects.filter(pk=message.pk).update(**confirm)
            message.provider_message_id = item.provider_message_id
            message.provider = provider
            if status != S.FAILED and (status not in RANK or RANK[S(status)] < RANK[S.SENT]):
                status = S.SENT  # "queued" / "accepted" at the provider: accepted all the same
        elif item.provider_message_id != message.provider_message_id:
            return message  # about an earlier recipient's send; kept as history only
        previous = message.status
        if status == S.FAILED:
            if previous == S.FAILED:
                return message
            if message.recipient_index + 1 < len(message.recipients()):
                OutboundMessage.objects.filter(pk=message.pk).update(
                    status=S.QUEUED,
                    recipient_index=F("recipient_index") + 1,
                    attempts=0,
                    next_attempt_at=now,
                    lease_until=None,
                    claim_token=None,
                    attempt_started_at=None,
                    provider_message_id="",
                    last_error=item.error_code[:64] or "failed",
                    updated_at=now,
                )
                _schedule(message.pk, 0)
                _notify(message, S.QUEUED, previous, recipient_index=message.recipient_index + 1)
                return message
            OutboundMessage.objects.filter(pk=message.pk).update(
                status=S.FAILED,
                failed_at=now,
                attempt_started_at=None,
                last_error=item.error_code[:64],
                updated_at=now,
            )
            _notify(message, S.FAILED, previous, failed_at=now)
            return message
        if status not in RANK or previous == S.FAILED:
            return message
        if RANK[S(status)] <= RANK[S(previous)]:
            return message
        stamp = {S.DELIVERED: "delivered_at", S.READ: "read_at", S.SENT: "sent_at"}
        fields: dict[str, Any] = {"status": status, "updated_at": now}
        if status in stamp:
            fields[stamp[S(status)]] = item.at or now
        if message.sent_at is None and status != S.SENT:
            fields["sent_at"] = item.at or now
        OutboundMessage.objects.filter(pk=message.pk).update(**fields)
        _notify(message, status, previous, **{k: v for k, v in fields.items() if k != "status"})
    return message
