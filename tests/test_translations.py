"""Indonesian is the first language: every user-facing string must have an Indonesian translation,
and the compiled catalogue must be current (a fresh machine has no gettext to compile it)."""

import gettext
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cegah"
# The project catalogue plus one per app that keeps its own (cegah/<app>/locale).
CATALOGUES = sorted(PACKAGE.glob("**/locale/id/LC_MESSAGES/django.po"))


def _entries(po: Path) -> list[tuple[str, str, bool]]:
    entries = []
    for block in po.read_text().split("\n\n")[1:]:
        match = re.search(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', block + "\n", re.MULTILINE)
        if not match:
            continue
        msgid = "".join(re.findall(r'"(.*)"', match.group(1)))
        msgstr = "".join(re.findall(r'"(.*)"', match.group(2)))
        entries.append((msgid, msgstr, "#, fuzzy" in block))
    return entries


def test_catalogues_exist() -> None:
    assert PACKAGE / "locale" / "id" / "LC_MESSAGES" / "django.po" in CATALOGUES


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_string_has_an_indonesian_translation(po: Path) -> None:
    entries = _entries(po)
    assert entries
    untranslated = [msgid for msgid, msgstr, fuzzy in entries if not msgstr or fuzzy]
    assert untranslated == []


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_compiled_catalogue_matches_source(po: Path) -> None:
    with po.with_suffix(".mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    stale = []
    for msgid, msgstr, _fuzzy in _entries(po):
        expected = msgstr.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        source = msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        if catalogue.gettext(source) != expected:
            stale.append(source)
    assert stale == [], "run `make messages` to recompile django.mo"
