from django.urls import path

from cegah.monitoring import views

URL_PREFIX = "monitoring/"
app_name = "monitoring"

urlpatterns = [
    path("", views.home, name="home"),
    path("frameworks/", views.frameworks, name="frameworks"),
    path("frameworks/export/", views.framework_export, name="framework_export"),
    path("coverage/", views.coverage, name="coverage"),
    path("coverage/ranking.xlsx", views.coverage_xlsx, name="coverage_xlsx"),
    path("coverage/summary.pdf", views.coverage_pdf, name="coverage_pdf"),
    path("coverage/tepra/", views.coverage_tepra, name="coverage_tepra"),
    path("coverage/meetings/", views.meetings, name="meetings"),
    path("meetings/<int:meeting_id>/minutes/", views.meeting_minutes, name="meeting_minutes"),
    path("tepra/template.csv", views.tepra_template, name="tepra_template"),
    path("tepra/imports/<int:import_id>/", views.tepra_import_detail, name="tepra_import_detail"),
    path("tepra/projects/<int:project_id>/", views.project_edit, name="project_edit"),
    path("evidence/<int:evidence_id>/", views.evidence_download, name="evidence"),
    path("evidence/<int:evidence_id>/remove/", views.evidence_remove, name="evidence_remove"),
    path("recommendations/<int:recommendation_id>/", views.recommendation, name="recommendation"),
    path(
        "recommendations/<int:recommendation_id>/progress/",
        views.recommendation_progress,
        name="recommendation_progress",
    ),
    path(
        "recommendations/<int:recommendation_id>/status/",
        views.recommendation_status,
        name="recommendation_status",
    ),
    path("progress/<int:update_id>/file/", views.progress_file, name="progress_file"),
    path("<slug:slug>/", views.institution, name="institution"),
    path("<slug:slug>/export.xlsx", views.institution_xlsx, name="institution_xlsx"),
    path("<slug:slug>/summary.pdf", views.institution_pdf, name="institution_pdf"),
    path("<slug:slug>/periods/<int:period_id>/", views.assessment, name="assessment"),
    path(
        "<slug:slug>/periods/<int:period_id>/submit/",
        views.assessment_submit,
        name="assessment_submit",
    ),
    path(
        "<slug:slug>/periods/<int:period_id>/review/",
        views.assessment_review,
        name="assessment_review",
    ),
    path("<slug:slug>/periods/<int:period_id>/subs/<int:sub_id>/", views.answer, name="answer"),
    path(
        "<slug:slug>/periods/<int:period_id>/subs/<int:sub_id>/evidence/",
        views.evidence_add,
        name="evidence_add",
    ),
    path(
        "<slug:slug>/periods/<int:period_id>/subs/<int:sub_id>/verify/",
        views.answer_verify,
        name="answer_verify",
    ),
    path("<slug:slug>/recommendations/", views.recommendations, name="recommendations"),
    path("<slug:slug>/tepra/", views.tepra_overview, name="tepra"),
    path("<slug:slug>/tepra/import/", views.tepra_import, name="tepra_import"),
    path("<slug:slug>/tepra/projects/", views.projects, name="projects"),
]
