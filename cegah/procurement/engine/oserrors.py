"""Bilingual messages for the file errors the command line reports (instead of Python's
"[Errno 2] No such file or directory: …", in English only)."""

from __future__ import annotations


def describe(exc: OSError) -> str:
    """Return what went wrong with a file or folder, Indonesian first, then English."""
    bilingual = getattr(exc, "bilingual", None)  # the engine's own errors (NotGzipError)
    if isinstance(bilingual, str):
        return bilingual
    if isinstance(exc, FileNotFoundError):
        return "berkas tidak ada / no such file"
    if isinstance(exc, IsADirectoryError):
        return "ini folder, bukan berkas / is a folder, not a file"
    if isinstance(exc, NotADirectoryError):
        return "bukan folder / not a folder"
    if isinstance(exc, PermissionError):
        return "tidak ada izin membacanya / permission denied"
    reason = exc.strerror or str(exc)
    return f"tidak dapat dibaca / cannot be read ({reason})"
