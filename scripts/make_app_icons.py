"""Draw the phone app's icons (assets/icons/*.png) from the favicon's shapes, with Pillow.

Run once when the logo changes (``python scripts/make_app_icons.py``) and commit the PNGs: Pillow
cannot read SVG, so the favicon's few shapes (assets/favicon.svg, a 32-unit square) are drawn again
here at 4x and scaled down for smooth edges. The maskable icon keeps the mark inside the central
80 % "safe zone" on a full-bleed background, as launchers crop it to a circle or squircle.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ACCENT = (62, 99, 221, 255)  # #3e63dd, Radix indigo 9: the UI kit's accent and the manifest's theme colour
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parents[1] / "assets" / "icons"
PULSE = [(7.5, 17.5), (11, 17.5), (12.8, 14.3), (15.5, 20.5), (17.7, 15.9), (18.8, 17.5), (24.5, 17.5)]


def _mark(draw: ImageDraw.ImageDraw, origin: float, unit: float) -> None:
    """The heart with its pulse line, in favicon units (0..32) placed at `origin` with `unit` px each."""

    def p(x: float, y: float) -> tuple[float, float]:
        return origin + x * unit, origin + y * unit

    for cx in (11, 21):
        (x0, y0), (x1, y1) = p(cx - 5.2, 13.5 - 5.2), p(cx + 5.2, 13.5 + 5.2)
        draw.ellipse([x0, y0, x1, y1], fill=WHITE)
    draw.polygon([p(7.4, 17.25), p(11, 13.5), p(21, 13.5), p(24.6, 17.25), p(16, 25.5)], fill=WHITE)
    draw.line([p(x, y) for x, y in PULSE], fill=ACCENT, width=max(1, round(1.8 * unit)), joint="curve")


def icon(size: int, *, maskable: bool) -> Image.Image:
    big = size * 4
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    if maskable:  # full bleed; the 32-unit mark shrunk into the central 80 %
        draw.rectangle([0, 0, big, big], fill=ACCENT)
        unit = big * 0.8 / 32
        _mark(draw, big * 0.1, unit)
    else:  # the favicon as it is: a rounded square (radius 7 of 32)
        unit = big / 32
        draw.rounded_rectangle([0, 0, big - 1, big - 1], radius=7 * unit, fill=ACCENT)
        _mark(draw, 0, unit)
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        icon(size, maskable=False).save(OUT / f"icon-{size}.png", optimize=True)
        icon(size, maskable=True).save(OUT / f"maskable-{size}.png", optimize=True)
    icon(180, maskable=True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    print(f"wrote icons to {OUT}")


if __name__ == "__main__":
    main()
