import pytest

from cegah.wbs.dedup.entities import field_entities, normalize_name, region_keys, text_entities


def test_role_abbreviations_normalise_to_the_same_name():
    assert normalize_name("Kades Sukamaju") == normalize_name("Kepala Desa Sukamaju")
    assert normalize_name("Dinkes Kab. Demak") == normalize_name("Dinas Kesehatan Kabupaten Demak")
    assert normalize_name("  KADES   sukamaju ") == normalize_name("kepala desa Sukamaju")


def test_text_entities_find_places_and_numbers():
    ents = text_entities(
        "PJU di RW 014, Jl. SIDOYOSO 2 Kel. Simokerto, Kec. Simokerto padam 10 titik, SMPN 34"
    )
    assert ents["rw"] == {"14"}
    assert ents["street"] == {"sidoyoso"}
    assert ents["village"] == {"simokerto"}
    assert ents["district"] == {"simokerto"}
    assert ents["school"] == {"smp:34"}
    assert {"2", "10"} <= ents["number"]


@pytest.mark.parametrize(
    "text",
    ["RT 1/RW 8", "rt01 rw08", "RT/RW 01/08", "RT.001 RW.008"],
)
def test_rt_rw_spellings(text):
    ents = text_entities(text)
    assert ents["rt"] == {"1"}
    assert ents["rw"] == {"8"}


def test_generic_words_after_a_marker_are_not_names():
    ents = text_entities("jalan rusak di desa kami, jalan raya berlubang")
    assert not ents["street"]
    assert not ents["village"]


def test_amounts_in_text_and_fields():
    ents = text_entities("dimintai uang 500rb oleh oknum")
    assert ents["amount"] == {"500000"}
    assert len(ents["amount_bucket"]) == 2
    assert field_entities(amount=500_000)["amount_bucket"] == ents["amount_bucket"]


def test_region_keys_are_hierarchical():
    assert region_keys("35.78.01") == {"1:35", "2:3578", "3:357801"}
    keys = region_keys("Kota Surabaya, Kec. Benowo")
    assert len(keys) == 2
    assert region_keys("Kota Surabaya, Kecamatan Benowo") == keys
    assert region_keys("") == set()


def test_structured_fields():
    ents = field_entities(
        reported_persons=["Kades Sukamaju"],
        reported_institutions=["Dinkes Kab. Demak"],
        tender_codes=["KD-1234.5"],
    )
    assert ents["person"] == {normalize_name("kepala desa sukamaju")}
    assert ents["tender"] == {"kd12345"}
