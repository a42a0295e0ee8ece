from django.urls import path

from cegah.wbs import public_views, views

URL_PREFIX = ""
app_name = "wbs"

urlpatterns = [
    # Public: reporters (Indonesian paths, as people will read them out).
    path("lapor/", public_views.choose_organisation, name="choose"),
    path("lapor/tanda-terima/", public_views.receipt_download, name="receipt_download"),
    path("lapor/pantau/", public_views.followup_login, name="followup_login"),
    path("lapor/pantau/laporan/", public_views.followup, name="followup"),
    path("lapor/pantau/keluar/", public_views.followup_logout, name="followup_logout"),
    path("lapor/<slug:slug>/", public_views.report_form, name="report"),
    # Staff. The oversight paths come before the organisation paths they would otherwise match.
    path("wbs/oversight/", views.oversight_dashboard, name="oversight"),
    path("wbs/oversight/map/", views.oversight_map, name="oversight_map"),
    path("wbs/<slug:slug>/", views.case_list, name="cases"),
    path("wbs/<slug:slug>/referred/", views.referred_list, name="referred"),
    path("wbs/<slug:slug>/intake/", views.operator_intake, name="intake"),
    path(
        "wbs/<slug:slug>/referred/<uuid:report_id>/", views.referred_detail, name="referred_detail"
    ),
    path("wbs/<slug:slug>/r/<uuid:report_id>/refer/", views.case_refer, name="case_refer"),
    path("wbs/<slug:slug>/export.<str:fmt>", views.case_export, name="export"),
    path("wbs/<slug:slug>/unlock/", views.unlock, name="unlock"),
    path("wbs/<slug:slug>/keys/", views.key_settings, name="keys"),
    path("wbs/<slug:slug>/policy/", views.policy_settings, name="policy"),
    path("wbs/<slug:slug>/r/<uuid:report_id>/", views.case_detail, name="case"),
    path(
        "wbs/<slug:slug>/r/<uuid:report_id>/status/", views.case_transition, name="case_transition"
    ),
    path("wbs/<slug:slug>/r/<uuid:report_id>/assign/", views.case_assign, name="case_assign"),
    path("wbs/<slug:slug>/r/<uuid:report_id>/message/", views.case_message, name="case_message"),
    path("wbs/<slug:slug>/r/<uuid:report_id>/priority/", views.case_priority, name="case_priority"),
    path("wbs/<slug:slug>/r/<uuid:report_id>/redact/", views.case_redact, name="case_redact"),
    path("wbs/<slug:slug>/r/<uuid:report_id>/attach/", views.case_attach, name="case_attach"),
    path("wbs/<slug:slug>/r/<uuid:report_id>/pdf/", views.case_pdf, name="case_pdf"),
    path(
        "wbs/<slug:slug>/r/<uuid:report_id>/a/<uuid:attachment_id>/",
        views.case_attachment,
        name="case_attachment",
    ),
]
