"""Small real images that carry what a phone writes into a photo: the GPS position, the phone's
make and model, a comment, XMP and text chunks. Built with Pillow in memory."""

from __future__ import annotations

import io

from PIL import Image, PngImagePlugin

MODEL = "Pixel 8 Pro KAMERA7731"
AUTHOR = "Budi Santoso PENULIS7731"
XMP = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>{AUTHOR}</rdf:Description></x:xmpmeta>'
GPS_IFD = 0x8825
MODEL_TAG = 0x0110
ORIENTATION_TAG = 0x0112
# Somewhere in Bandar Lampung.
GPS = {1: "S", 2: (5.0, 25.0, 12.5), 3: "E", 4: (105.0, 15.0, 3.0)}


def _picture() -> Image.Image:
    image = Image.new("RGB", (24, 16))
    image.putdata(
        [((x * 10) % 256, (y * 15) % 256, (x * y) % 256) for y in range(16) for x in range(24)]
    )
    return image


def small_png() -> bytes:
    """A real PNG without metadata: fake bytes after a PNG signature are refused, since their
    metadata could not be removed."""
    buffer = io.BytesIO()
    _picture().save(buffer, "PNG")
    return buffer.getvalue()


def phone_exif(orientation: int | None = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Google"
    exif[MODEL_TAG] = MODEL
    if orientation is not None:
        exif[ORIENTATION_TAG] = orientation
    exif[GPS_IFD] = GPS
    return exif


def jpeg_with_gps(orientation: int | None = 6) -> bytes:
    """A JPEG with an Exif APP1 (GPS, model, orientation), an XMP APP1, a comment, and a second
    image appended after its end (as phones append a preview or a motion clip)."""
    buffer = io.BytesIO()
    _picture().save(
        buffer, "JPEG", quality=90, exif=phone_exif(orientation), comment=AUTHOR.encode()
    )
    data = buffer.getvalue()
    xmp = b"http://ns.adobe.com/xap/1.0/\x00" + XMP.encode()
    app1 = b"\xff\xe1" + (len(xmp) + 2).to_bytes(2, "big") + xmp
    return data[:2] + app1 + data[2:] + b"\xff\xd8\xff\xe1\x00\x08MOTION"


def png_with_gps() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", AUTHOR)
    info.add_text("Comment", AUTHOR, zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP)
    buffer = io.BytesIO()
    _picture().save(buffer, "PNG", pnginfo=info, exif=phone_exif())
    data = buffer.getvalue()
    # Pillow writes no tIME chunk: add one before IEND, as editors do.
    import struct
    import zlib

    payload = struct.pack(">HBBBBB", 2026, 11, 30, 14, 5, 9)
    chunk = struct.pack(">I", len(payload)) + b"tIME" + payload
    chunk += struct.pack(">I", zlib.crc32(b"tIME" + payload))
    iend = data.rindex(b"IEND") - 4
    return data[:iend] + chunk + data[iend:]


def webp_with_gps() -> bytes:
    buffer = io.BytesIO()
    _picture().save(buffer, "WEBP", lossless=True, exif=phone_exif(), xmp=XMP.encode())
    return buffer.getvalue()


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


def exif_of(data: bytes) -> Image.Exif:
    with Image.open(io.BytesIO(data)) as image:
        return image.getexif()


def cut_off(data: bytes, keep: int | None = None) -> bytes:
    """A photo cut off before its end, as a transfer that stopped leaves it: without its last two
    bytes (a JPEG's end-of-image marker), or only its first ``keep`` bytes."""
    return data[:keep] if keep is not None else data[:-2]


def jpeg_cut_off() -> bytes:
    """A phone JPEG with GPS whose end-of-image marker (and what phones append after it) was
    cut off; viewers still show it."""
    data = jpeg_with_gps()
    return data[: data.index(b"\xff\xd9")]


def decoded_despite_cut(data: bytes) -> bytes:
    """The pixels a viewer shows of a cut-off image (Pillow told to load what is there)."""
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        return pixels(data)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
