"""Keyed MinHash signatures (datasketch ``affine32`` scheme with a keyed input hash).

Secrecy comes from the input hash: every shingle is hashed with keyed BLAKE2b, so without the key
nobody can compute the signature of a guessed text. The permutation seed is derived from the key
too, so that signatures of different deployments do not even share the permutation family.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np

from cegah.wbs.dedup.keys import DedupKey

NUM_PERM = 128
SCHEME = "affine32"
EMPTY = np.uint32(0xFFFFFFFF)


@lru_cache(maxsize=16)
def _permutations(key_id: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the permutation parameters for one key (generated once; datasketch is slow at it)."""
    # datasketch is imported where used: it brings SciPy, half a second that every Django start
    # (web, worker, each command) would otherwise pay.
    from datasketch import MinHash

    template = MinHash(num_perm=NUM_PERM, seed=seed, scheme=SCHEME)
    a, b = template.permutations
    return a, b


def signature(shingles: Iterable[str], key: DedupKey, purpose: str = "minhash") -> np.ndarray:
    """Return the keyed MinHash signature (``NUM_PERM`` uint32 values) of a set of shingles.

    An empty set gives the all-``EMPTY`` signature, which ``jaccard`` treats as matching nothing.
    """
    hasher = key.hasher(purpose, digest_size=4)
    seed = int.from_bytes(key.subkey(purpose + "-seed")[:4], "big")
    hashed = [hasher.digest(s.encode()) for s in set(shingles)]
    from datasketch import MinHash

    m = MinHash(
        num_perm=NUM_PERM,
        scheme=SCHEME,
        hashfunc=lambda b: int.from_bytes(b, "big"),
        permutations=_permutations(key.key_id + purpose, seed),
    )
    if hashed:
        m.update_batch(hashed)
    return np.asarray(m.hashvalues, dtype=np.uint32)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Return the estimated Jaccard similarity of two signatures (0 if either set was empty)."""
    if a.shape != b.shape:
        raise ValueError("signatures of different lengths cannot be compared")
    if bool(np.all(a == EMPTY)) or bool(np.all(b == EMPTY)):
        return 0.0
    return float(np.count_nonzero(a == b)) / len(a)


def containment(j: float, size_a: int, size_b: int) -> float:
    """Return the estimated overlap coefficient |A∩B| / min(|A|,|B|) from Jaccard and set sizes.

    Catches a short retelling contained in a long original, which Jaccard alone scores low.
    """
    if size_a == 0 or size_b == 0:
        return 0.0
    inter = j / (1.0 + j) * (size_a + size_b)
    return min(1.0, inter / min(size_a, size_b))
