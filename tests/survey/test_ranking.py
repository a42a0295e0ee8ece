"""Rankings, year-over-year change and weakest dimensions with recommendations."""

import pytest

from cegah.survey.scoring.errors import ConfigError
from cegah.survey.scoring.index import InstitutionIndex
from cegah.survey.scoring.ranking import (
    InstitutionInfo,
    load_institutions_csv,
    rank_within,
    year_over_year,
)
from cegah.survey.scoring.recommendations import load_recommendations, weakest_dimensions


def inst(name: str, index: float, dims: dict[str, float] | None = None) -> InstitutionIndex:
    return InstitutionIndex(
        institution=name, n=10, groups={}, weighted=index, correction=0.0, index=index,
        category="", dimensions=dims or {}, estimate=index, se=None, ci_low=None, ci_high=None,
    )  # fmt: skip


INFO = {
    "Kab A": InstitutionInfo("Kab A", "Lampung", "kabupaten", "besar"),
    "Kab B": InstitutionInfo("Kab B", "Lampung", "kabupaten", "besar"),
    "Kota C": InstitutionInfo("Kota C", "Lampung", "kota", "kecil"),
    "Kab D": InstitutionInfo("Kab D", "Banten", "kabupaten", "besar"),
    "Kementerian E": InstitutionInfo("Kementerian E", "", "kementerian", "besar"),
}


def test_rank_within_province_and_type_size_with_ties():
    results = [
        inst("Kab A", 70.004),  # published 70.00, ties with Kota C
        inst("Kab B", 75.0),
        inst("Kota C", 69.996),  # published 70.00
        inst("Kab D", 80.0),
        inst("Kementerian E", 90.0),
        inst("Unknown", 99.0),
    ]
    by_province = rank_within(results, INFO, "province")
    assert by_province["Kab B"].rank == 1
    assert (by_province["Kab A"].rank, by_province["Kota C"].rank) == (2, 2)
    assert by_province["Kab A"].of == 3 and by_province["Kab D"].rank == 1
    assert "Kementerian E" not in by_province and "Unknown" not in by_province
    by_type = rank_within(results, INFO, "type_size")
    assert by_type["Kab D"].rank == 1 and by_type["Kab D"].peer_group == "kabupaten/besar"
    assert (by_type["Kab B"].rank, by_type["Kab A"].rank, by_type["Kab A"].of) == (2, 3, 3)
    assert by_type["Kota C"].rank == 1 and by_type["Kota C"].of == 1


def test_year_over_year_on_published_values():
    change = year_over_year([inst("Kab A", 71.534), inst("Kab B", 60.0)], {"Kab A": 70.966})
    # Published 71.53 − 70.97 = 0.56 (not 0.568 from unrounded values).
    assert change["Kab A"].change == pytest.approx(0.56)
    assert "Kab B" not in change


def test_weakest_dimensions_with_recommendations():
    dims = {"transparansi": 80.0, "sdm": 60.0, "pbj": 55.5, "integritas": 60.0, "sosialisasi": 90.0}
    weak = weakest_dimensions(inst("Kab A", 70.0, dims), count=3)
    # Tie between sdm and integritas broken by canonical order (sdm before integritas).
    assert [w.dimension for w in weak] == ["pbj", "sdm", "integritas"]
    assert weak[0].label_en == "Procurement management"
    assert any("transparan" in r.text_id.lower() for r in weak[0].recommendations)
    assert any("merit" in r.text_en.lower() for r in weak[1].recommendations)
    assert any("gratuit" in r.text_en.lower() for r in weak[2].recommendations)


def test_recommendations_cover_every_dimension_in_both_languages():
    recs = load_recommendations()
    assert len(recs) == 7
    assert all(r.text_id and r.text_en for items in recs.values() for r in items)


def test_bad_recommendations_and_institutions_files(tmp_path):
    bad = tmp_path / "r.yaml"
    bad.write_text("korupsi: [{id: a, en: b}]\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_recommendations(bad)
    bad.write_text("sdm: [{id: a}]\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_recommendations(bad)
    csv_path = tmp_path / "i.csv"
    csv_path.write_text(
        "institution,province,type,size\nKab A,Lampung,kabupaten,besar\nKab B,Lampung,desa,kecil\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="line 3"):
        load_institutions_csv(csv_path)
