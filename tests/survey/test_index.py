"""The index formula on small cases whose expected values are worked out by hand."""

import math

import polars as pl
import pytest

from cegah.survey.scoring import (
    ResponsesError,
    compute_index,
    load_edition,
    load_questionnaire,
    read_responses_csv,
)
from cegah.survey.scoring.editions import EditionConfig
from cegah.survey.scoring.errors import ConfigError
from cegah.survey.scoring.index import round2

Z95 = 1.959963984540054


@pytest.fixture
def forms(example_forms):
    return {g: load_questionnaire(p, g) for g, p in example_forms.items()}


def _with(edition: EditionConfig, **changes) -> EditionConfig:
    fields = {f: getattr(edition, f) for f in edition.__dataclass_fields__}
    return EditionConfig(**(fields | changes))


def test_hand_computed_example(forms, example_csv):
    result = compute_index(forms, read_responses_csv(example_csv), 2024)
    x = result.get("X")
    internal = x.groups["internal"]
    # a1: 4→100, 1→0, blank left out → 50. a2 reversed: 1→100−0=100, 4→100−100=0,
    # "tidak tahu" left out → 50. transparansi = (50+50)/2 = 50.
    # b1 on 5 points: 5→100, 3→50, 2→25 → sdm = 175/3 = 58.333…
    assert internal.dimensions == pytest.approx({"transparansi": 50.0, "sdm": 175 / 3})
    assert internal.score == pytest.approx((50 + 175 / 3) / 2)  # 54.1666…
    assert internal.n == 3
    external = x.groups["external"]
    # e1: 3→66.67, 4→100 → 83.33; e2 on 2 points: 2→100, 1→0 → 50.
    assert external.dimensions == pytest.approx({"transparansi": 250 / 3, "integritas": 50.0})
    assert external.score == pytest.approx((250 / 3 + 50) / 2)  # 66.666…
    # Expert absent: weights 0.45/0.35 renormalised over 0.80.
    expected = (0.45 * (50 + 175 / 3) / 2 + 0.35 * (250 / 3 + 50) / 2) / 0.80
    assert x.index == pytest.approx(expected)
    assert round2(x.index) == 59.64
    assert x.category == "rentan" and x.n == 5
    # Group-weighted dimension scores: transparansi from both groups, sdm internal only.
    assert x.dimensions["transparansi"] == pytest.approx((0.45 * 50 + 0.35 * 250 / 3) / 0.8)
    assert x.dimensions["sdm"] == pytest.approx(175 / 3)


def test_dimension_is_mean_of_item_means_not_pooled(forms, example_csv):
    y = compute_index(forms, read_responses_csv(example_csv), 2024).get("Y")
    # a1 = 100 (three answers), a2 = 0 (one reversed 4). Mean of item means = 50; pooling the
    # four answers would give 75.
    assert y.groups["internal"].dimensions["transparansi"] == pytest.approx(50.0)
    assert y.groups["internal"].score == pytest.approx((50 + 0) / 2)
    assert set(y.groups) == {"internal"} and y.index == pytest.approx(25.0)


def test_csv_rows(forms, example_csv):
    rows = compute_index(forms, read_responses_csv(example_csv), 2024).csv_rows()
    assert rows == [
        ["X", "internal", "3", "54.17"],
        ["X", "external", "2", "66.67"],
        ["X", "ALL", "5", "59.64", "rentan"],
        ["Y", "internal", "3", "25.00"],
        ["Y", "ALL", "3", "25.00", "rentan"],
    ]


def test_correction_and_custom_weights(forms, example_csv):
    base = load_edition(2024)
    edition = _with(
        base,
        corrections={"X": 2.5},
        dimension_weights={"internal": {"transparansi": 3.0, "sdm": 1.0}},
        group_weights={"internal": 1.0, "external": 1.0, "expert": 1.0},
    )
    x = compute_index(forms, read_responses_csv(example_csv), edition).get("X")
    internal = (3 * 50 + 175 / 3) / 4  # 52.083…
    assert x.groups["internal"].score == pytest.approx(internal)
    assert x.weighted == pytest.approx((internal + 200 / 3) / 2)
    assert x.index == pytest.approx((internal + 200 / 3) / 2 - 2.5)
    assert x.correction == 2.5


def test_dimension_weights_must_cover_the_questionnaire(forms, example_csv):
    edition = _with(load_edition(2024), dimension_weights={"internal": {"sdm": 1.0}})
    with pytest.raises(ConfigError, match="transparansi"):
        compute_index(forms, read_responses_csv(example_csv), edition)


def test_category_uses_the_published_rounding(make_form):
    # An index of 72.996 is printed as 73.00, so it must read "waspada" (2024), not "rentan".
    q = {
        "internal": load_questionnaire(
            make_form([("select_one s3", "a", "A", "", "sdm", "")]), "internal"
        )
    }
    edition = _with(load_edition(2024), corrections={"I": 100 - 72.996})
    df = pl.DataFrame({"institution": ["I"], "group": ["internal"], "a": ["3"]})
    inst = compute_index(q, df, edition).get("I")
    assert inst.index == pytest.approx(72.996)
    assert inst.category == "waspada"


def test_confidence_interval_simple_random_sample(make_form):
    q = {
        "internal": load_questionnaire(
            make_form([("select_one s5", "a", "A", "", "sdm", "")]), "internal"
        )
    }
    df = pl.DataFrame(
        {"institution": ["I"] * 4, "group": ["internal"] * 4, "a": ["2", "3", "3", "4"]}
    )
    g = compute_index(q, df, 2024).get("I").groups["internal"]
    # Scores 25, 50, 50, 75: mean 50, s² = (625+0+0+625)/3, se = sqrt(s²/4) = 10.206…
    se = math.sqrt((1250 / 3) / 4)
    assert g.estimate == 50 and g.se == pytest.approx(se)
    assert (g.ci_low, g.ci_high) == pytest.approx((50 - Z95 * se, 50 + Z95 * se))
    assert not g.post_stratified


def test_post_stratified_estimate_and_ci(make_form):
    q = {
        "internal": load_questionnaire(
            make_form([("select_one s3", "a", "A", "", "sdm", "")]), "internal"
        )
    }
    df = pl.DataFrame(
        {
            "institution": ["I"] * 4 + ["J"] * 2,
            "group": ["internal"] * 6,
            "stratum": ["s1", "s1", "s2", "s2", "u", "u"],
            "a": ["1", "3", "3", "3", "1", "3"],
        }
    )
    frame = pl.DataFrame(
        {
            "institution": ["I", "I"],
            "group": ["internal", "internal"],
            "stratum": ["s1", "s2"],
            "population": [30, 10],
        }
    )
    result = compute_index(q, df, 2024, frame=frame)
    g = result.get("I").groups["internal"]
    # Unweighted score (the index formula): (0+100+100+100)/4 = 75.
    assert g.score == pytest.approx(75.0)
    # Post-stratified: 0.75 × mean(s1)=50 + 0.25 × mean(s2)=100 = 62.5.
    assert g.estimate == pytest.approx(62.5) and g.post_stratified
    # Var = Σ W_h² (1 − n_h/N_h) s_h²/n_h = 0.75² × (1 − 2/30) × 5000/2 + 0 = 1312.5.
    assert g.se == pytest.approx(math.sqrt(1312.5))
    # J is not in the frame: plain estimate, no finite-population correction.
    j = result.get("J").groups["internal"]
    assert not j.post_stratified and j.estimate == pytest.approx(50.0)
    assert j.se == pytest.approx(math.sqrt(5000 / 2))


def test_index_ci_combines_groups(forms, example_csv):
    x = compute_index(forms, read_responses_csv(example_csv), 2024).get("X")
    # Internal: c = 1/4 for a1 and a2 (two items of a dimension weighted 1/2), 1/2 for b1.
    # u = Σ c·(s − mean)/n_item: r1 = 175/9, r2 = −125/9, r3 = −50/9; Var = 3/2 · Σu² = 73125/81.
    var_internal = 73125 / 81
    # External: per-response scores 83.33 and 50, so Var = s²/n = (2 · (50/3)²)/2 = 2500/9.
    var_external = 2500 / 9
    assert x.groups["internal"].se == pytest.approx(math.sqrt(var_internal))
    assert x.groups["external"].se == pytest.approx(math.sqrt(var_external))
    se = math.sqrt((0.45 / 0.8) ** 2 * var_internal + (0.35 / 0.8) ** 2 * var_external)
    assert x.se == pytest.approx(se)
    assert x.ci_low == pytest.approx(x.estimate - Z95 * se)


def test_stratum_missing_from_frame_is_an_error(make_form):
    q = {
        "internal": load_questionnaire(
            make_form([("select_one s3", "a", "A", "", "sdm", "")]), "internal"
        )
    }
    df = pl.DataFrame({"institution": ["I"], "group": ["internal"], "stratum": ["zz"], "a": ["2"]})
    frame = pl.DataFrame(
        {"institution": ["I"], "group": ["internal"], "stratum": ["s1"], "population": [5]}
    )
    with pytest.raises(ResponsesError, match="zz"):
        compute_index(q, df, 2024, frame=frame)


def test_numeric_input_columns_and_no_valid_answers(make_form):
    q = {
        "internal": load_questionnaire(
            make_form([("select_one s3", "a", "A", "", "sdm", "")]), "internal"
        )
    }
    df = pl.DataFrame(
        {"institution": ["I", "I", "K"], "group": ["internal"] * 3, "a": [3, None, None]}
    )
    result = compute_index(q, df, 2024)
    # K has no valid answer at all, so it gets no score (and n counts only valid responses).
    assert [i.institution for i in result.institutions] == ["I"]
    assert result.get("I").n == 1 and result.get("I").index == 100.0


@pytest.mark.parametrize(
    ("value", "ok"),
    [("0", False), ("5", False), ("2.5", False), ("2.0", True), (" 2 ", True), ("NA", True)],
)
def test_answer_validation(make_form, value, ok):
    q = {
        "internal": load_questionnaire(
            make_form([("select_one s4", "a", "A", "", "sdm", "")]), "internal"
        )
    }
    df = pl.DataFrame({"institution": ["I", "I"], "group": ["internal"] * 2, "a": ["1", value]})
    if ok:
        compute_index(q, df, 2024)
        return
    with pytest.raises(ResponsesError) as excinfo:
        compute_index(q, df, 2024)
    issue = excinfo.value.issues[0]
    assert (issue.line, issue.column) == (3, "a")


def test_responses_structure_errors(forms):
    df = pl.DataFrame({"institution": ["I", ""], "group": ["expert", "pegawai"], "a1": ["1", "1"]})
    with pytest.raises(ResponsesError) as excinfo:
        compute_index(forms, df, 2024)
    found = {(i.line, i.column) for i in excinfo.value.issues}
    # Line 3: blank institution and unknown group. Line 2: "expert" has no questionnaire here.
    assert {(3, "institution"), (3, "group"), (2, "group")} <= found
    with pytest.raises(ResponsesError, match="institution"):
        compute_index(forms, pl.DataFrame({"group": ["internal"]}), 2024)
