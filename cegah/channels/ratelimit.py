"""A token bucket per provider in the database, so every worker process shares one send rate."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from cegah.channels.models import RateBucket


def relaxed_commit() -> None:
    """Let the current PostgreSQL transaction commit without waiting for its WAL flush.

    For writes whose loss in a database crash costs nothing worse than what the outbox already
    tolerates (a token handed out twice, a claim lost so a message is sent once more): on a disk
    with slow fsync the flush is what limits a send worker, not the work. No-op elsewhere.
    """
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def take(key: str, rate: float, want: int = 1) -> tuple[int, float]:
    """Take up to ``want`` tokens from bucket ``key``, refilled at ``rate`` per second.

    Return (tokens granted, seconds to wait when none were): the wait is until ``want`` tokens
    will be there, or until the provider's own 429 block lifts. ``rate`` <= 0 means unlimited.
    Waiting for all ``want`` rather than for one keeps throttled workers from polling the bucket
    (a write transaction) for every token; the bucket keeps what accrues, so no rate is lost.
    """
    if rate <= 0:
        return want, 0.0
    # A short burst allowance keeps the provider's own bucket (same rate, its own clock) from
    # seeing bursts above its limit when several workers start at once.
    burst = max(float(want), rate * 0.2)
    with transaction.atomic():
        relaxed_commit()
        bucket = RateBucket.objects.select_for_update().filter(key=key).first()
        now = timezone.now()  # after the lock: a worker that waited must not refill from the past
        if bucket is None:
            RateBucket.objects.get_or_create(key=key, defaults={"tokens": burst, "updated_at": now})
            bucket = RateBucket.objects.select_for_update().get(key=key)
        if bucket.blocked_until is not None and bucket.blocked_until > now:
            return 0, (bucket.blocked_until - now).total_seconds()
        elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
        tokens = min(burst, bucket.tokens + elapsed * rate)
        granted = min(want, int(tokens))
        wait = 0.0 if granted else (want - tokens) / rate
        RateBucket.objects.filter(key=key).update(tokens=tokens - granted, updated_at=now)
    return granted, wait


def acquire(key: str, rate: float) -> float:
    """Take one token; return 0.0 if taken, else the seconds to wait (see ``take``)."""
    granted, wait = take(key, rate, 1)
    return 0.0 if granted else wait


def block(key: str, seconds: float) -> None:
    """Stop every worker from sending through ``key`` for ``seconds`` (the provider said 429)."""
    until = timezone.now() + timedelta(seconds=max(0.0, seconds))
    with transaction.atomic():
        RateBucket.objects.get_or_create(key=key, defaults={"tokens": 0.0})
        RateBucket.objects.filter(key=key).exclude(blocked_until__gt=until).update(
            blocked_until=until, tokens=0.0
        )
