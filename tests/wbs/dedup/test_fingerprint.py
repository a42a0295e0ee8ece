import json

import numpy as np
import pytest

from cegah.wbs.dedup import (
    THRESHOLD,
    BandIndex,
    DedupKey,
    Fingerprint,
    ReportFields,
    band_rows,
    compare,
    fingerprint,
)

KEY = DedupKey(b"test-key-0123456789abcdef-0123456789")
OTHER_KEY = DedupKey(b"another-test-key-0123456789abcdef-01")

ORIGINAL = (
    "Kepala Desa Sukamaju meminta pungutan liar Rp 500.000 kepada setiap penerima bantuan sosial "
    "di RT 03 RW 02 Desa Sukamaju Kecamatan Cibeber, uang disetor ke rumah kades."
)
REWRITE = (
    "Assalamualaikum min, kades sukamaju minta pungli 500rb utk tiap penerima bansos "
    "rt 3 rw 2 ds sukamaju kec cibeber. mohon ditindaklanjuti 🙏"
)
OTHER_VILLAGE = ORIGINAL.replace("RT 03 RW 02", "RT 07 RW 05").replace("Sukamaju", "Sukasari")
UNRELATED = "Lampu penerangan jalan umum di Jl. Kenanga mati sejak seminggu, mohon diperbaiki."


def fp(text, key=KEY, **kw):
    return fingerprint(ReportFields(text=text, **kw), key)


def test_rewrite_matches_and_says_why():
    m = compare(fp(ORIGINAL), fp(REWRITE))
    assert m.is_duplicate
    assert {"rt", "rw", "village", "amount"} <= set(m.agree)
    assert m.disagree == ()
    assert any(r.startswith("same village") for r in m.reasons())


def test_same_wording_different_place_is_not_a_duplicate():
    m = compare(fp(ORIGINAL), fp(OTHER_VILLAGE))
    assert m.text_similarity > THRESHOLD  # the wording alone would call it a duplicate
    assert {"rt", "rw", "village"} <= set(m.disagree)
    assert not m.is_duplicate


def test_unrelated_reports_score_low():
    assert compare(fp(ORIGINAL), fp(UNRELATED)).score < 0.1


def test_fingerprint_is_deterministic():
    assert fp(ORIGINAL).to_bytes() == fp(ORIGINAL).to_bytes()


def test_different_key_gives_different_values():
    a, b = fp(ORIGINAL), fp(ORIGINAL, key=OTHER_KEY)
    assert a.key_id != b.key_id
    assert np.count_nonzero(a.words == b.words) < 10
    assert not set(a.entities["village"]) & set(b.entities["village"])
    assert not set(band_rows(a, KEY)) & set(band_rows(b, OTHER_KEY))
    with pytest.raises(ValueError, match="different keys"):
        compare(a, b)


def test_serialised_fingerprint_contains_no_plaintext():
    f = fp(ORIGINAL, region="Kabupaten Cianjur, Kec. Cibeber", reported_persons=["Kades Sukamaju"])
    raw = f.to_bytes().decode().casefold()
    words = {w.strip(".,").casefold() for w in ORIGINAL.split()} | {"cianjur", "kades"}
    for word in words:
        if len(word) >= 4 and not word.isdigit():
            assert word not in raw, word
    for number in ("500000", "500.000"):
        assert number not in raw


def test_round_trip():
    f = fp(ORIGINAL, region="Kabupaten Cianjur", amount=500_000)
    for g in (
        Fingerprint.from_bytes(f.to_bytes()),
        Fingerprint.from_json(json.loads(f.to_bytes())),
    ):
        assert g.key_id == f.key_id
        assert np.array_equal(g.words, f.words)
        assert np.array_equal(g.pairs, f.pairs)
        assert g.entities == f.entities
        assert compare(f, g).score == 1.0


def test_malformed_serialisations_are_rejected():
    data = fp(ORIGINAL).to_json()
    with pytest.raises(ValueError):
        Fingerprint.from_json({**data, "v": 99})
    with pytest.raises(ValueError):
        Fingerprint.from_json({**data, "w": "AAAA"})


def test_short_secret_is_refused():
    with pytest.raises(ValueError):
        DedupKey(b"short")
    assert "test-key" not in repr(KEY)


def test_empty_text_matches_nothing():
    empty = fp("")
    assert compare(empty, empty).score == 0.0
    assert compare(empty, fp(ORIGINAL)).score == 0.0


def test_band_index_finds_the_rewrite():
    index = BandIndex()
    for rid, text in (("orig", ORIGINAL), ("other", UNRELATED)):
        index.add(rid, band_rows(fp(text), KEY))
    rows = band_rows(fp(REWRITE), KEY)
    assert all(-(2**63) <= h < 2**63 for _band, h in rows)
    found = index.query(rows)
    assert found[0][0] == "orig"
    assert "other" not in dict(found)
