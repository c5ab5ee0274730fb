"""Media files in a bucket of any S3-compatible server (AWS, MinIO, Garage, Ceph, R2, ...).

The client is MinIO's (``minio``): small and synchronous over one shared urllib3 pool, so each
call runs in a worker thread; at most ``CONCURRENCY`` at once per process, as many as the pool
keeps connections, so a burst of uploads queues here instead of opening and dropping
connections.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import urllib3
from minio import Minio
from minio.credentials import (
    AWSConfigProvider,
    ChainedProvider,
    EnvAWSProvider,
    IamAwsProvider,
    Provider,
    StaticProvider,
)
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from roost.config import MediaSettings
from roost.store.media_files import CACHE_CONTROL, check_key

T = TypeVar("T")
CONCURRENCY = 16
AWS = "s3.amazonaws.com"
_MISSING = {"NoSuchKey", "NoSuchObject", "NotFound"}


class S3MediaFiles:
    """One client for the process's life; path-style addressing whenever an endpoint is given."""

    def __init__(self, media: MediaSettings, public_base_url: str = "") -> None:
        if not media.s3_bucket:
            raise ValueError("ROOST_MEDIA_S3_BUCKET is needed with ROOST_MEDIA_BACKEND=s3")
        self.bucket = media.s3_bucket
        self.pool = urllib3.PoolManager(
            maxsize=CONCURRENCY,
            timeout=urllib3.Timeout(connect=5.0, read=60.0),
            # PUT, GET and DELETE of one key are idempotent: a server hiccup is tried again.
            retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503]),
        )
        endpoint = urlsplit(media.s3_endpoint) if media.s3_endpoint else None
        self.client = Minio(
            endpoint.netloc if endpoint else AWS,
            secure=endpoint.scheme != "http" if endpoint else True,
            region=media.s3_region or None,
            http_client=self.pool,
            credentials=_credentials(media),
        )
        self.limiter = anyio.CapacityLimiter(CONCURRENCY)
        self.base_url = _base_url(media, public_base_url)

    async def _run(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(partial(call, *args, **kwargs), limiter=self.limiter)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self._run(
            self.client.put_object,
            self.bucket,
            check_key(key),
            io.BytesIO(data),
            len(data),
            content_type=content_type,
            metadata={"Cache-Control": CACHE_CONTROL},
        )

    async def get(self, key: str) -> bytes:
        return await self._run(self._get, check_key(key))

    def _get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _MISSING:
                raise FileNotFoundError(key) from exc
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    async def delete(self, *keys: str) -> None:
        if keys:
            await self._run(self._delete, [check_key(key) for key in keys])

    def _delete(self, keys: list[str]) -> None:
        # One request per thousand keys; absent keys are no error in S3's DeleteObjects.
        errors = self.client.remove_objects(self.bucket, [DeleteObject(key) for key in keys])
        for error in errors:  # lazy: the requests are made while this is read
            if error.code not in _MISSING:
                raise OSError(f"could not delete {error.name} from S3: {error.message}")

    def url(self, key: str) -> str:
        return f"{self.base_url}/{check_key(key)}"

    async def close(self) -> None:
        self.pool.clear()


def _credentials(media: MediaSettings) -> Provider | None:
    if media.s3_access_key:
        return StaticProvider(media.s3_access_key, media.s3_secret_key)
    # No keys given: the usual AWS chain (environment, ~/.aws, the instance's role).
    return ChainedProvider([EnvAWSProvider(), AWSConfigProvider(), IamAwsProvider()])


def _base_url(media: MediaSettings, public: str) -> str:
    if public:
        return public.rstrip("/")
    if media.s3_endpoint:
        return f"{media.s3_endpoint.rstrip('/')}/{media.s3_bucket}"
    return f"https://{media.s3_bucket}.s3.{media.s3_region}.amazonaws.com"
