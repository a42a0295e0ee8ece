"""URL configuration. Each domain app with a ``urls`` module that sets ``URL_PREFIX`` is mounted
there, so a new module adds its pages without editing this file."""

import importlib

from django.apps import apps
from django.urls import URLPattern, URLResolver, include, path

from cegah.api.router import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("cegah.core.urls")),
    path("accounts/", include("cegah.accounts.urls")),
    path("orgs/", include("cegah.orgs.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
]

for _config in apps.get_app_configs():
    if _config.name.startswith("cegah.") and _config.label not in {"core", "accounts", "orgs"}:
        try:
            _module = importlib.import_module(f"{_config.name}.urls")
        except ModuleNotFoundError as exc:
            if exc.name != f"{_config.name}.urls":
                raise
            continue
        urlpatterns.append(path(_module.URL_PREFIX, include(_module)))

handler404 = "cegah.core.errors.page_not_found"
handler403 = "cegah.core.errors.permission_denied"
handler500 = "cegah.core.errors.server_error"
