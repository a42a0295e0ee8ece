import pytest

from cegah.core.env import SETTINGS, ConfigurationError, env_bool, env_int, env_list, local_secret


@pytest.fixture(autouse=True)
def _keep_registry_clean():
    """These tests declare throwaway knobs; keep them out of the documented registry."""
    before = dict(SETTINGS)
    yield
    SETTINGS.clear()
    SETTINGS.update(before)


def test_env_bool_rejects_garbage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CEGAH_TEST_FLAG", "maybe")
    with pytest.raises(ConfigurationError, match="CEGAH_TEST_FLAG"):
        env_bool("CEGAH_TEST_FLAG", False, "test")


def test_env_int_and_list_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CEGAH_TEST_INT", "42")
    monkeypatch.setenv("CEGAH_TEST_LIST", " a, b ,,c ")
    assert env_int("CEGAH_TEST_INT", 1, "test") == 42
    assert env_list("CEGAH_TEST_LIST", [], "test") == ["a", "b", "c"]


def test_env_int_rejects_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CEGAH_TEST_INT", "forty")
    with pytest.raises(ConfigurationError):
        env_int("CEGAH_TEST_INT", 1, "test")


def test_local_secret_is_stable_and_private(tmp_path) -> None:
    path = tmp_path / "secret"
    first = local_secret(path)
    assert local_secret(path) == first
    assert len(first) > 40
    assert path.stat().st_mode & 0o077 == 0
