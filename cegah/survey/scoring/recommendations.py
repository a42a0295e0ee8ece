"""The weakest dimensions of an institution and the recommendation texts that match them."""

from dataclasses import dataclass
from pathlib import Path

import yaml

from cegah.survey.scoring.constants import DIMENSION_LABELS, DIMENSIONS
from cegah.survey.scoring.errors import ConfigError
from cegah.survey.scoring.index import InstitutionIndex

RECOMMENDATIONS_YAML = Path(__file__).resolve().parent.parent / "data" / "recommendations.yaml"


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One recommendation text in Indonesian (``text_id``) and English (``text_en``)."""

    text_id: str
    text_en: str


@dataclass(frozen=True, slots=True)
class WeakDimension:
    """A weak dimension with its score, labels and recommendations."""

    dimension: str
    score: float
    label_id: str
    label_en: str
    recommendations: tuple[Recommendation, ...]


def load_recommendations(
    path: str | Path = RECOMMENDATIONS_YAML,
) -> dict[str, tuple[Recommendation, ...]]:
    """Return dimension → recommendations; raises ConfigError on unknown keys or missing texts."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: harus mapping / must be a mapping")
    out: dict[str, tuple[Recommendation, ...]] = {}
    for dim, items in data.items():
        if dim not in DIMENSIONS:
            raise ConfigError(f"{path}: dimensi tidak dikenal / unknown dimension {dim!r}")
        recs = []
        for i, item in enumerate(items or []):
            if not isinstance(item, dict) or not item.get("id") or not item.get("en"):
                raise ConfigError(
                    f"{path}: {dim}[{i}] perlu teks id dan en / needs id and en texts"
                )
            recs.append(Recommendation(str(item["id"]), str(item["en"])))
        out[dim] = tuple(recs)
    return out


def weakest_dimensions(
    result: InstitutionIndex,
    count: int = 3,
    recommendations: dict[str, tuple[Recommendation, ...]] | None = None,
) -> list[WeakDimension]:
    """Return the ``count`` lowest-scoring dimensions, lowest first, with recommendations.

    Ties are broken by the canonical dimension order so the report is stable.
    """
    recs = recommendations if recommendations is not None else load_recommendations()
    ordered = sorted(result.dimensions.items(), key=lambda kv: (kv[1], DIMENSIONS.index(kv[0])))
    return [
        WeakDimension(
            dimension=dim,
            score=score,
            label_id=DIMENSION_LABELS[dim][0],
            label_en=DIMENSION_LABELS[dim][1],
            recommendations=recs.get(dim, ()),
        )
        for dim, score in ordered[:count]
    ]
