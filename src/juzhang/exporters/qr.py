"""The QR code (二维码) printed on a published board: the web page's address and fingerprint.

The published board (:mod:`juzhang.exporters.disclosure_excel`) carries, when
a site address is configured (``base_url`` in the disclosure configuration,
or ``juzhang publish --base-url``), a QR code of its web page
(:mod:`juzhang.exporters.site`) with the fingerprint in the address's
fragment: ``https://…/H001/2026-09.html#fp=H001:2026-09:42:…``.  A resident
who scans it opens the page, and the page compares the figures it loads
with the code carried by the paper.

This module is the one door to the QR library (segno: pure Python, no
network, writes PNG itself).  openpyxl's own image class reads the picture
through Pillow; :class:`PngImage` hands openpyxl the PNG bytes segno made
instead, so Pillow is not needed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import quote

import segno
from openpyxl.drawing.image import Image

__all__ = ["PngImage", "QrPicture", "page_address", "qr_picture"]

MODULE_PIXELS = 4
"""Pixels per QR module in the PNG (the sheet scales the picture to its printed size)."""

QUIET_ZONE = 4
"""Modules of white around the code (the standard's quiet zone)."""


def page_address(base_url: str, page: str, fingerprint: str) -> str:
    """Return the page's address with the fingerprint in its fragment (``…/x.html#fp=…``).

    ``page`` is the page's path under the site (``H001/2026-09.html``); the
    fingerprint's ``:`` stay readable (allowed in a fragment).
    """
    return f"{base_url.rstrip('/')}/{quote(page)}#fp={quote(fingerprint, safe=':.')}"


@dataclass(frozen=True, slots=True)
class QrPicture:
    """A QR code as a PNG: its bytes and its size in pixels (square)."""

    png: bytes
    pixels: int
    text: str


def qr_picture(text: str) -> QrPicture:
    """Return the QR code of ``text`` as a PNG (error correction M: 15 % may be soiled)."""
    code = segno.make_qr(text, error="m", boost_error=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=MODULE_PIXELS, border=QUIET_ZONE)
    width, _height = code.symbol_size(scale=MODULE_PIXELS, border=QUIET_ZONE)
    return QrPicture(buffer.getvalue(), int(width), text)


class PngImage(Image):  # type: ignore[misc]  # openpyxl is untyped
    """An openpyxl picture made from PNG bytes, without Pillow.

    openpyxl's :class:`~openpyxl.drawing.image.Image` opens its picture with
    Pillow to learn its size and format, and asks ``_data()`` for the bytes
    when the workbook is saved; here both are known already.
    """

    def __init__(self, png: bytes, width: int, height: int) -> None:
        # Image.__init__ is not called: it would open the picture with Pillow.
        self.ref = png
        self.png = png
        self.width = width
        self.height = height
        self.format = "png"

    def _data(self) -> bytes:
        """The PNG bytes (openpyxl writes them into the workbook)."""
        return self.png
