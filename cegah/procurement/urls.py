from django.urls import path

from cegah.procurement import views

URL_PREFIX = "pbj/"
app_name = "procurement"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>/", views.ranking, name="ranking"),
    path("<slug:slug>/satker/<int:buyer_pk>/", views.buyer_detail, name="buyer"),
    path("<slug:slug>/satker/<int:buyer_pk>/map/", views.buyer_map, name="buyer_map"),
    path("<slug:slug>/tenders/", views.tender_list, name="tenders"),
    path("<slug:slug>/tenders/export.<str:fmt>", views.tender_export, name="tender_export"),
    path("<slug:slug>/tenders/<int:tender_id>/", views.tender_detail, name="tender"),
    path("<slug:slug>/exports/", views.tender_exports, name="exports"),
    path("<slug:slug>/exports/<int:export_id>/", views.tender_export_job, name="export"),
    path(
        "<slug:slug>/exports/<int:export_id>/download/",
        views.tender_export_download,
        name="export_download",
    ),
    path("<slug:slug>/trends/", views.trends, name="trends"),
    path("<slug:slug>/imports/", views.imports, name="imports"),
    path("<slug:slug>/buyers.csv", views.buyers_csv, name="buyers_csv"),
    path("<slug:slug>/buyers/map/", views.buyers_mapping, name="buyers_mapping"),
    path("<slug:slug>/imports/<int:job_id>/", views.import_job, name="import_job"),
]
