"""The edge under test: real HAProxy processes in front of real (or deliberately slow) servers."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from roost.config import Settings
from roost.edge import process
from roost.edge.render import EdgePlan, bind_address, servers_from, write
from roost.edge.runtime import Runtime
from tests.conftest import REQUIRE
from tests.support.ports import free_port

SECRET = "test-secret-" + "y" * 32  # what tests.conftest.server_env gives `roost serve`


def edge_settings(**sections) -> Settings:
    """Settings as a test's edge sees them: the live servers' secret, no ROOST_* from outside."""
    return Settings.from_env({}, secret_key=SECRET, **sections)


@pytest.fixture(scope="session")
def haproxy() -> str:
    binary = process.find_haproxy()
    if binary is None:
        message = f"haproxy is not installed: {process.INSTALL_HINT}"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    return binary


class Edge:
    """A running HAProxy rendered from Roost's own template."""

    def __init__(self, plan: EdgePlan, port: int, child: subprocess.Popen) -> None:
        self.plan, self.port, self.process = plan, port, child
        self.url = f"http://127.0.0.1:{port}"
        self.runtime = Runtime(plan.socket)

    def call(self, command: str) -> str:
        return self.runtime.call_sync(command)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def edge_factory(tmp_path: Path, haproxy: str) -> Iterator:
    """``edge_factory([server addresses], settings)`` starts an edge; all are stopped after."""
    edges: list[Edge] = []

    def start(
        servers: list[str], settings: Settings | None = None, plan: EdgePlan | None = None
    ) -> Edge:
        settings = settings or edge_settings()
        plan = plan or plan_edge(tmp_path, servers)
        port = int(plan.binds[0].rpartition(":")[2])
        config = write(settings, plan, settings.secret_key.encode())
        process.check(haproxy, config)
        child = process.start(haproxy, config, plan.run_dir / "haproxy.log")
        edge = Edge(plan, port, child)
        edges.append(edge)
        process.wait_ready(child, edge.runtime, ("127.0.0.1", port))
        return edge

    yield start
    for edge in edges:
        edge.stop()


def plan_edge(tmp_path: Path, servers: list[str]) -> EdgePlan:
    """Where an edge will listen and keep its files (its socket is known before it starts)."""
    port = free_port()
    run = tmp_path / f"edge-{port}"
    return EdgePlan(run, (bind_address("127.0.0.1", port),), servers_from(servers))


class SlowHandler(BaseHTTPRequestHandler):
    """Answers each request after ``delay`` seconds (health checks at once), naming the path and
    the X-Forwarded-For it was given, so a test can see the order and what the edge forwarded."""

    protocol_version = "HTTP/1.1"
    delay = 0.3

    def do_GET(self) -> None:
        if self.path != "/health":
            time.sleep(self.delay)
        body = f"{self.path} {self.headers.get('X-Forwarded-For', '')}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[str]:
    """A threaded HTTP server that takes 0.3 s per request: a site that makes requests queue."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
