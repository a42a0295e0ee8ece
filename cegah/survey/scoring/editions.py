"""Edition configuration: category thresholds, group and dimension weights, corrections.

Everything here is data (``data/editions.yaml``, ``data/spi_category_thresholds.csv``, and an
optional user ``--weights`` YAML) so KPK's unpublished weights can be changed without code.
"""

import csv
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cegah.survey.scoring.constants import DIMENSIONS, GROUPS
from cegah.survey.scoring.errors import ConfigError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
THRESHOLDS_CSV = DATA_DIR / "spi_category_thresholds.csv"
EDITIONS_YAML = DATA_DIR / "editions.yaml"

# Computed scores such as 73.69999999999 must count as 73.7; published values have ≤2 decimals.
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class CategoryBand:
    """One category of a scheme. A score belongs here if ``min_score ≤ score < next min``.

    ``max_score`` is the published display bound (e.g. 72.9) and is not used for assignment.
    """

    category: str
    color: str
    min_score: float
    max_score: float


@dataclass(frozen=True, slots=True)
class EditionConfig:
    """Everything that varies by SPI edition."""

    year: int
    scheme: str
    bands: tuple[CategoryBand, ...]
    group_weights: dict[str, float]
    dimension_weights: dict[str, dict[str, float]] = field(default_factory=dict)
    corrections: dict[str, float] = field(default_factory=dict)
    confidence_level: float = 0.95

    def category(self, score: float) -> str:
        """Return the category of ``score`` under this edition's scheme (see category_for)."""
        return category_for(score, self.bands)


def category_for(score: float, bands: tuple[CategoryBand, ...]) -> str:
    """Return the category whose band holds ``score``.

    Rule: bands are half-open on their lower bounds, ``[min_score, next band's min_score)``, so
    in the 4-class scheme 73.65 is *rentan* (below waspada's 73.7) and 67.95 is *sangat rentan*.
    The score is compared as given, not re-rounded to one decimal. Raises ValueError for a score
    outside 0–100 or NaN.
    """
    if math.isnan(score) or score < -_EPS or score > 100 + _EPS:
        raise ValueError(f"Skor di luar 0–100 / score outside 0–100: {score}")
    chosen = bands[0]
    for band in bands:
        if score + _EPS >= band.min_score:
            chosen = band
    return chosen.category


def load_bands(scheme: str, path: Path = THRESHOLDS_CSV) -> tuple[CategoryBand, ...]:
    """Return the bands of ``scheme`` from the thresholds CSV, ordered by lower bound.

    Raises ConfigError if the scheme is missing or its bands do not tile 0–100.
    """
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["scheme"] == scheme]
    if not rows:
        raise ConfigError(f"Skema kategori tidak ada / unknown category scheme: {scheme!r}")
    try:
        bands = sorted(
            (
                CategoryBand(
                    r["category"], r["color"], float(r["min_score"]), float(r["max_score"])
                )
                for r in rows
            ),
            key=lambda b: b.min_score,
        )
    except ValueError as exc:
        raise ConfigError(f"{path}: ambang tidak numerik / non-numeric threshold: {exc}") from exc
    if bands[0].min_score != 0 or bands[-1].max_score != 100:
        raise ConfigError(f"{path}: skema {scheme} tidak mencakup 0–100 / does not span 0–100")
    for lower, upper in itertools.pairwise(bands):
        # The published upper bound of a band sits one display step (≤0.1) below the next band.
        if not lower.max_score < upper.min_score <= lower.max_score + 0.1 + _EPS:
            raise ConfigError(
                f"{path}: celah/tumpang tindih antara / gap or overlap between "
                f"{lower.category} and {upper.category} in scheme {scheme}"
            )
    return tuple(bands)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: tidak dapat dibaca / cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: harus berupa mapping YAML / must be a YAML mapping")
    return data


def _number(value: Any, where: str, *, negative_ok: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ConfigError(f"{where}: harus angka / must be a number (got {value!r})")
    if value < 0 and not negative_ok:
        raise ConfigError(f"{where}: tidak boleh negatif / must not be negative")
    return float(value)


def _weights(value: Any, allowed: tuple[str, ...], where: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: harus mapping / must be a mapping")
    out: dict[str, float] = {}
    for key, weight in value.items():
        if key not in allowed:
            raise ConfigError(f"{where}: kunci tidak dikenal / unknown key {key!r}")
        out[str(key)] = _number(weight, f"{where}.{key}")
    if out and sum(out.values()) <= 0:
        raise ConfigError(f"{where}: jumlah bobot harus > 0 / weights must sum to > 0")
    return out


def _scheme_for(year: int, schemes: list[dict[str, Any]]) -> str:
    for entry in schemes:
        first = entry.get("first_edition")
        last = entry.get("last_edition")
        if (first is None or year >= first) and (last is None or year <= last):
            return str(entry["scheme"])
    raise ConfigError(f"Tidak ada skema kategori untuk edisi / no category scheme for {year}")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if key in {"edition", "editions"}:
            continue
        merged[key] = value
    return merged


def load_edition(year: int, weights_path: str | Path | None = None) -> EditionConfig:
    """Return the configuration of SPI edition ``year``.

    Layers, later wins: ``editions.yaml`` defaults, its per-year entry, then the user's weights
    YAML (top-level keys, then its ``editions: {year: ...}`` entry). Recognised keys:
    ``group_weights``, ``dimension_weights`` (group → dimension → weight), ``corrections``
    (institution → points), ``confidence_level``, ``category_scheme``. Raises ConfigError.
    """
    base = _read_yaml(EDITIONS_YAML)
    layers: list[dict[str, Any]] = [base.get("defaults", {})]
    layers.append((base.get("editions") or {}).get(year, {}))
    if weights_path is not None:
        user = _read_yaml(Path(weights_path))
        if "edition" in user and int(user["edition"]) != year:
            raise ConfigError(
                f"{weights_path}: untuk edisi {user['edition']}, bukan {year} / "
                f"is for edition {user['edition']}, not {year}"
            )
        layers.append(user)
        layers.append((user.get("editions") or {}).get(year, {}))
    conf: dict[str, Any] = {}
    for layer in layers:
        if not isinstance(layer, dict):
            raise ConfigError(f"Konfigurasi edisi {year} harus mapping / must be a mapping")
        conf = _merge(conf, layer)
    where = f"edition {year}"
    group_weights = _weights(conf.get("group_weights", {}), GROUPS, f"{where} group_weights")
    if not group_weights:
        raise ConfigError(f"{where}: group_weights kosong / empty")
    dim_conf = conf.get("dimension_weights") or {}
    if not isinstance(dim_conf, dict):
        raise ConfigError(f"{where} dimension_weights: harus mapping / must be a mapping")
    dimension_weights = {}
    for group, weights in dim_conf.items():
        if group not in GROUPS:
            raise ConfigError(f"{where} dimension_weights: kelompok / group {group!r} unknown")
        dimension_weights[group] = _weights(
            weights, DIMENSIONS, f"{where} dimension_weights.{group}"
        )
    corrections_conf = conf.get("corrections") or {}
    if not isinstance(corrections_conf, dict):
        raise ConfigError(f"{where} corrections: harus mapping / must be a mapping")
    corrections = {
        str(k): _number(v, f"{where} corrections.{k}", negative_ok=True)
        for k, v in corrections_conf.items()
    }
    level = _number(conf.get("confidence_level", 0.95), f"{where} confidence_level")
    if not 0 < level < 1:
        raise ConfigError(f"{where} confidence_level: harus 0..1 / must be between 0 and 1")
    scheme = str(conf.get("category_scheme") or _scheme_for(year, base.get("category_schemes", [])))
    return EditionConfig(
        year=year,
        scheme=scheme,
        bands=load_bands(scheme),
        group_weights=group_weights,
        dimension_weights=dimension_weights,
        corrections=corrections,
        confidence_level=level,
    )
