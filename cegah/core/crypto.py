"""Cryptographic primitives used across Cegah. Everything goes through these few functions.

- ``seal``/``unseal``: AES-256-GCM with a random 96-bit nonce and associated data. The associated
  data binds a ciphertext to its place (report id + field), so a ciphertext copied into another
  row or field fails to decrypt instead of being shown there.
- ``wrap``/``unwrap``: HPKE (RFC 9180) base mode, X25519 + HKDF-SHA256 + AES-256-GCM, to wrap a
  data key for a public key.
- ``derive_key``: Argon2id, for keys derived from passwords and receipts.
- ``derived_secret``: HKDF from the installation's data secret, for server-side keyed hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

KEY_BYTES = 32
NONCE_BYTES = 12
VERSION = b"\x01"
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class DecryptionError(Exception):
    """A ciphertext did not authenticate: wrong key, wrong associated data, or tampering."""


def new_key() -> bytes:
    """Return 32 random bytes from the OS CSPRNG."""
    return os.urandom(KEY_BYTES)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt ``plaintext``; return version byte + nonce + ciphertext-with-tag."""
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Decrypt a ``seal`` output; raise DecryptionError if it does not authenticate."""
    blob = bytes(blob)
    if not blob or blob[:1] != VERSION:
        raise DecryptionError("unknown ciphertext version")
    try:
        return AESGCM(key).decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
    except Exception as exc:  # cryptography raises InvalidTag
        raise DecryptionError("ciphertext does not authenticate") from exc


@dataclass(frozen=True)
class KeyPair:
    private: bytes
    public: bytes


def new_keypair() -> KeyPair:
    """Return a fresh X25519 key pair as raw 32-byte keys."""
    private = X25519PrivateKey.generate()
    return KeyPair(
        private=private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
        public=private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
    )


def wrap(public_key: bytes, secret: bytes, info: bytes) -> bytes:
    """HPKE-seal ``secret`` to ``public_key``; ``info`` binds it to its purpose."""
    return _SUITE.encrypt(secret, X25519PublicKey.from_public_bytes(public_key), info=info)


def unwrap(private_key: bytes, blob: bytes, info: bytes) -> bytes:
    """Open an HPKE-sealed secret; raise DecryptionError if it does not authenticate."""
    try:
        return _SUITE.decrypt(
            bytes(blob), X25519PrivateKey.from_private_bytes(private_key), info=info
        )
    except Exception as exc:
        raise DecryptionError("wrapped key does not open") from exc


@dataclass(frozen=True)
class Argon2Params:
    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 1


def derive_key(secret: str | bytes, salt: bytes, params: Argon2Params) -> bytes:
    """Return a 32-byte Argon2id key from ``secret`` (a password or a receipt) and ``salt``."""
    if isinstance(secret, str):
        secret = secret.encode()
    return hash_secret_raw(
        secret,
        salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def derived_secret(root: bytes, purpose: str) -> bytes:
    """Return a 32-byte key for ``purpose`` derived from the installation's root secret (HKDF)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()
    ).derive(root)


def keyed_digest(key: bytes, data: bytes) -> str:
    """Return HMAC-SHA256(key, data) as hex."""
    return hmac.new(key, data, hashlib.sha256).hexdigest()
