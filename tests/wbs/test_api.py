import base64

from django.test import Client

from cegah.wbs.models import Report
from tests.wbs.images import small_png

PNG = small_png()


def test_public_api_submit_session_and_reply(wbs) -> None:
    client = Client()
    orgs = client.get("/api/v1/public/organisations").json()
    assert wbs.org.slug in {o["slug"] for o in orgs}
    response = client.post(
        "/api/v1/public/reports",
        {
            "organisation": wbs.org.slug,
            "category": "suap",
            "description": "Suap pengurusan sertifikat tanah di kantor desa.",
            "attachments": [{"name": "slip.png", "content_base64": base64.b64encode(PNG).decode()}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    receipt = response.json()["receipt"]
    assert Report.objects.get().attachments.count() == 1

    session = client.post(
        "/api/v1/public/session", {"receipt": receipt}, content_type="application/json"
    )
    assert session.status_code == 200
    token = session.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    status = client.get("/api/v1/public/session/report", headers=auth).json()
    assert status["status"] == "received" and status["messages"] == []
    reply = client.post(
        "/api/v1/public/session/messages",
        {"body": "Tambahan: terjadi lagi kemarin."},
        content_type="application/json",
        headers=auth,
    )
    assert reply.status_code == 201
    upload = client.post("/api/v1/public/session/attachments", {"file": _file()}, headers=auth)
    assert upload.status_code == 201
    messages = client.get("/api/v1/public/session/report", headers=auth).json()["messages"]
    assert [m["kind"] for m in messages] == ["reporter", "reporter"]


def _file():  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("foto.png", PNG, content_type="image/png")


def test_api_validation_errors_use_the_error_shape(wbs) -> None:
    response = Client().post(
        "/api/v1/public/reports",
        {"organisation": wbs.org.slug, "category": "suap"},
        content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "invalid" and any(
        d["field"].endswith("description") for d in body["details"]
    )
    short = Client().post(
        "/api/v1/public/reports",
        {"organisation": wbs.org.slug, "category": "suap", "description": "pendek"},
        content_type="application/json",
    )
    assert short.status_code == 422
    unknown = Client().post(
        "/api/v1/public/reports",
        {"organisation": "nope", "category": "suap", "description": "x" * 40},
        content_type="application/json",
    )
    assert unknown.status_code == 422


def test_api_wrong_receipt_and_bad_token(wbs) -> None:
    client = Client()
    assert (
        client.post(
            "/api/v1/public/session",
            {"receipt": "0000000000000000"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert (
        client.get(
            "/api/v1/public/session/report", headers={"Authorization": "Bearer nope"}
        ).status_code
        == 401
    )


def test_openapi_documents_the_public_api(db) -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/public/reports",
        "/api/v1/public/session",
        "/api/v1/public/session/report",
        "/api/v1/public/organisations",
        "/api/v1/public/session/attachments",
    ):
        assert path in paths
