"""The S3 backend against a real S3-compatible server (moto's, over HTTP): what is stored with
each object, the public URLs, one client for everything."""

from __future__ import annotations

import json

import httpx
import pytest
from minio import Minio

from roost.config import MediaSettings
from roost.store.media_files import new_key
from roost.store.media_s3 import S3MediaFiles

PUBLIC_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": ["*"]},
            "Action": ["s3:GetObject"],
            "Resource": ["arn:aws:s3:::{bucket}/*"],
        }
    ],
}


def _make_public(media: MediaSettings) -> None:
    """What docs/media.md asks of an operator: anyone may read the bucket's objects."""
    client = Minio(
        media.s3_endpoint.removeprefix("http://"),
        media.s3_access_key,
        media.s3_secret_key,
        secure=False,
    )
    policy = json.dumps(PUBLIC_READ).replace("{bucket}", media.s3_bucket)
    client.set_bucket_policy(media.s3_bucket, policy)


async def test_objects_carry_their_type_and_a_year_of_caching(s3_media: MediaSettings) -> None:
    _make_public(s3_media)
    files = S3MediaFiles(s3_media)
    try:
        key = new_key("original", "webp")
        await files.put(key, b"RIFF....WEBP", "image/webp")
        assert files.url(key) == f"{s3_media.s3_endpoint}/{s3_media.s3_bucket}/{key}"
        async with httpx.AsyncClient() as http:
            reply = await http.get(files.url(key))
        assert reply.status_code == 200 and reply.content == b"RIFF....WEBP"
        assert reply.headers["content-type"] == "image/webp"
        assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
    finally:
        await files.close()


def test_urls_use_the_public_base_when_given_else_the_endpoint(s3_media: MediaSettings) -> None:
    key = "avatar/ab/abcd.png"
    cdn = S3MediaFiles(s3_media, public_base_url="https://media.example/")
    assert cdn.url(key) == f"https://media.example/{key}"
    aws = MediaSettings(backend="s3", s3_bucket="pics", s3_region="eu-west-1")
    assert S3MediaFiles(aws).url(key) == f"https://pics.s3.eu-west-1.amazonaws.com/{key}"


def test_a_bucket_is_required() -> None:
    with pytest.raises(ValueError, match="BUCKET"):
        S3MediaFiles(MediaSettings(backend="s3"))


async def test_one_client_serves_every_call(s3_media: MediaSettings, monkeypatch) -> None:
    made: list[object] = []
    real = Minio.__init__

    def counting(self, *args, **kwargs) -> None:
        made.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(Minio, "__init__", counting)
    files = S3MediaFiles(s3_media)
    keys = [new_key("small", "png") for _ in range(20)]
    for key in keys:
        await files.put(key, b"x", "image/png")
    await files.delete(*keys)
    assert len(made) == 1
    await files.close()
