"""Draw a preview image of one file: read its bytes on stdin, write a PNG on stdout.

PDF: the first page (PDFium). TIFF and HEIC: the first image (Pillow, pillow-heif). DICOM: the first
frame, windowed (pydicom).

Run only by ``preview.render_png`` as ``python -I render_worker.py <kind>``: a separate process with
an empty environment (no keys, no database URL), capped CPU time and memory, so a hostile PDF or
image that trips the C decoders (PDFium, Pillow, libheif) can crash only this short-lived process.
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


MAX_PIXELS = 60_000_000  # refuse decompression bombs (the warning band too)


def _image_first_frame(data: bytes, kind: str = "tiff"):
    from PIL import Image

    if kind == "heic":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    image = Image.open(io.BytesIO(data))
    image.seek(0)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image.convert("RGB") if image.mode not in ("RGB", "RGBA", "L") else image


def _dicom_first_frame(data: bytes):
    """The first frame of a DICOM image, windowed as its VOI LUT / window says, as 8-bit grey or RGB."""
    import numpy as np
    import pydicom
    from PIL import Image
    from pydicom.pixels import apply_voi_lut

    dataset = pydicom.dcmread(io.BytesIO(data))
    if int(dataset.Rows) * int(dataset.Columns) > MAX_PIXELS:
        raise ValueError("too many pixels")
    pixels = dataset.pixel_array
    frames = int(getattr(dataset, "NumberOfFrames", 1) or 1)
    if frames > 1:
        pixels = pixels[0]
    if getattr(dataset, "SamplesPerPixel", 1) == 3:
        image = Image.fromarray(pixels.astype(np.uint8), "RGB")
    else:
        pixels = apply_voi_lut(pixels, dataset).astype(np.float64)
        low, high = float(pixels.min()), float(pixels.max())
        pixels = (pixels - low) / (high - low or 1.0) * 255.0
        if getattr(dataset, "PhotometricInterpretation", "") == "MONOCHROME1":
            pixels = 255.0 - pixels  # MONOCHROME1 shows low values bright
        image = Image.fromarray(pixels.astype(np.uint8), "L")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image


def main() -> int:
    _limit()
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    data = sys.stdin.buffer.read()
    try:
        if kind == "pdf":
            image = _pdf_first_page(data)
        elif kind == "dicom":
            image = _dicom_first_frame(data)
        else:
            image = _image_first_frame(data, kind)
        out = io.BytesIO()
        image.save(out, format="PNG")
    except Exception:  # any failure means "can't preview"; the caller shows a plain message
        return 2
    sys.stdout.buffer.write(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
