"""Survey-integrity flags on small hand-made tables."""

import datetime as dt

import polars as pl
import pytest

from cegah.survey.scoring.flags import (
    coaching_suspicion,
    flag_bursts,
    flag_identical_patterns,
    flag_speeders,
    flag_straightliners,
    identical_clusters,
)

ITEMS = ["q1", "q2", "q3", "q4", "q5"]


def test_speeders_under_a_third_of_the_group_median():
    df = pl.DataFrame(
        {
            "group": ["internal"] * 5 + ["external"] * 3,
            # internal median 600 → cut-off 200; external median 90 → cut-off 30.
            "duration_s": [100, 199, 600, 600, 900, 29, 90, 300],
        }
    )
    assert flag_speeders(df).to_list() == [True, True, False, False, False, True, False, False]


def test_speeders_ignore_missing_durations():
    df = pl.DataFrame({"group": ["g"] * 3, "duration_s": [None, 300.0, 30.0]})
    assert flag_speeders(df).to_list() == [False, False, True]


def test_straightliners_need_min_items_answered():
    df = pl.DataFrame(
        {
            "q1": ["3", "3", "3", "1", None],
            "q2": ["3", "3", "2", "1", None],
            "q3": ["3", "3", "3", "1", "4"],
            "q4": ["3", None, "3", "1", "4"],
            "q5": ["3", "3", "3", "1", "4"],
        }
    )
    # Row 2 has only 4 answers; row 3 varies; row 5 has 3 answers.
    assert flag_straightliners(df, ITEMS).to_list() == [True, False, False, True, False]
    assert flag_straightliners(df, ITEMS, min_items=3).to_list() == [True, True, False, True, True]


def _patterns(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "institution": [r[0] for r in rows],
            **{q: [r[1][i] for r in rows] for i, q in enumerate(ITEMS)},
        }
    )


def test_identical_patterns_cluster_within_a_locus():
    coached = "43141"
    rows = [("A", coached)] * 5 + [("A", "43142"), ("B", coached), ("B", coached)]
    df = _patterns(rows)
    assert flag_identical_patterns(df, ITEMS).to_list() == [True] * 5 + [False] * 3
    # The same pattern spread across institutions is not a cluster within one locus.
    assert flag_identical_patterns(df, ITEMS, min_cluster=3).to_list() == [True] * 5 + [False] * 3
    clusters = identical_clusters(df, ITEMS)
    assert clusters.rows() == [("A", "4|3|1|4|1", 5, 5 / 6)]


def test_identical_patterns_ignore_near_empty_responses():
    df = pl.DataFrame({"institution": ["A"] * 5, "q1": ["4"] * 5, "q2": [None] * 5})
    assert not flag_identical_patterns(df, ["q1", "q2"], min_answered=2).any()
    assert flag_identical_patterns(df, ["q1", "q2"], min_answered=1).all()


def test_bursts_from_one_fingerprint():
    t0 = dt.datetime(2024, 6, 1, 9, 0)
    minutes = [0, 1, 2, 3, 9, 30, 0, 1, 2]
    df = pl.DataFrame(
        {
            "fingerprint": ["dev1"] * 6 + ["dev2"] * 3,
            "submitted_at": [t0 + dt.timedelta(minutes=m) for m in minutes],
        }
    )
    # dev1: 5 submissions within 10 minutes (0–9), then one at 30. dev2: only 3.
    assert flag_bursts(df).to_list() == [True] * 5 + [False] * 4
    assert flag_bursts(df, min_count=3).to_list() == [True] * 5 + [False] + [True] * 3


def test_bursts_accept_epoch_seconds_and_skip_missing():
    df = pl.DataFrame(
        {"fingerprint": ["a", "a", None, "a"], "submitted_at": [0.0, 10.0, 20.0, None]}
    )
    assert flag_bursts(df, min_count=2, window_s=60).to_list() == [True, True, False, False]


def test_coaching_suspicion_weights_flag_shares():
    df = pl.DataFrame(
        {
            "institution": ["A"] * 4 + ["B"] * 2,
            "flag_identical": [True, True, False, False, False, False],
            "flag_burst": [True, False, False, False, False, False],
            "flag_straightliner": [False] * 6,
            "flag_speeder": [False, False, False, False, True, False],
        }
    )
    out = coaching_suspicion(df)
    a, b = out.row(0, named=True), out.row(1, named=True)
    # A: 100 × (0.5 × 2/4 + 0.2 × 1/4) = 30.  B: 100 × 0.15 × 1/2 = 7.5.
    assert a["suspicion"] == pytest.approx(30.0) and a["n"] == 4
    assert b["suspicion"] == pytest.approx(7.5)


def test_numeric_answer_columns_take_the_fast_path():
    df = pl.DataFrame(
        {
            "institution": ["A"] * 6,
            "q1": [4.0, 4.0, 4.0, 4.0, 4.0, 2.0],
            "q2": [3.0, 3.0, 3.0, 3.0, 3.0, 2.0],
            "q3": [None, None, None, None, None, 2.0],
        }
    )
    items = ["q1", "q2", "q3"]
    assert flag_straightliners(df, items, min_items=3).to_list() == [False] * 5 + [True]
    assert flag_identical_patterns(df, items, min_answered=2).to_list() == [True] * 5 + [False]
