"""Word lists shipped with the de-duplication engine (abbreviations, extra stop words, synonyms).

The lists are plain data files under ``data/`` so that reviewers can read and amend them without
touching code; they are loaded once per process.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from Sastrawi.StopWordRemover.StopWordRemoverFactory import StopWordRemoverFactory

_PACKAGE = "cegah.wbs.dedup"


def _lines(name: str) -> list[str]:
    """Return the non-empty, non-comment lines of a data file."""
    text = resources.files(_PACKAGE).joinpath("data", name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@cache
def abbreviations() -> dict[str, tuple[str, ...]]:
    """Return the abbreviation dictionary: token -> expansion words.

    Raises ``ValueError`` if the data file has a malformed or duplicated entry, so a bad edit
    fails loudly in the tests instead of silently changing fingerprints.
    """
    table: dict[str, tuple[str, ...]] = {}
    for line in _lines("abbreviations.tsv"):
        cols = line.split("\t")
        if len(cols) != 4 or not cols[0] or not cols[1]:
            raise ValueError(f"abbreviations.tsv: malformed line {line!r}")
        key = cols[0].strip()
        if key in table:
            raise ValueError(f"abbreviations.tsv: duplicate entry {key!r}")
        table[key] = tuple(cols[1].split())
    return table


@cache
def synonyms() -> dict[str, str]:
    """Return the synonym table on stems: stem -> canonical stem.

    Raises ``ValueError`` on a malformed or duplicated entry.
    """
    table: dict[str, str] = {}
    for line in _lines("synonyms.tsv"):
        cols = line.split("\t")
        if len(cols) != 3 or not cols[0] or not cols[1]:
            raise ValueError(f"synonyms.tsv: malformed line {line!r}")
        if cols[0] in table:
            raise ValueError(f"synonyms.tsv: duplicate entry {cols[0]!r}")
        table[cols[0]] = cols[1]
    return table


@cache
def stop_words() -> frozenset[str]:
    """Return the PySastrawi stop words plus our complaint-boilerplate words."""
    words = set(StopWordRemoverFactory().get_stop_words())
    words.update(line.strip() for line in _lines("stopwords_extra.txt"))
    return frozenset(words)
