"""Filters and the upload form of the procurement pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cegah.procurement.models import Zone
from cegah.procurement.scoring import TENDER_INDICATORS

# The largest id of a row (BigAutoField, on SQLite and PostgreSQL alike).
MAX_ID = 2**63 - 1

if TYPE_CHECKING:
    from django.http import QueryDict

    from cegah.procurement.access import Scope


class RankingForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Fiscal year"), coerce=int, required=False)
    level = forms.ChoiceField(
        label=_("Rank"),
        choices=[("satker", _("Satker (buyers)")), ("institution", _("Institutions"))],
        required=False,
    )
    zone = forms.ChoiceField(
        label=_("Zone"), choices=[("", _("All zones")), *Zone.choices], required=False
    )
    q = forms.CharField(label=_("Name contains"), max_length=100, required=False)

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in years]  # type: ignore[attr-defined]


class TenderFilterForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Fiscal year"), coerce=int, required=False)
    flag = forms.ChoiceField(label=_("Flag"), required=False)
    min_score = forms.IntegerField(
        label=_("Minimum score"), min_value=0, max_value=100, required=False
    )
    method = forms.ChoiceField(label=_("Method"), required=False)
    q = forms.CharField(label=_("Title or ocid"), max_length=100, required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        choices=[
            ("score", _("Score")),
            ("value", _("Value")),
            ("date", _("Newest")),
            ("flags", _("Number of flags")),
        ],
        required=False,
    )
    # Bounded like the id column: a number past it (``?buyer=99999999999999999999``) is an error
    # on the form, not a database overflow (a 500 on the list, a broken CSV download).
    buyer = forms.IntegerField(
        label=_("Satker"),
        widget=forms.HiddenInput,
        required=False,
        min_value=1,
        max_value=MAX_ID,
    )

    def __init__(self, *args: Any, years: list[int], methods: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("All years")), *[(y, str(y)) for y in years]]  # type: ignore[attr-defined]
        self.fields["flag"].choices = [  # type: ignore[attr-defined]
            ("", _("Any flag")),
            *[(code, f"{code} · {i.title}") for code, i in sorted(TENDER_INDICATORS.items())],
        ]
        self.fields["method"].choices = [("", _("All methods")), *[(m, m) for m in methods]]  # type: ignore[attr-defined]


def tender_filter(scope: Scope, params: QueryDict) -> tuple[TenderFilterForm, dict[str, Any]]:
    """Return the tender list's filter form for ``params`` and its valid filters, as the list,
    its exports and prepared exports read them.

    A value that is not valid (``min_score=-1``, an unknown method or year) is left out and
    its error is on the form; the other filters still apply. Exports must refuse a form with
    errors (``form.errors``): an export without a filter asked for holds tenders not asked for.
    """
    from cegah.procurement import queries

    form = TenderFilterForm(
        params or None, years=queries.years(scope), methods=queries.method_choices(scope)
    )
    if not form.is_bound:
        return form, {}
    form.is_valid()
    # cleaned_data holds only the fields that are valid.
    return form, dict(form.cleaned_data)


def filter_errors(form: forms.Form) -> list[str]:
    """Return each error of a filter form as "Label: message", hidden fields included."""
    return [
        f"{form.fields[name].label or name}: {message}" if name in form.fields else str(message)
        for name, messages in form.errors.items()
        for message in messages
    ]


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "OCDS compiled releases (.jsonl, or a release or record package as .json; either may "
            "be gzip-compressed: .jsonl.gz, .json.gz), or a .zip of SPSE ISB exports (the JSON "
            "lines files of one LPSE and year)."
        ),
    )


class BuyerMappingForm(forms.Form):
    mapping = forms.FileField(
        label=_("Buyer mapping (CSV)"),
        help_text=_(
            "Columns buyer_id and organisation (an organisation's short name; empty to unmap). "
            "Buyers not in the file keep their mapping. Download the list of buyers, fill in "
            "the organisation column and upload it."
        ),
    )


class MapBuyerForm(forms.Form):
    organisation = forms.CharField(
        label=_("Organisation (short name)"),
        max_length=80,
        required=False,
        help_text=_("Leave empty to unmap the buyer."),
    )
