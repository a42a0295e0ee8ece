"""Indonesian is the first language: every user-facing string must have an Indonesian translation,
and the compiled catalogue must be current (a fresh machine has no gettext to compile it)."""

import gettext
import os
import re
import shutil
import subprocess
import sys
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


EXTRACT = """
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cegah.settings")
django.setup()
from django.core.management import call_command
root = sys.argv[1]
apps = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d, "locale")))
for app in apps:
    os.chdir(os.path.join(root, app))
    subs = [d for d in os.listdir(".") if os.path.isdir(os.path.join(d, "locale"))]
    call_command("makemessages", locale=["id"], no_obsolete=True, verbosity=0,
                 ignore_patterns=[f"{d}/*" for d in subs])
os.chdir(root)
call_command("makemessages", locale=["id"], no_obsolete=True, verbosity=0,
             ignore_patterns=[f"{a}/*" for a in apps])
"""


@pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="extracting strings needs GNU gettext (xgettext)"
)
def test_every_string_in_the_code_is_in_a_catalogue(tmp_path: Path) -> None:
    """Strings added to the code but never extracted (`make messages` not run) show in English
    on Indonesian pages while every catalogue looks complete: extract them again, as `make
    messages` does, into a copy, and compare."""
    copy = tmp_path / "cegah"
    shutil.copytree(
        PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static", "data")
    )
    subprocess.run(
        [sys.executable, "-c", EXTRACT, str(copy)],
        check=True,
        cwd=PACKAGE.parent,
        env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)},
    )
    missing = []
    for po in sorted(copy.glob("**/locale/id/LC_MESSAGES/django.po")):
        known = {
            (context, msgid) for msgid, _s, _f, context in _entries(PACKAGE / po.relative_to(copy))
        }
        missing += [
            f"{po.relative_to(copy).parts[0]}: {msgid}"
            for msgid, _s, _f, context in _entries(po)
            if (context, msgid) not in known
        ]
    assert missing == [], "run `make messages` and translate the new strings"
