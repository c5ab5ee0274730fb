"""PLACEHOLDER (the real module arrives from another branch at merge)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import blurhash
from PIL import Image, ImageOps

from roost.domain.errors import Invalid


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 16 * 1024 * 1024
    max_pixels: int = 33_177_600
    max_frames: int = 300
    original_pixels: int = 8_294_400
    small_pixels: int = 230_400


@dataclass(frozen=True)
class Picture:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class Processed:
    original: Picture
    small: Picture
    blurhash: str
    animated: bool


def sniff(data: bytes) -> str:
    try:
        kind = Image.open(io.BytesIO(data)).format
    except Exception:
        raise Invalid("file", "is not an image Roost can read") from None
    return {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif"}.get(kind, "image/webp")


def _encode(image: Image.Image) -> Picture:
    out = io.BytesIO()
    image = image.convert("RGB")
    image.save(out, "JPEG", quality=85)
    return Picture(out.getvalue(), "image/jpeg", "jpg", image.width, image.height)


def process(data: bytes, limits: Limits = Limits(), declared_type: str | None = None) -> Processed:
    try:
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
        small = image.copy()
        small.thumbnail((640, 360))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hashed = blurhash.encode(small.convert("RGB"), 4, 3)
        return Processed(_encode(image), _encode(small), hashed, False)
    except Exception:
        raise Invalid("file", "is not an image Roost can read") from None


def profile_picture(data: bytes, width: int, height: int, limits: Limits = Limits()) -> Picture:
    try:
        image = ImageOps.fit(ImageOps.exif_transpose(Image.open(io.BytesIO(data))), (width, height))
        return _encode(image)
    except Exception:
        raise Invalid("file", "is not an image Roost can read") from None
