"""Checking uploaded files before anything is stored: size, extension and the bytes themselves."""

from __future__ import annotations

from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.translation import gettext as _

# Evidence is documents and scans; 10 MB holds a scanned decree (SK) of a few dozen pages.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024

# Extension → (content type we serve it as, magic prefixes). The extension alone is the
# uploader's claim; the prefix is what the file is. Office files are ZIP containers.
ALLOWED: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
}


# For the file input's ``accept``: the browser's picker offers only these.
ACCEPT = ",".join(ALLOWED)


def upload_help() -> str:
    """The evidence inputs' help text, with the limit as the refusal states it."""
    return _("PDF, PNG, JPEG, XLSX or DOCX, at most %(limit)s.") % {
        "limit": filesizeformat(MAX_UPLOAD_BYTES)
    }


def too_large_in_browser() -> str:
    """What the browser says, before uploading, of a file over the limit."""
    return _(
        "This file is larger than %(limit)s and would be refused after uploading. Choose a "
        "smaller file, or scan at a lower resolution."
    ) % {"limit": filesizeformat(MAX_UPLOAD_BYTES)}


def _sizes(size: int, limit: int) -> tuple[str, str]:
    """Return the size and the limit written so that they differ (10 MB and one byte was
    "10,0 MB" like the limit itself)."""
    shown, allowed = filesizeformat(size), filesizeformat(limit)
    if shown == allowed:
        shown = _("%(count)s bytes") % {"count": number_format(size, force_grouping=True)}
        allowed = _("%(count)s bytes (%(size)s)") % {
            "count": number_format(limit, force_grouping=True),
            "size": allowed,
        }
    return shown, allowed


def check_upload(upload: UploadedFile, max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[str, str]:
    """Return ``(safe display name, content type)`` for an acceptable file; else raise.

    Raises ValidationError when the file is empty, too large, of a type we do not keep, or its
    bytes do not match its extension (an executable renamed to .pdf).
    """
    name = PurePath(upload.name or "file").name[-150:]
    size = upload.size or 0
    if size == 0:
        raise ValidationError(_("The file is empty."))
    if size > max_bytes:
        shown, allowed = _sizes(size, max_bytes)
        raise ValidationError(
            _("The file is too large (%(size)s); the limit is %(limit)s.")
            % {"size": shown, "limit": allowed}
        )
    suffix = PurePath(name).suffix.lower()
    if suffix not in ALLOWED:
        raise ValidationError(_("Only PDF, PNG, JPEG, XLSX and DOCX files are accepted."))
    content_type, magics = ALLOWED[suffix]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in magics):
        raise ValidationError(_("The file's content does not match its type."))
    return name, content_type
