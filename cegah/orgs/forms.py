from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from cegah.accounts.permissions import Role


class AddMemberForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("An existing user, or a new one if you also give a name and a password."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    full_name = forms.CharField(label=_("Full name (new user)"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email (new user)"), required=False)
    password = forms.CharField(
        label=_("Initial password (new user)"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password") or ""
        if password:
            validate_password(password)
        return password


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("Which system uses it, e.g. the SIMWAS bridge."),
    )


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action starts with"), max_length=100, required=False)
    actor = forms.CharField(label=_("Actor"), max_length=150, required=False)
