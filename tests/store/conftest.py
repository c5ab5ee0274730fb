"""A real S3-compatible server for the media tests: moto's, over HTTP, in its own process."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from roost.config import MediaSettings
from tests.conftest import REQUIRE
from tests.support.ports import free_port
from tests.support.waiting import wait_until

KEYS = {"s3_access_key": "roost-test", "s3_secret_key": "roost-test-secret"}


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory) -> Iterator[str]:
    """``moto_server`` (PyPI ``moto[server]``, in the test extras) on a free loopback port."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        message = "moto[server] is not installed: pip install -e '.[test]'"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    log = tmp_path_factory.mktemp("s3") / "moto.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: _answers(port), what="moto's S3 server to listen", seconds=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        child.terminate()
        child.wait(10)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def s3_media(s3_endpoint: str) -> MediaSettings:
    """Settings for a new, empty bucket on the test server."""
    from minio import Minio

    bucket = f"roost-{uuid.uuid4().hex[:12]}"
    host = s3_endpoint.removeprefix("http://")
    Minio(host, KEYS["s3_access_key"], KEYS["s3_secret_key"], secure=False).make_bucket(bucket)
    return MediaSettings(backend="s3", s3_bucket=bucket, s3_endpoint=s3_endpoint, **KEYS)
