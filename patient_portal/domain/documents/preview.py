"""Preview images for files a browser can't show safely or at all (a PDF's first page, TIFF, HEIC, DICOM).

The drawing happens in ``render_worker.py``, a separate process without keys or settings; this
module hands it the verified plaintext and takes back a PNG.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_WORKER = Path(__file__).with_name("render_worker.py")
TIMEOUT_SECONDS = 20
#: Kinds whose preview is drawn as a PNG (others are shown as stored: PNG, JPEG, text).
DRAWN = frozenset({"pdf", "tiff", "heic", "dicom"})


class PreviewUnavailable(Exception):
    """The file could not be drawn; it can still be downloaded."""

    def __init__(self) -> None:
        super().__init__("This file can't be previewed. Download it to open it.")


def render_png(data: bytes, kind: str) -> bytes:
    """The first page (PDF) or first image/frame (TIFF, HEIC, DICOM) of `data` as a PNG; raises
    PreviewUnavailable."""
    if kind not in DRAWN:
        raise ValueError(kind)
    try:
        # fixed argv (kind is checked against DRAWN above); the file itself goes in on stdin
        done = subprocess.run([sys.executable, "-I", str(_WORKER), kind], input=data, capture_output=True,  # noqa: S603
                              timeout=TIMEOUT_SECONDS, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        raise PreviewUnavailable() from None
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG\r\n\x1a\n"):
        raise PreviewUnavailable()
    return done.stdout
