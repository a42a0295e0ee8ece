from cegah.wbs.dedup.amounts import amount_buckets, bucket_label, find_amounts
from cegah.wbs.dedup.normalize import content_tokens, fold, raw_tokens, stem
from cegah.wbs.dedup.resources import abbreviations, stop_words, synonyms


def test_data_files_load_without_duplicates():
    abbr = abbreviations()
    assert abbr["kades"] == ("kepala", "desa")
    assert abbr["pungli"] == ("pungutan", "liar")
    assert abbr["bansos"] == ("bantuan", "sosial")
    assert len(abbr) > 300
    assert synonyms()["tarikan"] == "pungutan"
    assert "yang" in stop_words()


def test_fold_removes_masks_headers_and_thousands_separators():
    text = "Yth. Inspektorat Kota Surabaya,\nNomor saya [TELEPON], biaya Rp 1.250.000"
    folded = fold(text)
    assert "inspektorat" not in folded
    assert "[telepon]" not in folded
    assert "1250000" in folded


def test_raw_tokens_split_glued_and_reduplicated_words():
    assert raw_tokens("rt02 RW.014 ibu2 ibu-ibu 15tahun") == [
        "rt", "2", "rw", "14", "ibu", "ibu", "15", "tahun",
    ]  # fmt: skip


def test_amounts_are_written_in_rupiah():
    assert "500000" in raw_tokens("pungli 500rb")
    assert "1500000" in raw_tokens("diminta 1,5 juta")
    # "10 m" is ten metres, not ten billion rupiah
    assert raw_tokens("jalan 10 m") == ["jalan", "10", "m"]


def test_abbreviated_and_formal_text_normalise_alike():
    chat = (
        "Kades Sukamaju minta pungli 500rb utk bansos yg tdk tepat sasaran, mohon ditindaklanjuti"
    )
    formal = "Kepala Desa Sukamaju meminta pungutan liar Rp 500.000 untuk bantuan sosial yang tidak tepat sasaran"
    assert set(content_tokens(chat)) == set(content_tokens(formal))


def test_stop_words_and_boilerplate_are_dropped():
    tokens = content_tokens("Assalamualaikum min, mohon ditindaklanjuti. Terima kasih 🙏")
    assert tokens == []


def test_stem_is_memoised_and_keeps_numbers():
    assert stem("pungutan") == "pungut"
    assert stem("2022") == "2022"
    before = stem.cache_info().hits
    stem("pungutan")
    assert stem.cache_info().hits == before + 1


def test_find_amounts():
    assert find_amounts(fold("setor Rp 850rb sampai 1 jt, Rp5 M")) == [850000, 1000000, 5000000000]
    assert find_amounts(fold("rt 5 rw 3 no 12")) == []


def test_amount_buckets_overlap_for_close_amounts():
    near = set(amount_buckets(500_000)) & set(amount_buckets(550_000))
    assert near
    assert not set(amount_buckets(500_000)) & set(amount_buckets(5_000_000))
    assert bucket_label(500_000) == "316rb-562rb"
