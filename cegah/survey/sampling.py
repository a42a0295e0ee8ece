"""Sample sizes and a reproducible stratified random draw (no Django).

Size for a proportion at the worst case p = 0.5: n0 = z²·p(1−p)/e², with the finite-population
correction n = n0 / (1 + (n0 − 1)/N), rounded up. A locus-group's n is allocated to its units in
proportion to their populations (rounded up); units at or below ``census_below`` are taken whole.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist


def sample_size(population: int, margin: float = 0.05, confidence: float = 0.95) -> int:
    """Return the sample size for ``population`` at ``margin`` and ``confidence`` (with FPC)."""
    if population <= 0:
        return 0
    if not 0 < margin < 1 or not 0 < confidence < 1:
        raise ValueError("margin and confidence must be between 0 and 1")
    z = NormalDist().inv_cdf((1 + confidence) / 2)
    n0 = z * z * 0.25 / (margin * margin)
    return min(population, math.ceil(n0 / (1 + (n0 - 1) / population)))


@dataclass(frozen=True)
class Stratum:
    unit_id: int
    group: str
    population: int
    sample: int
    census: bool

    def as_json(self) -> dict[str, object]:
        return {
            "unit_id": self.unit_id,
            "group": self.group,
            "population": self.population,
            "sample": self.sample,
            "census": self.census,
        }


def allocate(
    populations: Mapping[tuple[int, str], int],
    margin: float = 0.05,
    confidence: float = 0.95,
    census_below: int = 30,
) -> list[Stratum]:
    """Return the per-(unit, group) sample sizes, sorted by unit and group."""
    by_group: dict[str, int] = {}
    for (_unit, group), size in populations.items():
        by_group[group] = by_group.get(group, 0) + size
    targets = {g: sample_size(n, margin, confidence) for g, n in by_group.items()}
    out = []
    for (unit, group), size in sorted(populations.items()):
        if size <= census_below:
            out.append(Stratum(unit, group, size, size, True))
            continue
        share = math.ceil(targets[group] * size / by_group[group])
        n = min(size, max(share, census_below))
        out.append(Stratum(unit, group, size, n, n == size))
    return out


def draw(
    members: Mapping[tuple[int, str], Sequence[int]], strata: Sequence[Stratum], seed: int
) -> list[int]:
    """Return the ids drawn: per stratum, ``sample`` ids chosen at random from ``members``.

    Reproducible: the same members (in any order), strata and seed give the same ids, since the
    ids are sorted before drawing and every stratum gets its own generator seeded from ``seed``.
    """
    chosen: list[int] = []
    for stratum in strata:
        ids = sorted(members.get((stratum.unit_id, stratum.group), ()))
        if stratum.sample >= len(ids):
            chosen.extend(ids)
            continue
        rng = random.Random(f"{seed}:{stratum.unit_id}:{stratum.group}")  # noqa: S311
        chosen.extend(sorted(rng.sample(ids, stratum.sample)))
    return chosen
