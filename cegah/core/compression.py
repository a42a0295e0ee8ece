"""Compression for the heavy analysis pages (maps, rankings, long lists), never for case pages.

A map of Indonesia's kab/kota is about 750 KB of SVG path data, and gzip makes it about 160 KB:
for an auditor on a slow connection, that is the page loading or not. BREACH needs a secret and
text chosen by an attacker in the same compressed response. Django's gzip adds random padding
("Heal the Breach") and masks its CSRF tokens, and these pages show scores, counts and public
procurement data. Pages that show a report (which anyone may write) stay uncompressed.
"""

from __future__ import annotations

from django.views.decorators.gzip import gzip_page as compressed

__all__ = ["compressed"]
