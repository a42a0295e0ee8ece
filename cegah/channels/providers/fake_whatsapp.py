"""A local fake of the WhatsApp Cloud (Graph) API: same paths, same request and response JSON.

It answers ``POST /{version}/{phone-number-id}/messages``, ``GET /{version}/{media-id}`` and the
media download URL it hands out, with a token-bucket rate limit that answers HTTP 429 with Graph
error 130429 like the real API. It records every accepted send and counts sends per
``biz_opaque_callback_data`` (our message reference), so a test or benchmark can prove that no
message went out twice.

Like Meta, it reports every accepted message through status webhooks (``sent``, then
``delivered``) that echo the message's ``biz_opaque_callback_data`` and are signed with the app
secret (``X-Hub-Signature-256``). They wait in ``pending`` until delivered: by
``deliver_webhooks`` (tests post them through the Django test client) or, with ``serve()``, by a
thread posting them to the configured callback URL, keeping refused ones for a later try as Meta
does. Like the real API it offers no way to look a message up by our reference: the webhooks are
the only evidence of a send.

Used in-process through an ``httpx.MockTransport`` (``CEGAH_WHATSAPP_API_BASE=fake:``, tests and
``make run``), or over loopback HTTP with ``serve()`` (``cegah channels fake-whatsapp``) when several
worker processes must share one fake, as the outbox benchmark does.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from cegah.channels.providers.fake_rate import TokenBucket

# Statuses kept for a receiver that is down; the oldest are dropped beyond this (Meta gives up too).
PENDING_LIMIT = 100_000
MESSAGES_PATH = re.compile(r"^/v[\d.]+/(?P<phone>[^/]+)/messages$")
MEDIA_PATH = re.compile(r"^/v[\d.]+/(?P<media>[^/]+)$")
DOWNLOAD_PATH = re.compile(r"^/media-download/(?P<media>[^/]+)$")


def _error(status: int, code: int, message: str) -> httpx.Response:
    body = {
        "error": {
            "message": f"(#{code}) {message}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": message},
            "fbtrace_id": "FakeTrace",
        }
    }
    return httpx.Response(status, json=body)


@dataclass
class FakeGraphAPI:
    rate_per_second: float = 0.0  # 0: no limit
    token: str = ""  # non-empty: require this bearer token
    sent: list[dict[str, Any]] = field(default_factory=list)
    per_reference: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    requests: int = 0
    # Failure injection: the next N sends answer this (status, code); recipients that fail.
    fail_next: list[tuple[int, int]] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)
    window_closed: set[str] = field(default_factory=set)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    # Status webhooks: the app secret that signs them, the statuses each accepted message goes
    # through, how many statuses one webhook body carries, and those not yet delivered.
    app_secret: str = ""
    status_flow: tuple[str, ...] = ("sent", "delivered")
    webhook_batch: int = 1
    pending: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=PENDING_LIMIT))
    webhooks_delivered: int = 0
    webhooks_refused: int = 0
    statuses_queued: int = 0
    statuses_delivered: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._bucket = TokenBucket(self.rate_per_second)

    # --- test helpers ----------------------------------------------------------------------
    def reset(self, rate_per_second: float = 0.0) -> None:
        with self._lock:
            self.rate_per_second = rate_per_second
            self._bucket.reset(rate_per_second)
            self.sent.clear()
            self.per_reference.clear()
            self.rate_limited = self.requests = 0
            self.fail_next.clear()
            self.unreachable.clear()
            self.window_closed.clear()
            self.media.clear()
            self.pending.clear()
            self.webhooks_delivered = self.webhooks_refused = 0
            self.statuses_queued = self.statuses_delivered = 0

    def add_media(self, content: bytes, mime_type: str) -> str:
        media_id = f"{9000000000 + next(self._ids)}"
        self.media[media_id] = (content, mime_type)
        return media_id

    def duplicates(self) -> int:
        return sum(n - 1 for n in self.per_reference.values() if n > 1)

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "accepted": len(self.sent),
            "unique_references": len(self.per_reference),
            "duplicates": self.duplicates(),
            "rate_limited": self.rate_limited,
            "first_at": self.sent[0]["at"] if self.sent else None,
            "last_at": self.sent[-1]["at"] if self.sent else None,
            "webhooks_delivered": self.webhooks_delivered,
            "webhooks_refused": self.webhooks_refused,
            "statuses_pending": len(self.pending),
        }

    # --- status webhooks -------------------------------------------------------------------
    def webhook_bodies(self, limit: int = 0) -> list[tuple[bytes, list[dict[str, Any]]]]:
        """Take pending statuses off the queue as webhook bodies of up to ``webhook_batch``
        statuses each (at most ``limit`` bodies, 0: all); return each body with its statuses."""
        with self._lock:
            taken: list[dict[str, Any]] = []
            want = limit * max(1, self.webhook_batch) if limit else len(self.pending)
            while self.pending and len(taken) < want:
                taken.append(self.pending.popleft())
        size = max(1, self.webhook_batch)
        return [
            (self._webhook_body(taken[i : i + size]), taken[i : i + size])
            for i in range(0, len(taken), size)
        ]

    def _webhook_body(self, statuses: list[dict[str, Any]]) -> bytes:
        changes = []
        for phone_number_id in dict.fromkeys(s["_phone_number_id"] for s in statuses):
            items = [
                {k: v for k, v in s.items() if not k.startswith("_")}
                for s in statuses
                if s["_phone_number_id"] == phone_number_id
            ]
            changes.append(
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550001111",
                            "phone_number_id": phone_number_id,
                        },
                        "statuses": items,
                    },
                }
            )
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{"id": "100000000000002", "changes": changes}],
        }
        return json.dumps(payload, separators=(",", ":")).encode()

    def webhook_headers(self, body: bytes) -> dict[str, str]:
        digest = hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}

    def deliver_webhooks(self, post: Callable[[bytes, dict[str, str]], int], limit: int = 0) -> int:
        """Post pending status webhooks through ``post(body, headers)``, which returns the HTTP
        status; statuses of a webhook not answered 200 go back to the queue, to be posted again
        later (Meta retries). Return how many statuses were delivered."""
        delivered = 0
        bodies = self.webhook_bodies(limit)
        for i, (body, statuses) in enumerate(bodies):
            try:
                ok = post(body, self.webhook_headers(body)) == 200
            except Exception:  # the receiver is down or timed out: try again later
                ok = False
            with self._lock:
                if ok:
                    self.webhooks_delivered += 1
                    self.statuses_delivered += len(statuses)
                    delivered += len(statuses)
                    continue
                self.webhooks_refused += 1
                unsent = [item for _, rest in bodies[i:] for item in rest]
                self.pending.extendleft(reversed(unsent))
            break
        return delivered

    def _queue_statuses(self, wamid: str, phone_number_id: str, payload: dict[str, Any]) -> None:
        """Queue the status webhooks of an accepted message (caller holds the lock)."""
        now = int(time.time())
        for status in self.status_flow:
            item: dict[str, Any] = {
                "id": wamid,
                "status": status,
                "timestamp": str(now),
                "_phone_number_id": phone_number_id,
            }
            if "recipient" in payload:
                item["recipient_user_id"] = str(payload["recipient"])
            else:
                item["recipient_id"] = str(payload.get("to", ""))
            if payload.get("biz_opaque_callback_data"):
                item["biz_opaque_callback_data"] = str(payload["biz_opaque_callback_data"])
            if status == "sent":
                item["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "utility"}
            self.pending.append(item)
            self.statuses_queued += 1

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # --- the API ---------------------------------------------------------------------------
    def _take_token(self) -> bool:
        return self._bucket.take()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, 190, "Invalid OAuth access token")
        path = request.url.path
        if request.method == "POST" and (match := MESSAGES_PATH.match(path)):
            return self._send(request, match["phone"])
        if request.method == "GET" and (match := DOWNLOAD_PATH.match(path)):
            item = self.media.get(match["media"])
            if item is None:
                return httpx.Response(404)
            return httpx.Response(200, content=item[0], headers={"Content-Type": item[1]})
        if request.method == "GET" and (match := MEDIA_PATH.match(path)):
            item = self.media.get(match["media"])
            if item is None:
                return _error(400, 100, "Invalid media id")
            return httpx.Response(
                200,
                json={
                    "messaging_product": "whatsapp",
                    "url": f"{request.url.scheme}://{request.url.netloc.decode()}"
                    f"/media-download/{match['media']}",
                    "mime_type": item[1],
                    "sha256": hashlib.sha256(item[0]).hexdigest(),
                    "file_size": len(item[0]),
                    "id": match["media"],
                },
            )
        if request.method == "GET" and path == "/_fake/stats":
            with self._lock:
                return httpx.Response(200, json=self.stats())
        return _error(404, 100, "Unknown path")

    def _send(self, request: httpx.Request, phone_number_id: str) -> httpx.Response:
        try:
            payload = json.loads(request.content)
        except ValueError:
            return _error(400, 100, "Invalid JSON")
        recipient = str(payload.get("to") or payload.get("recipient") or "")
        kind = payload.get("type", "text")
        if payload.get("messaging_product") != "whatsapp" or not recipient:
            return _error(400, 100, "Invalid parameter")
        if kind not in {"text", "template", "interactive"}:
            return _error(400, 100, "Unsupported message type")
        with self._lock:
            self.requests += 1
            if not self._take_token():
                self.rate_limited += 1
                return _error(429, 130429, "Rate limit hit")
            if self.fail_next:
                status, code = self.fail_next.pop(0)
                return _error(status, code, "Injected failure")
            if recipient in self.unreachable:
                return _error(400, 131026, "Message undeliverable")
            if recipient in self.window_closed and kind != "template":
                return _error(400, 131047, "Re-engagement message")
            wamid = f"wamid.FAKE{next(self._ids):012d}"
            reference = str(payload.get("biz_opaque_callback_data", ""))
            self.sent.append(
                {
                    "id": wamid,
                    "phone_number_id": phone_number_id,
                    "to": recipient,
                    "type": kind,
                    "reference": reference,
                    "payload": payload,
                    "at": time.time(),
                }
            )
            if reference:
                self.per_reference[reference] += 1
            self._queue_statuses(wamid, phone_number_id, payload)
        contact: dict[str, str] = {"input": recipient}
        if "recipient" in payload:
            contact["user_id"] = recipient
        else:
            contact["wa_id"] = recipient
        return httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [contact],
                "messages": [{"id": wamid}],
            },
        )


_FAKE: FakeGraphAPI | None = None
_FAKE_LOCK = threading.Lock()


def fake_graph() -> FakeGraphAPI:
    """Return the process-wide fake, created with the configured rate limit on first use."""
    global _FAKE
    with _FAKE_LOCK:
        if _FAKE is None:
            from cegah.channels.conf import get_config

            config = get_config()
            _FAKE = FakeGraphAPI(
                rate_per_second=config.whatsapp_fake_rate_per_second,
                app_secret=config.whatsapp_app_secret,
            )
        return _FAKE


def post_webhooks_forever(
    fake: FakeGraphAPI, url: str, interval: float = 0.2, stop: threading.Event | None = None
) -> threading.Thread:
    """Start a daemon thread posting ``fake``'s pending status webhooks to ``url`` (our
    ``/channels/whatsapp/webhook``) every ``interval`` seconds, as Meta does; return it."""
    stopping = stop or threading.Event()

    def run() -> None:
        with httpx.Client(timeout=10) as client:

            def post(body: bytes, headers: dict[str, str]) -> int:
                return client.post(url, content=body, headers=headers).status_code

            while not stopping.is_set():
                if not fake.deliver_webhooks(post, limit=20):
                    stopping.wait(interval)

    thread = threading.Thread(target=run, name="fake-graph-webhooks", daemon=True)
    thread.start()
    return thread


def serve(
    fake: FakeGraphAPI,
    host: str = "127.0.0.1",
    port: int = 0,
    before_response: Callable[[tuple[str, int], httpx.Request, httpx.Response], None] | None = None,
    latency: float = 0.0,
) -> ThreadingHTTPServer:
    """Return a loopback HTTP server answering with ``fake`` (call ``serve_forever`` on it).

    ``latency`` (seconds) delays every answer, as the real Graph API's round trip does (about
    0.1–0.3 s from Indonesia): a send worker then spends most of its time waiting, which is what
    sizing the number of workers is about.

    ``before_response(client address, request, response)`` runs after the fake has handled a
    request and before the answer is written: a benchmark's fault injection (killing the client
    whose send was just accepted) hooks in here.
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK hold the second one for ~40 ms.
        disable_nagle_algorithm = True

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = httpx.Request(
                self.command,
                f"http://{self.headers.get('Host', host)}{self.path}",
                headers=dict(self.headers.items()),
                content=body,
            )
            response = fake.handle(request)
            if latency > 0:
                time.sleep(latency)
            if before_response is not None:
                before_response(self.client_address, request, response)
            content = response.read()
            self.send_response(response.status_code)
            self.send_header("Content-Type", response.headers.get("Content-Type", "text/plain"))
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = _answer
        do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the fake must not print recipients

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            # A client that died mid-request (the benchmark kills a worker) is not our error.
            pass

    return Server((host, port), Handler)
