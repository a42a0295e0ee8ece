from django.urls import include, path

from cegah.api.router import api

urlpatterns = [
    path("", include("cegah.core.urls")),
    path("accounts/", include("cegah.accounts.urls")),
    path("orgs/", include("cegah.orgs.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
]

handler404 = "cegah.core.errors.page_not_found"
handler403 = "cegah.core.errors.permission_denied"
handler500 = "cegah.core.errors.server_error"
