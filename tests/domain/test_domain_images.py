"""Uploaded pictures: refused when unsafe, stripped of metadata, turned, scaled and previewed.

Every file here is a real one made with Pillow (or by hand where Pillow will not make it)."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

import blurhash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageFile
from PIL.PngImagePlugin import PngInfo

from roost.domain.errors import Invalid
from roost.domain.images import Limits, Picture, process, profile_picture, sniff

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>where I live</rdf:RDF></x:xmpmeta>'
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def encode(image: Image.Image, format: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format, **options)
    return out.getvalue()


def camera_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Canon", "EOS R5", orientation  # Make, Model
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (51.0, 30.0, 12.0), "W", (0.0, 7.0, 39.0)
    return exif


def opened(picture: Picture) -> Image.Image:
    image = Image.open(io.BytesIO(picture.data))
    image.load()
    assert image.size == (picture.width, picture.height)
    assert image.format.lower() == picture.extension.replace("jpg", "jpeg")
    return image


def png_chunks(data: bytes) -> list[bytes]:
    kinds, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kinds.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return kinds


def png_by_hand(width: int, height: int, extra: bytes = b"") -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", idat)
        + extra
        + chunk(b"IEND", b"")
    )


ONE_PIXEL_FRAME = b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00"


def gif_by_hand(width: int, height: int, frames: int) -> bytes:
    screen = b"GIF89a" + struct.pack("<HH", width, height) + b"\x80\x00\x00"
    return screen + b"\xff\xff\xff\x00\x00\x00" + ONE_PIXEL_FRAME * frames + b";"


def photo(size=(200, 100), **options) -> bytes:
    return encode(Image.new("RGB", size, BLUE), "JPEG", **options)


def refused(data: bytes, *words: str, **options) -> str:
    with pytest.raises(Invalid) as caught:
        process(data, **options)
    assert caught.value.status == 422 and caught.value.message.startswith("File ")
    assert all(word in caught.value.message for word in words), caught.value.message
    return caught.value.message


# Metadata and orientation


def test_exif_gps_camera_xmp_icc_and_comments_are_gone_from_a_jpeg() -> None:
    data = photo(exif=camera_exif(), icc_profile=ICC, xmp=XMP, comment=b"taken at home")
    assert b"Canon" in data and b"where I live" in data
    done = process(data)
    for picture in (done.original, done.small):
        image = opened(picture)
        assert not image.getexif() and not image.getexif().get_ifd(0x8825)
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(image.info)
        for secret in (b"Exif", b"Canon", b"EOS", b"where I live", b"xmpmeta", b"ICC_PROFILE"):
            assert secret not in picture.data
        assert b"taken at home" not in picture.data


def test_png_text_exif_and_icc_chunks_are_gone() -> None:
    info = PngInfo()
    info.add_text("Author", "someone")
    info.add_itxt("Comment", "a secret", zip=True)
    data = encode(
        Image.new("RGBA", (30, 20), RED), "PNG", pnginfo=info, exif=camera_exif(), icc_profile=ICC
    )
    assert {b"tEXt", b"iTXt", b"eXIf", b"iCCP"} <= set(png_chunks(data))
    done = process(data)
    assert set(png_chunks(done.original.data)) <= {b"IHDR", b"IDAT", b"IEND"}
    assert not opened(done.original).getexif()


def test_webp_exif_xmp_and_icc_are_gone() -> None:
    image = Image.new("RGB", (40, 30), GREEN)
    data = encode(image, "WEBP", exif=camera_exif(), xmp=XMP, icc_profile=ICC)
    done = process(data)
    assert done.original.content_type == "image/webp"
    for secret in (b"EXIF", b"XMP ", b"ICCP", b"Canon", b"where I live"):
        assert secret not in done.original.data


def test_orientation_6_turns_the_picture_and_keeps_its_corner() -> None:
    image = Image.new("RGB", (200, 100), BLUE)
    image.paste(RED, (0, 0, 20, 20))  # what was top-left
    done = process(encode(image, "JPEG", exif=camera_exif(orientation=6), quality=95))
    upright = opened(done.original)
    assert upright.size == (100, 200)
    red, _, blue = upright.getpixel((90, 10))  # turned 90° clockwise: now top-right
    assert red > 200 and blue < 60
    assert opened(done.small).size == (100, 200)


# Refusals


def test_a_png_claiming_100000_by_100000_pixels_is_refused_before_decoding() -> None:
    refused(png_by_hand(100_000, 100_000), "too many pixels")
    assert len(png_by_hand(100_000, 100_000)) < 200


def test_a_gif_claiming_65535_square_with_many_frames_is_refused() -> None:
    refused(gif_by_hand(65535, 65535, 500), "too many")
    refused(gif_by_hand(10, 10, 301), "too many frames")
    refused(gif_by_hand(4000, 4000, 10), "all its frames")  # 16 Mpx each, 160 Mpx in all


def test_a_gif_frame_larger_than_its_screen_counts_as_its_size() -> None:
    frame = b",\x00\x00\x00\x00\xff\xff\xff\xff\x00\x02\x02D\x01\x00"  # 65535 x 65535
    refused(b"GIF89a\x01\x00\x01\x00\x00\x00\x00" + frame + b";", "too many pixels")


def test_a_webp_claiming_16384_square_is_refused() -> None:
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + b"\xff\x3f\x00" * 2
    refused(b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x, "too many pixels")


def test_a_file_of_countless_tiny_chunks_is_refused_before_pillow_crawls_it() -> None:
    empty_chunk = struct.pack(">I", 0) + b"tEXt" + struct.pack(">I", zlib.crc32(b"tEXt"))
    refused(png_by_hand(8, 8, extra=empty_chunk * 160_000), "too many parts")
    refused(b"GIF89a\x08\x00\x08\x00\x00\x00\x00!\xfe" + b"\x01a" * 160_000, "too many parts")


def test_a_jpeg_whose_segments_lose_their_way_is_refused_without_crawling_the_rest() -> None:
    refused(b"\xff\xd8\xff\xe0\x00\x04ab" + b"junk" * 100_000, "is not an image")
    refused(b"\xff\xd8" + b"\xff" * 100_000, "is not an image")


def test_limits_from_settings_are_obeyed() -> None:
    data = photo((100, 100))
    refused(data, "larger than", limits=Limits(max_bytes=100))
    refused(data, "too many pixels", limits=Limits(max_pixels=9_999))


@pytest.mark.parametrize(
    "data", [b"hello, I am a text file\n", b"<html><body>hi</body></html>", b"%PDF-1.7\n"]
)
def test_a_file_that_is_not_an_image_is_refused_whatever_it_is_called(data: bytes) -> None:
    refused(data, "is not an image Roost can read", declared_type="image/png")


def test_an_empty_file_is_refused() -> None:
    refused(b"", "empty")


def test_html_in_a_png_text_chunk_is_refused_plain_or_compressed() -> None:
    for compressed in (False, True):
        info = PngInfo()
        info.add_text("Comment", "<script>alert(1)</script>", zip=compressed)
        refused(encode(Image.new("RGB", (8, 8)), "PNG", pnginfo=info), "markup")


def test_html_in_a_jpeg_comment_or_gif_comment_is_refused() -> None:
    refused(photo(comment=b"<!DOCTYPE html><p>hi"), "markup")
    refused(encode(Image.new("P", (8, 8)), "GIF", comment=b"<SVG onload=x>"), "markup")


def test_a_zip_or_pdf_after_the_image_is_refused() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("evil.php", "nothing")
    refused(photo() + archive.getvalue(), "another file")
    refused(encode(Image.new("RGB", (8, 8)), "PNG") + b"%PDF-1.4 ...", "another file")
    refused(encode(Image.new("P", (8, 8)), "GIF") + b"<html>", "markup")


def test_a_long_trailer_is_refused_but_padding_and_a_phones_few_kb_are_not() -> None:
    trailer = bytes(range(256)) * 8  # 2 KB of a phone's own, no other format's signature
    assert process(photo() + trailer).original.width == 200
    assert process(photo() + b"\x00" * 200_000).original.width == 200
    refused(photo() + trailer * 40, "another file")


def test_a_phones_motion_photo_keeps_its_picture_and_drops_its_video() -> None:
    """Google's Motion Photo and Samsung's append the MP4 they took (megabytes, compressed):
    accepted and never kept; searched only for patterns too long to occur there by chance."""
    video = b"\x00\x00\x00\x18ftypmp42" + os.urandom(300_000) + b"PK\x03\x04<SVG"
    for appended in (video, b"MotionPhoto_Data" + video):
        done = process(photo() + appended)
        assert done.original.width == 200 and b"ftyp" not in done.original.data
    refused(photo() + b"\x00\x00\x00\x18ftypmp42" + photo(comment=b"<script>"), "markup")
    refused(photo(comment=b"<html>") + video, "markup")  # the picture's own metadata still is
    refused(photo() + os.urandom(300_000), "another file")  # not a video: too long a trailer


def test_a_jpeg_with_a_second_jpeg_appended_is_a_cameras_gain_map_and_accepted() -> None:
    assert process(photo() + photo((50, 50))).original.width == 200


def test_a_truncated_jpeg_is_refused_and_pillow_is_not_told_to_load_truncated_images() -> None:
    data = encode(Image.effect_noise((300, 200), 50).convert("RGB"), "JPEG")
    refused(data[: len(data) * 6 // 10], "is not an image")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_an_image_sent_as_html_is_refused_but_a_mislabelled_image_type_is_trusted() -> None:
    refused(photo(), "another type", declared_type="text/html; charset=utf-8")
    refused(photo(), "another type", declared_type="video/mp4")
    assert process(photo(), declared_type="image/png").original.content_type == "image/jpeg"
    assert process(photo(), declared_type="application/octet-stream").original.width == 200


@pytest.mark.parametrize(
    "head",
    [
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",  # MP4
        b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00",  # QuickTime MOV
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01",  # WebM
        b"OggS\x00\x02\x00\x00\x00\x00\x00\x00",
        b"ID3\x04\x00\x00\x00\x00\x00\x00",  # MP3 with tags
        b"\xff\xfb\x90\x64\x00\x00\x00\x00",  # MP3 frame
        b"RIFF\x24\x08\x00\x00WAVEfmt ",
        b"fLaC\x00\x00\x00\x22",
    ],
)
def test_video_and_audio_are_told_they_are_not_accepted_yet(head: bytes) -> None:
    with pytest.raises(Invalid, match="video and audio are not accepted yet"):
        sniff(head + b"\x00" * 64)


def test_heic_and_avif_are_images_roost_cannot_read_not_video() -> None:
    for brand in (b"heic", b"avif"):
        with pytest.raises(Invalid, match="not an image Roost can read"):
            sniff(b"\x00\x00\x00\x18ftyp" + brand + b"\x00" * 32)


def test_sniff_names_the_four_types() -> None:
    assert sniff(photo()) == "image/jpeg"
    assert sniff(encode(Image.new("RGB", (2, 2)), "PNG")) == "image/png"
    assert sniff(encode(Image.new("RGB", (2, 2)), "WEBP")) == "image/webp"
    assert sniff(encode(Image.new("P", (2, 2)), "GIF")) == "image/gif"


def _samples() -> list[bytes]:
    still = Image.effect_noise((40, 30), 40).convert("RGB")
    frames = [Image.new("P", (20, 10), n) for n in range(3)]
    return [
        encode(still, "JPEG", exif=camera_exif(6)),
        encode(still, "JPEG", progressive=True),
        encode(still.convert("RGBA"), "PNG"),
        encode(still, "WEBP"),
        encode(frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0),
    ]


SAMPLES = _samples()


@settings(max_examples=150, deadline=None)
@given(sample=st.sampled_from(SAMPLES), cut=st.integers(0, 10_000), junk=st.binary(max_size=40))
def test_any_cut_or_damaged_image_ends_in_a_result_or_invalid(sample, cut, junk) -> None:
    cut %= len(sample)
    for data in (sample[:cut], sample[:cut] + junk + sample[cut + len(junk) :]):
        try:
            process(data)
            profile_picture(data, 40, 40)
        except Invalid:
            pass


@settings(max_examples=150, deadline=None)
@given(
    head=st.sampled_from(
        [b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\0\0\0\0WEBP"]
    ),
    body=st.binary(max_size=300),
)
def test_random_bytes_end_in_invalid(head: bytes, body: bytes) -> None:
    with pytest.raises(Invalid):
        process(head + body)


# Sizes


def test_a_12_megapixel_photo_is_scaled_to_4k_area_keeping_its_aspect() -> None:
    done = process(encode(Image.new("RGB", (4000, 3000), BLUE), "JPEG"))
    width, height = done.original.width, done.original.height
    assert width * height <= 8_294_400 and width > 3300
    assert abs(width / height - 4 / 3) < 0.002
    assert done.small.width * done.small.height <= 230_400
    assert abs(done.small.width / done.small.height - 4 / 3) < 0.005


def test_a_tiny_image_is_not_upscaled() -> None:
    done = process(encode(Image.new("RGB", (10, 10), RED), "PNG"))
    assert (done.original.width, done.original.height) == (10, 10)
    assert (done.small.width, done.small.height) == (10, 10)


def test_a_panorama_keeps_its_aspect_in_its_preview() -> None:
    done = process(encode(Image.new("RGB", (10_000, 500), GREEN), "PNG"))
    assert (done.original.width, done.original.height) == (10_000, 500)
    assert done.small.width * done.small.height <= 230_400
    assert abs(done.small.width / done.small.height - 20) < 0.2


# Types and modes


def test_each_type_comes_out_as_itself_and_a_still_gif_as_png() -> None:
    image = Image.new("RGB", (60, 40), RED)
    for format, content_type in [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("WEBP", "image/webp"),
    ]:
        done = process(encode(image, format))
        assert done.original.content_type == done.small.content_type == content_type
        assert not done.animated
    done = process(encode(image.convert("P"), "GIF"))
    assert (done.original.content_type, done.original.extension) == ("image/png", "png")


def test_an_animated_gif_stays_animated_with_its_frames_timing_and_loop() -> None:
    frames = [Image.new("RGB", (480, 270), colour) for colour in (RED, GREEN, BLUE, RED)]
    data = encode(
        frames[0],
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=[100, 200, 300, 400],
        loop=0,
        comment=b"made by me",
    )
    done = process(data)
    assert done.animated and done.original.content_type == "image/gif"
    gif = opened(done.original)
    assert gif.n_frames == 4 and gif.info.get("loop") == 0 and "comment" not in gif.info
    durations = []
    for n in range(gif.n_frames):
        gif.seek(n)
        durations.append(gif.info["duration"])
    assert durations == [100, 200, 300, 400]
    assert b"made by me" not in done.original.data
    small = opened(done.small)
    assert done.small.content_type == "image/jpeg" and getattr(small, "n_frames", 1) == 1


@pytest.mark.parametrize("format", ["PNG", "WEBP"])
def test_an_animated_png_or_webp_keeps_its_first_frame_as_a_still(format: str) -> None:
    frames = [Image.new("RGB", (40, 30), colour) for colour in (RED, GREEN, BLUE)]
    done = process(encode(frames[0], format, save_all=True, append_images=frames[1:]))
    assert not done.animated and getattr(opened(done.original), "n_frames", 1) == 1
    assert opened(done.original).convert("RGB").getpixel((20, 15))[0] > 200


@pytest.mark.parametrize(
    "image, format, mode",
    [
        (Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG", "RGB"),
        (Image.new("L", (40, 30), 128), "JPEG", "L"),
        (Image.new("I;16", (40, 30), 40_000), "PNG", "L"),
        (Image.new("1", (40, 30), 1), "PNG", "L"),
        (Image.new("LA", (40, 30), (90, 128)), "PNG", "LA"),
    ],
)
def test_unusual_modes_are_processed(image: Image.Image, format: str, mode: str) -> None:
    done = process(encode(image, format))
    assert opened(done.original).mode == mode


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    done = process(encode(Image.new("I;16", (4, 4), 40_000), "PNG"))
    assert opened(done.original).getpixel((0, 0)) == 40_000 // 256


def test_a_cmyk_jpeg_keeps_its_colour() -> None:
    done = process(encode(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG"))
    red, green, blue = opened(done.original).getpixel((20, 15))
    assert red > 200 and green < 60 and blue < 60


def test_a_palette_png_with_transparency_keeps_it() -> None:
    image = Image.new("P", (40, 30), 1)
    image.putpalette([0, 0, 0, 255, 0, 0])
    image.paste(0, (0, 0, 20, 30))
    done = process(encode(image, "PNG", transparency=0))
    out = opened(done.original)
    assert out.mode == "RGBA" and out.getpixel((5, 5))[3] == 0 and out.getpixel((30, 5))[3] == 255


def test_the_blurhash_is_valid_with_4_by_3_components() -> None:
    done = process(encode(Image.effect_noise((64, 48), 60).convert("RGB"), "PNG"))
    assert len(done.blurhash) == 28 and blurhash.is_valid_blurhash(done.blurhash)
    assert done.blurhash[0] == "L"  # the size flag of 4 x 3 components


# Profile pictures


def bands(size, colours, vertical=False) -> Image.Image:
    """Three equal bands of colour, left to right (or top to bottom)."""
    width, height = size
    image = Image.new("RGB", size)
    for n, colour in enumerate(colours):
        box = (
            (0, n * height // 3, width, (n + 1) * height // 3)
            if vertical
            else (n * width // 3, 0, (n + 1) * width // 3, height)
        )
        image.paste(colour, box)
    return image


def test_an_avatar_is_400_square_cropped_from_the_centre() -> None:
    data = encode(bands((1800, 600), (RED, GREEN, BLUE)), "JPEG", exif=camera_exif())
    avatar = profile_picture(data, 400, 400)
    image = opened(avatar)
    assert (avatar.width, avatar.height, avatar.content_type) == (400, 400, "image/jpeg")
    for corner in ((3, 3), (396, 3), (3, 396), (396, 396)):
        red, green, blue = image.getpixel(corner)
        assert green > 200 and red < 60 and blue < 60
    assert b"Canon" not in avatar.data and not image.getexif()


def test_a_header_is_1500_by_500_cropped_from_the_middle_band() -> None:
    data = encode(bands((3000, 3000), (RED, GREEN, BLUE), vertical=True), "PNG")
    header = profile_picture(data, 1500, 500)
    image = opened(header)
    assert (header.width, header.height) == (1500, 500)
    assert image.getpixel((5, 5))[1] > 200 and image.getpixel((1494, 494))[1] > 200


def test_a_small_picture_is_cropped_to_the_aspect_but_not_upscaled() -> None:
    avatar = profile_picture(photo((200, 100)), 400, 400)
    assert (avatar.width, avatar.height) == (100, 100)


def test_a_turned_photo_is_drafted_and_still_exactly_sized() -> None:
    image = Image.new("RGB", (3200, 1600), BLUE)
    data = encode(image, "JPEG", exif=camera_exif(orientation=6))
    avatar = profile_picture(data, 400, 400)
    assert (avatar.width, avatar.height) == (400, 400)
    header = profile_picture(data, 1500, 500)
    assert (header.width, header.height) == (1500, 500)


def test_transparency_makes_a_png_and_an_opaque_alpha_a_jpeg() -> None:
    clear = Image.new("RGBA", (500, 500), (255, 0, 0, 0))
    assert profile_picture(encode(clear, "PNG"), 400, 400).content_type == "image/png"
    opaque = Image.new("RGBA", (500, 500), (255, 0, 0, 255))
    assert profile_picture(encode(opaque, "PNG"), 400, 400).content_type == "image/jpeg"


def test_an_animated_avatar_becomes_a_still() -> None:
    frames = [Image.new("RGB", (50, 50), colour) for colour in (RED, GREEN)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    avatar = profile_picture(data, 400, 400)
    assert avatar.content_type == "image/jpeg" and getattr(opened(avatar), "n_frames", 1) == 1


def test_a_profile_picture_is_checked_like_an_upload() -> None:
    with pytest.raises(Invalid, match="too many pixels"):
        profile_picture(png_by_hand(100_000, 100_000), 400, 400)
    with pytest.raises(Invalid, match="markup"):
        profile_picture(photo(comment=b"<script>"), 400, 400)
