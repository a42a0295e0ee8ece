"""Evidence photos lose their metadata (GPS position, phone model, author) at intake, on every
channel, and keep their pixels and orientation."""

from __future__ import annotations

import struct

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cegah.wbs import keys, services
from cegah.wbs.metadata import (
    MetadataNotRemovable,
    strip_jpeg,
    strip_metadata,
    strip_png,
    strip_webp,
)
from cegah.wbs.models import Attachment, Report
from tests.wbs.conftest import form_token
from tests.wbs.images import (
    AUTHOR,
    GPS_IFD,
    MODEL,
    MODEL_TAG,
    ORIENTATION_TAG,
    cut_off,
    decoded_despite_cut,
    exif_of,
    jpeg_cut_off,
    jpeg_with_gps,
    pixels,
    png_with_gps,
    webp_with_gps,
)

SECRETS = (MODEL.encode(), AUTHOR.encode(), b"MOTION")


def _scan(data: bytes) -> bytes:
    """The entropy-coded image data of a baseline JPEG, from its start of scan to its end."""
    start = data.rindex(b"\xff\xda")
    return data[start : data.index(b"\xff\xd9", start) + 2]


def _idat(data: bytes) -> list[bytes]:
    """The PNG's compressed image data chunks."""
    chunks, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        if data[position + 4 : position + 8] == b"IDAT":
            chunks.append(data[position : position + 12 + length])
        position += 12 + length
    return chunks


def _assert_clean_jpeg(stored: bytes, original: bytes) -> None:
    assert not any(secret in stored for secret in SECRETS)
    exif = exif_of(stored)
    assert exif.get_ifd(GPS_IFD) == {}
    assert MODEL_TAG not in exif
    assert dict(exif) == {ORIENTATION_TAG: 6}  # the photo still stands the right way up
    assert pixels(stored) == pixels(original)
    assert _scan(stored) == _scan(original)  # not re-encoded: the same compressed bytes


def test_jpeg_loses_gps_model_comment_and_trailer_but_keeps_pixels_and_orientation() -> None:
    original = jpeg_with_gps()
    assert all(secret in original for secret in SECRETS)
    assert exif_of(original).get_ifd(GPS_IFD)
    stripped = strip_jpeg(original)
    _assert_clean_jpeg(stripped, original)
    assert stripped.endswith(b"\xff\xd9")


def test_jpeg_without_orientation_keeps_no_exif_at_all() -> None:
    stripped = strip_jpeg(jpeg_with_gps(orientation=None))
    assert b"Exif\x00\x00" not in stripped
    assert dict(exif_of(stripped)) == {}


def test_png_loses_text_exif_and_time_chunks_and_keeps_its_image_data() -> None:
    original = png_with_gps()
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"):
        assert chunk in original
    stripped = strip_png(original)
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"):
        assert chunk not in stripped
    assert AUTHOR.encode() not in stripped and MODEL.encode() not in stripped
    assert pixels(stripped) == pixels(original)
    assert _idat(stripped) == _idat(original)  # not re-encoded: the same compressed bytes


def test_webp_loses_exif_and_xmp_with_sizes_and_flags_fixed() -> None:
    original = webp_with_gps()
    assert MODEL.encode() in original and AUTHOR.encode() in original
    stripped = strip_webp(original)
    assert MODEL.encode() not in stripped and AUTHOR.encode() not in stripped
    assert b"XMP " not in stripped
    (riff_size,) = struct.unpack("<I", stripped[4:8])
    assert riff_size == len(stripped) - 8
    flags = stripped[20]
    assert stripped[12:16] == b"VP8X" and not flags & 0x04  # XMP announced no more
    assert flags & 0x08  # EXIF still announced: it holds the orientation alone
    assert dict(exif_of(stripped)) == {ORIENTATION_TAG: 6}
    assert pixels(stripped) == pixels(original)


def test_other_files_are_stored_as_they_came() -> None:
    pdf = b"%PDF-1.4\n/Author (Budi)\n%%EOF"
    assert strip_metadata("surat.pdf", pdf) == pdf


def test_jpeg_cut_off_before_its_end_still_loses_gps_and_keeps_the_rest_as_it_is() -> None:
    original = jpeg_with_gps()
    cut = jpeg_cut_off()
    assert MODEL.encode() in cut and exif_of(cut).get_ifd(GPS_IFD)
    stripped = strip_metadata("IMG_0002.jpg", cut)
    assert not any(secret in stripped for secret in SECRETS)
    assert exif_of(stripped).get_ifd(GPS_IFD) == {} and MODEL_TAG not in exif_of(stripped)
    assert dict(exif_of(stripped)) == {ORIENTATION_TAG: 6}
    scan = _scan(original)[:-2]  # the image data without the end-of-image marker lost
    assert stripped.endswith(scan)  # copied as it is
    assert decoded_despite_cut(stripped) == decoded_despite_cut(cut)
    # Cut off in the middle of the image data, or in the fill bytes before a marker.
    half = cut[: cut.rindex(b"\xff\xda") + 40]
    assert not any(secret in strip_metadata("a.jpg", half) for secret in SECRETS)
    assert strip_metadata("a.jpg", half).endswith(half[-20:])
    assert strip_metadata("a.jpg", cut + b"\xff").endswith(scan + b"\xff")


def test_png_and_webp_cut_off_still_lose_their_metadata() -> None:
    png = png_with_gps()
    first_idat = _idat(png)[0]
    idat_at = png.index(first_idat)
    for cut in (cut_off(png, len(png) - 12), cut_off(png, idat_at + len(first_idat) // 2)):
        stripped = strip_metadata("lokasi.png", cut)
        assert AUTHOR.encode() not in stripped and b"eXIf" not in stripped
        assert b"tEXt" not in stripped and b"iTXt" not in stripped
        assert first_idat[: len(cut) - idat_at] in stripped  # the image data as it came
    webp = webp_with_gps()
    exif_at = webp.index(b"EXIF")
    for keep in (exif_at + 20, exif_at - 10):  # in the EXIF chunk; in the image data before it
        stripped = strip_metadata("amplop.webp", cut_off(webp, keep))
        assert MODEL.encode() not in stripped and AUTHOR.encode() not in stripped
        assert b"EXIF" not in stripped and b"XMP " not in stripped
        (riff_size,) = struct.unpack("<I", stripped[4:8])
        assert riff_size == len(stripped) - 8
    assert strip_metadata("a.webp", cut_off(webp, exif_at - 10)).endswith(
        webp[exif_at - 30 : exif_at - 10]
    )


def test_photo_whose_metadata_cannot_be_found_is_refused_not_stored_with_it() -> None:
    jpeg = jpeg_with_gps()
    tables = jpeg.index(b"\xff\xdb")
    damaged_jpeg = jpeg[:tables] + b"\x00\x00" + jpeg[tables + 2 :]  # a marker before the scan
    header_only = jpeg[: jpeg.index(b"\xff\xda")]  # cut off before any image data
    png = png_with_gps()
    damaged_png = png[:37] + b"\x00\x01\x02\x03" + png[41:]  # the second chunk's type
    webp = webp_with_gps()
    damaged_webp = webp[:12] + b"\x00\x00\x00\x00" + webp[16:]
    for name, data in (
        ("a.jpg", damaged_jpeg),
        ("b.jpg", header_only),
        ("c.png", damaged_png),
        ("d.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50),
        ("e.webp", damaged_webp),
    ):
        with pytest.raises(MetadataNotRemovable) as refused:
            strip_metadata(name, data)
        assert name in str(refused.value) and "screenshot" in str(refused.value)


def test_reporter_is_asked_for_a_screenshot_of_a_damaged_photo_and_nothing_is_stored(wbs) -> None:
    jpeg = jpeg_with_gps()
    tables = jpeg.index(b"\xff\xdb")
    damaged = jpeg[:tables] + b"\x00\x00" + jpeg[tables + 2 :]
    client = Client()
    response = client.post(
        f"/lapor/{wbs.org.slug}/",
        {
            "submission": form_token(client, f"/lapor/{wbs.org.slug}/"),
            "category": "pemerasan",
            "description": "Petugas loket meminta uang agar surat izin cepat keluar.",
            "party_count": "1",
            "attachments": [SimpleUploadedFile("IMG_0003.jpg", damaged, "image/jpeg")],
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "IMG_0003.jpg" in page and "tangkapan layar" in page
    assert "TIDAK terkirim" not in page  # not told to choose the refused photo again
    assert "Petugas loket meminta uang" in page  # the typed text comes back
    assert not Report.objects.exists() and not Attachment.objects.exists()
    # The service refuses it too, whatever the channel, before anything is stored.
    with pytest.raises(MetadataNotRemovable):
        services.submit_report(
            wbs.org,
            services.ReportInput(
                category="suap", description="Petugas meminta uang pelicin di loket izin."
            ),
            [services.IncomingFile("IMG_0003.jpg", damaged)],
        )
    assert not Report.objects.exists() and not Attachment.objects.exists()


def _stored(report: Report, wbs) -> list[tuple[str, bytes, int]]:  # type: ignore[no-untyped-def]
    data_key = keys.report_data_key(report, keys.org_private_from_recovery(wbs.org, wbs.recovery))
    assert data_key is not None
    result = []
    for attachment in Attachment.objects.filter(report=report).select_related("report"):
        name, data = services.read_attachment(attachment, data_key)
        result.append((name, data, attachment.size))
    return result


def test_web_form_photo_is_stored_without_gps(wbs) -> None:
    original = jpeg_with_gps()
    client = Client()
    response = client.post(
        f"/lapor/{wbs.org.slug}/",
        {
            "submission": form_token(client, f"/lapor/{wbs.org.slug}/"),
            "category": "pemerasan",
            "description": "Petugas loket meminta uang agar surat izin cepat keluar.",
            "party_count": "1",
            "attachments": [SimpleUploadedFile("IMG_0001.jpg", original, "image/jpeg")],
        },
    )
    assert response.status_code == 201
    [(name, data, size)] = _stored(Report.objects.get(), wbs)
    assert name == "IMG_0001.jpg" and size == len(data)
    _assert_clean_jpeg(data, original)


def test_follow_up_photo_is_stored_without_gps(wbs, submit) -> None:
    submitted = submit()
    reporter = Client()
    reporter.post("/lapor/pantau/", {"receipt": submitted.receipt})
    original = png_with_gps()
    response = reporter.post(
        "/lapor/pantau/laporan/",
        {
            "body": "Ini foto tambahan dari lokasi.",
            "attachments": [SimpleUploadedFile("lokasi.png", original, "image/png")],
        },
    )
    assert response.status_code == 302
    [(_name, data, _size)] = _stored(submitted.report, wbs)
    assert AUTHOR.encode() not in data and b"eXIf" not in data
    assert pixels(data) == pixels(original)


def test_operator_intake_photo_is_stored_without_gps(wbs, handler_client) -> None:
    original = webp_with_gps()
    response = handler_client.post(
        f"/wbs/{wbs.org.slug}/intake/",
        {
            "submission": form_token(handler_client, f"/wbs/{wbs.org.slug}/intake/"),
            "channel": "walk_in",
            "category": "suap",
            "party_count": "1",
            "description": "Pengunjung membawa foto amplop suap di ruang rapat dinas.",
            "attachments": [SimpleUploadedFile("amplop.webp", original, "image/webp")],
        },
    )
    assert response.status_code == 201
    [(_name, data, _size)] = _stored(Report.objects.get(), wbs)
    assert MODEL.encode() not in data and AUTHOR.encode() not in data
    assert pixels(data) == pixels(original)


def test_handler_download_serves_the_stripped_photo(wbs, submit, handler_client) -> None:
    original = jpeg_with_gps()
    report = submit(files=[services.IncomingFile("bukti.jpg", original)]).report
    attachment = report.attachments.get()
    response = handler_client.get(
        f"/wbs/{wbs.org.slug}/r/{report.public_id}/a/{attachment.public_id}/"
    )
    assert response.status_code == 200
    _assert_clean_jpeg(response.content, original)


def test_reporter_is_told_what_files_keep(wbs, submit) -> None:
    form = Client().get(f"/lapor/{wbs.org.slug}/").content.decode()
    assert "nama penulisnya" in form and "JPG, PNG, dan WebP" in form
    submitted = submit()
    reporter = Client()
    reporter.post("/lapor/pantau/", {"receipt": submitted.receipt})
    assert "nama penulisnya" in reporter.get("/lapor/pantau/laporan/").content.decode()
