"""Keys, sealing and keyed hashes of the survey: contact data, link tokens, drafts, devices.

Every key is derived from ``settings.DATA_SECRET`` with HKDF under its own purpose, so one
purpose's key never opens another's data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from django.conf import settings

from cegah.core.crypto import derived_secret, seal, unseal


def _key(purpose: str) -> bytes:
    return derived_secret(str(settings.DATA_SECRET).encode(), purpose)


def _aad(public_id: object) -> bytes:
    return f"survey-respondent:{public_id}".encode()


def seal_contact(public_id: object, contact: dict[str, str]) -> bytes:
    """Seal a respondent's name, phone and email, bound to the respondent's public id."""
    return seal(_key("survey-frame"), json.dumps(contact).encode(), _aad(public_id))


def unseal_contact(public_id: object, blob: bytes | memoryview) -> dict[str, str]:
    """Open ``seal_contact``; raises cegah.core.crypto.DecryptionError if it does not belong."""
    data: dict[str, str] = json.loads(unseal(_key("survey-frame"), bytes(blob), _aad(public_id)))
    return data


def keyed_hash(purpose: str, value: str) -> str:
    """Return a hex HMAC of ``value``; '' for an empty value (nothing to match on)."""
    if not value:
        return ""
    return hmac.new(_key(f"survey-{purpose}"), value.encode(), hashlib.sha256).hexdigest()


def new_nonce() -> str:
    return secrets.token_hex(16)


def token_for(nonce: str) -> str:
    """Return the link token of an invitation: HMAC(secret, nonce), 22 URL-safe characters.

    Derived rather than stored, so reminders can carry the same link while the database keeps
    only its hash.
    """
    mac = hmac.new(_key("survey-token"), nonce.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(f"survey-token:{token}".encode()).hexdigest()


def _draft_key(token: str) -> bytes:
    # From the token itself: without the link, nobody (staff included) can open the draft.
    return hmac.new(_key("survey-draft"), token.encode(), hashlib.sha256).digest()


def seal_draft(token: str, answers: dict[str, Any]) -> bytes:
    return seal(_draft_key(token), json.dumps(answers).encode(), b"survey-draft")


def unseal_draft(token: str, blob: bytes | memoryview) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(unseal(_draft_key(token), bytes(blob), b"survey-draft"))
    return data
