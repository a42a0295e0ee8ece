"""Walk every URL the project routes, as an anonymous user and as an outsider, and check that
nothing of another organisation leaks.

A route with parameters is called with the ids of the victim organisation's objects, so the
outsider must get 404 (or 403/405). A route without parameters is the outsider's own view and must
not contain the victim's canary. New routes are picked up automatically; a route whose parameter
cannot be filled fails the test. An app declares its fillers and its public or self-scoped routes in
``tests/<app>/matrix.py``; a filler receives the personas and returns the id of an object that
belongs to ``personas.org`` (the victim) and whose visible text carries ``CANARY``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from cegah.accounts.models import Membership
from cegah.accounts.services import create_api_token
from tests.conftest import CANARY, Personas

# Routes anyone may open. Everything else must refuse anonymous users.
PUBLIC_ROUTES = {
    "core:home",
    "core:healthz",
    "set_language",
    "accounts:login",
    "accounts:logout",
    "api:openapi-json",
    "api:openapi-view",
    "api:health",
    "api:regions",
}

# Routes of a signed-in user about themselves (no tenant object in the URL).
SELF_ROUTES = {
    "core:dashboard",
    "accounts:profile",
    "accounts:password_change",
    "accounts:otp_setup",
    "accounts:otp_verify",
}

PARAM_FILLERS: dict[str, Callable[[Personas], object]] = {
    "slug": lambda p: p.org.slug,
    "membership_id": lambda p: Membership.objects.filter(organisation=p.org).first().pk,  # type: ignore[union-attr]
    "token_id": lambda p: (
        create_api_token(organisation=p.org, name=f"t {CANARY}", actor=p.admin)[0].pk
    ),
}


def _load_app_matrices() -> None:
    """Merge each app's ``tests/<app>/matrix.py`` (FILLERS, PUBLIC_ROUTES, SELF_ROUTES) into ours.

    Apps describe their own routes there, so adding a module never means editing this file.
    """
    import importlib
    import pkgutil

    import tests

    for info in pkgutil.walk_packages(tests.__path__, "tests."):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"{info.name}.matrix")
        except ModuleNotFoundError as exc:
            if exc.name != f"{info.name}.matrix":
                raise
            continue
        PARAM_FILLERS.update(getattr(module, "FILLERS", {}))
        PUBLIC_ROUTES.update(getattr(module, "PUBLIC_ROUTES", set()))
        SELF_ROUTES.update(getattr(module, "SELF_ROUTES", set()))


_load_app_matrices()


@dataclass
class Route:
    name: str
    template: str
    params: list[str]


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern):
            name = (
                f"{namespace}:{entry.name}"
                if namespace and entry.name
                else (entry.name or str(entry.pattern))
            )
            template = prefix + str(entry.pattern)
            params = (
                list(entry.pattern.converters.keys())
                if hasattr(entry.pattern, "converters")
                else []
            )
            yield Route(name, template, params)


def all_routes() -> list[Route]:
    routes = list(_walk(get_resolver().url_patterns))
    # Static and media serving in DEBUG are not application routes.
    return [r for r in routes if not r.template.startswith(("static/", "media/"))]


def _url(route: Route, values: dict[str, object]) -> str:
    import re

    path = route.template
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), path)
    path = path.lstrip("^").rstrip("$")
    return "/" + path


def _fill(route: Route, personas: Personas) -> dict[str, object]:
    import re

    names = re.findall(r"<(?:\w+:)?(\w+)>", route.template)
    missing = [n for n in names if n not in PARAM_FILLERS]
    assert not missing, f"{route.name}: add a filler for {missing} to PARAM_FILLERS"
    return {n: PARAM_FILLERS[n](personas) for n in names}


def test_every_route_is_classified() -> None:
    names = {r.name for r in all_routes()}
    assert "core:dashboard" in names and "orgs:members" in names


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_gets_nothing_but_public_routes(personas: Personas, method: str) -> None:
    client = Client()
    for route in all_routes():
        if route.name in PUBLIC_ROUTES:
            continue
        url = _url(route, _fill(route, personas))
        response = getattr(client, method)(url)
        assert response.status_code in {302, 401, 403, 404, 405}, (
            f"{method.upper()} {url} ({route.name}) gave {response.status_code}"
        )
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/"), (
                f"{url} redirected elsewhere"
            )
        assert CANARY.encode() not in response.content, f"{url} leaked to anonymous"


@pytest.mark.parametrize("method", ["get", "post"])
def test_outsider_sees_nothing_of_another_organisation(
    personas: Personas, client_for, method: str
) -> None:
    client = client_for(personas.outsider)
    _token, raw = create_api_token(
        organisation=personas.other_org, name="outsider", actor=personas.outsider
    )
    for route in all_routes():
        if route.name == "accounts:logout":
            continue  # would end the outsider's session for the routes after it
        values = _fill(route, personas)
        url = _url(route, values)
        headers = {"Authorization": f"Bearer {raw}"} if route.name.startswith("api:") else {}
        response = getattr(client, method)(url, headers=headers)
        if values and route.name not in PUBLIC_ROUTES:
            assert response.status_code in {401, 403, 404, 405}, (
                f"{method.upper()} {url} ({route.name}) gave {response.status_code} to an outsider"
            )
        else:
            assert route.name in PUBLIC_ROUTES | SELF_ROUTES or route.name.startswith("api:"), (
                f"{route.name} has no parameters: add it to SELF_ROUTES or PUBLIC_ROUTES if it is scoped to the user"
            )
        assert CANARY.encode() not in response.content, (
            f"{method.upper()} {url} leaked the victim's data to an outsider"
        )
