"""A local fake of Twilio's Messages REST API (same path, form fields and JSON answers).

Records accepted sends, counts them per ``ref`` (our message reference, carried in the status
callback URL), and can rate-limit (429 / 20429), fail on demand, or refuse numbers (21211).

Like Twilio, it calls a send's ``StatusCallback`` URL as the message moves on (``sent``, then
``delivered``), with Twilio's form fields and an ``X-Twilio-Signature`` made with the account's
auth token over that exact URL. The calls wait in ``pending`` until ``deliver_callbacks`` posts
them (tests post them through the Django test client); one not answered 2xx stays for later.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from twilio.request_validator import RequestValidator

from cegah.channels.providers.fake_rate import TokenBucket

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")


def _error(status: int, code: int, message: str) -> httpx.Response:
    return httpx.Response(
        status, json={"code": code, "message": message, "more_info": "", "status": status}
    )


@dataclass
class FakeTwilioAPI:
    rate_per_second: float = 0.0
    sent: list[dict[str, Any]] = field(default_factory=list)
    per_reference: Counter[str] = field(default_factory=Counter)
    fail_next: list[tuple[int, int]] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)
    rate_limited: int = 0
    # Status callbacks: the auth token that signs them, the statuses an accepted message goes
    # through, and the (url, form) calls not yet made.
    auth_token: str = ""
    status_flow: tuple[str, ...] = ("sent", "delivered")
    pending: deque[tuple[str, dict[str, str]]] = field(
        default_factory=lambda: deque(maxlen=100_000)
    )

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._bucket = TokenBucket(self.rate_per_second)

    def reset(self, rate_per_second: float = 0.0) -> None:
        with self._lock:
            self.rate_per_second = rate_per_second
            self._bucket.reset(rate_per_second)
            self.sent.clear()
            self.per_reference.clear()
            self.fail_next.clear()
            self.unreachable.clear()
            self.rate_limited = 0
            self.pending.clear()

    def deliver_callbacks(
        self, post: Callable[[str, dict[str, str], dict[str, str]], int], limit: int = 0
    ) -> int:
        """Make the pending status callbacks through ``post(url, form, headers)``, which returns
        the HTTP status; a call not answered 2xx goes back to the queue. Return how many were
        made."""
        with self._lock:
            count = min(limit, len(self.pending)) if limit else len(self.pending)
            calls = [self.pending.popleft() for _ in range(count)]
        validator = RequestValidator(self.auth_token)
        made = 0
        for i, (url, form) in enumerate(calls):
            headers = {"X-Twilio-Signature": validator.compute_signature(url, form)}
            try:
                ok = 200 <= post(url, form, headers) < 300
            except Exception:  # the receiver is down: try again later
                ok = False
            if not ok:
                with self._lock:
                    self.pending.extendleft(reversed(calls[i:]))
                break
            made += 1
        return made

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def _take_token(self) -> bool:
        return self._bucket.take()

    def handle(self, request: httpx.Request) -> httpx.Response:
        match = MESSAGES_PATH.match(request.url.path)
        if request.method != "POST" or not match:
            return _error(404, 20404, "The requested resource was not found")
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        to = form.get("To", "")
        if (
            not to
            or not (form.get("From") or form.get("MessagingServiceSid"))
            or not form.get("Body")
        ):
            return _error(400, 21604, "A 'To', 'From' and 'Body' are required")
        with self._lock:
            if not self._take_token():
                self.rate_limited += 1
                return _error(429, 20429, "Too Many Requests")
            if self.fail_next:
                status, code = self.fail_next.pop(0)
                return _error(status, code, "Injected failure")
            if to in self.unreachable:
                return _error(400, 21211, "The 'To' number is not a valid phone number")
            sid = f"SMFAKE{next(self._ids):026d}"
            callback = form.get("StatusCallback", "")
            reference = parse_qs(urlsplit(callback).query).get("ref", [""])[0]
            self.sent.append(
                {
                    "sid": sid,
                    "to": to,
                    "body": form["Body"],
                    "reference": reference,
                    "at": time.time(),
                }
            )
            if reference:
                self.per_reference[reference] += 1
            if callback:
                sender = form.get("From") or form.get("MessagingServiceSid", "")
                for state in self.status_flow:
                    self.pending.append(
                        (
                            callback,
                            {
                                "AccountSid": match["sid"],
                                "ApiVersion": "2010-04-01",
                                "From": sender,
                                "MessageSid": sid,
                                "MessageStatus": state,
                                "SmsSid": sid,
                                "SmsStatus": state,
                                "To": to,
                            },
                        )
                    )
        return httpx.Response(
            201,
            json={"sid": sid, "status": "queued", "to": to, "account_sid": match["sid"]},
        )


_FAKE: FakeTwilioAPI | None = None
_FAKE_LOCK = threading.Lock()


def fake_twilio() -> FakeTwilioAPI:
    """Return the process-wide fake Twilio API."""
    global _FAKE
    with _FAKE_LOCK:
        if _FAKE is None:
            from cegah.channels.conf import get_config

            _FAKE = FakeTwilioAPI(auth_token=get_config().twilio_auth_token)
        return _FAKE
