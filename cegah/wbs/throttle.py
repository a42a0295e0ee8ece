"""Receipt-guessing protection: per-client delays that grow with failures, and a global brake.

The client key is an HMAC of the address, held only in the cache for the delay window; nothing is
written to the database or the logs.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from cegah.core.crypto import derived_secret, keyed_digest

FREE_FAILURES = 3
MAX_DELAY = 3600
GLOBAL_WINDOW = 60
GLOBAL_LIMIT = 300  # failed receipts per minute across all clients before everyone slows down


def _client(request: HttpRequest) -> str:
    key = derived_secret(settings.DATA_SECRET.encode(), "wbs-throttle")
    return "wbs-rcpt:" + keyed_digest(key, request.META.get("REMOTE_ADDR", "").encode())[:32]


def wait_seconds(request: HttpRequest) -> int:
    """Return how long this client must wait before trying a receipt again (0 = go ahead)."""
    if not settings.RATELIMIT_ENABLE:
        return 0
    now = time.time()
    failures, last = cache.get(_client(request), (0, 0.0))
    delay = 0
    if failures >= FREE_FAILURES:
        delay = min(MAX_DELAY, 2 ** (failures - FREE_FAILURES + 1))
    remaining = int(last + delay - now) + 1 if delay else 0
    global_failures = cache.get("wbs-rcpt:global", 0)
    if global_failures >= GLOBAL_LIMIT:
        remaining = max(remaining, 5)
    return max(0, remaining)


def record_failure(request: HttpRequest) -> None:
    key = _client(request)
    failures, _last = cache.get(key, (0, 0.0))
    cache.set(key, (failures + 1, time.time()), MAX_DELAY * 2)
    try:
        cache.incr("wbs-rcpt:global")
    except ValueError:
        cache.set("wbs-rcpt:global", 1, GLOBAL_WINDOW)


def record_success(request: HttpRequest) -> None:
    cache.delete(_client(request))
