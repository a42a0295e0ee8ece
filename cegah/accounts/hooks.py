"""Hooks for modules that need the password at the moment it is known (login, password change).

The whistleblowing module unlocks the member's key pair with it. A hook receives
``(request, response, user, password)`` and must not store the password.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from cegah.accounts.models import User

PasswordHook = Callable[[HttpRequest, HttpResponse, "User", str], None]

LOGIN_HOOKS: list[PasswordHook] = []
PASSWORD_CHANGED_HOOKS: list[PasswordHook] = []
