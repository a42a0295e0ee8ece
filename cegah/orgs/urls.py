from django.urls import path

from cegah.orgs import views

app_name = "orgs"

urlpatterns = [
    path("<slug:slug>/", views.organisation_detail, name="detail"),
    path("<slug:slug>/members/", views.members, name="members"),
    path(
        "<slug:slug>/members/<int:membership_id>/remove/", views.member_remove, name="member_remove"
    ),
    path("<slug:slug>/audit/", views.audit_trail, name="audit"),
    path("<slug:slug>/api-tokens/", views.api_tokens, name="api_tokens"),
    path(
        "<slug:slug>/api-tokens/<int:token_id>/revoke/",
        views.api_token_revoke,
        name="api_token_revoke",
    ),
]
