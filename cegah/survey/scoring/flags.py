"""Survey-integrity flags (GUIDE §3.2, issue #7 §6), as pure functions on polars frames.

Each ``flag_*`` returns a Boolean Series aligned with the input rows; nothing is excluded
here. Flagged responses go to review, and only confirmed ones should be dropped before
``compute_index``.
"""

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

INSTITUTION = "institution"
FLAG_COLUMNS = ("flag_speeder", "flag_straightliner", "flag_identical", "flag_burst")
# How much each flag's share of an institution's responses adds to its coaching suspicion.
# Identical patterns are weighted most: they are what KPK looks for in coached surveys.
DEFAULT_SUSPICION_WEIGHTS: Mapping[str, float] = {
    "flag_identical": 0.5,
    "flag_burst": 0.2,
    "flag_straightliner": 0.15,
    "flag_speeder": 0.15,
}


def _answers(items: Sequence[str], df: pl.DataFrame) -> list[pl.Expr]:
    """Answers with blanks as null: numbers stay numbers; text is trimmed, so " 3 " equals "3".

    Mixed tables (some columns text, some numeric) are compared as text.
    """
    if all(df.schema[item].is_numeric() for item in items):
        return [pl.col(item).cast(pl.Float64) for item in items]
    out = []
    for item in items:
        text = pl.col(item).cast(pl.String).str.strip_chars()
        out.append(pl.when(text == "").then(None).otherwise(text).alias(item))
    return out


def flag_speeders(
    df: pl.DataFrame, duration: str = "duration_s", by: Sequence[str] = ("group",)
) -> pl.Series:
    """Flag responses faster than a third of the median duration of their ``by`` partition.

    Missing durations are not flagged.
    """
    d = pl.col(duration).cast(pl.Float64, strict=False)
    median = d.median().over(by) if by else d.median()
    return df.select((d < median / 3).fill_null(False).alias("flag_speeder")).to_series()


def flag_straightliners(df: pl.DataFrame, items: Sequence[str], min_items: int = 5) -> pl.Series:
    """Flag responses giving one and the same answer to all (≥ ``min_items``) answered items.

    Raw answers are compared, so an all-4 response to a scale with reverse-coded items is
    flagged although its scores differ: that inconsistency is the point.
    """
    answers = _answers(items, df)
    answered = pl.sum_horizontal(a.is_not_null().cast(pl.Int32) for a in answers)
    if all(df.schema[item].is_numeric() for item in items):
        same = pl.max_horizontal(answers) == pl.min_horizontal(answers)
    else:
        same = pl.concat_list(answers).list.drop_nulls().list.n_unique() == 1
    flag = (answered >= min_items) & same
    return df.select(flag.fill_null(False).alias("flag_straightliner")).to_series()


def _pattern(items: Sequence[str], df: pl.DataFrame) -> pl.Expr:
    return pl.concat_str([a.fill_null("") for a in _answers(items, df)], separator="|")


def flag_identical_patterns(
    df: pl.DataFrame,
    items: Sequence[str],
    locus: str | Sequence[str] = INSTITUTION,
    min_cluster: int = 5,
    min_answered: int = 5,
) -> pl.Series:
    """Flag responses whose full answer pattern is shared by ≥ ``min_cluster`` responses of
    the same locus (the "coached survey" pattern). Patterns with fewer than ``min_answered``
    answers are ignored, since near-empty responses match each other trivially."""
    answers = _answers(items, df)
    keys = [locus] if isinstance(locus, str) else list(locus)
    # Windowing over the answer columns themselves groups equal patterns (nulls equal) without
    # building a pattern string per response.
    names = [f"__a{i}" for i in range(len(answers))]
    size = pl.len().over([*keys, *names])
    return (
        df.select(*keys, *(a.alias(n) for a, n in zip(answers, names, strict=True)))
        .select(
            ((size >= min_cluster) & (_answered(names) >= min_answered)).alias("flag_identical")
        )
        .to_series()
    )


def _answered(names: Sequence[str]) -> pl.Expr:
    """Return the number of non-null columns among ``names``, per row."""
    return pl.sum_horizontal(pl.col(n).is_not_null().cast(pl.Int32) for n in names)


def identical_clusters(
    df: pl.DataFrame,
    items: Sequence[str],
    locus: str = INSTITUTION,
    min_cluster: int = 5,
) -> pl.DataFrame:
    """Return ``locus, pattern, size, share`` for every pattern shared by ≥ ``min_cluster``
    responses, largest first; ``share`` is the cluster's fraction of the locus' responses."""
    return (
        df.select(pl.col(locus), _pattern(items, df).alias("pattern"))
        .with_columns(pl.len().over(locus).alias("__total"))
        .group_by(locus, "pattern")
        .agg(pl.len().alias("size"), pl.col("__total").first())
        .filter(pl.col("size") >= min_cluster)
        .with_columns((pl.col("size") / pl.col("__total")).alias("share"))
        .drop("__total")
        .sort(["size", locus, "pattern"], descending=[True, False, False])
    )


def flag_bursts(
    df: pl.DataFrame,
    fingerprint: str = "fingerprint",
    submitted_at: str = "submitted_at",
    window_s: float = 600.0,
    min_count: int = 5,
) -> pl.Series:
    """Flag every response in a run of ≥ ``min_count`` submissions from one device/IP
    fingerprint within ``window_s`` seconds. ``submitted_at`` is a datetime or epoch seconds;
    rows with no fingerprint or time are not flagged."""
    t = pl.col(submitted_at)
    if df.schema[submitted_at].is_temporal():
        t = t.dt.epoch("ms").cast(pl.Float64) / 1000.0
    work = (
        df.select(pl.col(fingerprint).cast(pl.String).alias("fp"), t.cast(pl.Float64).alias("t"))
        .with_row_index("__i")
        .filter(pl.col("fp").is_not_null() & pl.col("t").is_not_null())
        .sort("fp", "t")
    )
    flags = np.zeros(df.height, dtype=bool)
    if work.height:
        times = work["t"].to_numpy()
        # Put every fingerprint on its own stretch of one time axis, gaps wider than the window,
        # so a single searchsorted finds each row's window end without a Python loop per device.
        codes = work["fp"].rank("dense").to_numpy().astype(np.float64)
        span = times.max() - times.min() + 2 * window_s + 1
        key = codes * span + (times - times.min())
        end = np.searchsorted(key, key + window_s, side="right")
        start = np.arange(work.height)
        heavy = (end - start) >= min_count
        cover = np.zeros(work.height + 1, dtype=np.int64)
        np.add.at(cover, start[heavy], 1)
        np.add.at(cover, end[heavy], -1)
        in_burst = np.cumsum(cover[:-1]) > 0
        flags[work["__i"].to_numpy()[in_burst]] = True
    return pl.Series("flag_burst", flags)


def coaching_suspicion(
    flagged: pl.DataFrame,
    locus: str = INSTITUTION,
    weights: Mapping[str, float] = DEFAULT_SUSPICION_WEIGHTS,
) -> pl.DataFrame:
    """Return per locus ``n``, the share of each flag and ``suspicion`` (0–100).

    ``suspicion`` = 100 × Σ weight × share over the flag columns present, capped at 100. It is
    a screening signal for review, not a correction: an analyst decides what enters the
    institution's correction in the edition's configuration.
    """
    present = [c for c in FLAG_COLUMNS if c in flagged.columns]
    shares = [
        pl.col(c).cast(pl.Float64).mean().alias(f"share_{c.removeprefix('flag_')}") for c in present
    ]
    score = pl.sum_horizontal(
        pl.col(f"share_{c.removeprefix('flag_')}") * weights.get(c, 0.0) for c in present
    )
    return (
        flagged.group_by(locus, maintain_order=True)
        .agg(pl.len().alias("n"), *shares)
        .with_columns((score * 100).clip(upper_bound=100.0).alias("suspicion"))
    )
