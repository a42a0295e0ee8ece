"""Bearer-token authentication for machine clients; each token belongs to one organisation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from cegah.accounts.models import ApiToken
from cegah.accounts.services import authenticate_api_token


class OrganisationToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = authenticate_api_token(token)
        if api_token is not None:
            request.api_token = api_token  # type: ignore[attr-defined]
        return api_token


def token_of(request: Any) -> ApiToken:
    """Return the authenticated request's token (set by OrganisationToken)."""
    return request.auth  # type: ignore[no-any-return]
