"""Forms of the whistleblowing module: the public report form (adjustable per organisation), the
follow-up forms, and the handler's actions."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.forms.utils import ErrorDict
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from cegah.orgs.models import Organisation, Region
from cegah.wbs import keys
from cegah.wbs.intake import AttachmentRejected, check_attachment
from cegah.wbs.metadata import rewrites, strip_metadata
from cegah.wbs.models import Category, Channel, Message, Outcome, Policy, Priority, Status
from cegah.wbs.services import (
    DESCRIPTION_MIN_LENGTH,
    IncomingFile,
    ReportedParty,
    ReportInput,
    StaleForm,
    SubmissionClaimKey,
    new_submission_token,
    submission_claim,
)

MAX_PARTIES = 20

# Standard fields an organisation may make required or give its own help text. "description" and
# "category" are always required.
ADJUSTABLE_FIELDS = (
    "where",
    "when",
    "how",
    "amount",
    "region_code",
    "reported_institution_text",
    "other_agency",
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class FilesNotSentMixin:
    """A form with an ``attachments`` input that can come back to the reporter (errors, a new
    person row): browsers cannot keep chosen files across that, so say they were not sent."""

    files: Any

    def chosen_file_names(self) -> list[str]:
        """The files chosen that can be chosen again: not those refused (told why instead)."""
        field = cast(forms.Form, self).fields.get("attachments")
        refused = getattr(field, "refused", ())
        chosen = self.files.getlist("attachments") if self.files else []
        return [f.name for f in chosen if f.name not in refused]

    def files_not_sent_message(self) -> str:
        names = self.chosen_file_names()
        return ngettext(
            "The file you chose (%(names)s) was NOT sent: a page that comes back cannot keep "
            "files. Choose it again before you send.",
            "The %(count)s files you chose (%(names)s) were NOT sent: a page that comes back "
            "cannot keep files. Choose them again before you send.",
            len(names),
        ) % {"count": len(names), "names": ", ".join(names)}

    def note_files_not_sent(self) -> None:
        """Add the message as an error of the file input (and so to the error summary)."""
        form = cast(forms.Form, self)
        if getattr(form, "adding_party", False):
            return  # the page says it beside the file input, without an error
        message = self.files_not_sent_message()
        if self.chosen_file_names() and message not in form.errors.get("attachments", []):
            form.add_error("attachments", message)


class EvidenceField(MultipleFileField):
    """A reporter's evidence files, checked in the same round as the rest of the form: count,
    size, type (by the first bytes) and whether a photo's metadata can be removed, as the intake
    checks them again before storing."""

    # Names of the files this form refused, which are not to be "chosen again" (per form: Django
    # copies a form's fields for each form).
    refused: list[str] = []

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        self.refused = []
        files = super().clean(data, initial)
        if len(files) > settings.WBS_ATTACHMENT_MAX_COUNT:
            raise forms.ValidationError(
                _("At most %(n)s files.") % {"n": settings.WBS_ATTACHMENT_MAX_COUNT}
            )
        errors = []
        for upload in files:
            head = upload.read(8192)
            upload.seek(0)
            try:
                check_attachment(upload.name, head, upload.size)
                if rewrites(head):
                    strip_metadata(upload.name, upload.read())  # raises if it cannot be done
                    upload.seek(0)
            except AttachmentRejected as exc:
                errors.append(str(exc))
                self.refused.append(upload.name)
        if errors:
            raise forms.ValidationError(errors)
        return files


# Said next to every file input a reporter sees: what is removed from files, and what is not.
EVIDENCE_HELP = _(
    "Photos, PDF, documents, audio or video. Up to 5 files of 10 MB each. We remove the location "
    "and the camera details from JPG, PNG and WebP photos, and refuse a damaged photo we cannot "
    "remove them from (a screenshot of it can be sent). Other files keep theirs: PDF and Office "
    "documents can carry the name of whoever wrote them, and videos or HEIC photos the place they "
    "were taken. If that could give you away, send a screenshot or a photo of the document instead."
)


def region_choices() -> list[tuple[str, Any]]:
    """Provinces with their kabupaten/kota as option groups (works without JavaScript)."""
    regions = list(Region.objects.order_by("code"))
    groups: list[tuple[str, Any]] = [("", _("— not sure / other —"))]
    provinces = [r for r in regions if r.level == 1]
    for province in provinces:
        children = [(r.code, r.name) for r in regions if r.parent_id == province.code]
        groups.append(
            (
                province.name,
                [
                    (province.code, _("%(name)s (whole province)") % {"name": province.name}),
                    *children,
                ],
            )
        )
    return groups


class ReportForm(FilesNotSentMixin, forms.Form):
    """The 5W+1H report form. Build it with the organisation's policy so its adjustments apply."""

    category = forms.ChoiceField(
        label=_("What kind of corruption is it?"),
        choices=[("", _("— choose —")), *Category.choices],
        help_text=_("Choose the closest; the handler can change it."),
    )
    description = forms.CharField(
        label=_("What happened?"),
        widget=forms.Textarea(attrs={"rows": 6}),
        min_length=DESCRIPTION_MIN_LENGTH,
        max_length=20000,
        help_text=_(
            "Tell the story in your own words: what was done, by whom, and what you saw or know. "
            "At least 20 characters."
        ),
        error_messages={"min_length": _("Describe what happened in at least 20 characters.")},
    )
    where = forms.CharField(
        label=_("Where did it happen?"),
        required=False,
        max_length=500,
        help_text=_("Office, village, street or project site."),
    )
    region_code = forms.ChoiceField(
        label=_("Province or kabupaten/kota"), required=False, choices=()
    )
    when = forms.CharField(
        label=_("When did it happen?"),
        required=False,
        max_length=200,
        help_text=_("A date, a month, or “since 2024”."),
    )
    how = forms.CharField(
        label=_("How was it done?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10000,
    )
    amount = forms.IntegerField(
        label=_("How much? Estimated loss in rupiah"),
        required=False,
        min_value=0,
        max_value=10**16,
        help_text=_("Numbers only, for example 250000000."),
    )
    reported_organisation = forms.ChoiceField(
        label=_("Reported institution"), required=False, choices=()
    )
    reported_institution_text = forms.CharField(
        label=_("Reported institution (if not in the list)"), required=False, max_length=300
    )
    other_agency = forms.CharField(
        label=_("Is another agency already handling this? Which one?"),
        required=False,
        max_length=300,
    )
    attachments = EvidenceField(
        label=_("Evidence (optional)"),
        required=False,
        help_text=EVIDENCE_HELP,
    )
    identity_name = forms.CharField(label=_("Your name (optional)"), required=False, max_length=200)
    identity_details = forms.CharField(
        label=_("Your position or relation to the case (optional)"), required=False, max_length=300
    )
    contact = forms.CharField(
        label=_("How can the handler contact you? (optional)"),
        required=False,
        max_length=200,
        help_text=_("Phone, WhatsApp or email. Leave empty to stay anonymous."),
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that my name and contact are stored encrypted and read only by the handlers of this report."
        ),
        required=False,
    )
    party_count = forms.IntegerField(
        widget=forms.HiddenInput, initial=1, min_value=1, max_value=MAX_PARTIES
    )
    # The form's one-time token (services.new_submission_token): a second post of the same form
    # (a reload of the receipt page, a double tap) files nothing.
    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200)

    def __init__(self, *args: Any, policy: Policy | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["region_code"]).choices = region_choices()
        orgs = (
            Organisation.objects.filter(is_active=True).order_by("name").values_list("slug", "name")
        )
        cast(forms.ChoiceField, self.fields["reported_organisation"]).choices = [
            ("", _("— choose or type below —")),
            *orgs,
        ]
        count = 1
        raw = self.data.get("party_count") if self.is_bound else None
        if raw and str(raw).isdigit():
            count = max(1, min(MAX_PARTIES, int(raw)))
        # "+ Add another person" posts the form to get one more row: that is not sending.
        self.adding_party = self.is_bound and "add_party" in self.data
        if self.adding_party:
            count = min(MAX_PARTIES, count + 1)
            data = self.data.copy()  # type: ignore[attr-defined]
            data["party_count"] = str(count)
            self.data = data
        self.n_parties = count
        for i in range(count):
            self.fields[f"party_{i}_name"] = forms.CharField(
                label=_("Name of the reported person"), required=False, max_length=200
            )
            self.fields[f"party_{i}_position"] = forms.CharField(
                label=_("Position"), required=False, max_length=200
            )
            self.fields[f"party_{i}_institution"] = forms.CharField(
                label=_("Institution"), required=False, max_length=200
            )
        if self.adding_party:
            # The page opens at the new row, ready to type.
            self.fields[f"party_{count - 1}_name"].widget.attrs["autofocus"] = True
        self.extra_names: list[str] = []
        if policy is not None:
            self._apply_policy(policy)

    def full_clean(self) -> None:
        if self.adding_party:
            # Nothing is validated when a row is added: no errors for fields not yet filled in.
            self._errors = ErrorDict()
            self.cleaned_data = {}
            return
        super().full_clean()
        if self.errors:
            self.note_files_not_sent()

    def is_valid(self) -> bool:
        return not self.adding_party and super().is_valid()

    def _apply_policy(self, policy: Policy) -> None:
        english = (get_language() or "id").startswith("en")
        adjustments = policy.form or {}
        for name, rule in (adjustments.get("fields") or {}).items():
            if name in ADJUSTABLE_FIELDS and name in self.fields:
                self.fields[name].required = bool(rule.get("required", False))
                help_text = rule.get("help_en" if english else "help_id")
                if help_text:
                    self.fields[name].help_text = help_text
        for spec in adjustments.get("extra") or []:
            name = f"extra_{spec['name']}"
            label = spec.get("label_en" if english else "label_id") or spec["name"]
            kind = spec.get("type", "text")
            field: forms.Field
            if kind == "textarea":
                field = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
            elif kind == "date":
                field = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
            elif kind == "number":
                field = forms.DecimalField()
            else:
                field = forms.CharField(max_length=500)
            field.label = label
            field.required = bool(spec.get("required", False))
            field.help_text = spec.get("help_en" if english else "help_id", "")
            self.fields[name] = field
            self.extra_names.append(name)

    def submission_claim(self) -> SubmissionClaimKey | None:
        """Return the claim of the form's token, or None after giving the form a fresh token and
        an error saying to check and send again (the token was missing, forged or too old)."""
        try:
            return submission_claim(self.cleaned_data.get("submission") or "")
        except StaleForm:
            data = self.data.copy()  # type: ignore[attr-defined]
            data["submission"] = new_submission_token()
            self.data = data
            self.add_error(
                None,
                _(
                    "This form was open for more than a day, or it came from an old page, so it "
                    "was not sent. Check your report and press Send again. If you already "
                    "received a receipt code for this report, do not send it again."
                ),
            )
            return None

    def party_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"party_{i}_{part}"] for part in ("name", "position", "institution")]
            for i in range(self.n_parties)
        ]

    def extra_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.extra_names]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("identity_name") or data.get("contact")) and not data.get("consent"):
            self.add_error(
                "consent",
                _("To give your name or contact, tick the consent box. Or leave them empty."),
            )
        return data

    def to_input(self) -> ReportInput:
        data = self.cleaned_data
        parties = []
        for i in range(self.n_parties):
            party = ReportedParty(
                name=data.get(f"party_{i}_name", ""),
                position=data.get(f"party_{i}_position", ""),
                institution=data.get(f"party_{i}_institution", ""),
            )
            if party.name or party.position or party.institution:
                parties.append(party)
        return ReportInput(
            category=data["category"],
            description=data["description"],
            reported=parties,
            region_code=data.get("region_code") or "",
            where=data.get("where", ""),
            when=data.get("when", ""),
            how=data.get("how", ""),
            amount=data.get("amount"),
            reported_organisation=data.get("reported_organisation") or "",
            reported_institution_text=data.get("reported_institution_text", ""),
            other_agency=data.get("other_agency", ""),
            extra={
                name.removeprefix("extra_"): str(data.get(name) or "") for name in self.extra_names
            },
            identity_name=data.get("identity_name", ""),
            identity_details=data.get("identity_details", ""),
            contact=data.get("contact", ""),
        )

    def files_input(self) -> list[IncomingFile]:
        return uploaded_files(self.cleaned_data.get("attachments") or [])


def uploaded_files(files: list[Any]) -> list[IncomingFile]:
    return [IncomingFile(name=f.name, data=f.read()) for f in files]


class ReceiptForm(forms.Form):
    receipt = forms.CharField(
        label=_("Receipt code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "autocapitalize": "off"}
        ),
        help_text=_("The 16 digits you received when you reported."),
    )
    # A reply typed when the session had ended: carried in the page (never stored) and sent
    # once the receipt opens the report again.
    pending_body = forms.CharField(
        label=_("Your message, sent as soon as your report opens"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=10000,
    )

    def clean_receipt(self) -> str:
        """A code that cannot be a receipt gets its own message; it is not a wrong guess."""
        text = self.cleaned_data["receipt"]
        if any(not (ch.isdigit() or ch in " -") for ch in text):
            raise forms.ValidationError(
                _(
                    "A receipt code has only digits (spaces and dashes are fine). Check what you "
                    "typed."
                ),
                code="not_digits",
            )
        digits = sum(ch.isdigit() for ch in text)
        if digits != keys.RECEIPT_DIGITS:
            raise forms.ValidationError(
                ngettext(
                    "A receipt code has 16 digits; you typed %(count)s digit.",
                    "A receipt code has 16 digits; you typed %(count)s digits.",
                    digits,
                )
                % {"count": digits},
                code="length",
            )
        return text


class ReplyForm(FilesNotSentMixin, forms.Form):
    body = forms.CharField(
        label=_("Your message or additional information"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10000,
    )
    attachments = EvidenceField(
        label=_("More evidence (optional)"), required=False, help_text=EVIDENCE_HELP
    )

    def full_clean(self) -> None:
        super().full_clean()
        if self.errors:
            self.note_files_not_sent()


class TransitionForm(forms.Form):
    # No "Referred": referral goes through the referral action, which records the receiver.
    status = forms.ChoiceField(
        label=_("Move to"), choices=[c for c in Status.choices if c[0] != Status.REFERRED]
    )
    outcome = forms.ChoiceField(
        label=_("Outcome (when closing)"), choices=[("", "—"), *Outcome.choices], required=False
    )


class ReferForm(forms.Form):
    """Where to refer a report: the targets the forwarding policy allows (referral_targets)."""

    target = forms.ChoiceField(
        label=_("Refer to"),
        choices=(),
        help_text=_(
            "The receiver gets the full report (with the reporter's name and contact, if given), "
            "the evidence files and the conversation with the reporter, and handles the report "
            "from then on. Internal notes do not go along: they stay with your organisation. You "
            "keep seeing the report's status."
        ),
        error_messages={"required": _("Choose where to refer the report.")},
    )

    def __init__(self, *args: Any, targets: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.targets = {t.organisation.slug: t for t in targets}
        cast(forms.ChoiceField, self.fields["target"]).choices = [
            (
                t.organisation.slug,
                _("%(org)s (you keep the content)") % {"org": t.organisation.name}
                if t.sender_keeps_content
                else t.organisation.name,
            )
            for t in targets
        ]

    def target_organisation(self) -> Any:
        """The chosen organisation (call after is_valid)."""
        return self.targets[self.cleaned_data["target"]].organisation


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=_("Assign to"), required=False, choices=())

    def __init__(self, *args: Any, handlers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", _("— unassigned —")),
            *[(str(u.pk), u.display_name) for u in handlers],
        ]


class MessageForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (Message.Kind.HANDLER, _("Message to the reporter")),
            (Message.Kind.QUESTION, _("Question to the reporter")),
            (Message.Kind.NOTE, _("Internal note (never shown to the reporter)")),
        ],
    )
    body = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 4}), max_length=10000
    )


class PriorityLabelsForm(forms.Form):
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)
    labels = forms.CharField(
        label=_("Labels"),
        required=False,
        max_length=400,
        help_text=_("Comma separated, e.g. dana desa, pengadaan. No names or details."),
    )


class RedactForm(forms.Form):
    text = forms.CharField(
        label=_("Redacted narrative for sharing"),
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        max_length=20000,
        help_text=_(
            "Remove names and passages that could identify the reporter. Once saved, this is the "
            "only text of the report that exports with content and the case PDF show: the full "
            "description, the reported parties, the place, the time and how it was done are left "
            "out, so write here what of them may be shared. A referral hands over the full report."
        ),
    )


class HandlerAttachmentForm(forms.Form):
    file = forms.FileField(label=_("Add a file"))


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("open", _("Open")), *Status.choices],
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All")), *Category.choices]
    )
    region = forms.CharField(label=_("Region code"), required=False, max_length=13)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False, choices=())
    due = forms.ChoiceField(
        label=_("Deadline"),
        required=False,
        choices=[
            ("", _("Any")),
            ("overdue", _("Overdue")),
            ("soon", _("Due within 7 working days")),
        ],
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("-received_at", _("Newest")),
            ("received_at", _("Oldest")),
            ("due_answer", _("Answer due")),
            ("-priority", _("Priority")),
        ],
    )

    def __init__(self, *args: Any, handlers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", _("Anyone")),
            ("me", _("Me")),
            ("none", _("Unassigned")),
            *[(str(u.pk), u.display_name) for u in handlers],
        ]


EXTRA_TYPES = ("text", "textarea", "date", "number")


class PolicyForm(forms.ModelForm):
    required_fields = forms.MultipleChoiceField(
        label=_("Also required on the report form"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[
            ("where", _("Where")),
            ("when", _("When")),
            ("how", _("How")),
            ("amount", _("Estimated loss")),
            ("region_code", _("Province or kabupaten/kota")),
            ("reported_institution_text", _("Reported institution")),
            ("other_agency", _("Other agency")),
        ],
    )
    extra_fields = forms.CharField(
        label=_("Extra questions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One per line: name | Indonesian label | English label | type (text, textarea, date, number) | "
            "required (yes/no) | help text. Example: nomor_kontrak | Nomor kontrak | Contract number | text | no |"
        ),
    )

    class Meta:
        model = Policy
        fields = ["profile", "remind_days_before", "retention_days", "receives_channel_reports"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        config = self.instance.form or {}
        self.fields["required_fields"].initial = [
            n for n, r in (config.get("fields") or {}).items() if r.get("required")
        ]
        self.fields["extra_fields"].initial = "\n".join(
            " | ".join(
                [
                    e["name"],
                    e.get("label_id", ""),
                    e.get("label_en", ""),
                    e.get("type", "text"),
                    "yes" if e.get("required") else "no",
                    e.get("help_id", ""),
                ]
            )
            for e in config.get("extra") or []
        )

    def clean_extra_fields(self) -> list[dict[str, Any]]:
        import re

        specs = []
        for number, line in enumerate(self.cleaned_data["extra_fields"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            parts += [""] * (6 - len(parts))
            name, label_id, label_en, kind, required, help_id = parts[:6]
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", name):
                raise forms.ValidationError(
                    _("Line %(n)s: the name must be lowercase letters, digits and _.")
                    % {"n": number}
                )
            if kind and kind not in EXTRA_TYPES:
                raise forms.ValidationError(
                    _("Line %(n)s: unknown type “%(type)s”.") % {"n": number, "type": kind}
                )
            specs.append(
                {
                    "name": name,
                    "label_id": label_id or name,
                    "label_en": label_en or label_id or name,
                    "type": kind or "text",
                    "required": required.lower() in {"yes", "ya", "y"},
                    "help_id": help_id,
                }
            )
        return specs


class RecoveryForm(forms.Form):
    recovery_key = forms.CharField(
        label=_("Recovery key"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class UnlockForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class OperatorReportForm(ReportForm):
    """The report form as an operator fills it in for a caller (hotline) or a visitor (walk-in)."""

    channel = forms.ChoiceField(
        label=_("How did the report come in?"),
        choices=[(Channel.PHONE, _("Phone hotline")), (Channel.WALK_IN, _("In person (walk-in)"))],
    )
