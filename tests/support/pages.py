"""A real web server on 127.0.0.1 for preview-card tests: pages with OpenGraph tags, redirects,
an endless body, a slow body, a picture, a compressed bomb; it counts what it is asked.

Routes (``{n}`` any word):
  /page/{n}          HTML titled "Page {n}" with og: tags (a relative og:image)
  /plain/{n}         HTML with only <title> and <meta name=description>
  /hop/{k}           302 to /hop/{k-1} (setting a cookie); /hop/0 is 302 to /page/hops
  /away?to=URL       302 to URL
  /endless           HTML whose body never ends (until the client hangs up)
  /slow              HTML whose head arrives, then a byte a second
  /image             a PNG (not HTML)
  /bomb              gzip of a head and 20 MB of spaces (Content-Encoding: gzip)
"""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    path: str
    host: str
    user_agent: str
    cookie: str
    at: float


def page_html(name: str) -> bytes:
    return (
        "<!doctype html><html lang='fr-CA'><head>"
        f"<title>ignored title {name}</title>"
        f"<meta property='og:title' content='Page {name}'>"
        f"<meta property='og:description' content='About {name} &amp; more'>"
        "<meta property='og:site_name' content='Pages Test'>"
        f"<meta property='og:image' content='/pictures/{name}.png'>"
        "<meta name='author' content='Ada'>"
        "</head><body>hello</body></html>"
    ).encode()


_BOMB = gzip.compress(page_html("bomb") + b" " * 20_000_000, compresslevel=9)


class _Handler(BaseHTTPRequestHandler):
    server: PageServer

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.server.record(self)
        parts = urlsplit(self.path)
        kind, _, name = parts.path.strip("/").partition("/")
        handler = getattr(self, f"_{kind}", None)
        if handler is None:
            self._send(404, "text/plain", b"no")
        else:
            handler(name, parse_qs(parts.query))

    def _send(self, status: int, content_type: str, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _page(self, name: str, query) -> None:
        self._send(200, "text/html; charset=utf-8", page_html(name))

    def _plain(self, name: str, query) -> None:
        body = f"<title> Plain {name} </title><meta name='description' content='plain'>"
        self._send(200, "text/html", body.encode())

    def _hop(self, name: str, query) -> None:
        k = int(name)
        target = f"/hop/{k - 1}" if k > 0 else "/page/hops"
        self._send(302, "text/plain", b"", Location=target, Set_Cookie=f"hop{k}=1; Path=/")

    def _away(self, name: str, query) -> None:
        self._send(302, "text/plain", b"", Location=query["to"][0])

    def _image(self, name: str, query) -> None:
        self._send(200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)

    def _bomb(self, name: str, query) -> None:
        self._send(200, "text/html", _BOMB, Content_Encoding="gzip")

    def _endless(self, name: str, query) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        try:
            self.wfile.write(page_html("endless"))
            for _ in range(100_000):  # 6.5 GB at most: far more than anyone should read
                self.wfile.write(b"<p>" + b"x" * 65_536 + b"</p>")
            self.server.endless_finished = True
        except OSError:
            self.server.hung_up = True

    def _slow(self, name: str, query) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        try:
            self.wfile.write(page_html("slow")[:40])
            for _ in range(30):
                time.sleep(1.0)
                self.wfile.write(b" ")
                self.wfile.flush()
        except OSError:
            self.server.hung_up = True


class PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.hung_up = False
        self.endless_finished = False

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def record(self, handler: BaseHTTPRequestHandler) -> None:
        headers = handler.headers
        seen = Seen(
            handler.path,
            headers.get("Host", ""),
            headers.get("User-Agent", ""),
            headers.get("Cookie", ""),
            time.monotonic(),
        )
        with self.lock:
            self.seen.append(seen)

    def paths(self) -> list[str]:
        with self.lock:
            return [s.path for s in self.seen]

    def start(self) -> PageServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
