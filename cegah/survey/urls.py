from django.urls import path

from cegah.survey import public_views, views

URL_PREFIX = "spi/"
app_name = "survey"

E = "o/<slug:slug>/<int:year>/"
L = E + "l/<slug:locus>/"

urlpatterns = [
    # Respondents (Indonesian paths, short enough for an SMS).
    path("i/<str:token>/", public_views.respond, name="respond"),
    path("i/<str:token>/mulai/", public_views.respond_start, name="respond_start"),
    path("i/<str:token>/isi/", public_views.respond_page, name="respond_page"),
    path("i/<str:token>/berhenti/", public_views.respond_optout, name="respond_optout"),
    path("daftar/<str:code>/", public_views.register, name="register"),
    # Coordinators.
    path("", views.home, name="home"),
    path("o/<slug:slug>/", views.editions, name="editions"),
    path(E, views.edition, name="edition"),
    path(E + "settings/", views.edition_settings, name="settings"),
    path(E + "questionnaires/", views.questionnaires, name="questionnaires"),
    path(E + "loci/add/", views.locus_add, name="locus_add"),
    path(E + "export.xlsx", views.export, name="export"),
    path(E + "alert/", views.alert, name="alert"),
    path(E + "index/", views.index, name="index"),
    path(E + "integrity/", views.integrity, name="integrity"),
    path(E + "integrity/<uuid:response_id>/", views.review, name="review"),
    path(E + "recommendations/", views.recommendations, name="recommendations"),
    path(L, views.locus, name="locus"),
    path(L + "frame/", views.frame_import, name="frame_import"),
    path(L + "sample/", views.sample_draw, name="sample_draw"),
    path(L + "invite/", views.invite, name="invite"),
    path(L + "registrations/", views.registrations, name="registrations"),
    path(L + "registrations/<uuid:respondent_id>/", views.screen, name="screen"),
    path(L + "report.pdf", views.report_pdf, name="report_pdf"),
]
