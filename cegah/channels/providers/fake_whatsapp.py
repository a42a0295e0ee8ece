"""A local fake of the WhatsApp Cloud (Graph) API: same paths, same request and response JSON.

It answers ``POST /{version}/{phone-number-id}/messages``, ``GET /{version}/{media-id}`` and the
media download URL it hands out, with a token-bucket rate limit that answers HTTP 429 with Graph
error 130429 like the real API. It records every accepted send and counts sends per
``biz_opaque_callback_data`` (our message reference), so a test or benchmark can prove that no
message went out twice.

Used in-process through an ``httpx.MockTransport`` (``CEGAH_WHATSAPP_API_BASE=fake:``, tests and
``make run``), or over loopback HTTP with ``serve()`` (``cegah channels fake-server``) when several
worker processes must share one fake, as the outbox benchmark does.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

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

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._tokens = self.rate_per_second
        self._refilled = time.monotonic()

    # --- test helpers ----------------------------------------------------------------------
    def reset(self, rate_per_second: float = 0.0) -> None:
        with self._lock:
            self.rate_per_second = rate_per_second
            self._tokens, self._refilled = rate_per_second, time.monotonic()
            self.sent.clear()
            self.per_reference.clear()
            self.rate_limited = self.requests = 0
            self.fail_next.clear()
            self.unreachable.clear()
            self.window_closed.clear()
            self.media.clear()

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
        }

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # --- the API ---------------------------------------------------------------------------
    def _take_token(self) -> bool:
        if self.rate_per_second <= 0:
            return True
        now = time.monotonic()
        self._tokens = min(
            self.rate_per_second, self._tokens + (now - self._refilled) * self.rate_per_second
        )
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

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

            _FAKE = FakeGraphAPI(rate_per_second=get_config().whatsapp_fake_rate_per_second)
        return _FAKE


def serve(fake: FakeGraphAPI, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Return a loopback HTTP server answering with ``fake`` (call ``serve_forever`` on it)."""

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
