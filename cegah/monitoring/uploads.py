"""Checking uploaded files before anything is stored: size, extension and the bytes themselves."""

from __future__ import annotations

from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
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
        raise ValidationError(
            _("The file is too large (%(size)s); the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(max_bytes)}
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
