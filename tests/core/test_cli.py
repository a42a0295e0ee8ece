"""The `cegah` command's own behaviour (the commands it runs have their own tests)."""

from __future__ import annotations

import pytest

from cegah.cli import main


def _interrupt(*args: object, **kwargs: object) -> int:
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("argv", "target"),
    [
        # The engine's commands, which skip Django, and any Django command: Ctrl-C may come while
        # either is still importing, before its own handling is in place.
        (["procurement", "indicators", "x.jsonl"], "cegah.procurement.engine.cli.main"),
        (["migrate"], "django.core.management.execute_from_command_line"),
    ],
)
def test_ctrl_c_while_starting_says_interrupted_and_exits_130(
    argv: list[str],
    target: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(target, _interrupt)
    assert main(argv) == 130
    captured = capsys.readouterr()
    assert captured.err == "dibatalkan / interrupted\n"
    assert captured.out == ""
