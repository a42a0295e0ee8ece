"""Hooks for modules that need the password at the moment it is known (login, password change).

The whistleblowing module unlocks the member's key pair with it. A hook receives
``(request, response, user, password)`` and must not store the password. Role-removal hooks let
modules hand a leaving member's work to others (open reports, key shares).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from cegah.accounts.models import User
    from cegah.orgs.models import Organisation

PasswordHook = Callable[[HttpRequest, HttpResponse, "User", str], None]
# Called as hook(organisation, user, actor) after a member lost a role in an organisation.
MembershipHook = Callable[["Organisation", "User", "User | None"], None]

LOGIN_HOOKS: list[PasswordHook] = []
PASSWORD_CHANGED_HOOKS: list[PasswordHook] = []
ROLE_REMOVED_HOOKS: list[MembershipHook] = []
