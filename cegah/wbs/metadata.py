"""Removing metadata from evidence photos, losslessly.

A phone photo carries where it was taken (GPS), the phone's make and model, its serial number,
the time and often a thumbnail: enough to find the reporter. Every attachment passes through
``strip_metadata`` before it is encrypted and stored, whatever the channel.

Only containers are rewritten, never pixels: the compressed image data is copied byte for byte,
so the evidence stays exactly what the reporter sent. JPEG keeps its orientation (a minimal Exif
segment holding only the Orientation tag), its colour profile (ICC) and Adobe's colour-transform
segment, which decoders need.

Damaged files: a photo cut off before its end (a transfer that stopped, the last bytes lost;
viewers still show it) keeps its metadata where phones write it, before the image data. As long
as the structure up to the image data parses, the metadata is dropped there and the rest is
copied as it is. When it does not parse, the metadata cannot be found for sure, and the file is
refused (``MetadataNotRemovable``, with a message suggesting a screenshot) rather than stored
with it: storing it would break the promise the report form makes, and a frightened reporter
can send a screenshot, which carries no location.

Not covered: HEIC/MP4/MOV (ISO media boxes), GIF, PDF and Office documents. The report form tells
the reporter that those can carry the author's name or the place.
"""

from __future__ import annotations

import logging
import struct

from django.utils.translation import gettext as _

from cegah.wbs.intake import AttachmentRejected

logger = logging.getLogger("cegah.wbs")

ORIENTATION_TAG = 0x0112

# JPEG segments kept besides the image data: JFIF (APP0), the ICC colour profile (APP2) and Adobe's
# colour transform (APP14), which decoders read. Every other APPn and COM is metadata.
_JPEG_KEEP_APP = ((0xE0, b"JFIF\x00"), (0xE2, b"ICC_PROFILE\x00"), (0xEE, b"Adobe"))
# PNG chunks that hold text, Exif or the modification time.
_PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}
# WebP chunks with metadata, and the VP8X flags that announce them.
_WEBP_DROP = {b"EXIF", b"XMP "}
_VP8X_EXIF = 0x08
_VP8X_XMP = 0x04

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Unparsable(ValueError):
    """The file's structure does not match its type."""


class MetadataNotRemovable(AttachmentRejected):
    """A photo whose metadata cannot be found for sure (its structure does not parse): refused
    before anything is stored. The message is user-facing."""

    def __init__(self, name: str) -> None:
        super().__init__(
            _(
                "We could not read the photo “%(name)s” (it may be damaged), so we cannot remove "
                "the place where it was taken and the camera details from it, and it was not "
                "sent. Take a screenshot of the photo and attach the screenshot instead: a "
                "screenshot does not carry them."
            )
            % {"name": name}
        )


def strip_metadata(name: str, data: bytes) -> bytes:
    """Return ``data`` without metadata if it is a JPEG, PNG or WebP; other files unchanged.

    The type is taken from the first bytes (the intake has already matched them to the name).
    A photo cut off after its metadata has it removed and the rest copied as it is. Raises
    MetadataNotRemovable when a photo's structure does not parse far enough to find every
    metadata block: it is never stored with them.
    """
    strip = _STRIPPERS.get(_kind(data[:12]) or "")
    if strip is None:
        return data
    try:
        return strip(data)
    except Unparsable as exc:
        # The file's name is the reporter's: not logged.
        logger.warning("wbs: refused an attachment whose metadata could not be removed (%s)", exc)
        raise MetadataNotRemovable(name) from exc


def _kind(head: bytes) -> str | None:
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == PNG_SIGNATURE:
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def rewrites(head: bytes) -> bool:
    """Whether ``strip_metadata`` rewrites a file starting with ``head`` (its first 12 bytes or
    more): a JPEG, PNG or WebP."""
    return _kind(head) is not None


# --- JPEG ----------------------------------------------------------------------------------------


def _orientation(exif_payload: bytes) -> int | None:
    """Return the Orientation tag of an APP1 Exif payload ("Exif\\0\\0" + TIFF), if any."""
    from PIL import Image

    exif = Image.Exif()
    try:
        exif.load(exif_payload)
    except Exception:  # a damaged Exif block only loses its orientation
        return None
    value = exif.get(ORIENTATION_TAG)
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _orientation_exif(orientation: int) -> bytes:
    """Return an Exif block ("Exif\\0\\0" + TIFF) holding only the Orientation tag."""
    from PIL import Image

    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    return exif.tobytes()


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def strip_jpeg(data: bytes) -> bytes:
    """Drop APPn metadata segments (Exif, XMP, IPTC, MPF…), comments and anything after the end
    of the image; keep the Orientation tag in a minimal Exif segment.

    A file cut off after its first scan began (the end-of-image marker or more lost) keeps what
    follows as it is: phones write metadata before the image data, and a scan holds no markers.
    Raises Unparsable when the segments before the first scan do not parse, or when a segment
    after it is damaged (not merely cut off).
    """
    if data[:2] != b"\xff\xd8":
        raise Unparsable("jpeg: no start of image")
    out = [b"\xff\xd8"]
    orientation: int | None = None
    insert_at = 1  # the Orientation segment goes after SOI and a JFIF APP0, where readers look
    position = 2
    size = len(data)
    scanned = False  # a scan has begun: the image data is there, whatever is cut off after it
    while True:
        # Markers may be preceded by any number of 0xFF fill bytes.
        if position >= size and scanned:
            break  # cut off between two segments
        if position >= size or data[position] != 0xFF:
            raise Unparsable("jpeg: marker expected")
        segment_start = position
        while position < size and data[position] == 0xFF:
            position += 1
        if position >= size:
            if scanned:  # cut off in the fill bytes before a marker
                out.append(data[segment_start:])
                break
            raise Unparsable("jpeg: truncated marker")
        marker = data[position]
        position += 1
        if marker == 0xD9:  # end of image: whatever follows (a second image, a video) is dropped
            out.append(b"\xff\xd9")
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            out.append(bytes((0xFF, marker)))
            continue
        is_metadata = 0xE0 <= marker <= 0xEF or marker == 0xFE
        length = 0
        if position + 2 <= size:
            (length,) = struct.unpack(">H", data[position : position + 2])
            if length < 2:
                raise Unparsable("jpeg: bad segment length")
        if position + 2 > size or position + length > size:
            # The segment runs past the end of the file: the file was cut off in it.
            if not scanned:
                raise Unparsable("jpeg: truncated segment")
            if not is_metadata:  # a table or a scan header: kept as it is
                out.append(data[segment_start:])
            break
        payload = data[position + 2 : position + length]
        position += length
        if 0xE0 <= marker <= 0xEF:
            if marker == 0xE1 and payload.startswith(b"Exif\x00\x00") and orientation is None:
                orientation = _orientation(payload)
            if any(marker == m and payload.startswith(sig) for m, sig in _JPEG_KEEP_APP):
                out.append(_jpeg_segment(marker, payload))
                if marker == 0xE0 and len(out) == 2:
                    insert_at = 2
            continue
        if marker == 0xFE:  # comment
            continue
        out.append(_jpeg_segment(marker, payload))
        if marker == 0xDA:  # start of scan: copy the entropy-coded data up to the next marker
            scanned = True
            end = _scan_end(data, position)
            out.append(data[position:end])
            position = end
            if end == size:  # cut off in the scan (no end-of-image marker): nothing more to read
                break
    if orientation is not None:
        out.insert(insert_at, _jpeg_segment(0xE1, _orientation_exif(orientation)))
    return b"".join(out)


def _scan_end(data: bytes, start: int) -> int:
    """Return where the entropy-coded data starting at ``start`` ends: at the first marker that
    is not a stuffed zero (FF00) or a restart marker (FFD0–FFD7), or at the end of ``data`` when
    the file is cut off in the scan."""
    position = start
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            return len(data)
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position += 1 if following == 0xFF else 2
            continue
        return position


# --- PNG -----------------------------------------------------------------------------------------


def strip_png(data: bytes) -> bytes:
    """Drop text chunks (tEXt, zTXt, iTXt), Exif (eXIf), the time (tIME) and anything after IEND.

    A file cut off (IEND lost, or a chunk shorter than its length says) keeps the cut-off chunk
    as it is unless it is one of those, and a chunk header too short to name its type. Raises
    Unparsable when a chunk's type is not a chunk type (a damaged file, not a cut-off one).
    """
    out = [PNG_SIGNATURE]
    position = 8
    size = len(data)
    while position < size:
        if position + 8 > size:  # too short to say what it is: nothing anything reads
            out.append(data[position:])
            break
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        if not kind.isalpha():
            raise Unparsable("png: bad chunk")
        end = position + 12 + length
        if end > size:  # cut off in this chunk, the last one
            if kind not in _PNG_DROP:
                out.append(data[position:])
            break
        if kind not in _PNG_DROP:
            out.append(data[position:end])
        position = end
        if kind == b"IEND":
            break
    return b"".join(out)


# --- WebP ----------------------------------------------------------------------------------------


def _webp_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) % 2 else b"")


def strip_webp(data: bytes) -> bytes:
    """Drop the EXIF and XMP chunks, clear their flags in VP8X and fix the RIFF size; keep the
    Orientation tag in a minimal EXIF chunk.

    A file cut off in a chunk keeps that chunk as it is (without its orientation: a chunk after
    it would be read as part of it) unless it is EXIF or XMP. Raises Unparsable when a chunk's
    type is not a chunk type (a damaged file, not a cut-off one).
    """
    (riff_size,) = struct.unpack("<I", data[4:8])
    size = min(len(data), 8 + riff_size)
    chunks: list[tuple[bytes, bytes]] = []
    tail = b""  # the chunk the file was cut off in, as it is
    position = 12
    orientation: int | None = None
    while position < size:
        if position + 8 > size:  # too short to say what it is: nothing anything reads
            tail = data[position:size]
            break
        kind = data[position : position + 4]
        if not all(0x20 <= b <= 0x7E for b in kind):
            raise Unparsable("webp: bad chunk")
        (length,) = struct.unpack("<I", data[position + 4 : position + 8])
        start = position + 8
        if start + length > size:  # cut off in this chunk, the last one
            if kind not in _WEBP_DROP:
                tail = data[position:size]
            break
        payload = data[start : start + length]
        position = start + length + (length % 2)
        if kind == b"EXIF":
            tiff = payload[6:] if payload.startswith(b"Exif\x00\x00") else payload
            orientation = _orientation(b"Exif\x00\x00" + tiff)
            continue
        if kind in _WEBP_DROP:
            continue
        chunks.append((kind, payload))
    if tail:
        orientation = None
    has_vp8x = bool(chunks) and chunks[0][0] == b"VP8X"
    if has_vp8x:
        flags = chunks[0][1][0] & ~(_VP8X_EXIF | _VP8X_XMP)
        if orientation is not None:
            flags |= _VP8X_EXIF
        chunks[0] = (b"VP8X", bytes((flags,)) + chunks[0][1][1:])
    elif orientation is not None:
        # A simple WebP has no VP8X to announce an EXIF chunk; its orientation cannot be kept
        # without re-encoding the header, and phones do not write it there.
        orientation = None
    if orientation is not None:
        # The extended format puts EXIF after the image data (before an XMP chunk, gone here).
        chunks.append((b"EXIF", _orientation_exif(orientation)[6:]))
    body = b"WEBP" + b"".join(_webp_chunk(kind, payload) for kind, payload in chunks) + tail
    return b"RIFF" + struct.pack("<I", len(body)) + body


_STRIPPERS = {"jpeg": strip_jpeg, "png": strip_png, "webp": strip_webp}
