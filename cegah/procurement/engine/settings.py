"""Settings for the red-flag engine, read from Cardinal's INI format.

Cardinal (https://cardinal.readthedocs.io) enables an indicator when the settings file has a section
named after it (``[R024]``), even an empty one. Global keys sit above the first section. A dotted
section name (``[R003.procurement_method_details]``) is a table nested in its parent. Keys are
case-sensitive, and unknown keys are an error, as in Cardinal, so that a typo does not silently fall
back to a default.

Sections only used by Cardinal's ``prepare`` command (``[defaults]``, ``[codelists.*]`` ...) are
accepted and ignored, so that one settings file serves both tools.
"""

from __future__ import annotations

import configparser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .oserrors import describe

CARDINAL_CODES = (
    "R003",
    "R018",
    "R024",
    "R025",
    "R028",
    "R030",
    "R035",
    "R036",
    "R038",
    "R048",
    "R058",
)

# Cegah's Indonesian indicators (see ``indonesia``); their sections are passed through as text.
INDONESIAN_CODES = tuple(f"ID{n:02d}" for n in range(1, 14))

# Sections of Cardinal's `prepare` command; tolerated, not used.
PREPARE_SECTIONS = ("output", "defaults", "redactions", "corrections", "modifications")
GLOBAL_SECTION = "__global__"


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names the section and key."""


def parse_pipe_separated(value: str | None) -> frozenset[str]:
    """Return the members of a ``a|b|c`` list.

    Like Rust's ``split_terminator``: a trailing ``|`` adds no empty member, an empty string gives
    the empty set.
    """
    if not value:
        return frozenset()
    parts = value.split("|")
    if parts[-1] == "":
        parts.pop()
    return frozenset(parts)


@dataclass(frozen=True)
class R003Settings:
    threshold: int = 15  # days
    procurement_methods: frozenset[str] = frozenset()
    procurement_method_details: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class R018Settings:
    procurement_methods: frozenset[str] = frozenset({"open", "selective"})
    # Cardinal trusts tender/numberOfTenderers. We count distinct tenderers of submitted bids when
    # the release has any, and fall back to numberOfTenderers otherwise ("bids"). "cardinal"
    # restores Cardinal's behaviour.
    count: str = "bids"


@dataclass(frozen=True)
class FenceSettings:
    """A fixed threshold, or (when None) a fence computed from quartiles."""

    threshold: float | None = None


@dataclass(frozen=True)
class R025Settings:
    percentile: int = 75
    threshold: float | None = None


@dataclass(frozen=True)
class R030Settings:
    # Cardinal compares the timestamps as text, so "2000-01-01T10:00:00+07:00" sorts after
    # "2000-01-01T05:00:00Z" although it is earlier. We compare instants ("instant"); "text"
    # restores Cardinal's behaviour.
    compare: str = "instant"


@dataclass(frozen=True)
class R035Settings:
    threshold: int = 1


@dataclass(frozen=True)
class R038Settings:
    threshold: float | None = None
    minimum_submitted_bids: int = 2
    minimum_contracting_processes: int = 2


@dataclass(frozen=True)
class R048Settings:
    digits: int = 2
    threshold: int | None = None
    minimum_contracting_processes: int = 20


@dataclass(frozen=True)
class Settings:
    """Everything the engine needs; ``enabled`` holds the codes whose section is present."""

    enabled: frozenset[str] = frozenset()
    currency: str | None = None
    no_price_comparison_procurement_methods: frozenset[str] = frozenset()
    price_comparison_procurement_methods: frozenset[str] = frozenset()
    exclude_procurement_method_details: frozenset[str] = frozenset()
    r003: R003Settings = R003Settings()
    r018: R018Settings = R018Settings()
    r024: FenceSettings = FenceSettings()
    r025: R025Settings = R025Settings()
    r030: R030Settings = R030Settings()
    r035: R035Settings = R035Settings()
    r038: R038Settings = R038Settings()
    r048: R048Settings = R048Settings()
    r058: FenceSettings = FenceSettings()
    # Sections of extension indicators (e.g. the Indonesian ones), passed through as text.
    extra: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def all_cardinal(cls, **overrides: Any) -> Settings:
        """Return settings with every Cardinal indicator enabled at its defaults."""
        return cls(enabled=frozenset(CARDINAL_CODES), **overrides)


def _number[T](
    section: str, key: str, raw: str, kind: Callable[[str], T], *, minimum: float | None = None
) -> T:
    try:
        value = kind(raw.strip())
    except ValueError:
        raise SettingsError(
            f"[{section}] {key} = {raw!r}: bukan angka yang sah / not a valid {kind.__name__}"
        ) from None
    if minimum is not None and value < minimum:  # type: ignore[operator]
        raise SettingsError(f"[{section}] {key} = {raw!r}: minimal / at least {minimum}")
    return value


def _reject_unknown(section: str, values: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise SettingsError(
            f"[{section}] kunci tidak dikenal / unknown key(s): {', '.join(unknown)}"
            f" (allowed: {', '.join(allowed) or 'none'})"
        )


def _choice(section: str, key: str, raw: str, choices: tuple[str, ...]) -> str:
    value = raw.strip()
    if value not in choices:
        raise SettingsError(f"[{section}] {key} = {raw!r}: pilih / choose one of {choices}")
    return value


def parse_settings(
    text: str, *, extension_sections: tuple[str, ...] = INDONESIAN_CODES
) -> Settings:
    """Parse settings text in Cardinal's INI format.

    ``extension_sections`` names extra sections (e.g. Indonesian indicators) whose keys are kept as
    text in ``Settings.extra`` for their own parser. Raises SettingsError on unknown sections or
    keys and on values of the wrong type.
    """
    parser = configparser.ConfigParser(interpolation=None, strict=True, default_section="\x00")
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    try:
        parser.read_string(f"[{GLOBAL_SECTION}]\n{text}")
    except configparser.Error as exc:
        raise SettingsError(f"berkas pengaturan tidak sah / invalid settings file: {exc}") from exc

    sections = {name: dict(parser.items(name)) for name in parser.sections()}
    glob = sections.pop(GLOBAL_SECTION)
    _reject_unknown(
        "(global)",
        glob,
        (
            "currency",
            "no_price_comparison_procurement_methods",
            "price_comparison_procurement_methods",
        ),
    )
    kwargs: dict[str, Any] = {
        "currency": glob.get("currency") or None,
        "no_price_comparison_procurement_methods": parse_pipe_separated(
            glob.get("no_price_comparison_procurement_methods")
        ),
        "price_comparison_procurement_methods": parse_pipe_separated(
            glob.get("price_comparison_procurement_methods")
        ),
    }
    enabled: set[str] = set()
    extra: dict[str, dict[str, str]] = {}

    for name, values in sections.items():
        base = name.split(".", 1)[0]
        if base in PREPARE_SECTIONS or base == "codelists":
            continue
        if name == "exclusions":
            _reject_unknown(name, values, ("procurement_method_details",))
            kwargs["exclude_procurement_method_details"] = parse_pipe_separated(
                values.get("procurement_method_details")
            )
        elif name == "R003.procurement_method_details":
            continue  # read with [R003] below
        elif base in extension_sections:
            extra[name] = values
        elif name in CARDINAL_CODES:
            enabled.add(name)
            parsed = _parse_indicator(name, values, sections)
            if parsed is not None:
                kwargs[name.lower()] = parsed
        else:
            raise SettingsError(f"[{name}]: bagian tidak dikenal / unknown section")

    if "R003.procurement_method_details" in sections and "R003" not in enabled:
        # config-rs builds the nested table, which makes settings.R003 present: R003 is enabled.
        enabled.add("R003")
        kwargs["r003"] = _parse_indicator("R003", {}, sections)

    return Settings(enabled=frozenset(enabled), extra=extra, **kwargs)


def _parse_indicator(
    name: str, values: Mapping[str, str], sections: Mapping[str, Mapping[str, str]]
) -> Any:
    get = values.get
    if name == "R003":
        _reject_unknown(name, values, ("threshold", "procurement_methods"))
        details = {
            key: _number("R003.procurement_method_details", key, raw, int)
            for key, raw in sections.get("R003.procurement_method_details", {}).items()
        }
        return R003Settings(
            threshold=_number(name, "threshold", get("threshold", "15"), int),
            procurement_methods=parse_pipe_separated(get("procurement_methods")),
            procurement_method_details=details,
        )
    if name == "R018":
        _reject_unknown(name, values, ("procurement_methods", "count"))
        methods = get("procurement_methods")
        return R018Settings(
            procurement_methods=parse_pipe_separated(
                "open|selective" if methods is None else methods
            ),
            count=_choice(name, "count", get("count", "bids"), ("bids", "cardinal")),
        )
    if name in ("R024", "R058"):
        _reject_unknown(name, values, ("threshold",))
        raw = get("threshold")
        return FenceSettings(None if raw is None else _number(name, "threshold", raw, float))
    if name == "R025":
        _reject_unknown(name, values, ("percentile", "threshold"))
        raw = get("threshold")
        return R025Settings(
            percentile=_number(name, "percentile", get("percentile", "75"), int, minimum=0),
            threshold=None if raw is None else _number(name, "threshold", raw, float),
        )
    if name == "R030":
        _reject_unknown(name, values, ("compare",))
        return R030Settings(
            compare=_choice(name, "compare", get("compare", "instant"), ("instant", "text"))
        )
    if name == "R035":
        _reject_unknown(name, values, ("threshold",))
        # Cardinal raises 0 to 1: "at least zero disqualified tenderers" would flag everything.
        return R035Settings(
            max(_number(name, "threshold", get("threshold", "1"), int, minimum=0), 1)
        )
    if name == "R038":
        _reject_unknown(
            name, values, ("threshold", "minimum_submitted_bids", "minimum_contracting_processes")
        )
        raw = get("threshold")
        return R038Settings(
            threshold=None if raw is None else _number(name, "threshold", raw, float),
            minimum_submitted_bids=_number(
                name, "minimum_submitted_bids", get("minimum_submitted_bids", "2"), int, minimum=0
            ),
            minimum_contracting_processes=_number(
                name,
                "minimum_contracting_processes",
                get("minimum_contracting_processes", "2"),
                int,
                minimum=0,
            ),
        )
    if name == "R048":
        _reject_unknown(name, values, ("digits", "threshold", "minimum_contracting_processes"))
        raw = get("threshold")
        return R048Settings(
            digits=_number(name, "digits", get("digits", "2"), int, minimum=0),
            threshold=None if raw is None else _number(name, "threshold", raw, int, minimum=0),
            minimum_contracting_processes=_number(
                name,
                "minimum_contracting_processes",
                get("minimum_contracting_processes", "20"),
                int,
                minimum=0,
            ),
        )
    # R028, R036 have no settings.
    _reject_unknown(name, values, ())
    return None


def load_settings(
    path: str | Path | None, *, extension_sections: tuple[str, ...] = INDONESIAN_CODES
) -> Settings:
    """Read a settings file.

    None gives every Cardinal indicator at its defaults, i.e. the file ``ocdscardinal init`` writes.
    (Cardinal itself enables nothing without a settings file and prints only ``{"Meta": {}}``.)
    Raises SettingsError.
    """
    if path is None:
        return Settings.all_cardinal()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"{path}: {describe(exc)}") from exc
    return parse_settings(text, extension_sections=extension_sections)
