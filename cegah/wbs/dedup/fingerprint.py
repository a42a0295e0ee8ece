"""``fingerprint(fields, key)``: everything duplicate detection keeps about a report, with no plaintext.

A ``Fingerprint`` holds

* two keyed MinHash signatures of the normalised narrative: over content words (``words``) and
  over adjacent word pairs (``pairs``), with the sizes of both sets;
* keyed entity keys per kind (8-byte keyed BLAKE2b of the normalised value, hex);
* the id of the key that made it.

It serialises to compact JSON (``to_json``/``from_json``, ``to_bytes``/``from_bytes``).
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from cegah.wbs.dedup.entities import field_entities, text_entities
from cegah.wbs.dedup.keys import DedupKey
from cegah.wbs.dedup.minhash import NUM_PERM, signature
from cegah.wbs.dedup.normalize import content_tokens

FORMAT_VERSION = 1


@dataclass(frozen=True)
class ReportFields:
    """The intake values a fingerprint is computed from (plaintext, in memory only).

    ``text`` is the narrative (title and body joined by the caller if there is a title);
    the other fields are optional structured answers from the intake form.
    """

    text: str
    reported_persons: Sequence[str] = ()
    reported_institutions: Sequence[str] = ()
    region: str | None = None
    tender_codes: Sequence[str] = ()
    amount: int | Decimal | None = None


@dataclass(frozen=True)
class Fingerprint:
    """The derived, keyed values of one report. Contains no plaintext."""

    key_id: str
    words: np.ndarray
    pairs: np.ndarray
    n_words: int
    n_pairs: int
    entities: dict[str, frozenset[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (store it in a JSON column or as ``to_bytes``)."""
        return {
            "v": FORMAT_VERSION,
            "kid": self.key_id,
            "nw": self.n_words,
            "np": self.n_pairs,
            "w": _b64(self.words),
            "p": _b64(self.pairs),
            "e": {k: sorted(v) for k, v in sorted(self.entities.items()) if v},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fingerprint:
        """Return the fingerprint stored by ``to_json``.

        Raises ``ValueError`` for an unknown format version or a malformed signature.
        """
        if data.get("v") != FORMAT_VERSION:
            raise ValueError(f"unsupported fingerprint format {data.get('v')!r}")
        return cls(
            key_id=str(data["kid"]),
            words=_unb64(data["w"]),
            pairs=_unb64(data["p"]),
            n_words=int(data["nw"]),
            n_pairs=int(data["np"]),
            entities={str(k): frozenset(map(str, v)) for k, v in data.get("e", {}).items()},
        )

    def to_bytes(self) -> bytes:
        """Return the compact UTF-8 JSON encoding (about 1.5 kB)."""
        return json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Fingerprint:
        """Return the fingerprint encoded by ``to_bytes``; raises ``ValueError`` if malformed."""
        return cls.from_json(json.loads(raw))


def _b64(sig: np.ndarray) -> str:
    return base64.b64encode(sig.astype(">u4").tobytes()).decode("ascii")


def _unb64(text: str) -> np.ndarray:
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 4 * NUM_PERM:
        raise ValueError("malformed signature")
    return np.frombuffer(raw, dtype=">u4").astype(np.uint32)


def word_pairs(tokens: list[str]) -> set[str]:
    """Return the adjacent-word shingles of a token list (the tokens themselves if only one)."""
    if len(tokens) < 2:
        return set(tokens)
    return {f"{a} {b}" for a, b in itertools.pairwise(tokens)}


def hash_entities(entities: dict[str, set[str]], key: DedupKey) -> dict[str, frozenset[str]]:
    """Return the entity map with every value replaced by its keyed hash (per-kind sub-key)."""
    out = {}
    for kind, values in entities.items():
        if values:
            h = key.hasher("entity:" + kind)
            out[kind] = frozenset(h.hex(v.encode()) for v in values)
    return out


def fingerprint(fields: ReportFields, key: DedupKey) -> Fingerprint:
    """Return the fingerprint of one report. Call it at intake, while the plaintext is in memory."""
    tokens = content_tokens(fields.text)
    words = set(tokens)
    pairs = word_pairs(tokens)
    ents = text_entities(fields.text)
    structured = field_entities(
        reported_persons=fields.reported_persons,
        reported_institutions=fields.reported_institutions,
        region=fields.region,
        tender_codes=fields.tender_codes,
        amount=fields.amount,
    )
    for kind, values in structured.items():
        ents[kind].update(values)
    return Fingerprint(
        key_id=key.key_id,
        words=signature(words, key, "minhash:words"),
        pairs=signature(pairs, key, "minhash:pairs"),
        n_words=len(words),
        n_pairs=len(pairs),
        entities=hash_entities(ents, key),
    )
