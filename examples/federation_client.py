"""A small client for Cegah's federation API, for an institution that runs its own WBS.

It signs every request with the partner's Ed25519 key, fetches the hub's shared de-duplication
parameters, fingerprints its cases locally with the same engine (``cegah.wbs.dedup``, which needs
no Django) and pushes only metadata and keyed fingerprints: the text never leaves the partner.

    # once: make a key pair and give partner.pub to the hub's operator, who runs
    #   cegah wbs federation-register ORG_SLUG partner.pub
    python examples/federation_client.py keygen partner

    # push cases (JSON lines: external_id, category, received_at, status, text, optional
    # region_code, amount_bucket, reported_persons, reported_institutions) and list duplicates
    python examples/federation_client.py push --hub http://127.0.0.1:8000 --partner ORG_SLUG \\
        --key partner.key cases.jsonl
    python examples/federation_client.py candidates --hub … --partner … --key partner.key

Dependencies: httpx, cryptography, and the ``cegah`` package (for the fingerprint engine only).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import sys
import time
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SIGNATURE_VERSION = b"cegah-federation-v1"
API_PATH = "/api/v1/federation"


def canonical_message(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """Return the bytes the signature covers: version, method, path with query, timestamp,
    nonce and the SHA-256 of the body, one per line."""
    return b"\n".join(
        [
            SIGNATURE_VERSION,
            method.upper().encode(),
            path.encode(),
            timestamp.encode(),
            nonce.encode(),
            hashlib.sha256(body).hexdigest().encode(),
        ]
    )


def signed_headers(
    key: Ed25519PrivateKey,
    partner: str,
    method: str,
    path: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Return the four headers that authenticate one request."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_urlsafe(24)
    signature = key.sign(canonical_message(method, path, stamp, nonce, body))
    return {
        "X-Cegah-Partner": partner,
        "X-Cegah-Timestamp": stamp,
        "X-Cegah-Nonce": nonce,
        "X-Cegah-Signature": base64.b64encode(signature).decode(),
    }


class SignedAuth(httpx.Auth):
    """httpx authentication that signs the final request (method, raw path, body)."""

    requires_request_body = True

    def __init__(self, key: Ed25519PrivateKey, partner: str) -> None:
        self.key = key
        self.partner = partner

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        headers = signed_headers(
            self.key, self.partner, request.method, request.url.raw_path.decode(), request.content
        )
        request.headers.update(headers)
        yield request


class FederationError(Exception):
    """The hub refused a request; ``status`` and ``error`` ({code, message, details}) say why."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(f"{status}: {error.get('message', error)}")
        self.status = status
        self.error = error


class FederationClient:
    """A partner's connection to the hub."""

    def __init__(
        self,
        hub: str,
        partner: str,
        key: Ed25519PrivateKey,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.http = httpx.Client(
            base_url=hub.rstrip("/") + API_PATH,
            auth=SignedAuth(key, partner),
            transport=transport,
            timeout=timeout,
        )
        self._dedup_key: Any = None

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        body = b"" if payload is None else json.dumps(payload, default=str).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        response = self.http.request(method, path, content=body, headers=headers)
        if response.status_code >= 400:
            try:
                error = response.json().get("error", {})
            except ValueError:
                error = {"message": response.text[:200]}
            raise FederationError(response.status_code, error)
        return response.json()

    def parameters(self) -> dict[str, Any]:
        """Return the hub's de-duplication parameters (key id, secret, threshold)."""
        return self._call("GET", "/parameters")  # type: ignore[no-any-return]

    def dedup_key(self) -> Any:
        """Return the shared ``DedupKey`` (fetched once)."""
        if self._dedup_key is None:
            from cegah.wbs.dedup import DedupKey

            params = self.parameters()
            self._dedup_key = DedupKey(base64.b64decode(params["secret"]))
            if self._dedup_key.key_id != params["key_id"]:
                raise FederationError(0, {"message": "the hub's key id does not match its secret"})
        return self._dedup_key

    def fingerprint(self, case: dict[str, Any]) -> dict[str, Any]:
        """Return the keyed fingerprint of a case (computed here; the text stays here)."""
        from cegah.wbs.dedup import ReportFields, fingerprint
        from cegah.wbs.dedup.entities import tender_codes_in_text

        text = str(case["text"])
        fields = ReportFields(
            text=text,
            reported_persons=tuple(case.get("reported_persons") or ()),
            reported_institutions=tuple(case.get("reported_institutions") or ()),
            region=case.get("region_code") or None,
            tender_codes=tuple(tender_codes_in_text(text)),
            amount=case.get("amount"),
        )
        return fingerprint(fields, self.dedup_key()).to_json()  # type: ignore[no-any-return]

    def push_case(self, case: dict[str, Any]) -> dict[str, Any]:
        """Push one case's metadata (and its fingerprint if it has ``text``); idempotent.

        Returns the hub's answer: ``created``, ``changed`` and the case's ``candidates``.
        """
        payload = {
            "external_id": case["external_id"],
            "category": case["category"],
            "received_at": case["received_at"],
            "status": case["status"],
            "region_code": case.get("region_code", ""),
            "amount_bucket": case.get("amount_bucket", ""),
        }
        if case.get("text"):
            payload["fingerprint"] = self.fingerprint(case)
        return self._call("POST", "/cases", payload)  # type: ignore[no-any-return]

    def set_status(self, external_id: str, status: str) -> dict[str, Any]:
        return self._call(  # type: ignore[no-any-return]
            "POST", "/cases/status", {"external_id": external_id, "status": status}
        )

    def candidates(self) -> list[dict[str, Any]]:
        """Return the possible duplicates of all the partner's cases (metadata only)."""
        return self._call("GET", "/candidates")  # type: ignore[no-any-return]

    def decide(self, candidate_id: int, decision: str) -> dict[str, Any]:
        """Confirm or dismiss a possible duplicate of one of the partner's cases."""
        return self._call(  # type: ignore[no-any-return]
            "POST", "/candidates/decision", {"candidate_id": candidate_id, "decision": decision}
        )


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SystemExit(f"{path} is not an Ed25519 private key")
    return key


def keygen(stem: Path) -> tuple[Path, Path]:
    """Write ``stem.key`` (private, PEM, mode 600) and ``stem.pub`` (public, PEM)."""
    key = Ed25519PrivateKey.generate()
    private = stem.with_suffix(".key")
    public = stem.with_suffix(".pub")
    private.touch(mode=0o600)
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def _read_cases(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("keygen", help="make a key pair: STEM.key and STEM.pub")
    gen.add_argument("stem", type=Path)
    for name in ("push", "candidates"):
        p = sub.add_parser(name)
        p.add_argument("--hub", required=True, help="e.g. https://cegah.example.go.id")
        p.add_argument("--partner", required=True, help="your organisation's slug at the hub")
        p.add_argument("--key", type=Path, required=True, help="your Ed25519 private key (PEM)")
        if name == "push":
            p.add_argument("cases", type=Path, help="JSON lines of cases")
    args = parser.parse_args(argv)
    if args.command == "keygen":
        private, public = keygen(args.stem)
        sys.stdout.write(f"wrote {private} (keep it secret) and {public} (give it to the hub)\n")
        return 0
    client = FederationClient(args.hub, args.partner, load_private_key(args.key))
    try:
        if args.command == "push":
            for case in _read_cases(args.cases):
                answer = client.push_case(case)
                sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(json.dumps(client.candidates(), ensure_ascii=False, indent=2) + "\n")
    except FederationError as exc:
        sys.stderr.write(f"hub refused: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
