"""Draw a preview image of one file: read its bytes on stdin, write a PNG on stdout.

Run only by ``preview.render_png`` as ``python -I render_worker.py <kind>``: a separate process with
an empty environment (no keys, no database URL), capped CPU time and memory, so a hostile PDF or
image that trips the C decoders (PDFium, Pillow) can crash only this short-lived process.
Exit codes: 0 ok, 2 the file could not be drawn. Imports nothing from patient_portal on purpose.
"""

from __future__ import annotations

import io
import resource
import sys
import warnings

MAX_SIDE = 1600  # pixels on the longer side of the preview
CPU_SECONDS = 10
MEMORY_BYTES = 1024 * 1024 * 1024


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _pdf_first_page(data: bytes):
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    if len(pdf) == 0:
        raise ValueError("no pages")
    page = pdf[0]
    width, height = page.get_size()
    scale = min(2.0, MAX_SIDE / max(width, height, 1))
    return page.render(scale=scale, may_draw_forms=False).to_pil()


def _image_first_frame(data: bytes):
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = 60_000_000  # refuse decompression bombs (the warning band too)
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    image = Image.open(io.BytesIO(data))
    image.seek(0)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image.convert("RGB") if image.mode not in ("RGB", "RGBA", "L") else image


def main() -> int:
    _limit()
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    data = sys.stdin.buffer.read()
    try:
        image = _pdf_first_page(data) if kind == "pdf" else _image_first_frame(data)
        out = io.BytesIO()
        image.save(out, format="PNG")
    except Exception:  # any failure means "can't preview"; the caller shows a plain message
        return 2
    sys.stdout.buffer.write(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
