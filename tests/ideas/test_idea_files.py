"""Photos and documents attached to ideas, end to end through the forms."""

import io

import pytest
from PIL import Image
from sqlmodel import select
from starlette.testclient import TestClient

from ideas.models import Attachment
from tests.helpers import csrf_of, idea_fields, make_round, make_user, sign_in

GPS_TAG = 0x8825


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (640, 480), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(GPS_TAG)
    gps[1], gps[2], gps[3], gps[4] = "N", (42.0, 52.0, 30.0), "E", (74.0, 35.0, 10.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def tiny_pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), "white").save(out, "PDF")
    return out.getvalue()


@pytest.fixture
def setup(database):
    return make_round(database)


@pytest.fixture
def author(client: TestClient, database):
    user = make_user(database, "author@example.kg")
    sign_in(client, "author@example.kg")
    return user


def submit_with(client: TestClient, setup, files, action: str = "submit"):
    path = f"/rounds/{setup.round.id}/ideas/new"
    return client.post(path, data={**idea_fields(setup), "action": action,
                                   "csrf_token": csrf_of(client, path)},
                       files=files, headers={"Accept-Language": "en"})


def test_a_photo_is_stored_without_location_and_served_safely(client: TestClient, setup,
                                                              author, database) -> None:
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_TAG)
    response = submit_with(client, setup, [
        ("photos", ("street.jpg", original, "image/jpeg")),
        ("documents", ("plan.pdf", tiny_pdf(), "application/pdf"))])
    assert response.status_code == 303, response.text
    with database.session() as db:
        photo, document = db.exec(select(Attachment).order_by(Attachment.id)).all()
    served = client.get(f"/files/{photo.stored_name}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    stored = Image.open(io.BytesIO(served.content))
    assert not stored.getexif() and not stored.getexif().get_ifd(GPS_TAG)
    assert b"PhoneMaker" not in served.content
    thumb = client.get(f"/files/{photo.thumb_name}")
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).width <= 480
    pdf = client.get(f"/files/{document.stored_name}")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment;")


def test_files_of_an_unpublished_idea_are_hidden_from_others(client: TestClient, app, setup,
                                                             author, database) -> None:
    submit_with(client, setup, [("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg"))],
                action="draft")
    with database.session() as db:
        photo = db.exec(select(Attachment)).one()
    assert client.get(f"/files/{photo.stored_name}").status_code == 200
    assert TestClient(app).get(f"/files/{photo.stored_name}").status_code == 404
    assert TestClient(app).get("/files/../../etc/passwd").status_code == 404


@pytest.mark.parametrize("field, name, content, message", [
    ("documents", "plan.pdf", None, "Only PDF documents are accepted."),
    ("photos", "photo.jpg", b"<html><script>alert(1)</script></html>",
     "Only JPEG, PNG and WebP photos are accepted."),
])
def test_a_file_that_is_not_what_its_name_says_is_refused(client: TestClient, setup, author,
                                                          database, field, name, content,
                                                          message) -> None:
    if content is None:  # a PNG renamed .pdf
        out = io.BytesIO()
        Image.new("RGB", (5, 5)).save(out, "PNG")
        content = out.getvalue()
    response = submit_with(client, setup, [(field, (name, content, "application/pdf"))])
    assert response.status_code == 422
    assert message in response.text
    with database.session() as db:
        assert db.exec(select(Attachment)).all() == []


def test_at_most_five_photos(client: TestClient, setup, author) -> None:
    photo = jpeg_with_gps()
    response = submit_with(client, setup, [("photos", (f"{i}.jpg", photo, "image/jpeg"))
                                           for i in range(6)])
    assert response.status_code == 422 and "at most 5 photos" in response.text


def test_an_oversize_request_gets_413_before_it_is_read(client: TestClient, app, setup,
                                                        author) -> None:
    limit = app.state.settings.max_request_bytes
    response = client.post(f"/rounds/{setup.round.id}/ideas/new",
                           content=b"x" * 10, headers={
                               "Content-Length": str(limit + 1),
                               "Content-Type": "multipart/form-data; boundary=x",
                               "Accept-Language": "ky"})
    assert response.status_code == 413
    assert 'lang="ky"' in response.text


def test_the_upload_allowance_is_enforced(client: TestClient, tmp_path, migrated, database,
                                          setup) -> None:
    from core.app import create_app
    from tests.helpers import make_settings

    app = create_app(make_settings(tmp_path, migrated, upload_quota_bytes=5000), database)
    make_user(database, "q@example.kg")
    small = TestClient(app, follow_redirects=False)
    sign_in(small, "q@example.kg")
    response = submit_with(small, setup, [("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg"))])
    assert response.status_code == 422 and "upload allowance" in response.text


def test_the_author_removes_a_photo_while_editing(client: TestClient, setup, author,
                                                  database) -> None:
    reference = submit_with(client, setup, [("photos", ("a.jpg", jpeg_with_gps(),
                                                        "image/jpeg"))],
                            action="draft").headers["location"].rsplit("/", 1)[1]
    with database.session() as db:
        photo = db.exec(select(Attachment)).one()
    edit = f"/ideas/{reference}/edit"
    response = client.post(f"/ideas/{reference}/attachments/{photo.id}/delete",
                           data={"csrf_token": csrf_of(client, edit)})
    assert response.status_code == 303
    assert client.get(f"/files/{photo.stored_name}").status_code == 404


def test_uploads_are_rate_limited_per_account_before_any_decode(
        tmp_path, migrated, database, setup, monkeypatch) -> None:
    from core.app import create_app
    from ideas import uploads
    from tests.helpers import make_settings

    app = create_app(make_settings(tmp_path, migrated, upload_rate_limit="3/3600"), database)
    make_user(database, "busy@example.kg")
    busy = TestClient(app, follow_redirects=False)
    sign_in(busy, "busy@example.kg")
    photo = jpeg_with_gps()
    first = submit_with(busy, setup, [("photos", (f"{i}.jpg", photo, "image/jpeg"))
                                      for i in range(3)], action="save")
    assert first.status_code == 303

    def no_decode(*args: object) -> None:
        raise AssertionError("the photo was decoded")

    monkeypatch.setattr(uploads, "_reencode", no_decode)
    monkeypatch.setattr(uploads, "check_declared_size", no_decode)
    refused = submit_with(busy, setup, [("photos", ("late.jpg", photo, "image/jpeg"))],
                          action="save")
    assert refused.status_code == 429 and "many files in a short time" in refused.text
    assert "Kept title" in refused.text or 'name="title"' in refused.text
    # without files the same account still proposes
    assert submit_with(busy, setup, [], action="save").status_code == 303
    # another account is not held by this one's uploads
    monkeypatch.undo()
    make_user(database, "calm@example.kg")
    calm = TestClient(app, follow_redirects=False)
    sign_in(calm, "calm@example.kg")
    assert submit_with(calm, setup, [("photos", ("a.jpg", photo, "image/jpeg"))],
                       action="save").status_code == 303
