from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cegah.monitoring.models import Answer, Meeting, Recommendation, StrategicProject
from cegah.monitoring.uploads import ACCEPT, MAX_UPLOAD_BYTES, too_large_in_browser, upload_help
from cegah.orgs.models import Organisation


def evidence_file_field(label: object, *, required: bool = True) -> forms.FileField:
    """A file input for evidence and minutes that says, before uploading, what it takes: the
    types (``accept``), the limit (help text), and, with JavaScript, refuses a larger file
    (``monitoring/upload-limit.js``). The server checks all of it again (``check_upload``)."""
    return forms.FileField(
        label=label,  # type: ignore[arg-type]
        required=required,
        help_text=lazy(upload_help, str)(),
        widget=forms.FileInput(
            attrs={
                "accept": ACCEPT,
                "data-max-bytes": MAX_UPLOAD_BYTES,
                "data-too-large": lazy(too_large_in_browser, str)(),
            }
        ),
    )


def percent_field(label: object, help_text: object = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,  # type: ignore[arg-type]
        help_text=help_text,  # type: ignore[arg-type]
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
    )


class AnswerForm(forms.Form):
    value = percent_field(
        _("Value (0–100)"), _("Your own assessment of how far this is met, in percent.")
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    pending_document = forms.BooleanField(
        label=_("Document pending"),
        required=False,
        help_text=_(
            "The document exists but cannot be shown yet, e.g. an APBD awaiting evaluation."
        ),
    )
    response = forms.CharField(
        label=_("Response to the verifier"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class EvidenceFileForm(forms.Form):
    file = evidence_file_field(_("Evidence file"))
    description = forms.CharField(label=_("Description"), max_length=300, required=False)


class EvidenceLinkForm(forms.Form):
    url = forms.URLField(label=_("Evidence link"), max_length=500, assume_scheme="https")
    description = forms.CharField(label=_("Description"), max_length=300, required=False)


class VerifyForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("Verdict"),
        choices=[(v.value, v.label) for v in Answer.Verdict if v.value],
        widget=forms.RadioSelect,
    )
    verified_value = percent_field(_("Verified value (when adjusting)"))
    note = forms.CharField(
        label=_("Note to the institution"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    pending_document = forms.BooleanField(label=_("Document pending"), required=False)


class FrameworkImportForm(forms.Form):
    file = forms.FileField(
        label=_("Framework workbook (XLSX)"), widget=forms.FileInput(attrs={"accept": ".xlsx"})
    )


class MeetingForm(forms.Form):
    convened_by = forms.ModelChoiceField(
        label=_("Convened by"), queryset=Organisation.objects.none(), empty_label=None
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    held_on = forms.DateField(label=_("Held on"), widget=forms.DateInput(attrs={"type": "date"}))
    # "Minutes" alone is "Menit" (the unit of time) in another app's catalogue, which wins.
    minutes = evidence_file_field(pgettext_lazy("meeting minutes", "Minutes"), required=False)

    def __init__(self, *args: object, supervisors: list[Organisation], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["convened_by"].queryset = Organisation.objects.filter(  # type: ignore[attr-defined]
            pk__in=[o.pk for o in supervisors]
        )


class RecommendationForm(forms.Form):
    issued_by = forms.ModelChoiceField(
        label=_("Issued by"), queryset=Organisation.objects.none(), empty_label=None
    )
    title = forms.CharField(label=_("Recommendation"), max_length=300)
    description = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    area_name = forms.ChoiceField(label=_("Area"), required=False)
    responsible_unit = forms.ModelChoiceField(
        label=_("Responsible unit (OPD)"),
        queryset=Organisation.objects.none(),
        required=False,
        empty_label="—",
    )
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))
    meeting = forms.ModelChoiceField(
        label=_("Coordination meeting"),
        queryset=Meeting.objects.none(),
        required=False,
        empty_label="—",
    )
    source_kind = forms.ChoiceField(
        label=_("Source"), choices=Recommendation.SourceKind.choices, initial="meeting"
    )
    source_ref = forms.CharField(
        label=_("Source reference"),
        max_length=200,
        required=False,
        help_text=_("E.g. the survey dimension or the tender's package code."),
    )
    source_url = forms.URLField(
        label=_("Source link"), max_length=500, required=False, assume_scheme="https"
    )

    def __init__(
        self,
        *args: object,
        institution: Organisation,
        supervisors: list[Organisation],
        areas: list[str],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["issued_by"].queryset = Organisation.objects.filter(  # type: ignore[attr-defined]
            pk__in=[o.pk for o in supervisors]
        )
        self.fields["responsible_unit"].queryset = institution.children.filter(  # type: ignore[attr-defined]
            is_active=True
        ).order_by("name")
        self.fields["meeting"].queryset = Meeting.objects.filter(  # type: ignore[attr-defined]
            convened_by__in=supervisors
        )
        self.fields["area_name"].choices = [("", "—")] + [(a, a) for a in areas]  # type: ignore[attr-defined]

    def clean_due_date(self) -> dt.date:
        due: dt.date = self.cleaned_data["due_date"]
        if due < timezone.localdate() - dt.timedelta(days=365):
            raise forms.ValidationError(_("The due date is too far in the past."))
        return due


class ProgressForm(forms.Form):
    note = forms.CharField(label=_("Progress note"), widget=forms.Textarea(attrs={"rows": 3}))
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    file = evidence_file_field(_("Evidence file"), required=False)
    url = forms.URLField(
        label=_("Evidence link"), required=False, max_length=500, assume_scheme="https"
    )


class RecommendationStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Recommendation.Status.choices)


class TepraImportForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    month = forms.TypedChoiceField(
        label=_("Month"),
        coerce=int,
        choices=list(MONTHS.items()),  # "Maret", not "03"
    )
    file = forms.FileField(
        label=_("Realisation file (CSV or XLSX)"),
        help_text=_("One row per OPD and activity; download the template for the columns."),
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx"}),
    )


class ProjectForm(forms.ModelForm):
    class Meta:
        model = StrategicProject
        fields = [
            "year",
            "opd_name",
            "package_name",
            "rup_code",
            "method",
            "pagu",
            "status",
            "physical_progress",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}


class PeriodChoiceForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), required=False)

    def __init__(self, *args: object, periods: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["period"].choices = periods  # type: ignore[attr-defined]
