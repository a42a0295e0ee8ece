"""Content encryption at rest and keyed sender hashes for the channels layer.

Message content (text, sender phone or user id, media ids), outbound addresses and conversation
state are sealed with AES-256-GCM under a server key. The associated data names the row the
ciphertext belongs to (for example ``inbound:whatsapp:wamid.X``), so a ciphertext copied onto
another row fails to open instead of being read in the wrong context.

Senders are looked up by an HMAC of their provider id under a separate derived key, never by the
raw id: a database dump alone does not reveal who wrote in.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cegah.channels.conf import get_config
from cegah.core.env import ConfigurationError

VERSION = b"\x01"
_NONCE_BYTES = 12


class ContentUnreadable(Exception):
    """Raised when a ciphertext does not open: wrong key, wrong row or tampered bytes."""


def _master_key() -> bytes:
    raw = get_config().channels_key
    if raw:
        try:
            key = base64.b64decode(raw, validate=True)
        except ValueError as exc:
            raise ConfigurationError("CEGAH_CHANNELS_KEY must be base64") from exc
        if len(key) != 32:
            raise ConfigurationError("CEGAH_CHANNELS_KEY must decode to 32 bytes")
        return key
    from django.conf import settings

    # The installation's data secret when the settings define one (it survives a rotation of
    # Django's SECRET_KEY), else SECRET_KEY.
    root = getattr(settings, "DATA_SECRET", "") or settings.SECRET_KEY
    return str(root).encode()


@functools.lru_cache(maxsize=16)
def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"cegah.channels", info=purpose).derive(
        master
    )


def _content_key() -> bytes:
    return _derive(_master_key(), b"content-aead-v1")


def seal(value: Any, aad: str) -> bytes:
    """Return ``value`` (anything JSON can hold) encrypted and bound to ``aad``."""
    nonce = os.urandom(_NONCE_BYTES)
    plaintext = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return VERSION + nonce + AESGCM(_content_key()).encrypt(nonce, plaintext, aad.encode())


def unseal(blob: bytes | memoryview | None, aad: str) -> Any:
    """Return the value sealed in ``blob`` for ``aad``; raise ContentUnreadable if it does not open."""
    if blob is None:
        raise ContentUnreadable("no content")
    data = bytes(blob)
    if data[:1] != VERSION or len(data) < 1 + _NONCE_BYTES + 16:
        raise ContentUnreadable("unknown format")
    nonce, ciphertext = data[1 : 1 + _NONCE_BYTES], data[1 + _NONCE_BYTES :]
    try:
        plaintext = AESGCM(_content_key()).decrypt(nonce, ciphertext, aad.encode())
    except Exception as exc:  # InvalidTag: wrong key, wrong row or altered bytes
        raise ContentUnreadable("content does not open") from exc
    return json.loads(plaintext)


def sender_key(provider: str, identifier: str) -> str:
    """Return the keyed hash (hex) that stands for a sender's provider id in the database."""
    key = _derive(_master_key(), b"sender-hmac-v1")
    message = f"{provider}\x00{identifier.strip()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
