"""Rankings within province and within institution type and size, and year-over-year change.

Ranks use the index as published (2 decimals), so equal published scores share a rank
("1224" competition ranking), as KPK and BNPP shared rank 26 in SPI 2021.
"""

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cegah.survey.scoring.errors import ConfigError
from cegah.survey.scoring.index import IndexResult, InstitutionIndex, round2

INSTITUTION_TYPES = ("kementerian", "lembaga", "provinsi", "kabupaten", "kota", "bumn")
SIZES = ("besar", "sedang", "kecil")


@dataclass(frozen=True, slots=True)
class InstitutionInfo:
    """Ranking attributes of an institution; ``province`` is blank for national bodies."""

    institution: str
    province: str
    type: str
    size: str


@dataclass(frozen=True, slots=True)
class Rank:
    """Position ``rank`` among ``of`` institutions in ``peer_group`` (1 = highest index)."""

    peer_group: str
    rank: int
    of: int


@dataclass(frozen=True, slots=True)
class Change:
    """Year-over-year change of the published (rounded) index."""

    previous: float
    current: float
    change: float


def load_institutions_csv(path: str | Path) -> dict[str, InstitutionInfo]:
    """Read ``institution,province,type,size``; raises ConfigError naming the bad line."""
    out: dict[str, InstitutionInfo] = {}
    with Path(path).open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"institution", "province", "type", "size"} - set(reader.fieldnames or [])
        if missing:
            raise ConfigError(f"{path}: kolom tidak ada / missing columns: {sorted(missing)}")
        for row in reader:
            kind = row["type"].strip().lower()
            size = row["size"].strip().lower()
            if kind not in INSTITUTION_TYPES or (size and size not in SIZES):
                raise ConfigError(
                    f"{path}: baris/line {reader.line_num}: tipe/ukuran tidak dikenal / "
                    f"unknown type or size {kind!r}/{size!r}"
                )
            name = row["institution"].strip()
            out[name] = InstitutionInfo(name, row["province"].strip(), kind, size)
    return out


def _competition_ranks(scores: list[tuple[str, float]]) -> dict[str, int]:
    ordered = sorted(scores, key=lambda kv: (-kv[1], kv[0]))
    ranks: dict[str, int] = {}
    for position, (name, score) in enumerate(ordered, start=1):
        previous = ordered[position - 2] if position > 1 else None
        ranks[name] = ranks[previous[0]] if previous and previous[1] == score else position
    return ranks


def rank_within(
    results: IndexResult | Iterable[InstitutionIndex],
    info: Mapping[str, InstitutionInfo],
    key: str,
) -> dict[str, Rank]:
    """Return institution → Rank within peers sharing ``key`` ("province" or "type_size").

    Institutions without info (or a blank province, for "province") are not ranked.
    """
    items = results.institutions if isinstance(results, IndexResult) else list(results)
    peers: dict[str, list[tuple[str, float]]] = {}
    for inst in items:
        meta = info.get(inst.institution)
        if meta is None:
            continue
        if key == "province":
            peer = meta.province
        elif key == "type_size":
            peer = f"{meta.type}/{meta.size}" if meta.size else meta.type
        else:
            raise ValueError(f"unknown ranking key {key!r}")
        if peer:
            peers.setdefault(peer, []).append((inst.institution, round2(inst.index)))
    out: dict[str, Rank] = {}
    for peer, scores in peers.items():
        for name, rank in _competition_ranks(scores).items():
            out[name] = Rank(peer, rank, len(scores))
    return out


def year_over_year(
    current: IndexResult | Iterable[InstitutionIndex],
    previous: IndexResult | Mapping[str, float],
) -> dict[str, Change]:
    """Return institution → Change for institutions scored in both editions."""
    items = current.institutions if isinstance(current, IndexResult) else list(current)
    if isinstance(previous, IndexResult):
        before = {i.institution: i.index for i in previous.institutions}
    else:
        before = dict(previous)
    out: dict[str, Change] = {}
    for inst in items:
        if inst.institution in before:
            now = round2(inst.index)
            then = round2(before[inst.institution])
            out[inst.institution] = Change(then, now, round2(now - then))
    return out
