"""The risk policy (points per flag, zone cut-offs) and the explanation of every flag.

Scores are deliberately simple so that an analyst can redo them by hand:

* **Tender score** = the sum of the points of the flags that fired on the process, capped at 100.
  A tender is *at risk* when its score reaches ``at_risk`` (default 20: one strong flag, or
  several weak ones).
* **Buyer score** (per satker and fiscal year) = the share of the buyer's value that went through
  tenders at risk, in percent, plus the points of the buyer-level flags, capped at 100.
* **Zone**: high from ``high`` (40), medium from ``medium`` (20), else low; a buyer or
  institution with fewer than ``minimum_tenders`` (5) tenders in the year gets no zone ("few")
  and is listed after the ranked ones: one tender at risk would otherwise make it 100%.
* **Institution** (a Cegah organisation and its mapped satker): the value-weighted mean of its
  buyers' scores, zoned with the same cut-offs.

The defaults below are documented in ``docs/procurement-scoring.md``; override them with an INI
file (``cegah procurement score --policy FILE``) with sections ``[tender_points]``,
``[buyer_points]`` and ``[zones]`` (keys ``at_risk``, ``high``, ``medium``, ``minimum_tenders``).
"""

from __future__ import annotations

import configparser
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cegah.core.numbers import half_up
from cegah.procurement.formats import format_percent, money, percent_points

# Points per process-level flag. Strong signs of a rigged competition score 20–25; the ICW
# scales and "price at HPS", which fire on most Pengadaan Langsung, only 5, so that alone they
# never make a tender "at risk".
DEFAULT_TENDER_POINTS: dict[str, int] = {
    "ID01": 25,
    "ID11": 25,
    "R030": 25,
    "ID09": 20,
    "R028": 20,
    "R035": 20,
    "R036": 20,
    "R018": 15,
    "ID05": 15,
    "R024": 10,
    "R058": 10,
    "ID03": 10,
    "R003": 5,
    "ID02": 5,
    "ID04": 5,
    "ID06": 3,
    "ID12": 3,
    "ID13": 3,
}
# Flags that report one and the same fact: when several fire on a process, the score counts
# the strongest only, and the others are shown with no points of their own. R003 (Cardinal's
# short submission period) and ID05 (short period for the method) apply the same per-method
# minima in the packaged settings (data/indicators.ini): one short period is one finding. ID01
# and R018 are not merged: ID01 adds a fact of its own, registrants who did not bid.
SAME_FACT: tuple[tuple[str, ...], ...] = (("ID05", "R003"),)

# Points per buyer-level flag (computed over every imported year of the buyer).
DEFAULT_BUYER_POINTS: dict[str, int] = {"ID07": 10, "ID08": 10, "ID10": 10, "R038": 10, "ID06": 5}
DEFAULT_ZONES: dict[str, int] = {"at_risk": 20, "high": 40, "medium": 20, "minimum_tenders": 5}


class PolicyError(ValueError):
    """Raised for a policy file that cannot be used."""


@dataclass(frozen=True)
class Policy:
    tender_points: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_TENDER_POINTS))
    buyer_points: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_BUYER_POINTS))
    at_risk: int = DEFAULT_ZONES["at_risk"]
    high: int = DEFAULT_ZONES["high"]
    medium: int = DEFAULT_ZONES["medium"]
    minimum_tenders: int = DEFAULT_ZONES["minimum_tenders"]

    @classmethod
    def parse(cls, text: str) -> Policy:
        """Return the defaults overridden by an INI text; raises PolicyError."""
        parser = configparser.ConfigParser()
        parser.optionxform = str  # type: ignore[assignment,method-assign]  # codes keep their case
        try:
            parser.read_string(text)
        except configparser.Error as exc:
            raise PolicyError(str(exc)) from None
        unknown = set(parser.sections()) - {"tender_points", "buyer_points", "zones"}
        if unknown:
            raise PolicyError(f"unknown section(s): {', '.join(sorted(unknown))}")

        def ints(section: str, defaults: Mapping[str, int]) -> dict[str, int]:
            values = dict(defaults)
            if parser.has_section(section):
                for key, raw in parser.items(section):
                    try:
                        values[key] = int(raw)
                    except ValueError:
                        raise PolicyError(
                            f"[{section}] {key} = {raw!r}: not a whole number"
                        ) from None
                    if values[key] < 0:
                        raise PolicyError(f"[{section}] {key}: must not be negative")
            return values

        zones = ints("zones", DEFAULT_ZONES)
        if set(zones) - set(DEFAULT_ZONES):
            raise PolicyError(f"[zones] knows only {', '.join(DEFAULT_ZONES)}")
        if not zones["medium"] <= zones["high"]:
            raise PolicyError("[zones] medium must not exceed high")
        return cls(
            tender_points=ints("tender_points", DEFAULT_TENDER_POINTS),
            buyer_points=ints("buyer_points", DEFAULT_BUYER_POINTS),
            at_risk=zones["at_risk"],
            high=zones["high"],
            medium=zones["medium"],
            minimum_tenders=zones["minimum_tenders"],
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        if not data:
            return cls()
        return cls(
            tender_points=dict(data["tender_points"]),
            buyer_points=dict(data["buyer_points"]),
            at_risk=int(data["at_risk"]),
            high=int(data["high"]),
            medium=int(data["medium"]),
            minimum_tenders=int(data.get("minimum_tenders", DEFAULT_ZONES["minimum_tenders"])),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tender_points": dict(self.tender_points),
            "buyer_points": dict(self.buyer_points),
            "at_risk": self.at_risk,
            "high": self.high,
            "medium": self.medium,
            "minimum_tenders": self.minimum_tenders,
        }

    def zone(self, score: float, tenders: int | None = None) -> str:
        """Return the zone ("high", "medium", "low") of a buyer or institution score, or "few"
        when ``tenders`` is below ``minimum_tenders``."""
        if tenders is not None and tenders < self.minimum_tenders:
            return "few"
        if score >= self.high:
            return "high"
        if score >= self.medium:
            return "medium"
        return "low"

    def tender_score(self, flags: list[dict[str, Any]]) -> int:
        """Return the score of a process given its flags (``{"code", "value"}``); flags of one
        fact (``SAME_FACT``) count once, with the points of the strongest."""
        return min(100, sum(f["points"] for f in self.tender_flags(flags)))

    def tender_flags(self, flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return ``flags`` with their ``points``, strongest first. Of flags that report the
        same fact (``SAME_FACT``) only the strongest keeps its points; the others get 0 and
        ``same_as``, the code they were counted with."""
        scored = [{**f, "points": self.tender_points.get(f["code"], 0)} for f in flags]
        scored.sort(key=lambda f: (-f["points"], f["code"]))
        for group in SAME_FACT:
            present = [f for f in scored if f["code"] in group]
            for other in present[1:]:
                other["points"] = 0
                other["same_as"] = present[0]["code"]
        scored.sort(key=lambda f: (-f["points"], f["code"]))
        return scored

    def buyer_score(self, share_at_risk: float, flags: list[dict[str, Any]]) -> int:
        """Return a buyer's score from its share of value at risk (0–1) and its buyer flags."""
        points = sum(self.buyer_points.get(f["code"], 0) for f in flags)
        # Rounded as the pages show the share: "13% of the value …: +13 points".
        return min(100, percent_points(share_at_risk) + points)


@dataclass(frozen=True)
class Indicator:
    """How one indicator is named and explained. ``reason`` is %-formatted with the values of
    ``context()`` below."""

    code: str
    title: str | Promise
    reason: str | Promise


# Process-level (OCID) explanations.
TENDER_INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in (
        Indicator(
            "ID01",
            _("Single offer despite many registrants"),
            _(
                "Only one offer although %(value)s firms registered (flagged from "
                "%(minimum_registrants)s registrants)."
            ),
        ),
        Indicator(
            "ID02",
            _("Price at HPS"),
            _(
                "The winning offer or contract is %(percent)s of the HPS (flagged from "
                "%(share_percent)s): offers hugging the owner's estimate suggest a leaked or "
                "inflated HPS."
            ),
        ),
        Indicator(
            "ID03",
            _("Slow award (ICW)"),
            _(
                "Announcement to award took %(days)s days: ICW score %(value)s of 5 (flagged "
                "from %(minimum_score)s)."
            ),
        ),
        Indicator(
            "ID04",
            _("Contract against HPS (ICW)"),
            _(
                "The contract value, %(final_value)s, is %(of_hps)s of the HPS (%(hps)s): ICW "
                "score %(value)s of 5 (flagged from %(minimum_score)s), given to contracts very "
                "close to the HPS, above it, or far below it."
            ),
        ),
        Indicator(
            "ID05",
            _("Short period for the method"),
            _(
                "Only %(value)s days from announcement to the offer deadline, below the minimum "
                "of %(minimum_days)s days for this method."
            ),
        ),
        Indicator(
            "ID06",
            _("Fourth-quarter rush"),
            _(
                "Announced in %(month)s, the fourth quarter of its fiscal year: the year-end "
                "rush to absorb the budget."
            ),
        ),
        Indicator(
            "ID09",
            _("Possible split purchase"),
            _(
                "%(value)s direct purchases from %(supplier)s within %(window_days)s days, each "
                "just under the Pengadaan Langsung ceiling of %(ceiling)s (from %(band_percent)s "
                "of it), together %(total)s."
            ),
        ),
        Indicator(
            "ID11",
            _("Winner not the lowest offer"),
            _(
                "The winner's offer, %(winner_offer)s, is %(percent)s above the lowest other "
                "offer that passed evaluation (valid, or with its price corrected), "
                "%(lowest_offer)s, in a price-based evaluation."
            ),
        ),
        Indicator(
            "ID12",
            _("Short title (ICW)"),
            _("The title has only %(value)s characters (flagged below %(minimum_length)s)."),
        ),
        Indicator(
            "ID13",
            _("Short description (ICW)"),
            _("The description has only %(value)s characters (flagged below %(minimum_length)s)."),
        ),
        Indicator(
            "R003",
            _("Short submission period (Cardinal)"),
            _(
                "The submission period lasted %(days)s whole days, fewer than the %(minimum_days)s "
                "days required for this method."
            ),
        ),
        Indicator("R018", _("Single bid (Cardinal)"), _("Only one bidder submitted an offer.")),
        Indicator(
            "R024",
            _("Price close to winning bid (Cardinal)"),
            _(
                "The runner-up's price is only %(percent)s above the winning bid, unusually close "
                "compared with the other tenders."
            ),
        ),
        Indicator(
            "R028",
            _("Identical bid prices (Cardinal)"),
            _("Different bidders submitted exactly the same price, %(price)s: %(bidders)s."),
        ),
        Indicator(
            "R030",
            _("Late bid won (Cardinal)"),
            _(
                "The winning bid is dated %(bid_date)s, after the submission deadline of "
                "%(deadline)s."
            ),
        ),
        Indicator(
            "R035",
            _("All except winning bid disqualified (Cardinal)"),
            _("Every other bidder was disqualified (%(value)s disqualified)."),
        ),
        Indicator(
            "R036",
            _("Lowest bid disqualified (Cardinal)"),
            _("The lowest offer was disqualified while a higher one won."),
        ),
        Indicator(
            "R058",
            _("Heavily discounted bid (Cardinal)"),
            _(
                "The lowest other valid offer, %(lowest_offer)s, is %(percent)s above the winning "
                "offer, %(winner_offer)s: a gap far wider than in the other tenders (flagged from "
                "%(upper_fence_percent)s)."
            ),
        ),
    )
}

# Buyer-level explanations.
BUYER_INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in (
        Indicator(
            "ID06",
            _("Fourth-quarter rush"),
            _(
                "Over all its years in the data, %(percent)s of the buyer's value was announced "
                "in October–December of its own fiscal year (flagged from %(q4_share_percent)s)."
            ),
        ),
        Indicator(
            "ID07",
            _("Supplier concentration"),
            _(
                "The awarded value is concentrated on few suppliers: HHI %(value)s (flagged from "
                "%(threshold)s)."
            ),
        ),
        Indicator(
            "ID08",
            _("Repeat winner"),
            _(
                "%(supplier)s won %(awards)s of the buyer's %(total)s awards, %(percent)s "
                "(flagged from %(threshold_percent)s)."
            ),
        ),
        Indicator(
            "ID10",
            _("Non-competitive methods"),
            _(
                "%(percent)s of the buyer's value was bought by direct or limited methods "
                "(flagged from %(threshold_percent)s)."
            ),
        ),
        Indicator(
            "R038",
            _("Excessive disqualified bids (Cardinal)"),
            _(
                "%(percent)s of the bids submitted to this buyer were disqualified (flagged from "
                "%(Buyer_upper_fence_percent)s, the upper fence over all buyers)."
            ),
        ),
    )
}


class _Context(dict[str, str]):
    """A threshold or fact missing (an older run, data without it) shows as "?" rather than
    failing."""

    def __missing__(self, key: str) -> str:
        return "?"


def _number(value: float, digits: int | None = None) -> str:
    """Format a number as the active language writes it ("0,40" in Indonesian), with
    ``digits`` decimals (by default none for whole numbers, else two). Rounded here: Django's
    number_format cuts the decimals off."""
    if digits is None:
        digits = 0 if float(value).is_integer() else 2
    return str(number_format(half_up(value, digits), digits, use_l10n=True, force_grouping=True))


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "?"
    return str(date_format(timezone.localtime(value), "j M Y H:i"))


def context(
    code: str,
    value: float | None,
    meta: Mapping[str, Any],
    method_details: str = "",
    days: int | None = None,
    facts: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Return the values an explanation quotes: the flag's value and its thresholds, for R003
    the tender's offer period in whole ``days``, and the ``facts`` of the tender or buyer
    (see ``tender_facts`` and ``buyer_facts``)."""
    ctx: dict[str, str] = {}
    if value is not None:
        ctx["value"] = _number(value)
        ctx["percent"] = format_percent(value)
    for key, raw in (meta.get(code) or {}).items():
        if isinstance(raw, (int, float)):
            ctx[key] = _number(raw)
            ctx[f"{key}_percent"] = format_percent(raw)
    if code == "ID05":
        ctx["minimum_days"] = ctx.get(method_details, "?")
    elif code == "R003":
        ctx["minimum_days"] = ctx.get(method_details) or ctx.get("threshold", "?")
        if days is not None:
            ctx["days"] = str(days)
    elif code == "ID06" and value is not None and 1 <= value <= 12:
        ctx["month"] = str(MONTHS[int(value)])
    ctx.update(facts or {})
    return ctx


def explain(
    code: str,
    value: float | None,
    meta: Mapping[str, Any],
    *,
    buyer: bool = False,
    method_details: str = "",
    days: int | None = None,
    facts: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Return ``{"code", "title", "reason"}`` for a flag, in the active language (``days``: the
    tender's offer period, which R003's reason quotes; ``facts``: see ``context``)."""
    catalogue = BUYER_INDICATORS if buyer else TENDER_INDICATORS
    indicator = catalogue.get(code)
    if indicator is None:
        return {"code": code, "title": code, "reason": ""}
    ctx = _Context(context(code, value, meta, method_details, days, facts))
    return {"code": code, "title": str(indicator.title), "reason": str(indicator.reason) % ctx}


def _best(bid: Mapping[str, Any]) -> float | None:
    """Return an offer as ID11 compares it: corrected if known, else as offered."""
    amount = bid.get("corrected")
    return amount if amount is not None else bid.get("amount")


def tender_facts(tender: Any, flag: Mapping[str, Any]) -> dict[str, str]:
    """Return the facts of ``tender`` (a TenderRisk) that the reason of ``flag`` quotes, formatted
    for the active language: days, amounts, names, dates. Facts the stored data lacks are left
    out (the reason shows "?")."""
    code = flag["code"]
    currency = tender.currency
    out: dict[str, str] = {}
    stored = flag.get("facts") or {}
    bids = list(tender.bids or [])
    if code == "ID03" and tender.announced_at and tender.award_date:
        start = timezone.localtime(tender.announced_at).date()
        out["days"] = str((timezone.localtime(tender.award_date).date() - start).days)
    elif code == "ID04":
        final = tender.contract_value if tender.contract_value is not None else tender.award_value
        if final is not None and tender.hps:
            out["final_value"] = money(final, currency)
            out["hps"] = money(tender.hps, currency)
            out["of_hps"] = format_percent(final / tender.hps, 1)
    elif code == "ID09":
        out["supplier"] = str(stored.get("supplier") or tender.winner or "?")
        if stored.get("ceiling") is not None:
            out["ceiling"] = money(stored["ceiling"], currency)
        if stored.get("total") is not None:
            out["total"] = money(stored["total"], currency)
    elif code == "ID11":
        winners = [_best(b) for b in bids if b.get("winner") and _best(b)]
        others = [
            _best(b)
            for b in bids
            if not b.get("winner")
            and b.get("status") != "disqualified"
            and (b.get("status") == "valid" or b.get("corrected") is not None)
            and _best(b)
        ]
        if winners:
            out["winner_offer"] = money(min(w for w in winners if w is not None), currency)
        if others:
            out["lowest_offer"] = money(min(o for o in others if o is not None), currency)
    elif code == "R058":
        # As the flag compares them: valid offers only, the winner's lowest and the lowest other.
        valid = [b for b in bids if b.get("status") == "valid" and b.get("amount") is not None]
        winning = [b["amount"] for b in valid if b.get("winner")]
        losing = [b["amount"] for b in valid if not b.get("winner")]
        if winning and losing:
            out["winner_offer"] = money(min(winning), currency)
            out["lowest_offer"] = money(min(losing), currency)
    elif code == "R028":
        by_price: dict[tuple[float, str], list[str]] = {}
        for b in bids:
            if b.get("amount") is not None:
                key = (b["amount"], b.get("currency") or currency)
                by_price.setdefault(key, []).append(str(b.get("name") or b.get("tenderer") or "?"))
        same = [(key, names) for key, names in by_price.items() if len(set(names)) > 1]
        if same:
            (amount, code_currency), names = same[0]
            out["price"] = money(amount, code_currency)
            out["bidders"] = ", ".join(dict.fromkeys(names))
    elif code == "R030":
        out["deadline"] = _when(tender.tender_end)
        late = [
            dt.datetime.fromisoformat(b["date"]) for b in bids if b.get("winner") and b.get("date")
        ]
        late = [d for d in late if tender.tender_end is None or d > tender.tender_end]
        if late:
            out["bid_date"] = _when(max(late))
    return out


def buyer_facts(flag: Mapping[str, Any]) -> dict[str, str]:
    """Return the facts that the reason of a buyer-level ``flag`` quotes (ID08's supplier and
    counts), formatted for the active language."""
    stored = flag.get("facts") or {}
    out: dict[str, str] = {}
    if flag["code"] == "ID08" and stored:
        out["supplier"] = str(stored.get("supplier") or "?")
        for key in ("awards", "total"):
            if stored.get(key) is not None:
                out[key] = _number(stored[key])
    return out
