"""Re-ranking of LSH candidates using only stored, derived values.

``compare(a, b)`` returns a score in [0, 1] and its reasons:

* text similarity: the mean of the estimated Jaccard and overlap (containment) of the word and
  the word-pair signatures, so a short retelling contained in a long original still scores;
* entity disagreement multiplies the score down (two reports that name different RTs, villages,
  streets, schools or amounts are different incidents even if worded identically);
* entity agreement on specific facts adds a small bonus.

Weights and the threshold were chosen on the DEV benchmark (see ``docs/duplicate-detection.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cegah.wbs.dedup.fingerprint import Fingerprint
from cegah.wbs.dedup.minhash import containment, jaccard

# Shipped decision threshold on ``Match.score`` (chosen on DEV, see bench/dedup_eval.py).
THRESHOLD = 0.46

# Multiplier applied once per entity kind on which the two reports disagree, i.e. each names a
# value the other does not. Location facts are decisive; free numbers and honorific-named persons
# are noisy (retellings drop or add some), so they weigh less.
MISMATCH_FACTOR = {
    "rt": 0.35,
    "rw": 0.35,
    "village": 0.35,
    "district": 0.35,
    "street": 0.35,
    "school": 0.35,
    "amount": 0.35,
    "tender": 0.35,
    "region": 0.5,
    "institution": 0.7,
    "number": 0.7,
    "person": 0.8,
}
# Kinds whose agreement is specific enough to add confidence (region is not: same-region
# complaints about different incidents are common).
AGREEMENT_BONUS = 0.03
BONUS_KINDS = frozenset(
    {"rt", "rw", "village", "district", "street", "school", "amount", "tender", "institution"}
)


@dataclass(frozen=True)
class Match:
    """The comparison of two fingerprints.

    ``agree``/``disagree`` list entity kinds (e.g. ``("village", "rt")``), never values, so they can
    be shown to handlers of either organisation.
    """

    score: float
    text_similarity: float
    jaccard_words: float
    jaccard_pairs: float
    agree: tuple[str, ...]
    disagree: tuple[str, ...]

    @property
    def is_duplicate(self) -> bool:
        """Return True if the score reaches the shipped threshold."""
        return self.score >= THRESHOLD

    def reasons(self) -> list[str]:
        """Return short human-readable reasons (English; the app translates)."""
        out = [f"text similarity {self.text_similarity:.2f}"]
        out += [f"same {kind}" for kind in self.agree]
        out += [f"different {kind}" for kind in self.disagree]
        return out


def entity_relation(a: Fingerprint, b: Fingerprint) -> tuple[list[str], list[str]]:
    """Return (kinds both agree on, kinds they disagree on).

    A kind agrees when both name it and one set contains the other (a retelling may drop a fact);
    it disagrees when each side names a value the other lacks.
    """
    agree, disagree = [], []
    for kind in sorted(set(a.entities) & set(b.entities)):
        ea, eb = a.entities[kind], b.entities[kind]
        if ea - eb and eb - ea:
            disagree.append(kind)
        elif ea & eb:
            agree.append(kind)
    return agree, disagree


def text_similarity(a: Fingerprint, b: Fingerprint) -> tuple[float, float, float]:
    """Return (combined text similarity, Jaccard of words, Jaccard of word pairs)."""
    jw = jaccard(a.words, b.words)
    jp = jaccard(a.pairs, b.pairs)
    cw = containment(jw, a.n_words, b.n_words)
    cp = containment(jp, a.n_pairs, b.n_pairs)
    return (jw + jp + cw + cp) / 4.0, jw, jp


def compare(a: Fingerprint, b: Fingerprint) -> Match:
    """Return the match of two fingerprints.

    Raises ``ValueError`` if they were made with different keys (they could never match).
    """
    if a.key_id != b.key_id:
        raise ValueError("fingerprints made with different keys cannot be compared")
    text, jw, jp = text_similarity(a, b)
    agree, disagree = entity_relation(a, b)
    score = text
    for kind in disagree:
        score *= MISMATCH_FACTOR.get(kind, 1.0)
    score += AGREEMENT_BONUS * sum(1 for kind in agree if kind in BONUS_KINDS)
    return Match(
        score=max(0.0, min(1.0, score)),
        text_similarity=text,
        jaccard_words=jw,
        jaccard_pairs=jp,
        agree=tuple(agree),
        disagree=tuple(disagree),
    )
