"""Real picture files made in the tests: photos with EXIF (GPS, orientation), PNGs, GIFs."""

from __future__ import annotations

import io
import zlib

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg(
    width: int = 200, height: int = 100, *, gps: bool = False, orientation: int | None = None
) -> bytes:
    """A JPEG whose top-left quarter is red and the rest blue, with EXIF as asked."""
    image = Image.new("RGB", (width, height), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, width // 2, height // 2))
    exif = Image.Exif()
    exif[0x010F] = "RoostCam"  # Make
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)}
    if orientation is not None:
        exif[ORIENTATION] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def png(width: int = 64, height: int = 48, color=(0, 200, 0, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), color).save(out, "PNG")
    return out.getvalue()


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small PNG whose header claims a huge picture: decoding it would take gigabytes."""
    out = io.BytesIO()
    Image.new("L", (8, 8)).save(out, "PNG")
    data = bytearray(out.getvalue())
    data[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")

    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    return bytes(data)


def polyglot() -> bytes:
    """A JPEG with an HTML page after its end: an image to one reader, a page to another."""
    return jpeg(32, 32) + b"<html><script>alert(document.cookie)</script></html>"


def read(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def noisy_jpeg(width: int, height: int) -> bytes:
    """A photo-like JPEG that compresses like a photo (noise): large bytes for its size."""
    out = io.BytesIO()
    Image.effect_noise((width, height), 64).convert("RGB").save(out, "JPEG", quality=95)
    return out.getvalue()
