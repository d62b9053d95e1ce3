"""Draw a preview image of one file: read its bytes on stdin, write the preview on stdout.

PDF: the first page (PDFium). PNG, JPEG, TIFF and HEIC: the first image (Pillow, pillow-heif), turned
upright as its EXIF says. DICOM: the first frame, windowed (pydicom). Always re-encoded — never the
input bytes — at most MAX_SIDE pixels on the longer side: JPEG for photos (JPEG, HEIC), PNG otherwise.
Images declaring more than MAX_PIXELS are refused from their header, before decoding.

Run only by ``preview.render`` as ``python -I render_worker.py <kind>``: a separate process with
an empty environment (no keys, no database URL), capped CPU time and memory, so a hostile PDF or
image that trips the C decoders (PDFium, Pillow, libheif) can crash only this short-lived process.
Exit codes: 0 ok, 2 the file could not be drawn. Imports nothing from patient_portal on purpose
(``preview`` imports its constants from here, so the caps are written once).
"""

from __future__ import annotations

import io
import resource
import sys
import warnings

MAX_SIDE = 1600  # pixels on the longer side of the preview
MAX_PIXELS = 60_000_000  # refuse decompression bombs (the warning band too)
JPEG_OUT = frozenset({"jpeg", "heic"})  # photos: a JPEG preview; everything else a PNG
JPEG_QUALITY = 85
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


#: The one Pillow decoder each kind may reach (the upload check already matched the magic bytes).
PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "tiff": "TIFF", "heic": "HEIF"}


def _image_first_frame(data: bytes, kind: str):
    from PIL import Image, ImageOps

    if kind == "heic":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    # reads the header only; more than MAX_PIXELS raises here, before a pixel is decoded
    image = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[kind]])
    image.seek(0)
    image.thumbnail((MAX_SIDE, MAX_SIDE))  # JPEG: decoded at a reduced scale (draft mode)
    return ImageOps.exif_transpose(image)  # phone photos stand upright, as the browser showed them


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


def _eight_bit(image):
    """16-bit and float greys (scans, some TIFFs and PNGs) as 8-bit grey: 16-bit keeps its full
    range, 32-bit integer and float are stretched from their darkest to their brightest pixel."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(image, dtype=np.float64)
    if image.mode.startswith("I;16"):
        pixels = pixels / 257.0
    else:
        low, high = float(pixels.min()), float(pixels.max())
        pixels = (pixels - low) / (high - low or 1.0) * 255.0
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")


def _encode(image, kind: str, out: io.BytesIO) -> None:
    """Write `image` fresh (no metadata carried over): JPEG for photos, PNG for the rest."""
    if image.mode.startswith(("I", "F")):
        image = _eight_bit(image)
    if kind in JPEG_OUT:
        image = image if image.mode in ("RGB", "L") else image.convert("RGB")
        image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        return
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.mode or "a" in image.mode else "RGB")
    image.save(out, format="PNG")


def main() -> int:
    _limit()
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    data = sys.stdin.buffer.read()
    try:
        if kind == "pdf":
            image = _pdf_first_page(data)
        elif kind == "dicom":
            image = _dicom_first_frame(data)
        elif kind in PILLOW_FORMATS:
            image = _image_first_frame(data, kind)
        else:
            return 2
        out = io.BytesIO()
        _encode(image, kind, out)
    except Exception:  # any failure means "can't preview"; the caller shows a plain message
        return 2
    sys.stdout.buffer.write(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
