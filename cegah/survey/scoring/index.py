"""The SPI index (issue #7, §7), vectorised with polars.

- item score: answer v on a k-point scale → (v−1)/(k−1)×100; reverse items → 100 minus that;
- dimension score: mean over the dimension's items of each item's mean over valid responses;
- group score: weighted mean of dimension scores (equal weights over dimensions present);
- institution index: weighted mean of group scores (renormalised over groups present), minus
  the institution's correction.

Confidence intervals use Taylor linearisation of the group score, which is a linear
combination of item means, with post-stratification weights N_h/n_h where a population frame
is given (see docs/spi-index.md).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import NormalDist

import polars as pl

from cegah.core.numbers import half_up
from cegah.survey.scoring.constants import DIMENSIONS, GROUPS
from cegah.survey.scoring.editions import EditionConfig, load_edition
from cegah.survey.scoring.errors import ConfigError, ResponseIssue, ResponsesError
from cegah.survey.scoring.questionnaire import Questionnaire
from cegah.survey.scoring.responses import (
    GROUP,
    INSTITUTION,
    ROW,
    STRATUM,
    LineOf,
    parse_responses,
)

POPULATION = "population"
_ROW = ROW
_W = "__w"


def round2(value: float) -> float:
    """Round half away from zero to 2 decimals, as scores are published (73.125 → 73.13)."""
    return float(half_up(value, 2))


@dataclass(frozen=True, slots=True)
class GroupScore:
    """One respondent group's result for one institution.

    ``n`` counts responses with at least one valid scored answer. ``estimate`` equals ``score``
    unless a population frame covered this institution and group, in which case it is the
    post-stratified score; ``se``/``ci_*`` describe ``estimate`` (None when n < 2).
    """

    institution: str
    group: str
    n: int
    score: float
    dimensions: dict[str, float]
    estimate: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    post_stratified: bool


@dataclass(frozen=True, slots=True)
class InstitutionIndex:
    """An institution's index: ``weighted`` (before correction) − ``correction`` = ``index``.

    ``category`` is assigned from ``index`` rounded to 2 decimals, the value a reader sees.
    ``dimensions`` are group-weighted dimension scores, for the weakest-dimension report.
    """

    institution: str
    n: int
    groups: dict[str, GroupScore]
    weighted: float
    correction: float
    index: float
    category: str
    dimensions: dict[str, float]
    estimate: float
    se: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True, slots=True)
class IndexResult:
    """All institutions' results for one edition, in order of first appearance."""

    edition: int
    institutions: list[InstitutionIndex] = field(default_factory=list)

    def get(self, institution: str) -> InstitutionIndex:
        """Return the result for ``institution``; raises KeyError if it was not scored."""
        for inst in self.institutions:
            if inst.institution == institution:
                return inst
        raise KeyError(institution)

    def csv_rows(self) -> list[list[str]]:
        """Return the batch output: ``institution,group,n,score`` per group, then
        ``institution,ALL,n,index,category``; scores rounded to 2 decimals."""
        rows: list[list[str]] = []
        for inst in self.institutions:
            for group in GROUPS:
                if group in inst.groups:
                    g = inst.groups[group]
                    rows.append([inst.institution, group, str(g.n), f"{round2(g.score):.2f}"])
            rows.append(
                [inst.institution, "ALL", str(inst.n), f"{round2(inst.index):.2f}", inst.category]
            )
        return rows


def _dimension_weights(
    questionnaire: Questionnaire, configured: Mapping[str, float] | None
) -> dict[str, float]:
    dims = questionnaire.dimensions
    if not configured:
        return dict.fromkeys(dims, 1.0)
    missing = [d for d in dims if d not in configured]
    if missing:
        raise ConfigError(
            f"Bobot dimensi kelompok {questionnaire.group} tidak mencakup / dimension weights "
            f"for group {questionnaire.group} lack: {', '.join(missing)}"
        )
    return {d: float(configured[d]) for d in dims}


def _estimate(lf: pl.LazyFrame, q: Questionnaire, dim_w: dict[str, float]) -> pl.LazyFrame:
    """Per institution: n, weighted item means (m:), weight sums (d:), dimension scores (D:),
    the group score, and each item's coefficient (c:) in that score, for the variance."""
    items = q.scored_items
    w = pl.col(_W)
    aggs = [pl.len().alias("n")]
    for it in items:
        s = pl.col(f"s:{it.name}")
        aggs.append((s * w).sum().alias(f"num:{it.name}"))
        aggs.append(pl.when(s.is_not_null()).then(w).otherwise(0.0).sum().alias(f"d:{it.name}"))
    out = lf.group_by(INSTITUTION).agg(aggs)
    out = out.with_columns(
        pl.when(pl.col(f"d:{it.name}") > 0)
        .then(pl.col(f"num:{it.name}") / pl.col(f"d:{it.name}"))
        .otherwise(None)
        .alias(f"m:{it.name}")
        for it in items
    )
    by_dim = {d: [it.name for it in items if it.dimension == d] for d in dim_w}
    out = out.with_columns(
        pl.mean_horizontal([pl.col(f"m:{n}") for n in names]).alias(f"D:{d}")
        for d, names in by_dim.items()
    )
    present_w = pl.sum_horizontal(
        pl.when(pl.col(f"D:{d}").is_not_null()).then(wt).otherwise(0.0) for d, wt in dim_w.items()
    )
    out = out.with_columns(present_w.alias("__dw"))
    out = out.with_columns(
        (
            pl.sum_horizontal((pl.col(f"D:{d}") * wt).fill_null(0.0) for d, wt in dim_w.items())
            / pl.col("__dw")
        ).alias("score")
    )
    # Coefficient of item i in the score: (w_d / Σ w_present) / (items of d with a mean).
    coeffs = []
    for d, names in by_dim.items():
        m_d = pl.sum_horizontal(pl.col(f"m:{n}").is_not_null().cast(pl.Float64) for n in names)
        for n in names:
            coeffs.append(
                pl.when(pl.col(f"m:{n}").is_not_null())
                .then(dim_w[d] / pl.col("__dw") / m_d)
                .otherwise(0.0)
                .alias(f"c:{n}")
            )
    return out.with_columns(coeffs)


def _variance(lf: pl.LazyFrame, est: pl.LazyFrame, q: Questionnaire) -> pl.LazyFrame:
    """Per institution, the linearised variance of the (possibly post-stratified) score."""
    names = [it.name for it in q.scored_items]
    keep = [INSTITUTION, *(f"{p}:{n}" for n in names for p in ("m", "d", "c"))]
    joined = lf.join(est.select(keep), on=INSTITUTION, how="left")
    u = pl.sum_horizontal(
        (
            pl.col(f"c:{n}") * pl.col(_W) * (pl.col(f"s:{n}") - pl.col(f"m:{n}")) / pl.col(f"d:{n}")
        ).fill_null(0.0)
        for n in names
    )
    per_stratum = (
        joined.with_columns(u.alias("__u"))
        .group_by(INSTITUTION, STRATUM)
        .agg(
            pl.len().alias("nh"),
            pl.col("__u").sum().alias("su"),
            (pl.col("__u") ** 2).sum().alias("suu"),
            pl.col(POPULATION).first().alias("Nh"),
        )
    )
    nh = pl.col("nh").cast(pl.Float64)
    fpc = pl.when(pl.col("Nh").is_not_null()).then(1.0 - nh / pl.col("Nh")).otherwise(1.0)
    contrib = (
        pl.when(nh > 1)
        .then(nh / (nh - 1) * fpc.clip(lower_bound=0.0) * (pl.col("suu") - pl.col("su") ** 2 / nh))
        .otherwise(0.0)
    )
    return per_stratum.group_by(INSTITUTION).agg(contrib.sum().alias("var"))


def _prepare(
    df: pl.DataFrame, q: Questionnaire, frame: pl.DataFrame | None, line_of: LineOf | None
) -> tuple[pl.LazyFrame, bool]:
    """Return the group's scored responses (one s: column per item, weights, strata).

    ``df`` is the output of parse_responses, restricted to the group.
    """
    scores = []
    for it in q.scored_items:
        v = pl.col(it.name).cast(pl.Float64)
        s = (v - 1.0) / (it.k - 1) * 100.0
        scores.append((100.0 - s if it.reverse else s).alias(f"s:{it.name}"))
    lf = df.lazy().select(pl.col(_ROW), pl.col(INSTITUTION), pl.col(STRATUM), *scores)
    # n counts responses with at least one valid scored answer; the others carry no score.
    lf = lf.filter(pl.any_horizontal(pl.col(f"s:{it.name}").is_not_null() for it in q.scored_items))
    if frame is None or frame.is_empty():
        return lf.with_columns(
            pl.lit(1.0).alias(_W), pl.lit(None, pl.Float64).alias(POPULATION)
        ), False
    framed = frame.select(INSTITUTION, STRATUM, POPULATION).unique([INSTITUTION, STRATUM])
    covered = framed[INSTITUTION].unique().to_list()
    lf = lf.join(framed.lazy(), on=[INSTITUTION, STRATUM], how="left")
    missing = (
        lf.filter(pl.col(INSTITUTION).is_in(covered) & pl.col(POPULATION).is_null())
        .select(_ROW, STRATUM)
        .head(5)
        .collect()
    )
    if missing.height:
        line = line_of or (lambda i: i + 2)
        raise ResponsesError(
            "responses",
            [
                ResponseIssue(
                    line(r[_ROW]),
                    STRATUM,
                    f"Strata '{r[STRATUM]}' tidak ada dalam kerangka populasi.",
                    f"Stratum '{r[STRATUM]}' is not in the population frame.",
                )
                for r in missing.iter_rows(named=True)
            ],
        )
    nh = pl.len().over(INSTITUTION, STRATUM).cast(pl.Float64)
    weight = pl.when(pl.col(POPULATION).is_not_null()).then(pl.col(POPULATION) / nh).otherwise(1.0)
    return lf.with_columns(weight.alias(_W)), True


def _group_table(
    df: pl.DataFrame,
    q: Questionnaire,
    dim_w: dict[str, float],
    frame: pl.DataFrame | None,
    line_of: LineOf | None,
    with_ci: bool,
) -> pl.DataFrame:
    lf, weighted = _prepare(df, q, frame, line_of)
    lf = lf.cache()
    dims = list(dim_w)
    plain = _estimate(lf.with_columns(pl.lit(1.0).alias(_W)), q, dim_w) if weighted else None
    est = _estimate(lf, q, dim_w)
    cols = [INSTITUTION, "n", "score", *(f"D:{d}" for d in dims)]
    if plain is None:
        table = est.select(*cols, pl.col("score").alias("estimate"))
    else:
        table = plain.select(cols).join(
            est.select(INSTITUTION, pl.col("score").alias("estimate")), on=INSTITUTION
        )
    if with_ci:
        table = table.join(_variance(lf, est, q), on=INSTITUTION, how="left")
    else:
        table = table.with_columns(pl.lit(None, pl.Float64).alias("var"))
    if weighted:
        covered = frame[INSTITUTION].unique().to_list() if frame is not None else []
        table = table.with_columns(pl.col(INSTITUTION).is_in(covered).alias("ps"))
    else:
        table = table.with_columns(pl.lit(False).alias("ps"))
    return table.collect()


def _ci(estimate: float, var: float | None, n: int, z: float) -> tuple[float | None, ...]:
    if var is None or n < 2 or math.isnan(var):
        return None, None, None
    se = math.sqrt(max(var, 0.0))
    return se, max(0.0, estimate - z * se), min(100.0, estimate + z * se)


def compute_index(
    questionnaires: Mapping[str, Questionnaire],
    responses: pl.DataFrame,
    edition: EditionConfig | int,
    *,
    frame: pl.DataFrame | None = None,
    line_of: LineOf | None = None,
    with_ci: bool = True,
) -> IndexResult:
    """Validate ``responses`` and return every institution's group scores and index.

    ``questionnaires`` maps group → Questionnaire. ``responses`` has ``institution``,
    ``group``, one column per question and optionally ``stratum``. ``frame`` (optional) has
    ``institution, group, stratum, population`` and switches on post-stratified estimates and
    finite-population corrections for the institution-groups it covers. Raises
    ResponsesError (bad answers, unknown strata) and ConfigError (bad weights).
    """
    config = edition if isinstance(edition, EditionConfig) else load_edition(edition)
    df = parse_responses(responses, questionnaires, line_of=line_of)
    z = NormalDist().inv_cdf((1 + config.confidence_level) / 2)
    order = df.select(pl.col(INSTITUTION).unique(maintain_order=True)).to_series().to_list()
    per_group: dict[str, dict[str, GroupScore]] = {}
    for group in GROUPS:
        if group not in questionnaires:
            continue
        sub = df.filter(pl.col(GROUP) == group)
        if sub.is_empty():
            continue
        q = questionnaires[group]
        dim_w = _dimension_weights(q, config.dimension_weights.get(group))
        group_frame = None
        if frame is not None:
            # Trimmed like the responses, so "Dinas A " in a frame matches "Dinas A".
            group_frame = frame.filter(
                pl.col(GROUP).cast(pl.String).str.strip_chars() == group
            ).with_columns(
                pl.col(INSTITUTION).cast(pl.String).str.strip_chars(),
                pl.col(STRATUM).cast(pl.String).str.strip_chars(),
                pl.col(POPULATION).cast(pl.Float64),
            )
        table = _group_table(sub, q, dim_w, group_frame, line_of, with_ci)
        for row in table.iter_rows(named=True):
            se, lo, hi = _ci(row["estimate"], row["var"], row["n"], z) if with_ci else (None,) * 3
            per_group.setdefault(row[INSTITUTION], {})[group] = GroupScore(
                institution=row[INSTITUTION],
                group=group,
                n=row["n"],
                score=row["score"],
                dimensions={d: row[f"D:{d}"] for d in dim_w if row[f"D:{d}"] is not None},
                estimate=row["estimate"],
                se=se,
                ci_low=lo,
                ci_high=hi,
                post_stratified=bool(row["ps"]),
            )
    result = IndexResult(edition=config.year)
    for name in order:
        if name in per_group:
            result.institutions.append(_combine(name, per_group[name], config, z))
    return result


def _combine(
    name: str, groups: dict[str, GroupScore], config: EditionConfig, z: float
) -> InstitutionIndex:
    weights = {g: config.group_weights.get(g, 0.0) for g in groups}
    total = sum(weights.values())
    if total <= 0:
        raise ConfigError(
            f"Bobot kelompok nol untuk / zero group weight for {name}: {', '.join(groups)}"
        )
    share = {g: w / total for g, w in weights.items()}
    weighted = sum(share[g] * groups[g].score for g in groups)
    correction = config.corrections.get(name, 0.0)
    # A large correction must not push the index below the 0–100 scale.
    index = min(100.0, max(0.0, weighted - correction))
    estimate = min(100.0, max(0.0, sum(share[g] * groups[g].estimate for g in groups) - correction))
    ses = [groups[g].se for g in groups if share[g] > 0]
    if ses and all(s is not None for s in ses):
        var = sum(share[g] ** 2 * (groups[g].se or 0.0) ** 2 for g in groups)
        se: float | None = math.sqrt(var)
        ci_low: float | None = max(0.0, estimate - z * math.sqrt(var))
        ci_high: float | None = min(100.0, estimate + z * math.sqrt(var))
    else:
        se = ci_low = ci_high = None
    dims: dict[str, float] = {}
    for d in DIMENSIONS:
        having = {g: share[g] for g in groups if d in groups[g].dimensions and share[g] > 0}
        if having:
            dims[d] = sum(s * groups[g].dimensions[d] for g, s in having.items()) / sum(
                having.values()
            )
    return InstitutionIndex(
        institution=name,
        n=sum(g.n for g in groups.values()),
        groups=groups,
        weighted=weighted,
        correction=correction,
        index=index,
        category=config.category(round2(index)),
        dimensions=dims,
        estimate=estimate,
        se=se,
        ci_low=ci_low,
        ci_high=ci_high,
    )
