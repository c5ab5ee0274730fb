"""Images processed per second per core by roost.domain.images, and whether threads scale.

    .venv/bin/python bench/media_processing.py [--rounds 5] [--scale 1.0] [--json PATH]

Five uploads made here with Pillow: a phone photo (4032x3024 JPEG with EXIF), a 1920x1080 PNG
screenshot, a 1200x800 WebP, a 640x480 JPEG and a 20-frame 480x270 animated GIF. Each is
processed ``--rounds`` times on one thread (the fastest run's ms, and images/s on one core),
then by a pool of os.cpu_count() threads (images/s in all, and its ratio to one core: Pillow
releases the GIL while it decodes, resizes and encodes, so threads scale as far as the Python
between allows).

Then the avatar of the phone photo with and without JPEG draft decoding (libjpeg's 1/2-1/8
scaling), and the phone photo through pyvips on one thread (decode, turn, scale to the same
two sizes, encode without metadata) when pyvips is importable: a comparison only. It is not a
dependency; to measure it, install pyvips and pyvips-binary aside and put them on PYTHONPATH.
``--scale`` shrinks every input (the smoke test runs 0.05).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from roost.domain.images import Limits, process, profile_picture_drafted  # noqa: E402


def _photo_pixels(size: tuple[int, int]) -> Image.Image:
    """Smooth light and colour with grain: compresses like a photo, not like noise or a flat."""
    width, height = size
    light = Image.linear_gradient("L").resize(size)
    grain = Image.effect_noise(size, 24)
    sky = Image.radial_gradient("L").resize(size)
    picture = Image.merge("RGB", (light, Image.blend(grain, sky, 0.7), sky))
    ImageDraw.Draw(picture).ellipse((width // 4, height // 4, width // 2, height // 2), "orange")
    return picture


def _screenshot(size: tuple[int, int]) -> Image.Image:
    width, height = size
    shot = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(shot)
    draw.rectangle((0, 0, width, max(1, height // 15)), fill=(40, 60, 90))
    for row in range(max(1, height // 22)):
        draw.text((20, 80 + row * 20), f"line {row}: the quick brown fox " * 3, fill="black")
    return shot


def _animation(size: tuple[int, int], frames: int) -> bytes:
    base = _photo_pixels(size)
    moved = [base.rotate(n * 18) for n in range(frames)]
    out = io.BytesIO()
    moved[0].save(out, "GIF", save_all=True, append_images=moved[1:], duration=80, loop=0)
    return out.getvalue()


def _encoded(image: Image.Image, format: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format, **options)
    return out.getvalue()


def inputs(scale: float) -> dict[str, bytes]:
    """The five uploads, each ``scale`` of its usual width and height."""

    def sized(width: int, height: int) -> tuple[int, int]:
        return max(8, round(width * scale)), max(8, round(height * scale))

    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Google", "Pixel 8", 1
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 12.0)
    return {
        "phone photo JPEG": _encoded(
            _photo_pixels(sized(4032, 3024)), "JPEG", quality=90, exif=exif
        ),
        "screenshot PNG": _encoded(_screenshot(sized(1920, 1080)), "PNG"),
        "WebP": _encoded(_photo_pixels(sized(1200, 800)), "WEBP", quality=85),
        "small JPEG": _encoded(_photo_pixels(sized(640, 480)), "JPEG", quality=85),
        "animated GIF (20)": _animation(sized(480, 270), 20),
    }


def one_core(work: Callable[[], object], rounds: int) -> float:
    """Seconds of the fastest of ``rounds`` runs on one thread, after one to warm up: on a
    shared machine the fastest is the one that other processes slowed least."""
    work()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def threaded(work: Callable[[], object], rounds: int, threads: int) -> float:
    """Runs per second with ``threads`` threads at once, each doing ``rounds`` runs."""
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: work(), range(threads)))  # warm every thread
        start = time.perf_counter()
        list(pool.map(lambda _: work(), range(rounds * threads)))
        return rounds * threads / (time.perf_counter() - start)


def vips_photo(data: bytes, limits: Limits) -> Callable[[], object] | None:
    """The phone photo's two sizes through pyvips, if it is importable."""
    try:
        import pyvips  # type: ignore[import-not-found]
    except (ImportError, OSError):
        return None
    pyvips.concurrency_set(1)  # its own thread pool would use every core: compare one with one

    def work() -> tuple[bytes, bytes]:
        image = pyvips.Image.new_from_buffer(data, "").autorot()
        scale = min(1.0, (limits.original_pixels / (image.width * image.height)) ** 0.5)
        original = image.resize(scale, kernel="lanczos3") if scale < 1 else image
        small_scale = (limits.small_pixels / (original.width * original.height)) ** 0.5
        small = original.resize(small_scale, kernel="lanczos3")
        options = {"Q": 85, "optimize_coding": True, "interlace": True, "keep": "none"}
        return original.jpegsave_buffer(**options), small.jpegsave_buffer(**options)

    return work


def measure(rounds: int, scale: float, threads: int) -> dict:
    limits = Limits()
    rows = []
    for name, data in inputs(scale).items():
        done = process(data, limits)
        size = Image.open(io.BytesIO(data)).size
        alone = one_core(lambda data=data: process(data, limits), rounds)
        together = threaded(lambda data=data: process(data, limits), rounds, threads)
        rows.append(
            {
                "image": name,
                "size": f"{size[0]}x{size[1]}",
                "bytes": len(data),
                "out": done.original.content_type,
                "ms_each": alone * 1000,
                "per_second_one_core": 1 / alone,
                "per_second_threads": together,
                "thread_ratio": together * alone,
            }
        )
    photo = inputs(scale)["phone photo JPEG"]
    avatar = {
        f"draft {'on' if draft else 'off'}": one_core(
            lambda draft=draft: profile_picture_drafted(photo, (400, 400), limits, draft), rounds
        )
        * 1000
        for draft in (True, False)
    }
    vips = vips_photo(photo, limits)
    return {
        "threads": threads,
        "rounds": rounds,
        "scale": scale,
        "rows": rows,
        "avatar_ms": avatar,
        "pyvips_photo_ms": one_core(vips, rounds) * 1000 if vips else None,
    }


def report(results: dict) -> None:
    threads = results["threads"]
    print(f"{'image':18s} {'size':>10s} {'out':>10s} {'ms each':>8s} {'img/s 1 core':>12s}", end="")
    print(f" {f'img/s {threads} thr':>13s} {'ratio':>6s}")
    for row in results["rows"]:
        print(
            f"{row['image']:18s} {row['size']:>10s} {row['out'][6:]:>10s} {row['ms_each']:8.1f}"
            f" {row['per_second_one_core']:12.1f} {row['per_second_threads']:13.1f}"
            f" {row['thread_ratio']:6.2f}"
        )
    avatar = results["avatar_ms"]
    print(
        f"avatar 400x400 of the phone photo: draft on {avatar['draft on']:.1f} ms,"
        f" draft off {avatar['draft off']:.1f} ms"
    )
    vips = results["pyvips_photo_ms"]
    pillow = results["rows"][0]["ms_each"]
    if vips is None:
        print("pyvips: not installed (skipped)")
    else:
        print(f"phone photo: Pillow {pillow:.1f} ms, pyvips {vips:.1f} ms ({pillow / vips:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="of every input's sides")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    results = measure(args.rounds, args.scale, args.threads)
    report(results)
    if args.json:
        args.json.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
