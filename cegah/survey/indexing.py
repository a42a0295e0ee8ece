"""The index of an edition from its stored responses, computed by the same engine functions as
``cegah survey score`` (``compute_index``, ``rank_within``, ``year_over_year``,
``weakest_dimensions``, ``flags``)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import polars as pl
from django.db import transaction
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from cegah.core import audit
from cegah.survey import runtime
from cegah.survey.models import GROUP_SHORT, Edition, IndexRun, Questionnaire, Response
from cegah.survey.scoring import EditionConfig, compute_index, load_edition
from cegah.survey.scoring import flags as engine_flags
from cegah.survey.scoring.constants import DIMENSION_LABELS, GROUPS
from cegah.survey.scoring.editions import CategoryBand
from cegah.survey.scoring.errors import ConfigError
from cegah.survey.scoring.index import round2
from cegah.survey.scoring.ranking import InstitutionInfo, rank_within, year_over_year
from cegah.survey.scoring.recommendations import (
    Recommendation,
    load_recommendations,
    weakest_dimensions,
)

if TYPE_CHECKING:
    from cegah.accounts.models import User

# A group of an institution with fewer responses is withheld (KPK withholds scores for too few
# responses): with one or two answers, a score would tell the coordinator what a known person said.
MIN_RESPONSES = 5

# The category schemes of spi_category_thresholds.csv, as a coordinator reads them.
SCHEME_LABELS = {
    "4-class": gettext_lazy("4 categories (up to SPI 2023)"),
    "3-class": gettext_lazy("3 categories (SPI 2024 and later)"),
}

FLAG_NAMES = {
    "flag_speeder": "speeder",
    "flag_straightliner": "straightliner",
    "flag_identical": "identical",
    "flag_burst": "burst",
}


def edition_config(edition: Edition) -> EditionConfig:
    """Return the engine configuration with the edition's stored bands and weights."""
    base = load_edition(edition.year)
    bands = tuple(
        CategoryBand(b["category"], b["color"], float(b["min"]), float(b["max"]))
        for b in edition.category_bands
    )
    return dataclasses.replace(
        base,
        scheme=edition.category_scheme or base.scheme,
        bands=bands or base.bands,
        group_weights={
            k: float(v) for k, v in (edition.group_weights or base.group_weights).items()
        },
        dimension_weights={
            g: {d: float(w) for d, w in ws.items()}
            for g, ws in (edition.dimension_weights or {}).items()
        },
        corrections={k: float(v) for k, v in (edition.corrections or {}).items()},
        confidence_level=edition.confidence_level,
    )


def questionnaires(edition: Edition) -> dict[str, Any]:
    return {q.group: runtime.load_stored(q) for q in Questionnaire.objects.filter(edition=edition)}


def recommendations(edition: Edition) -> dict[str, tuple[Recommendation, ...]]:
    """The shipped texts, overridden per dimension by the edition's edited texts."""
    recs = load_recommendations()
    for dim, items in (edition.recommendations or {}).items():
        recs[dim] = tuple(Recommendation(i.get("id", ""), i.get("en", "")) for i in items)
    return recs


def _frame(rows: list[Response], items: list[str], extra: dict[str, list[Any]]) -> pl.DataFrame:
    data: dict[str, list[Any]] = {
        "institution": [r.locus.organisation.slug for r in rows],
        "group": [r.group for r in rows],
    }
    for name in items:
        data[name] = [str(r.answers.get(name, "")) for r in rows]
    data.update(extra)
    return pl.DataFrame(
        data,
        schema={k: pl.String for k in data if k not in extra} | dict.fromkeys(extra, pl.Float64),
    )


def refresh_flags(edition: Edition) -> int:
    """Run the engine's speeder, straight-lining and identical-pattern rules on the edition's
    responses (bursts are flagged at submission). Newly flagged responses go to review; returns
    how many are flagged now."""
    qs = questionnaires(edition)
    flagged = 0
    for group in GROUPS:
        if group not in qs:
            continue
        rows = list(
            Response.objects.filter(edition=edition, group=group).select_related(
                "locus__organisation"
            )
        )
        if not rows:
            continue
        items = [i.name for i in qs[group].scored_items]
        df = _frame(rows, items, {"duration_s": [float(r.duration_s or 0) or None for r in rows]})
        speed = engine_flags.flag_speeders(df).to_list()
        straight = engine_flags.flag_straightliners(df, items).to_list()
        same = engine_flags.flag_identical_patterns(df, items).to_list()
        with transaction.atomic():
            for r, s1, s2, s3 in zip(rows, speed, straight, same, strict=True):
                found = [
                    n
                    for n, hit in (("speeder", s1), ("straightliner", s2), ("identical", s3))
                    if hit
                ]
                if "burst" in r.flags:
                    found.append("burst")
                if sorted(found) != sorted(r.flags):
                    r.flags = found
                    if found and not r.review:
                        r.review = Response.Review.FLAGGED
                    if not found and r.review == Response.Review.FLAGGED:
                        r.review = Response.Review.NONE
                    r.save(update_fields=["flags", "review"])
                flagged += bool(found)
    return flagged


def coaching_scores(edition: Edition) -> dict[str, float]:
    """Return locus slug → the engine's coaching-suspicion score (0–100) from the flags."""
    rows = list(
        Response.objects.filter(edition=edition)
        .select_related("locus__organisation")
        .only("flags", "locus__organisation__slug")
    )
    if not rows:
        return {}
    df = pl.DataFrame(
        {
            "institution": [r.locus.organisation.slug for r in rows],
            **{col: [name in r.flags for r in rows] for col, name in FLAG_NAMES.items()},
        }
    )
    out = engine_flags.coaching_suspicion(df)
    return {row["institution"]: float(row["suspicion"]) for row in out.iter_rows(named=True)}


def _previous(edition: Edition) -> dict[str, float]:
    prev = (
        Edition.objects.filter(organisation=edition.organisation, year__lt=edition.year)
        .order_by("-year")
        .first()
    )
    run = prev.index_runs.first() if prev else None
    if run is None:
        return {}
    return {slug: float(i["index"]) for slug, i in run.results.get("institutions", {}).items()}


class WeightsError(ConfigError):
    """The edition's weights cannot produce an index (the message says why, translated)."""


def _check_weights(edition: Edition, qs: dict[str, Any], cells: set[tuple[str, str]]) -> None:
    """Raise WeightsError where the engine would fail on the edition's weights: an institution
    whose groups with responses all weigh 0, or dimension weights that leave out a dimension
    that a group's questionnaire scores."""
    weights = edition.group_weights or {}
    names = {loc.organisation.slug: loc.organisation.name for loc in edition.loci.all()}
    labels = dict(GROUP_SHORT)
    groups_of: dict[str, set[str]] = {}
    for slug, group in cells:
        groups_of.setdefault(slug, set()).add(group)
    for slug, groups in sorted(groups_of.items()):
        if not sum(float(weights.get(g, 0) or 0) for g in groups) > 0:
            raise WeightsError(
                _(
                    "%(institution)s has responses only from groups whose weight is 0 "
                    "(%(groups)s). Give one of them a weight in the edition's settings."
                )
                % {
                    "institution": names.get(slug, slug),
                    "groups": ", ".join(str(labels[g]) for g in GROUPS if g in groups),
                }
            )
    for group, dims in (edition.dimension_weights or {}).items():
        if group in qs and dims:
            missing = [d for d in qs[group].dimensions if d not in dims]
            if missing:
                raise WeightsError(
                    _(
                        "The dimension weights of the group %(group)s leave out %(dimensions)s, "
                        "which its questionnaire scores. Weigh them in the edition's settings, "
                        "or leave all blank for equal weights."
                    )
                    % {
                        "group": labels.get(group, group),
                        "dimensions": ", ".join(
                            dimension_label(d, get_language() or "id") for d in missing
                        ),
                    }
                )


def compute(edition: Edition, actor: User | None = None) -> IndexRun:
    """Compute and store the edition's index from its responses, confirmed flags excluded.

    Raises WeightsError (a ConfigError) when the edition's weights cannot produce it."""
    qs = questionnaires(edition)
    config = edition_config(edition)
    rows = list(
        Response.objects.filter(edition=edition)
        .exclude(review=Response.Review.CONFIRMED)
        .select_related("locus__organisation")
    )
    excluded = Response.objects.filter(edition=edition, review=Response.Review.CONFIRMED).count()
    loci = {
        loc.organisation.slug: loc for loc in edition.loci.select_related("organisation__region")
    }
    cells: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r.locus.organisation.slug, r.group)
        cells[key] = cells.get(key, 0) + 1
    withheld = sorted(k for k, n in cells.items() if n < MIN_RESPONSES)
    _check_weights(edition, qs, {k for k, n in cells.items() if n >= MIN_RESPONSES})
    rows = [r for r in rows if cells[(r.locus.organisation.slug, r.group)] >= MIN_RESPONSES]
    results: dict[str, Any] = {
        "institutions": {},
        "edition": edition.year,
        "withheld": [
            {"slug": slug, "name": loci[slug].organisation.name, "group": group}
            for slug, group in withheld
            if slug in loci
        ],
    }
    if rows:
        names = sorted({q.name for g in qs.values() for q in g.questions})
        df = pl.DataFrame(
            {
                "institution": [r.locus.organisation.slug for r in rows],
                "group": [r.group for r in rows],
                **{n: [r.answers.get(n) or None for r in rows] for n in names},
            },
            schema={
                "institution": pl.String,
                "group": pl.String,
                **dict.fromkeys(names, pl.String),
            },
        )
        result = compute_index(qs, df, config)
        info = {
            slug: InstitutionInfo(
                slug,
                (loc.organisation.region.code[:2] if loc.organisation.region else ""),
                loc.institution_type,
                loc.size,
            )
            for slug, loc in loci.items()
        }
        province = rank_within(result, info, "province")
        peers = rank_within(result, info, "type_size")
        changes = year_over_year(result, _previous(edition))
        recs = recommendations(edition)
        suspicion = coaching_scores(edition)
        for inst in result.institutions:
            weak = weakest_dimensions(inst, 3, recs)
            results["institutions"][inst.institution] = {
                "name": loci[inst.institution].organisation.name,
                "n": inst.n,
                "index": round2(inst.index),
                "weighted": round2(inst.weighted),
                "correction": inst.correction,
                "category": inst.category,
                "ci": [round2(inst.ci_low), round2(inst.ci_high)]
                if inst.ci_low is not None and inst.ci_high is not None
                else None,
                "groups": {
                    g: {
                        "n": s.n,
                        "score": round2(s.score),
                        "dimensions": {d: round2(v) for d, v in s.dimensions.items()},
                    }
                    for g, s in inst.groups.items()
                },
                "dimensions": {d: round2(v) for d, v in inst.dimensions.items()},
                "rank_province": _rank(province.get(inst.institution)),
                "rank_peers": _rank(peers.get(inst.institution)),
                "change": _change(changes.get(inst.institution)),
                "weakest": [
                    {
                        "dimension": w.dimension,
                        "score": round2(w.score),
                        "label_id": w.label_id,
                        "label_en": w.label_en,
                        "recommendations": [
                            {"id": r.text_id, "en": r.text_en} for r in w.recommendations
                        ],
                    }
                    for w in weak
                ],
                "suspicion": round2(suspicion.get(inst.institution, 0.0)),
            }
    with transaction.atomic():
        run = IndexRun.objects.create(
            edition=edition, results=results, responses=len(rows), excluded=excluded
        )
        audit.record(
            "survey.index.computed",
            actor=actor,
            organisation=edition.organisation,
            obj=run,
            details={"responses": len(rows), "excluded": excluded},
        )
    return run


def _rank(rank: Any) -> dict[str, Any] | None:
    return None if rank is None else {"peer": rank.peer_group, "rank": rank.rank, "of": rank.of}


def _change(change: Any) -> dict[str, float] | None:
    if change is None:
        return None
    return {"previous": change.previous, "change": change.change}


def dimension_label(dim: str, lang: str) -> str:
    labels = DIMENSION_LABELS.get(dim, (dim, dim))
    return labels[1] if lang == "en" else labels[0]


@dataclasses.dataclass
class Absent:
    """An institution of the edition that the last index run does not show, and why."""

    name: str
    stored: int  # responses stored (counted if a group has MIN_RESPONSES)
    pooled: int  # responses still waiting in the mixing pool

    @property
    def reason(self) -> str:
        if self.pooled:
            return "pooled"
        return "withheld" if self.stored else "none"


def absent_from(edition: Edition, run: IndexRun | None) -> list[Absent]:
    """Return the loci that ``run`` has no index for, with their stored and pooled answers."""
    from django.db.models import Count

    from cegah.survey.models import PendingResponse

    shown = set(run.results.get("institutions", {})) if run else set()
    stored = dict(
        Response.objects.filter(edition=edition)
        .values_list("locus_id")
        .annotate(n=Count("pk"))
        .values_list("locus_id", "n")
    )
    pooled = dict(
        PendingResponse.objects.filter(edition=edition)
        .values_list("locus_id")
        .annotate(n=Count("pk"))
        .values_list("locus_id", "n")
    )
    return [
        Absent(loc.organisation.name, stored.get(loc.pk, 0), pooled.get(loc.pk, 0))
        for loc in edition.loci.select_related("organisation").order_by("organisation__name")
        if loc.organisation.slug not in shown
    ]
