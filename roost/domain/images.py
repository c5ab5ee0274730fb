"""Uploaded pictures made safe to serve: checked before decoding, turned upright, scaled, and
re-encoded from their pixels alone (no EXIF, GPS, XMP, ICC or text), with a preview and its
blurhash. Pure and CPU-bound: callers run it in a thread (Pillow releases the GIL)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO

from blurhash._functions import ffi, lib  # the C encoder (see _blurhash)
from PIL import Image, ImageFile, ImageOps, ImageSequence

from roost.domain.errors import Invalid
from roost.domain.image_checks import (
    GIF,
    JPEG,
    PNG,
    UNREADABLE,
    WEBP,
    Layout,
    layout,
    refuse_declared,
    refuse_markup,
    refuse_polyglots,
    sniff,
)

__all__ = ["Limits", "Picture", "Processed", "process", "profile_picture", "sniff"]

Size = tuple[int, int]

_PILLOW = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP", GIF: "GIF"}
_EXTENSION = {JPEG: "jpg", PNG: "png", WEBP: "webp", GIF: "gif"}
_SAVE = {
    JPEG: {"quality": 85, "optimize": True, "progressive": True},
    PNG: {},  # zlib's default level: optimize=True costs several times the time for a few %
    WEBP: {"quality": 85},
}
BLURHASH_COMPONENTS = (4, 3)  # Mastodon's choice
_BLURHASH_SOURCE = (100, 100)  # a blurhash is 12 numbers: a thumbnail gives the same ones, faster


@dataclass(frozen=True)
class Limits:
    """What an upload may be; callers build it from the ROOST_MEDIA_* settings."""

    max_bytes: int = 16 * 1024 * 1024
    max_pixels: int = 33_177_600  # per frame (8K); more is a decompression bomb
    max_frames: int = 300
    original_pixels: int = 8_294_400  # 3840x2160: larger originals are scaled down
    small_pixels: int = 230_400  # 640x360: the preview's area

    def __post_init__(self) -> None:
        # Pillow warns of a bomb above its own ceiling: images that pass here must not reach it.
        if self.max_pixels > (Image.MAX_IMAGE_PIXELS or self.max_pixels):
            raise ValueError(f"max_pixels may be at most Pillow's {Image.MAX_IMAGE_PIXELS:,}")


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
    small: Picture  # always a still
    blurhash: str
    animated: bool  # an animated GIF kept animated


def process(data: bytes, limits: Limits = Limits(), declared_type: str | None = None) -> Processed:
    """The upload checked and re-encoded with its preview; anything wrong with it is Invalid."""
    content_type, found = _inspect(data, limits, declared_type)
    with _opened(data, content_type, limits) as image:
        if content_type == GIF and found.frames > 1:
            return _animated(image, limits)
        return _still(image, content_type, limits)


def profile_picture(data: bytes, width: int, height: int, limits: Limits = Limits()) -> Picture:
    """An avatar or header: covering ``width`` x ``height`` and centre-cropped, never upscaled."""
    return profile_picture_drafted(data, (width, height), limits, draft=True)


def profile_picture_drafted(data: bytes, size: Size, limits: Limits, draft: bool) -> Picture:
    """`profile_picture`, with JPEG draft decoding (libjpeg's 1/2..1/8 scaling) on or off."""
    content_type, _ = _inspect(data, limits, None)
    with _opened(data, content_type, limits) as image:
        if draft:
            _draft(image, _covering(_upright_size(image), size))
        pixels = _normalised(_upright(image))
        box, scaled = _cover(pixels.size, size)
        picture = _bare(pixels.resize(scaled, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0))
        return _encode(picture, PNG if _has_alpha(picture) else JPEG)


def fit_area(size: Size, area: int) -> Size:
    """``size`` scaled down to at most ``area`` pixels, keeping its aspect; never up."""
    width, height = size
    if width * height <= area:
        return size
    scale = math.sqrt(area / (width * height))
    fitted = max(1, int(width * scale)), max(1, int(height * scale))
    # a strip one pixel thin cannot keep its aspect: clip its long side to the area
    return min(fitted[0], area // fitted[1]), min(fitted[1], area // fitted[0])


def _cover(size: Size, target: Size) -> tuple[tuple[int, int, int, int], Size]:
    """The centred box of ``target``'s aspect in ``size``, and what it scales to (not up)."""
    (width, height), (want_w, want_h) = size, target
    if width * want_h > height * want_w:  # wider than the target: crop the sides
        crop = max(1, min(width, round(height * want_w / want_h))), height
    else:
        crop = width, max(1, min(height, round(width * want_h / want_w)))
    left, top = (width - crop[0]) // 2, (height - crop[1]) // 2
    scaled = target if crop[0] >= want_w or crop[1] >= want_h else crop  # either: rounding
    return (left, top, left + crop[0], top + crop[1]), scaled


def _inspect(data: bytes, limits: Limits, declared_type: str | None) -> tuple[str, Layout]:
    """Every check that needs no decoding, so a bomb is refused before Pillow allocates it."""
    if len(data) > limits.max_bytes:
        raise Invalid("file", f"is larger than {limits.max_bytes // 1024 // 1024} MB")
    content_type = sniff(data)
    refuse_declared(declared_type)
    found = layout(data, content_type)
    _refuse_bomb(found.frame_pixels, found.frames, limits)
    refuse_polyglots(data, found)
    return content_type, found


def _refuse_bomb(frame_pixels: int, frames: int, limits: Limits) -> None:
    if frame_pixels > limits.max_pixels:
        raise Invalid("file", f"has too many pixels (more than {limits.max_pixels:,})")
    if frames > limits.max_frames:
        raise Invalid("file", f"has too many frames (more than {limits.max_frames})")
    if frames * frame_pixels > 4 * limits.max_pixels:
        raise Invalid("file", "has too many pixels in all its frames together")


@contextmanager
def _opened(data: bytes, content_type: str, limits: Limits) -> Iterator[ImageFile.ImageFile]:
    """Pillow's lazy image, opened by the one plugin the bytes name (never EPS and the like).

    Every exception inside becomes Invalid: Pillow answers a bad file with OSError,
    ValueError, SyntaxError, EOFError, struct.error, DecompressionBombError and more, and a
    client must never cause anything but a 422.
    """
    try:
        with Image.open(BytesIO(data), formats=[_PILLOW[content_type]]) as image:
            _refuse_bomb(image.width * image.height, 1, limits)  # Pillow's reading, too
            yield image
    except Invalid:
        raise
    except Exception as error:
        raise Invalid("file", UNREADABLE) from error


def _still(image: ImageFile.ImageFile, content_type: str, limits: Limits) -> Processed:
    """A still (or an animation's first frame): GIF becomes PNG, other types stay."""
    _draft(image, fit_area(_upright_size(image), limits.original_pixels))
    pixels = _normalised(_upright(image))
    kind = PNG if content_type == GIF else content_type
    original = _scaled(pixels, fit_area(pixels.size, limits.original_pixels))
    small = _scaled(original, fit_area(original.size, limits.small_pixels))
    return Processed(_encode(original, kind), _encode(small, kind), _blurhash(small), False)


def _animated(image: ImageFile.ImageFile, limits: Limits) -> Processed:
    """An animated GIF stays one: every frame scaled, its durations and loop kept."""
    size = fit_area(image.size, limits.original_pixels)
    frames, durations = [], []
    for frame in ImageSequence.Iterator(image):
        frames.append(_scaled(frame.convert("RGBA"), size))
        durations.append(int(frame.info.get("duration", 100)))
    loop = {"loop": image.info["loop"]} if "loop" in image.info else {}  # absent: play once
    out = BytesIO()
    frames[0].save(
        out, "GIF", save_all=True, append_images=frames[1:], duration=durations, disposal=2, **loop
    )
    original = Picture(out.getvalue(), GIF, "gif", *size)
    small = _scaled(frames[0], fit_area(size, limits.small_pixels))
    kind = PNG if _has_alpha(small) else JPEG
    return Processed(original, _encode(small, kind), _blurhash(small), True)


def _upright_size(image: Image.Image) -> Size:
    transposed = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)  # Orientation: turned 90°
    return (image.height, image.width) if transposed else image.size


def _draft(image: ImageFile.ImageFile, needed: Size) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still leaves ``needed`` (upright)."""
    if image.format == "JPEG":
        image.draft(None, needed if _upright_size(image) == image.size else needed[::-1])


def _covering(size: Size, target: Size) -> Size:
    """``size`` scaled (down or up) just to cover ``target``."""
    scale = max(target[0] / size[0], target[1] / size[1])
    return math.ceil(size[0] * scale), math.ceil(size[1] * scale)


def _upright(image: ImageFile.ImageFile) -> Image.Image:
    """Decoded and turned as its EXIF Orientation says; markup in decoded text refused."""
    image.load()
    refuse_markup(value for value in image.info.values() if isinstance(value, str | bytes))
    ImageOps.exif_transpose(image, in_place=True)
    return image


def _normalised(image: Image.Image) -> Image.Image:
    """One of L, LA, RGB or RGBA: what every encoder here takes."""
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if image.mode.startswith("I"):  # 16-bit grey: convert("L") would clip, not scale
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "1":
        return image.convert("L")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def _has_alpha(image: Image.Image) -> bool:
    """Whether any pixel is see-through (an alpha channel that is all opaque is not)."""
    if image.mode not in ("LA", "RGBA"):
        return False
    lowest, _ = image.getchannel("A").getextrema()
    return isinstance(lowest, int) and lowest < 255


def _scaled(image: Image.Image, size: Size) -> Image.Image:
    if size == image.size:
        return _bare(image.copy())
    # reducing_gap: a box reduction first when shrinking 3x or more (a preview), 2x as fast and
    # "indistinguishable from fair resampling in most cases" (Pillow docs)
    return _bare(image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0))


def _bare(image: Image.Image) -> Image.Image:
    """Pixels alone: Pillow's encoders read EXIF, XMP, ICC, text and comments from ``info``."""
    image.info = {}
    return image


def _encode(image: Image.Image, content_type: str) -> Picture:
    if content_type == JPEG and image.mode not in ("L", "RGB"):
        image = _bare(image.convert("RGB"))
    out = BytesIO()
    image.save(out, _PILLOW[content_type], **_SAVE[content_type])
    return Picture(out.getvalue(), content_type, _EXTENSION[content_type], *image.size)


def _blurhash(image: Image.Image) -> str:
    """blurhash-python's C encoder, handed the pixels directly: its ``encode`` reads them with
    ``Image.getdata``, deprecated in Pillow 13 (an error under the tests) and gone in 14."""
    thumbnail = image.convert("RGB")
    thumbnail.thumbnail(_BLURHASH_SOURCE)
    width, height = thumbnail.size
    digest = ffi.new("char[]", 2 + 4 + (9 * 9 - 1) * 2 + 1)  # the longest hash, as encode sizes it
    pixels = ffi.from_buffer(thumbnail.tobytes())
    x, y = BLURHASH_COMPONENTS
    made = lib.create_hash_from_pixels(x, y, width, height, pixels, width * 3, digest)
    return str(ffi.string(made).decode())
