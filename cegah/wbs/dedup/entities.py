"""Entities that tell two look-alike complaints apart: where, which school, how much, who.

Entities come from two places:

* structured intake fields (reported person, reported institution, region code, tender/RUP code,
  estimated amount) - normalised here;
* the narrative - RT/RW, village/kelurahan, kecamatan, street, school, money amounts, other numbers
  and persons named after an honorific - found with conservative patterns.

Every value is returned as plaintext ``kind -> set[str]`` here; ``fingerprint`` hashes them with the
server key before anything is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from cegah.wbs.dedup.amounts import amount_buckets, find_amounts
from cegah.wbs.dedup.normalize import expand, fold, fold_amounts, raw_tokens, stem
from cegah.wbs.dedup.resources import stop_words

# Words that follow a place marker but are not a name ("jalan rusak", "desa setempat", "jalan raya").
_NOT_A_NAME = frozenset(
    [
        "raya",
        "besar",
        "utama",
        "rusak",
        "berlubang",
        "lubang",
        "umum",
        "poros",
        "penghubung",
        "lingkungan",
        "kabupaten",
        "provinsi",
        "kota",
        "nasional",
        "tol",
        "protokol",
        "desa",
        "dusun",
        "kampung",
        "kelurahan",
        "kecamatan",
        "jalan",
        "gang",
        "rt",
        "rw",
        "nomor",
        "blok",
        "sekitar",
        "sekitarnya",
        "setempat",
        "tersebut",
        "kami",
        "kita",
        "saya",
        "wilayah",
        "daerah",
        "arah",
        "ke",
        "di",
        "dan",
        "yg",
        "yang",
        "menuju",
        "depan",
        "belakang",
        "samping",
        "dekat",
        "masuk",
        "sepanjang",
        "utara",
        "selatan",
        "timur",
        "barat",
        "tengah",
        "kecil",
        "negeri",
        "swasta",
        "dinas",
        "kantor",
        "kepala",
        "perangkat",
        "pemerintah",
        "dana",
        "bantuan",
        "warga",
        "adat",
        "baru",
        "lama",
    ]
)

# Marker word (after abbreviation expansion) -> entity kind.
_PLACE_MARKERS = {
    "kelurahan": "village",
    "desa": "village",
    "kampung": "village",
    "dusun": "village",
    "kecamatan": "district",
    "jalan": "street",
    "gang": "street",
    "perumahan": "street",
}
# Raw abbreviations accepted as a street marker even when the full word is not ("jl." is an address,
# "jalan" alone is often the road being complained about).
_STREET_ABBR = frozenset({"jl", "jln", "gg"})

_RT_RW = re.compile(r"\b(rt|rw)\s*\.?\s*(\d{1,3})\b")
_RT_RW_PAIR = re.compile(r"\brt\s*/\s*rw\s*\.?\s*(\d{1,3})\s*/\s*(\d{1,3})\b")
_RT_SLASH_RW = re.compile(r"\brt\s*\.?\s*(\d{1,3})\s*/\s*(?:rw\s*\.?\s*)?(\d{1,3})\b")
_SCHOOL = re.compile(
    r"\b(sdn|sd|smpn|smp|sman|sma|smkn|smk|min|mi|mtsn|mts|man|ma)\s*(?:negeri\s*)?(\d{1,3})\b"
)
_SCHOOL_LEVEL = {
    "sdn": "sd",
    "smpn": "smp",
    "sman": "sma",
    "smkn": "smk",
    "min": "mi",
    "mtsn": "mts",
    "man": "ma",
}
_HONORIFIC = re.compile(r"\b(?:pak|bapak|bpk|bu|ibu|sdr|saudara|saudari)\.?\s+([a-z]{3,})")
_NUMBER = re.compile(r"(?<![\d.,])\d{1,7}(?![\d.,]?\d)")
_PERSON_NOT_NAME = frozenset(
    [
        "rt",
        "rw",
        "lurah",
        "camat",
        "kades",
        "bupati",
        "wali",
        "walikota",
        "gubernur",
        "kepala",
        "ketua",
        "sekretaris",
        "bendahara",
        "guru",
        "dokter",
        "bidan",
        "polisi",
        "satpam",
        "security",
        "petugas",
        "pegawai",
        "kadis",
        "kabid",
        "kasi",
        "kasubag",
        "dan",
        "yang",
        "tidak",
    ]
)
_ENTITY_KINDS = (
    "rt",
    "rw",
    "village",
    "district",
    "street",
    "school",
    "amount",
    "amount_bucket",
    "number",
    "person",
    "institution",
    "region",
    "tender",
)


def empty_entities() -> dict[str, set[str]]:
    """Return an empty entity map with every kind present."""
    return {kind: set() for kind in _ENTITY_KINDS}


def _name_after(tokens: list[str], i: int) -> str | None:
    """Return the first name word after the marker at ``tokens[i]``, or None."""
    stops = stop_words()
    for j in range(i + 1, min(i + 3, len(tokens))):
        word = tokens[j]
        if word.isdigit() or word in _PLACE_MARKERS:
            return None
        if word in _NOT_A_NAME or word in stops:
            if word in {"raya", "besar", "utama"}:  # "jl. raya darmo": skip the generic word
                continue
            return None
        return word if len(word) >= 3 else None
    return None


def _places(text: str) -> dict[str, set[str]]:
    """Return village/district/street names in ``text`` keyed by kind."""
    found: dict[str, set[str]] = {"village": set(), "district": set(), "street": set()}
    raw = raw_tokens(text)
    for i, word in enumerate(raw):
        marker = expand([word])
        kind = _PLACE_MARKERS.get(marker[0]) if len(marker) == 1 else None
        if kind == "street" and word not in _STREET_ABBR and word != "gang":
            continue
        if kind is None:
            continue
        name = _name_after(raw, i)
        if name is not None:
            found[kind].add(name)
    return found


def text_entities(text: str) -> dict[str, set[str]]:
    """Return the entities found in a complaint narrative (plaintext; hash before storing)."""
    ents = empty_entities()
    folded = fold(text)
    rest = folded
    for pattern in (_RT_RW_PAIR, _RT_SLASH_RW):
        for a, b in pattern.findall(rest):
            ents["rt"].add(str(int(a)))
            ents["rw"].add(str(int(b)))
        rest = pattern.sub(" ", rest)  # so "rt/rw 01/08" is not read again as "rw 01"
    for kind, num in _RT_RW.findall(rest):
        ents[kind].add(str(int(num)))
    for level, num in _SCHOOL.findall(folded):
        ents["school"].add(f"{_SCHOOL_LEVEL.get(level, level)}:{int(num)}")
    for value in find_amounts(folded):
        ents["amount"].add(str(value))
        ents["amount_bucket"].update(amount_buckets(value))
    for num in _NUMBER.findall(fold_amounts(text)):
        # Years and amounts are already represented; small numbers (1-1999) name RT, schools,
        # house numbers, quantities and dates.
        ents["number"].add(str(int(num)))
    for name in _HONORIFIC.findall(folded):
        if name not in _PERSON_NOT_NAME and name not in stop_words():
            ents["person"].add(name)
    for kind, names in _places(text).items():
        ents[kind].update(names)
    return ents


def normalize_name(value: str) -> str:
    """Return a person or institution name in canonical form.

    Abbreviations are expanded and words stemmed, so "Kades Sukamaju" and "Kepala Desa Sukamaju"
    (or "Dinkes Kab. Demak" and "Dinas Kesehatan Kabupaten Demak") give the same string.
    """
    return " ".join(stem(w) for w in expand(raw_tokens(value)))


def normalize_code(value: str) -> str:
    """Return a tender/RUP/region code with separators and case removed ("35.78" -> "3578")."""
    return re.sub(r"[^0-9a-z]", "", value.casefold())


# "kode tender 10012345", "Kode RUP-nya 45112233", "kd_rup: 4511 2233", "ID paket 12.345.678": the
# word, then at most 25 characters that are not digits, then 6-12 digits with optional separators.
_TENDER_CODE = re.compile(
    r"\b(?:kode|kd|id|nomor|no)[\s_.-]*(?:tender|rup|paket|lelang|pengadaan|sirup)\b"
    r"[^\d\n]{0,25}?(\d(?:[\d.\s-]{4,14})\d)",
    re.IGNORECASE,
)


def tender_codes_in_text(text: str) -> list[str]:
    """Return the SPSE tender / SiRUP codes that the narrative names after a label ("kode RUP").

    Only labelled codes count: a bare number may be a phone, an account or an amount.
    """
    out = []
    for match in _TENDER_CODE.finditer(text):
        code = normalize_code(match.group(1))
        if 6 <= len(code) <= 12:
            out.append(code)
    return out


def region_keys(region: str) -> set[str]:
    """Return the hierarchical prefixes of a region (Kemendagri code or "Kota X, Kec. Y" name).

    "35.78.01" -> {"1:35", "2:3578", "3:357801"}; "Kota Surabaya, Kec. Benowo" ->
    {"1:kota surabaya", "2:kota surabaya/kecamatan benowo"}. Equal prefixes at the same depth mean
    the same area; two reports are only compared at depths both have.
    """
    region = region.strip()
    if not region:
        return set()
    if re.fullmatch(r"[\d.\s]+", region):
        parts = [p for p in re.split(r"[.\s]+", region) if p]
    else:
        parts = [normalize_name(p) for p in region.split(",") if p.strip()]
    keys = set()
    for depth in range(1, len(parts) + 1):
        sep = "" if parts[0].isdigit() else "/"
        keys.add(f"{depth}:{sep.join(parts[:depth])}")
    return keys


def field_entities(
    *,
    reported_persons: Iterable[str] = (),
    reported_institutions: Iterable[str] = (),
    region: str | None = None,
    tender_codes: Iterable[str] = (),
    amount: int | Decimal | None = None,
) -> dict[str, set[str]]:
    """Return the entities of the structured intake fields (plaintext; hash before storing)."""
    ents = empty_entities()
    ents["person"].update(n for n in map(normalize_name, reported_persons) if n)
    ents["institution"].update(n for n in map(normalize_name, reported_institutions) if n)
    ents["tender"].update(c for c in map(normalize_code, tender_codes) if c)
    if region:
        ents["region"].update(region_keys(region))
    if amount is not None and amount > 0:
        ents["amount"].add(str(int(amount)))
        ents["amount_bucket"].update(amount_buckets(amount))
    return ents
