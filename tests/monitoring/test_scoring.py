"""The scoring arithmetic, checked by hand."""

from decimal import Decimal as D

import pytest

from cegah.monitoring.scoring import (
    AreaNode,
    IndicatorNode,
    SubNode,
    competition_rank,
    points,
    score_tree,
    weighted_score,
    zone,
)


def test_points_is_weight_times_value_over_hundred() -> None:
    assert points(D(30), D(80)) == D(24)
    assert points(D(30), None) == 0


def test_weighted_score_is_the_plain_sum_when_weights_add_up_to_100() -> None:
    assert weighted_score([(D(50), D(100)), (D(50), D(50))]) == D(75)


def test_weighted_score_normalises_weights_that_do_not_add_up_to_100() -> None:
    # 20 × 100% + 30 × 0% over 50 → 40
    assert weighted_score([(D(20), D(100)), (D(30), D(0))]) == D(40)
    assert weighted_score([]) == 0
    assert weighted_score([(D(0), D(100))]) == 0


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (D(0), "red"),
        (D("24.99"), "red"),
        (D(25), "yellow"),
        (D("49.99"), "yellow"),
        (D(50), "blue"),
        (D("74.99"), "blue"),
        (D(75), "green"),
        (D(100), "green"),
    ],
)
def test_default_zone_cut_offs(score: D, expected: str) -> None:
    assert zone(score) == expected


def test_zone_cut_offs_are_configurable() -> None:
    assert zone(D(70), (D(30), D(60), D(80))) == "blue"
    assert zone(D(80), (D(30), D(60), D(80))) == "green"


def test_competition_rank_shares_ties_and_skips() -> None:
    ranks = competition_rank({"a": D(80), "b": D("75.001"), "c": D("75.004"), "d": D(60)})
    assert ranks == {"a": 1, "b": 2, "c": 2, "d": 4}


TREE = (
    AreaNode(
        1,
        "1",
        "Pengadaan",
        D(60),
        (
            IndicatorNode(
                11,
                "1",
                "UKPBJ",
                D(50),
                (SubNode(111, "1", "SK", D(50)), SubNode(112, "2", "P", D(50))),
            ),
            IndicatorNode(12, "2", "RUP", D(50), (SubNode(121, "1", "U", D(100)),)),
        ),
    ),
    AreaNode(
        2,
        "2",
        "APIP",
        D(40),
        (
            IndicatorNode(
                21,
                "1",
                "K",
                D(100),
                (SubNode(211, "1", "IACM", D(30)), SubNode(212, "2", "SDM", D(70))),
            ),
        ),
    ),
)


def test_score_tree_rolls_up_by_weights() -> None:
    # UKPBJ: 50×100% + 50×50% = 75; RUP: 40; Pengadaan: 50×75% + 50×40% = 57.5
    # APIP: 30×80% + 70×0 (missing) = 24; total: 60×57.5% + 40×24% = 34.5 + 9.6 = 44.1 → yellow
    verified = {111: D(100), 112: D(50), 121: D(40), 211: D(80)}
    card = score_tree(TREE, verified)
    area1, area2 = card.areas
    assert [i.score for i in area1.children] == [D(75), D(40)]
    assert area1.score == D("57.5")
    assert area2.score == D(24)
    assert card.total == D("44.1")
    assert card.zone == "yellow"
    assert area1.zone == "blue" and area2.zone == "red"


def test_score_tree_rolls_up_the_self_reported_values_for_the_gap() -> None:
    verified = {111: D(100), 112: D(50), 121: D(40), 211: D(80)}
    reported = {111: D(100), 112: D(100), 121: D(100), 211: D(100), 212: D(100)}
    card = score_tree(TREE, verified, reported)
    assert card.self_total == D(100)
    assert card.gap == D("55.9")
