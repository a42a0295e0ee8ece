"""Indonesian is the first language: every user-facing string must have an Indonesian translation,
and the compiled catalogue must be current (a fresh machine has no gettext to compile it)."""

import gettext
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cegah"
# The project catalogue plus one per app that keeps its own (cegah/<app>/locale).
CATALOGUES = sorted(PACKAGE.glob("**/locale/id/LC_MESSAGES/django.po"))


def _entries(po: Path) -> list[tuple[str, str, bool, str | None]]:
    """Return (msgid, msgstr, fuzzy, msgctxt) per entry (the first form of a plural)."""
    entries = []
    for block in po.read_text().split("\n\n")[1:]:
        match = re.search(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', block + "\n", re.MULTILINE)
        if not match:
            continue
        msgid = "".join(re.findall(r'"(.*)"', match.group(1)))
        msgstr = "".join(re.findall(r'"(.*)"', match.group(2)))
        context = re.search(r'^msgctxt "(.*)"$', block, re.MULTILINE)
        entries.append((msgid, msgstr, "#, fuzzy" in block, context and context.group(1)))
    return entries


def test_catalogues_exist() -> None:
    assert PACKAGE / "locale" / "id" / "LC_MESSAGES" / "django.po" in CATALOGUES


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_string_has_an_indonesian_translation(po: Path) -> None:
    entries = _entries(po)
    assert entries
    untranslated = [msgid for msgid, msgstr, fuzzy, _context in entries if not msgstr or fuzzy]
    assert untranslated == []


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_compiled_catalogue_matches_source(po: Path) -> None:
    with po.with_suffix(".mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    stale = []
    for msgid, msgstr, _fuzzy, context in _entries(po):
        expected = msgstr.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        source = msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        found = catalogue.pgettext(context, source) if context else catalogue.gettext(source)
        if found != expected:
            stale.append(source)
    assert stale == [], "run `make messages` to recompile django.mo"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_app_translations_are_not_overridden_by_the_project_catalogue(lang: str) -> None:
    """Django looks in LOCALE_PATHS (cegah/locale) before the apps' own catalogues: where both
    hold a msgid with different translations, the app's never shows. A word that means different
    things in different places needs a context (``{% translate "Change" context "…" %}``)."""

    def catalogue(root: Path) -> dict[object, str]:
        with (root / "locale" / lang / "LC_MESSAGES" / "django.mo").open("rb") as handle:
            entries: dict[object, str] = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
        return {k: v for k, v in entries.items() if k != "" and v}

    project = catalogue(PACKAGE)
    apps = [p.parents[3] for p in CATALOGUES if p.parents[3] != PACKAGE]
    assert apps
    hidden = [
        (app.name, key, translation, project[key])
        for app in apps
        for key, translation in catalogue(app).items()
        if key in project and project[key] != translation
    ]
    assert hidden == []
