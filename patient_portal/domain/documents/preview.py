"""Preview images of uploaded files: a PDF's first page, and every image re-encoded (PNG, JPEG,
TIFF, HEIC, DICOM) — never the stored bytes of an image passed through to the viewer's browser.

Why re-encode even a PNG or JPEG the browser could show: the stored file is whatever was uploaded,
and a few kilobytes can declare 60000×60000 pixels (a decode bomb for the viewer's browser) or carry
metadata (camera, GPS). A preview is drawn by ``render_worker.py``, a separate process without keys
or settings, at most ``MAX_SIDE`` pixels on its longer side; a header that declares more than
``MAX_PIXELS`` is refused here before any decoder sees it. Refusals are ``PreviewUnavailable``
(the API answers 422 "can't be previewed"; the file can still be downloaded).
Text and CSV previews are the text itself (nothing to decode; the API frames them sandboxed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from patient_portal.core.errors import NotFound
from patient_portal.domain.documents.filetypes import declared_size
from patient_portal.domain.documents.render_worker import JPEG_OUT, MAX_PIXELS, MAX_SIDE

_WORKER = Path(__file__).with_name("render_worker.py")
TIMEOUT_SECONDS = 20
#: Kinds whose preview is drawn by the render process (everything previewable but text and CSV).
DRAWN = frozenset({"pdf", "png", "jpeg", "tiff", "heic", "dicom"})
__all__ = ["DRAWN", "MAX_PIXELS", "MAX_SIDE", "Drawn", "PreviewUnavailable", "render"]

_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


class PreviewUnavailable(NotFound):
    """The file could not be drawn (there is no preview of it); it can still be downloaded."""

    def __init__(self) -> None:
        super().__init__("This file can't be previewed. Download it to open it.")


@dataclass(frozen=True)
class Drawn:
    """A preview image: freshly encoded bytes, their media type and file extension."""

    data: bytes
    media_type: str
    extension: str


def _within_cap(size: tuple[int, int] | None, *, pixels: int, side: int | None = None) -> bool:
    if size is None:
        return True  # no header read here: the render process checks it before decoding
    width, height = size
    return 0 < width and 0 < height and width * height <= pixels and (side is None or max(width, height) <= side)


def render(data: bytes, kind: str) -> Drawn:
    """The preview of `data`: the first page (PDF) or first image/frame, at most MAX_SIDE pixels on
    its longer side, as a JPEG for photos (JPEG, HEIC) and a PNG otherwise. Raises PreviewUnavailable
    (absurd declared size, undecodable, too slow); ValueError for a kind that is not drawn."""
    if kind not in DRAWN:
        raise ValueError(kind)
    if not _within_cap(declared_size(data, kind), pixels=MAX_PIXELS):
        raise PreviewUnavailable()  # refused on the header alone: nothing decodes it
    media_type = "image/jpeg" if kind in JPEG_OUT else "image/png"
    try:
        # fixed argv (kind is checked against DRAWN above); the file itself goes in on stdin
        done = subprocess.run([sys.executable, "-I", str(_WORKER), kind], input=data, capture_output=True,  # noqa: S603
                              timeout=TIMEOUT_SECONDS, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        raise PreviewUnavailable() from None
    out = done.stdout
    if done.returncode != 0 or not out.startswith(_MAGIC[media_type]):
        raise PreviewUnavailable()
    if not _within_cap(declared_size(out, "jpeg" if media_type == "image/jpeg" else "png"),
                       pixels=MAX_SIDE * MAX_SIDE, side=MAX_SIDE):
        raise PreviewUnavailable()  # the worker's promise, checked on what it wrote
    return Drawn(out, media_type, "jpg" if media_type == "image/jpeg" else "png")
