"""Normalisation of Indonesian complaint text into comparable content tokens.

Pipeline (each step is a function so tests can pin it down):

1. ``fold``: Unicode NFKC, case folding, the corpus' privacy masks (``[TELEPON]`` …) removed,
   thousands separators dropped (``500.000`` -> ``500000``), channel headers (``Yth. X,``) removed.
2. ``raw_tokens``: words and numbers; reduplication ``ibu2`` / ``ibu-ibu`` -> ``ibu``; glued
   letters/digits split (``rt02`` -> ``rt 2``, ``500rb`` -> ``500 rb``); leading zeros dropped.
3. ``content_tokens``: abbreviation expansion, synonyms, stop words, Sastrawi stemming (memoised).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

from cegah.wbs.dedup.amounts import AMOUNT, parse_match
from cegah.wbs.dedup.resources import abbreviations, stop_words, synonyms

# Masks written by the corpus cleaner and by our own intake redaction; they carry no incident facts.
_MASK = re.compile(r"\[(?:telepon|email|nik|nip|nomor|nama)\]", re.IGNORECASE)
# "500.000" / "1.250.000,00" -> digits only; a dot between groups of three is a thousands separator.
_THOUSANDS = re.compile(r"(?<=\d)[.,](?=\d{3}(?!\d))")
# A platform header such as "Yth. Inspektorat Kota Surabaya," or "Kepada Yth. DPRD" (to end of line
# or first comma): it names the receiving agency, which differs between duplicates by design.
_HEADER = re.compile(r"(?:^|\n)\s*(?:kepada\s+)?(?:yth|yang\s+terhormat)\b[^\n,]*[,\n]?")
_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_GLUED = re.compile(r"[a-z]+|\d+")
_REDUP_DIGIT = re.compile(r"^([a-z]{2,})2$")


def fold(text: str) -> str:
    """Return ``text`` case-folded with masks, thousands separators and headers removed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _MASK.sub(" ", text)
    text = _THOUSANDS.sub("", text)
    return _HEADER.sub("\n", text)


def _amount_to_digits(m: re.Match[str]) -> str:
    value = parse_match(m)
    return m.group(0) if value is None else f" {value} "


def fold_amounts(text: str) -> str:
    """Return folded ``text`` with money amounts written as plain rupiah (``500rb`` -> ``500000``)."""
    return AMOUNT.sub(_amount_to_digits, fold(text))


def _split_token(token: str) -> list[str]:
    """Return the parts of one raw token (reduplication collapsed, letters/digits split)."""
    if "-" in token:
        parts = token.split("-")
        if len(set(parts)) == 1:  # "ibu-ibu" is one word, plural
            return _split_token(parts[0])
        return [p for part in parts for p in _split_token(part)]
    m = _REDUP_DIGIT.match(token)
    if m:  # chat reduplication "ibu2", "mbak2"
        return [m.group(1)]
    if token.isalpha() or token.isdigit():
        return [token.lstrip("0") or "0"] if token.isdigit() else [token]
    return [p.lstrip("0") or "0" if p.isdigit() else p for p in _GLUED.findall(token)]


def raw_tokens(text: str) -> list[str]:
    """Return the folded words and numbers of ``text`` in order (nothing dropped but punctuation)."""
    return [p for tok in _TOKEN.findall(fold_amounts(text)) for p in _split_token(tok)]


def expand(tokens: list[str]) -> list[str]:
    """Return ``tokens`` with abbreviations expanded and synonyms canonicalised."""
    table = abbreviations()
    syn = synonyms()
    out: list[str] = []
    for tok in tokens:
        for word in table.get(tok, (tok,)):
            out.append(syn.get(word, word))
    return out


@cache
def _stemmer() -> object:
    """Return the (expensive to build) Sastrawi stemmer, built once per process."""
    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Return the Sastrawi stem of one word; memoised because stemming dominates the cost."""
    if not word.isalpha() or len(word) <= 3:
        return word
    result: str = _stemmer().stem(word)  # type: ignore[attr-defined]
    return result or word


def content_tokens(text: str) -> list[str]:
    """Return the stemmed content tokens of ``text`` in order (stop words and boilerplate removed).

    Numbers are kept: they distinguish incidents (RT/RW, school numbers, amounts).
    """
    stops = stop_words()
    out: list[str] = []
    for word in expand(raw_tokens(text)):
        if word in stops or (len(word) < 2 and not word.isdigit()):
            continue
        stemmed = stem(word)
        if stemmed in stops:
            continue
        out.append(stemmed)
    return out
