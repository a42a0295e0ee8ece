from django.urls import path

from cegah.wbs.integration import views

URL_PREFIX = "wbs-integration/"
app_name = "wbs_integration"

# The candidate and the new lead travel in the POST body, so every route is scoped by the
# handler's own report (slug + report id), checked by the access helpers.
urlpatterns = [
    path("<slug:slug>/r/<uuid:report_id>/duplicates/", views.decide, name="decide"),
    path("<slug:slug>/r/<uuid:report_id>/group/lead/", views.group_lead, name="group_lead"),
]
