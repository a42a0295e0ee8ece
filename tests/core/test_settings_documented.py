from pathlib import Path

from cegah.cli import serve_defaults
from cegah.core.env import SETTINGS

serve_defaults()  # declares the `cegah serve` knobs

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text()
    missing = [name for name in SETTINGS if f"`{name}`" not in text]
    assert SETTINGS, "settings module registered no knobs"
    assert missing == [], f"undocumented settings in docs/settings.md: {missing}"


def test_documented_settings_exist() -> None:
    import re

    documented = set(re.findall(r"^\| `(CEGAH_[A-Z_]+)`", DOC.read_text(), flags=re.MULTILINE))
    assert documented - set(SETTINGS) == set()
