"""Pure scoring: weighted roll-up of sub-indicator values, zones and ranks. No database here.

A sub-indicator earns ``weight × value / 100`` points. An indicator's score (0–100) is its points
over the weights of its sub-indicators; an area's score weighs its indicators' scores the same way,
and the total weighs the areas. When each level's weights add up to 100 this is the plain sum of
points; when they do not (placeholder weights, a framework being edited) the score is still 0–100.
A sub-indicator without a value scores 0: missing evidence earns nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cegah.core.numbers import half_up

ZERO = Decimal(0)
HUNDRED = Decimal(100)
DEFAULT_CUTOFFS = (Decimal(25), Decimal(50), Decimal(75))
ZONES = ("red", "yellow", "blue", "green")


def points(weight: Decimal, value: Decimal | None) -> Decimal:
    """Return ``weight × value / 100`` (0 for a missing value)."""
    if value is None:
        return ZERO
    return weight * value / HUNDRED


def weighted_score(items: Iterable[tuple[Decimal, Decimal | None]]) -> Decimal:
    """Return the 0–100 score of ``(weight, score)`` pairs: Σ points / Σ weights × 100.

    Zero total weight gives 0 rather than a division error.
    """
    pairs = list(items)
    total_weight = sum((w for w, _ in pairs), ZERO)
    if total_weight <= 0:
        return ZERO
    return sum((points(w, v) for w, v in pairs), ZERO) / total_weight * HUNDRED


def zone(score: Decimal, cutoffs: tuple[Decimal, Decimal, Decimal] = DEFAULT_CUTOFFS) -> str:
    """Return "red", "yellow", "blue" or "green" for a 0–100 score and ascending cut-offs.

    The score is compared at two decimals, as shown: 74.996 reads "75,00" and is in the zone
    from 75 (it was blue under a green-looking score).
    """
    red_below, yellow_below, blue_below = cutoffs
    score = rounded(score) or ZERO
    if score < red_below:
        return "red"
    if score < yellow_below:
        return "yellow"
    if score < blue_below:
        return "blue"
    return "green"


def rounded(value: Decimal | None) -> Decimal | None:
    """Return ``value`` at two decimals, rounded half up (as ``floatformat`` shows it), None for
    None."""
    return None if value is None else half_up(value, 2)


def shown_gap(self_reported: Decimal, verified: Decimal) -> Decimal:
    """Return the gap between two scores as shown, so that "80,01" and "75,00" differ by "5,01"
    (the unrounded 5.006 read "5,01" too, but 80.005 − 75.004 read "5,00")."""
    return (rounded(self_reported) or ZERO) - (rounded(verified) or ZERO)


def competition_rank(scores: Mapping[Any, Decimal]) -> dict[Any, int]:
    """Return ``key → rank`` with ties sharing a rank and the next rank skipped (1, 2, 2, 4).

    Scores are compared at two decimals, as shown, so that 75.004 and 75.001 tie.
    """
    ordered = sorted(scores.items(), key=lambda kv: -(rounded(kv[1]) or ZERO))
    ranks: dict[Any, int] = {}
    previous: Decimal | None = None
    rank = 0
    for position, (key, score) in enumerate(ordered, start=1):
        shown = rounded(score)
        if shown != previous:
            rank, previous = position, shown
        ranks[key] = rank
    return ranks


# --- The framework tree as plain data, so the roll-up is testable without a database ----------


@dataclass(frozen=True)
class SubNode:
    id: int
    code: str
    name: str
    weight: Decimal


@dataclass(frozen=True)
class IndicatorNode:
    id: int
    code: str
    name: str
    weight: Decimal
    subs: tuple[SubNode, ...]


@dataclass(frozen=True)
class AreaNode:
    id: int
    code: str
    name: str
    weight: Decimal
    indicators: tuple[IndicatorNode, ...]


@dataclass
class Scored:
    code: str
    name: str
    weight: Decimal
    score: Decimal
    zone: str
    self_score: Decimal = ZERO
    children: list[Scored] = field(default_factory=list)
    id: int = 0

    @property
    def gap(self) -> Decimal:
        """Self-reported minus verified score, between the two as shown (two decimals)."""
        return shown_gap(self.self_score, self.score)


@dataclass
class ScoreCard:
    total: Decimal
    zone: str
    self_total: Decimal
    areas: list[Scored]

    @property
    def gap(self) -> Decimal:
        """Self-reported minus verified total, between the two as shown (two decimals)."""
        return shown_gap(self.self_total, self.total)


def score_tree(
    areas: Iterable[AreaNode],
    verified: Mapping[int, Decimal | None],
    self_reported: Mapping[int, Decimal | None] | None = None,
    cutoffs: tuple[Decimal, Decimal, Decimal] = DEFAULT_CUTOFFS,
) -> ScoreCard:
    """Roll ``verified`` values (sub-indicator id → 0–100) up the tree; return the score card.

    ``self_reported`` values are rolled up the same way, so the gap can be shown at every level.
    """
    reported = self_reported or {}
    area_rows: list[Scored] = []
    for area in areas:
        indicator_rows: list[Scored] = []
        for indicator in area.indicators:
            sub_rows = [
                Scored(
                    s.code,
                    s.name,
                    s.weight,
                    verified.get(s.id) or ZERO,
                    zone(verified.get(s.id) or ZERO, cutoffs),
                    reported.get(s.id) or ZERO,
                    id=s.id,
                )
                for s in indicator.subs
            ]
            score = weighted_score((r.weight, r.score) for r in sub_rows)
            self_score = weighted_score((r.weight, r.self_score) for r in sub_rows)
            indicator_rows.append(
                Scored(
                    indicator.code,
                    indicator.name,
                    indicator.weight,
                    score,
                    zone(score, cutoffs),
                    self_score,
                    sub_rows,
                    indicator.id,
                )
            )
        score = weighted_score((r.weight, r.score) for r in indicator_rows)
        self_score = weighted_score((r.weight, r.self_score) for r in indicator_rows)
        area_rows.append(
            Scored(
                area.code,
                area.name,
                area.weight,
                score,
                zone(score, cutoffs),
                self_score,
                indicator_rows,
                area.id,
            )
        )
    total = weighted_score((r.weight, r.score) for r in area_rows)
    self_total = weighted_score((r.weight, r.self_score) for r in area_rows)
    return ScoreCard(total, zone(total, cutoffs), self_total, area_rows)
