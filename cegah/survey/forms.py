"""Forms of the survey's staff pages and the self-registration page."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cegah.orgs.models import Organisation
from cegah.survey.models import GROUP_SHORT, Edition, Group, Locus
from cegah.survey.scoring.constants import DIMENSION_LABELS, DIMENSIONS, GROUPS

MAX_UPLOAD = 20 * 1024 * 1024


class EditionForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2017, max_value=2100)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)


GROUP_WEIGHT_MAX = 100.0
CORRECTION_MAX = 100.0


def _number(value: float) -> str:
    """A bound as the reader writes it: "0,005" and "1" on Indonesian pages (not "1.0")."""
    return str(number_format(int(value) if float(value).is_integer() else value))


def _html_number(value: float) -> str:
    """A bound as an HTML number input takes it: "0.005", "1"."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _model_bounds(name: str) -> tuple[float, float]:
    """The bounds of an Edition field, from its validators (the server's rule, declared once);
    a positive integer field without a lower validator starts at 0."""
    field = Edition._meta.get_field(name)
    assert isinstance(field, models.Field)
    validators = field.validators  # with the database's own range
    lows = [v.limit_value for v in validators if isinstance(v, MinValueValidator)]
    highs = [v.limit_value for v in validators if isinstance(v, MaxValueValidator)]
    assert highs, f"Edition.{name} has no upper bound"
    return max([0, *lows]), min(highs)


def bound(field: forms.Field, low: float, high: float) -> None:
    """Give a number field the same bounds in the browser (min, max) and on the server, with one
    message naming both the reader's way: "Gunakan angka dari 0,01 sampai 1." (Django's
    own message wrote "1.0" and "100.0" on Indonesian pages)."""
    assert isinstance(field, forms.IntegerField | forms.FloatField)
    number = cast(Any, field)  # the stubs type min_value as an int
    number.min_value, number.max_value = low, high
    field.validators = [
        v for v in field.validators if not isinstance(v, MinValueValidator | MaxValueValidator)
    ] + [MinValueValidator(low), MaxValueValidator(high)]
    field.widget.attrs.update(min=_html_number(low), max=_html_number(high))
    message = _("Use a number from %(min)s to %(max)s.") % {
        "min": _number(low),
        "max": _number(high),
    }
    field.error_messages["min_value"] = field.error_messages["max_value"] = message


# The edition's number knobs: bounded in the browser and on the server by the model's validators.
KNOBS = (
    "margin_of_error",
    "confidence_level",
    "census_below",
    "max_reminders",
    "reminder_gap_days",
    "lagging_below",
)


class SettingsForm(forms.ModelForm):
    """The edition's knobs, group and dimension weights and per-institution corrections.

    ``dimensions`` maps each group to the dimensions its questionnaire scores (a field per
    dimension; all blank = equal weights); ``loci`` lists the edition's institutions as (slug,
    name) (a correction field each, in points subtracted from the index; blank = none).
    """

    class Meta:
        model = Edition
        fields = ["title", "status", *KNOBS]

    weight_internal = forms.FloatField(
        label=_("Weight: internal"), min_value=0, max_value=GROUP_WEIGHT_MAX
    )
    weight_external = forms.FloatField(
        label=_("Weight: external"), min_value=0, max_value=GROUP_WEIGHT_MAX
    )
    weight_expert = forms.FloatField(
        label=_("Weight: experts"),
        min_value=0,
        max_value=GROUP_WEIGHT_MAX,
        help_text=_(
            "The index is the weighted mean of the group scores an institution has; the weights "
            "are rescaled to sum to 1 over those groups, so 0.45/0.35/0.20 and 45/35/20 are the "
            "same. A group with weight 0 does not count."
        ),
    )

    def __init__(
        self,
        *args: Any,
        dimensions: dict[str, tuple[str, ...]] | None = None,
        loci: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        weights = self.instance.group_weights or {}
        for group in GROUPS:
            self.fields[f"weight_{group}"].initial = weights.get(group, 0)
        self.dimensions = dimensions or {}
        self.loci = loci or []
        stored = self.instance.dimension_weights or {}
        group_names = dict(GROUP_SHORT)
        english = get_language() == "en"
        for group, dims in self.dimensions.items():
            for dim in dims:
                self.fields[f"dw_{group}_{dim}"] = forms.FloatField(
                    widget=forms.NumberInput(attrs={"step": "any", "class": "weight"}),
                    label=_("Dimension weight: %(group)s · %(dimension)s")
                    % {
                        "group": group_names[group],
                        "dimension": DIMENSION_LABELS.get(dim, (dim, dim))[int(english)],
                    },
                    required=False,
                    min_value=0,
                    max_value=GROUP_WEIGHT_MAX,
                    initial=(stored.get(group) or {}).get(dim),
                )
        corrections = self.instance.corrections or {}
        for slug, name in self.loci:
            self.fields[f"correction_{slug}"] = forms.FloatField(
                label=_("Correction: %(institution)s") % {"institution": name},
                required=False,
                min_value=0,
                max_value=CORRECTION_MAX,
                initial=corrections.get(slug),
                widget=forms.NumberInput(attrs={"step": "any", "class": "weight"}),
            )
        for name in KNOBS:
            bound(self.fields[name], *_model_bounds(name))
        for name, field in self.fields.items():
            if name.startswith(("weight_", "dw_")):
                bound(field, 0, GROUP_WEIGHT_MAX)
            elif name.startswith("correction_"):
                bound(field, 0, CORRECTION_MAX)

    def general_fields(self) -> list[Any]:
        """The bound fields of the edition's knobs and group weights (shown as a list)."""
        return [f for f in self.visible_fields() if not f.name.startswith(("dw_", "correction_"))]

    def dimension_grid(self) -> dict[str, Any]:
        """The dimension weights as a table: a row per dimension, a cell per group (None where
        the group's questionnaire does not score that dimension)."""
        groups = [g for g in GROUPS if g in self.dimensions]
        english = get_language() == "en"
        rows = []
        for dim in DIMENSIONS:
            cells = [self[f"dw_{g}_{dim}"] if dim in self.dimensions[g] else None for g in groups]
            if any(cells):
                label = DIMENSION_LABELS.get(dim, (dim, dim))[int(english)]
                rows.append({"label": label, "cells": cells})
        names = dict(GROUP_SHORT)
        return {"groups": [names[g] for g in groups], "rows": rows}

    def correction_fields(self) -> list[tuple[str, Any]]:
        """(institution name, bound field) of each locus' correction."""
        return [(name, self[f"correction_{slug}"]) for slug, name in self.loci]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        weights = [data.get(f"weight_{g}") for g in GROUPS]
        if all(w is not None for w in weights) and not sum(w or 0 for w in weights) > 0:
            raise forms.ValidationError(_("At least one group weight must be above 0."))
        for group, dims in self.dimensions.items():
            given = {d: data.get(f"dw_{group}_{d}") for d in dims}
            filled = [d for d, w in given.items() if w is not None]
            if filled and len(filled) < len(dims):
                for dim in dims:
                    if given[dim] is None:
                        self.add_error(
                            f"dw_{group}_{dim}",
                            _(
                                "Give every dimension of this group a weight, or none (equal weights)."
                            ),
                        )
            elif filled and not sum(w or 0 for w in given.values()) > 0:
                self.add_error(
                    f"dw_{group}_{dims[0]}",
                    _("At least one dimension weight of this group must be above 0."),
                )
        return data

    def changes(self) -> dict[str, Any]:
        data = {k: self.cleaned_data[k] for k in self.Meta.fields}
        data["group_weights"] = {g: self.cleaned_data[f"weight_{g}"] for g in GROUPS}
        dimension_weights = {}
        for group, dims in self.dimensions.items():
            given = {d: self.cleaned_data.get(f"dw_{group}_{d}") for d in dims}
            if all(w is not None for w in given.values()):
                dimension_weights[group] = {d: float(w or 0) for d, w in given.items()}
        data["dimension_weights"] = dimension_weights
        data["corrections"] = {
            slug: float(value)
            for slug, _name in self.loci
            if (value := self.cleaned_data.get(f"correction_{slug}")) not in (None, 0)
        }
        return data


class QuestionnaireForm(forms.Form):
    group = forms.ChoiceField(label=_("Respondent group"), choices=Group.choices)
    file = forms.FileField(label=_("XLSForm (.xlsx)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD or not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Upload an .xlsx file of at most 20 MB."))
        return upload


class LocusForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Institution"),
        queryset=Organisation.objects.none(),
        empty_label=_("Choose an institution"),
    )
    institution_type = forms.ChoiceField(
        label=_("Institution type"),
        choices=[("", _("From the organisation")), *list(Locus.InstitutionType.choices)],
        required=False,
    )
    size = forms.ChoiceField(
        label=_("Size"), choices=[("", "—"), *list(Locus.Size.choices)], required=False
    )

    def __init__(self, *args: Any, candidates: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = candidates  # type: ignore[attr-defined]


class FrameForm(forms.Form):
    file = forms.FileField(
        label=_("Population list (CSV or XLSX)"),
        help_text=_(
            "Columns: name (nama), unit (unit kerja, optional), group (kelompok: internal, "
            "external, expert or pegawai, eksternal, eksper), phone (telepon) and/or email "
            "(surel). XLSX, or CSV in UTF-8, UTF-16 or Windows-1252. A list with any problem is "
            "not imported at all; the problems are listed by row and column."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD or not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file of at most 20 MB."))
        return upload


class RecommendationForm(forms.Form):
    """One textarea per dimension; one recommendation per line, Indonesian | English."""

    def __init__(
        self,
        *args: Any,
        current: dict[str, list[dict[str, str]]],
        labels: dict[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for dim, label in labels.items():
            lines = [f"{r['id']} | {r['en']}" for r in current.get(dim, [])]
            self.fields[dim] = forms.CharField(
                label=label,
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                initial="\n".join(lines),
                help_text=_("One recommendation per line: Indonesian | English."),
            )

    def texts(self) -> dict[str, list[dict[str, str]]]:
        out: dict[str, list[dict[str, str]]] = {}
        for dim in self.fields:
            items = []
            for line in str(self.cleaned_data.get(dim, "")).splitlines():
                if not line.strip():
                    continue
                indo, _sep, english = line.partition("|")
                items.append({"id": indo.strip()[:1000], "en": (english or indo).strip()[:1000]})
            out[dim] = items
        return out


class RegistrationForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=_("Service unit"),
        queryset=Organisation.objects.none(),
        empty_label=_("Choose the unit whose service you used"),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    phone = forms.CharField(label=_("WhatsApp or mobile number"), max_length=30, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    served_recently = forms.BooleanField(
        label=_("I used a service of this institution in the last 12 months, not through a broker.")
    )
    consent = forms.BooleanField(
        label=_(
            "I agree to be contacted once for this survey. My contact data is not stored with my answers."
        )
    )

    def __init__(self, *args: Any, units: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        if not value:
            return ""
        from lokal import parse_phone  # see survey.frames.parse_frame

        info = parse_phone(value)
        if not info.valid or not info.e164:
            raise forms.ValidationError(_("Not a valid Indonesian phone number."))
        return str(info.e164)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("phone") and not data.get("email") and not self.errors:
            raise forms.ValidationError(_("Give a phone number or an email address."))
        return data
