"""The server secret behind every fingerprint, and the keyed hashes derived from it.

All hashing is keyed BLAKE2b with a per-purpose sub-key, so a signature, a band hash or an entity
key cannot be recomputed from a guessed text without the secret, and values made for one purpose
(e.g. a band hash) cannot be confused with another (an entity key).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class DedupKey:
    """A de-duplication secret (at least 32 random bytes, e.g. from the settings/KMS).

    ``key_id`` is a public 16-hex-digit tag of the secret, stored with every fingerprint so that
    fingerprints made under different secrets are never compared (they would never match).
    """

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the de-duplication secret must be at least {MIN_SECRET_BYTES} bytes")

    def subkey(self, purpose: str) -> bytes:
        """Return the 32-byte sub-key for ``purpose`` (domain separation)."""
        return hashlib.blake2b(
            purpose.encode(), key=self.secret[:64], digest_size=32, person=b"cegah-dd-kdf"
        ).digest()

    @property
    def key_id(self) -> str:
        """Return the public identifier of this secret (not usable to recover it)."""
        return self.subkey("key-id")[:8].hex()

    def hasher(self, purpose: str, digest_size: int = 8) -> KeyedHash:
        """Return a keyed hash function for ``purpose``."""
        return KeyedHash(self.subkey(purpose), digest_size)


class KeyedHash:
    """Keyed BLAKE2b with a fixed key; the keyed state is prepared once and copied per call."""

    __slots__ = ("_base", "digest_size")

    def __init__(self, key: bytes, digest_size: int) -> None:
        self._base = hashlib.blake2b(key=key, digest_size=digest_size)
        self.digest_size = digest_size

    def digest(self, data: bytes) -> bytes:
        """Return the keyed digest of ``data``."""
        h = self._base.copy()
        h.update(data)
        return h.digest()

    def int64(self, data: bytes) -> int:
        """Return the keyed digest of ``data`` as a signed 64-bit integer (a SQL ``bigint``)."""
        return int.from_bytes(self.digest(data)[:8], "big", signed=True)

    def uint32(self, data: bytes) -> int:
        """Return the keyed digest of ``data`` as an unsigned 32-bit integer."""
        return int.from_bytes(self.digest(data)[:4], "big")

    def hex(self, data: bytes) -> str:
        """Return the keyed digest of ``data`` as hex (entity keys)."""
        return self.digest(data).hex()
