"""The rate limit the local fakes of the providers' APIs enforce (a token bucket)."""

from __future__ import annotations

import time


class TokenBucket:
    """``rate`` sends a second, refilled continuously, with a burst of one second's worth.

    ``rate`` 0 means no limit. Not thread-safe: the fakes call ``take`` under their own lock.
    """

    def __init__(self, rate: float = 0.0) -> None:
        self.reset(rate)

    def reset(self, rate: float) -> None:
        """Start again full, at ``rate`` a second."""
        self.rate = rate
        self._tokens = rate
        self._refilled = time.monotonic()

    def take(self) -> bool:
        """Take one token; return False (the provider's 429) when none is left."""
        if self.rate <= 0:
            return True
        now = time.monotonic()
        self._tokens = min(self.rate, self._tokens + (now - self._refilled) * self.rate)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
