"""What an upload's bytes are, read without decoding: its type, its frames' sizes, where the image
ends, and whether another file or markup hides in it (a polyglot)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from roost.domain.errors import Invalid

JPEG, PNG, WEBP, GIF = "image/jpeg", "image/png", "image/webp", "image/gif"
UNREADABLE = "is not an image Roost can read (JPEG, PNG, WebP or GIF)"
NOT_YET = "is video or audio: video and audio are not accepted yet"

# ISO-BMFF brands that are still images (AVIF, HEIF): not video, just not a type Roost reads.
_STILL_BRANDS = (b"avif", b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1")
_MEDIA_PREFIXES = (
    b"\x1a\x45\xdf\xa3",  # WebM, Matroska
    b"OggS",  # Ogg (Vorbis, Opus, Theora)
    b"ID3",  # MP3 with ID3v2 tags
    b"fLaC",  # FLAC
    b"FLV",  # Flash video
    b"#!AMR",  # AMR voice
    b"MThd",  # MIDI
    b"\x00\x00\x01\xba",  # MPEG program stream
    b"\x30\x26\xb2\x75\x8e\x66\xcf\x11",  # ASF: WMV, WMA
)
_RIFF_MEDIA = (b"WAVE", b"AVI ")

# Another format's start after the image's end: the file is two files in one.
_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"%PDF-", b"<?php", b"Rar!\x1a\x07", b"7z\xbc\xaf")
MARKUP = re.compile(rb"<script|<html|<!doctype|<\?php|<svg|<iframe|javascript:", re.IGNORECASE)
# Some phones append a few KB of their own after the image; more than this is another file.
LONGEST_TRAILER = 64 * 1024
# What a motion photo's video is searched for: the patterns too long to occur there by chance.
VIDEO_MARKUP = re.compile(rb"<script|<html|<!doctype|<\?php|<iframe|javascript:", re.IGNORECASE)
_LONG_SIGNATURES = (b"%PDF-", b"Rar!\x1a\x07")
# Chunks, segments and blocks a walk may take: a 16 MB GIF of 255-byte sub-blocks takes 66,000.
# Files of millions of empty chunks cost seconds here and many more in Pillow's parsers.
MOST_PARTS = 150_000


def sniff(data: bytes) -> str:
    """The content type the first bytes say; refuses anything but the four image types."""
    if not data:
        raise Invalid("file", "is empty")
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if _is_video_or_audio(head):
        raise Invalid("file", NOT_YET)
    raise Invalid("file", UNREADABLE)


def _is_video_or_audio(head: bytes) -> bool:
    if head[4:8] == b"ftyp":  # MP4, MOV, M4A, 3GP
        return head[8:12] not in _STILL_BRANDS
    if head.startswith(b"RIFF"):
        return head[8:12] in _RIFF_MEDIA
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return True
    mpeg_audio_sync = len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0  # MP3, AAC
    return mpeg_audio_sync or head.startswith(_MEDIA_PREFIXES)


@dataclass
class Layout:
    """The structure of an image file as its own chunks describe it."""

    end: int  # where the image ends: what follows is a trailer
    sizes: list[tuple[int, int]] = field(default_factory=list)  # headers' (width, height)
    frames: int = 1
    notes: list[bytes] = field(default_factory=list)  # metadata and unparsed bytes (not pixels)

    parts: int = 0
    lost: bool = False  # a walk met bytes its format does not allow there

    @property
    def frame_pixels(self) -> int:
        return max((w * h for w, h in self.sizes), default=0)

    def step(self) -> None:
        self.parts += 1
        if self.parts > MOST_PARTS:
            raise Invalid("file", f"is made of too many parts (more than {MOST_PARTS:,})")


def layout(data: bytes, content_type: str) -> Layout:
    """Walk the file's chunks. A walker that loses its way ends the image there and keeps the
    rest as a note, so it is still searched for markup (Pillow judges whether it decodes)."""
    walk = {JPEG: _jpeg, PNG: _png, GIF: _gif, WEBP: _webp}[content_type]
    return walk(data)


def refuse_markup(parts: Iterable[bytes | str]) -> None:
    """Refuse HTML, SVG, script or PHP: a browser or server shown the file could run it."""
    for part in parts:
        raw = part.encode("utf-8", "replace") if isinstance(part, str) else part
        if MARKUP.search(raw):
            raise Invalid("file", "holds markup or script, which an image must not")


def refuse_polyglots(data: bytes, found: Layout) -> None:
    """Refuse markup in metadata, or another file after the image's end.

    Only metadata and the trailer are searched, not pixel data: compressed pixels hold a
    case-blind ``<svg`` by chance about once in 150 4 MB photos, and they are re-encoded anyway.
    """
    trailer = data[found.end :]
    if _motion_video(trailer):  # a phone's motion photo: the picture is kept, never the video
        refuse_markup(found.notes)
        if VIDEO_MARKUP.search(trailer) or any(s in trailer for s in _LONG_SIGNATURES):
            raise Invalid("file", "holds markup or script, which an image must not")
        return
    refuse_markup([*found.notes, trailer])
    if not trailer.strip(b"\x00"):
        return
    if any(signature in trailer for signature in _SIGNATURES) or len(trailer) > LONGEST_TRAILER:
        raise Invalid("file", "has another file hidden after the image")


def _motion_video(trailer: bytes) -> bool:
    """Whether what follows the picture is the short video a phone took with it (Google's
    Motion Photo: an MP4 right after the JPEG; Samsung's: after a ``MotionPhoto_Data`` marker).
    Several MB, so past ``LONGEST_TRAILER``, and compressed, so its bytes spell short patterns
    by chance (``<svg`` in about 1% of 3 MB videos, a ZIP header in 0.07%): only the patterns of
    five bytes or more are searched there, and the video is never kept (the picture is rebuilt
    from pixels)."""
    marker = trailer.find(b"MotionPhoto_Data", 0, 64)
    video = trailer[marker + len(b"MotionPhoto_Data") :] if marker >= 0 else trailer
    return video[4:8] == b"ftyp" and video[8:12].isalnum()


def refuse_declared(declared_type: str | None) -> None:
    """Trust the bytes over the Content-Type, but refuse an image sent as text/html or the like."""
    if declared_type is None:
        return
    media = declared_type.split(";")[0].strip().lower()
    generic = ("", "application/octet-stream", "binary/octet-stream")
    if not media.startswith("image/") and media not in generic:
        raise Invalid("file", "is an image sent as another type of file")


_SOF = frozenset({*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC})  # frame headers, not tables
_MARKER = re.compile(rb"\xff+([^\x00\xff])")
_AFTER_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # next marker, not stuffing or restart


def _jpeg(data: bytes) -> Layout:
    """One JPEG, then any appended to it (a camera's second picture or gain map, as MPF)."""
    found = Layout(len(data))
    pos = _one_jpeg(data, 2, found)
    if found.lost:
        raise Invalid("file", UNREADABLE)  # Pillow would creep through the rest byte by byte
    while pos is not None:  # a cut or lost appended JPEG leaves what follows as a trailer
        found.end = pos
        pos = _one_jpeg(data, pos + 2, found) if data.startswith(b"\xff\xd8\xff", pos) else None
    return found


def _one_jpeg(data: bytes, pos: int, found: Layout) -> int | None:
    """Segments and entropy-coded scans up to EOI: where it ends, or None if lost or cut."""
    while (match := _MARKER.match(data, pos)) and match.end() - pos < 1024:
        found.step()
        marker, pos = match[1][0], match.end()
        if marker == 0xD9:
            return pos
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        length = int.from_bytes(data[pos : pos + 2])
        segment = data[pos + 2 : pos + length]
        if marker in _SOF and len(segment) >= 5:
            found.sizes.append((int.from_bytes(segment[3:5]), int.from_bytes(segment[1:3])))
        elif marker >= 0xE0:  # APPn (EXIF, XMP, ICC) and COM
            found.notes.append(segment)
        pos += max(length, 2)
        if marker == 0xDA:
            if not (scan_end := _AFTER_SCAN.search(data, pos)):
                return None
            pos = scan_end.start()
    found.notes.append(data[pos:])
    found.lost = True
    return None


def _png(data: bytes) -> Layout:
    found = Layout(len(data))
    pos = 8
    while pos + 12 <= len(data):
        found.step()
        length, kind = int.from_bytes(data[pos : pos + 4]), data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR" and len(body) >= 8:
            found.sizes.append((int.from_bytes(body[0:4]), int.from_bytes(body[4:8])))
        elif kind == b"acTL" and len(body) >= 4:
            found.frames = int.from_bytes(body[0:4])
        elif kind == b"IEND":
            found.end = pos
            return found
        elif kind not in (b"IDAT", b"fdAT"):
            found.notes.append(body)
    return found


def _gif(data: bytes) -> Layout:
    """Header, colour table, then extensions and frames until the trailer (0x3B)."""
    found = Layout(len(data), sizes=[(_u16(data, 6), _u16(data, 8))], frames=0)
    pos = 13 + (3 << ((data[10] & 7) + 1) if len(data) > 10 and data[10] & 0x80 else 0)
    while pos < len(data):
        found.step()
        block = data[pos]
        if block == 0x3B:
            found.end = pos + 1
            return found
        if block == 0x21:
            pos, body = _sub_blocks(data, pos + 2, found)
            found.notes.append(body)
        elif block == 0x2C and pos + 10 <= len(data):
            left, top, width, height = (_u16(data, pos + n) for n in (1, 3, 5, 7))
            screen_width, screen_height = found.sizes[0]  # Pillow grows its canvas to fit
            found.sizes.append((max(left + width, screen_width), max(top + height, screen_height)))
            flags = data[pos + 9]
            pos += 11 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # and LZW code size
            pos, _ = _sub_blocks(data, pos, found, keep=False)
            found.frames += 1
        else:
            found.notes.append(data[pos:])
            break
    found.frames = max(found.frames, 1)
    return found


def _sub_blocks(data: bytes, pos: int, found: Layout, keep: bool = True) -> tuple[int, bytes]:
    """GIF data sub-blocks: a length byte, that many bytes, until a zero length."""
    parts = []
    while pos < len(data) and (size := data[pos]):
        found.step()
        if keep:
            parts.append(data[pos + 1 : pos + 1 + size])
        pos += 1 + size
    return pos + 1, b"".join(parts)


def _webp(data: bytes) -> Layout:
    """RIFF chunks up to the RIFF size: the canvas (VP8X) or bitstream size, frames (ANMF)."""
    riff_end = 8 + int.from_bytes(data[4:8], "little")
    found = Layout(min(riff_end + (riff_end & 1), len(data)), frames=0)
    pos = 12
    while pos + 8 <= found.end:
        found.step()
        kind, length = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = data[pos + 8 : pos + 8 + length]
        pos += 8 + length + (length & 1)
        if kind == b"VP8X" and len(body) >= 10:
            found.sizes.append((1 + _u24(body, 4), 1 + _u24(body, 7)))
        elif kind == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
            found.sizes.append((_u16(body, 6) & 0x3FFF, _u16(body, 8) & 0x3FFF))
        elif kind == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
            bits = int.from_bytes(body[1:5], "little")
            found.sizes.append(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        elif kind == b"ANMF":
            found.frames += 1
        elif kind not in (b"ALPH", b"ANIM"):
            found.notes.append(body)
    found.frames = max(found.frames, 1)
    return found


def _u16(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 2], "little")


def _u24(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 3], "little")
