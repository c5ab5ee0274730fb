"""Pictures through the real server (issue 15): the upload path's cost with the shield on, and a
timeline of posts with pictures against the same timeline without.

    .venv/bin/python bench/media_path.py [--seconds 5] [--uploads 60] [--json FILE]

On a copy of the demo set, `roost serve` runs pinned to CPU 0 with the shield on (its limits
out of reach, as in every read benchmark here, except the upload class's own per-account limit:
each uploader stays within its 30). This script (CPU 1) then:

1. reads the public timeline uncached with wrk (distinct query strings), alone: the reference;
2. uploads ``--uploads`` phone-sized photos (2016x1512 JPEG with EXIF, ~0.5 MB) from four
   accounts, four at a time, while wrk reads the same timeline again: uploads/s end to end
   (sent, processed, answered 200) and what the reads kept of their reference rate;
3. posts 20 public posts with one to four of those pictures each and reads the timeline again:
   the ratio of a page of posts with pictures to the reference, its JSON bytes, and the web
   page's HTML bytes against the 100 KB budget (its thumbnails are lazy and not counted).

The machine is shared and noisy: read one run's ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from api_timeline import hello_rate, wrk_distinct  # noqa: E402
from foundation_data import demo_database  # noqa: E402
from foundation_wrk import Wrk, ensure_wrk  # noqa: E402
from harness import LOAD_CPU, RESULTS, roost_server, token_for  # noqa: E402

PUBLIC = "/api/v1/timelines/public"
UPLOADERS = 4
PER_UPLOADER = 25  # within the upload class's burst of 30 per account


def photo(width: int = 2016, height: int = 1512) -> bytes:
    """A phone-sized photo with EXIF: a gradient with noise, so it compresses like one."""
    from PIL import Image

    image = Image.effect_noise((width, height), 40).convert("RGB")
    image = Image.blend(
        image, Image.linear_gradient("L").resize((width, height)).convert("RGB"), 0.5
    )
    exif = Image.Exif()
    exif[0x010F] = "BenchCam"
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, exif=exif)
    return out.getvalue()


def uploader_emails(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT email FROM accounts WHERE email LIKE '%@demo.roost' ORDER BY id LIMIT ?",
            (UPLOADERS,),
        ).fetchall()
    return [r[0] for r in rows]


async def upload_all(base: str, tokens: list[str], count: int, data: bytes) -> dict:
    """``count`` uploads, spread over ``tokens``, four at a time: times and answers."""
    answers: dict[int, int] = {}
    ids: dict[str, list[str]] = {t: [] for t in tokens}
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(tokens[n % len(tokens)])

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            token = queue.get_nowait()
            started = time.monotonic()
            reply = await client.post(
                f"{base}/api/v2/media",
                files={"file": ("photo.jpg", data, "image/jpeg")},
                data={"description": "A bench photo"},
                headers={"Authorization": f"Bearer {token}"},
            )
            latencies.append(time.monotonic() - started)
            answers[reply.status_code] = answers.get(reply.status_code, 0) + 1
            if reply.status_code == 200:
                ids[token].append(reply.json()["id"])

    started = time.monotonic()
    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(4)))
    elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "seconds": elapsed,
        "uploads_per_s": answers.get(200, 0) / elapsed,
        "answers": answers,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "ids": ids,
    }


def post_with_pictures(base: str, ids: dict[str, list[str]]) -> int:
    posted = 0
    for token, mine in ids.items():
        while mine and posted < 20:
            take, mine[:] = mine[: 1 + posted % 4], mine[1 + posted % 4 :]
            reply = httpx.post(
                f"{base}/api/v1/statuses",
                json={"status": f"Pictures {posted}", "media_ids": take, "visibility": "public"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            reply.raise_for_status()
            posted += 1
    return posted


def measure(seconds: float, uploads: int, work: Path) -> dict:
    db = work / "roost.db"
    demo_database(RESULTS, 300, 3000, False, db)
    wrk = Wrk(LOAD_CPU, seconds, 16, work)
    hello = hello_rate(wrk, work)["rps"]
    server = roost_server(db, work, "media", ROOST_MEDIA_DIR=str(work / "media")).start()
    try:
        tokens = [token_for(server.url, email) for email in uploader_emails(db)]
        reader = tokens[0]
        alone = wrk_distinct(wrk, server.url + PUBLIC, reader, work)
        data = photo()
        result: dict = {}
        thread = threading.Thread(
            target=lambda: result.update(asyncio.run(upload_all(server.url, tokens, uploads, data)))
        )
        thread.start()
        during = wrk_distinct(wrk, server.url + PUBLIC, reader, work)
        thread.join()
        posted = post_with_pictures(server.url, result.pop("ids"))
        with_pictures = wrk_distinct(wrk, server.url + PUBLIC, reader, work)
        page = httpx.get(server.url + PUBLIC, params={"limit": 20}, timeout=30)
        web = httpx.get(server.url + "/public", timeout=30)
    finally:
        server.stop()
    return {
        "hello": hello,
        "photo_bytes": len(data),
        "alone": alone,
        "during_uploads": during,
        "uploads": result,
        "posted_with_pictures": posted,
        "with_pictures": with_pictures,
        "page_json_bytes": len(page.content),
        "pictures_on_page": sum(len(s["media_attachments"]) for s in page.json()),
        "web_page_bytes": len(web.content),
        "web_status": web.status_code,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--uploads", type=int, default=60, help=f"at most {UPLOADERS * PER_UPLOADER}"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    ensure_wrk()
    uploads = min(args.uploads, UPLOADERS * PER_UPLOADER)
    with tempfile.TemporaryDirectory() as tmp:
        out = measure(args.seconds, uploads, Path(tmp))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    hello, alone = out["hello"], out["alone"]["rps"]
    up = out["uploads"]
    print(f"hello-world                 {hello:7.0f} req/s")
    print(f"public timeline, alone      {alone:7.0f} req/s  {alone / hello:5.3f} of hello-world")
    during = out["during_uploads"]["rps"]
    print(
        f"  ... during the uploads    {during:7.0f} req/s  {during / alone:5.3f} of alone"
        f"  (p99 {out['during_uploads'].get('p99_ms', 0):.1f} ms)"
    )
    print(
        f"uploads ({out['photo_bytes'] // 1024} KB photos)     {up['uploads_per_s']:7.1f} /s"
        f"   p50 {up['p50_ms']:.0f} ms, p99 {up['p99_ms']:.0f} ms, answers {up['answers']}"
    )
    pictured = out["with_pictures"]["rps"]
    print(
        f"public, {out['pictures_on_page']:2d} pictures on page {pictured:7.0f} req/s  "
        f"{pictured / alone:5.3f} of alone   (JSON page {out['page_json_bytes'] // 1024} KB)"
    )
    print(
        f"web /public HTML            {out['web_page_bytes'] / 1024:7.1f} KB"
        " (budget: 100 KB with assets)"
    )


if __name__ == "__main__":
    main()
