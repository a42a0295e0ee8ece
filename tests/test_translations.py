"""Indonesian is the first language: every user-facing string must have an Indonesian translation,
and the compiled catalogue must be current (a fresh machine has no gettext to compile it)."""

import gettext
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[1] / "cegah" / "locale"


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


def test_every_string_has_an_indonesian_translation() -> None:
    entries = _entries(LOCALE / "id" / "LC_MESSAGES" / "django.po")
    assert len(entries) > 100
    untranslated = [msgid for msgid, msgstr, fuzzy in entries if not msgstr or fuzzy]
    assert untranslated == []


def test_compiled_catalogue_matches_source() -> None:
    with (LOCALE / "id" / "LC_MESSAGES" / "django.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    stale = []
    for msgid, msgstr, _fuzzy in _entries(LOCALE / "id" / "LC_MESSAGES" / "django.po"):
        expected = msgstr.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        source = msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        if catalogue.gettext(source) != expected:
            stale.append(source)
    assert stale == [], "run `make messages` to recompile django.mo"
