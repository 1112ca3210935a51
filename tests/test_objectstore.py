"""Object-store access against the real SeaweedFS of the test stack (conftest ``stack``/``s3``),
plus the pure parts (URL parsing, settings from the environment) without a server."""

from __future__ import annotations

import io
import os
from fractions import Fraction

import av
import numpy as np
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from veilscan.catalog.objectstore import (
    MIB,
    ObjectChangedError,
    ObjectRef,
    RangedObjectReader,
    S3Settings,
    ensure_bucket,
    head_object,
    list_objects,
    open_object,
    parse_s3_url,
    put_bytes,
    upload_file_multipart,
)

# --- no server ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://archive/news/1998/", ("archive", "news/1998/")),
        ("s3://archive/news/clip.mp4", ("archive", "news/clip.mp4")),
        ("s3://archive", ("archive", "")),
        ("S3://archive/", ("archive", "")),
    ],
)
def test_parse_s3_url(url: str, expected: tuple[str, str]) -> None:
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize("url", ["archive/news", "http://archive/news", "s3:///news", ""])
def test_parse_s3_url_rejects(url: str) -> None:
    with pytest.raises(ValueError):
        parse_s3_url(url)


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VEILSCAN_S3_ENDPOINT", "http://127.0.0.1:9999")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ak")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "sk")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    assert S3Settings.from_env() == S3Settings("http://127.0.0.1:9999", "ak", "sk", "eu-west-3")
    # an explicit --endpoint-url wins over the environment
    assert S3Settings.from_env("http://minio:9000").endpoint_url == "http://minio:9000"
    monkeypatch.delenv("VEILSCAN_S3_ENDPOINT")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert S3Settings.from_env().endpoint_url is None  # AWS itself
    assert S3Settings.from_env().region == "us-east-1"


def test_multipart_refuses_parts_below_s3_minimum() -> None:
    with pytest.raises(ValueError, match="part_size"):
        upload_file_multipart(None, io.BytesIO(b"x"), "b", "k", part_size=MIB)


# --- real SeaweedFS ----------------------------------------------------------------------------


def _random_bytes(n: int, seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def _pending_uploads(s3, bucket: str, key: str) -> list[dict]:
    resp = s3.list_multipart_uploads(Bucket=bucket, Prefix=key)
    return [u for u in resp.get("Uploads", []) if u["Key"] == key]


def _exists(s3, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


@pytest.mark.integration
def test_ensure_bucket_is_idempotent(s3, bucket: str) -> None:
    ensure_bucket(s3, bucket)  # exists already (fixture made it)
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names.count(bucket) == 1


@pytest.mark.integration
def test_list_objects_pages_and_filters(s3, bucket: str) -> None:
    keys = [f"clips/{i:03d}.mp4" for i in range(23)]
    etags = {}
    for i, key in enumerate(keys):
        etags[key] = put_bytes(s3, bucket, key, f"clip {i}".encode(), "video/mp4")
    put_bytes(s3, bucket, "clips/notes.txt", b"text")
    put_bytes(s3, bucket, "clips/UPPER.MP4", b"upper")
    put_bytes(s3, bucket, "other/999.mp4", b"elsewhere")

    calls = []
    s3.meta.events.register("after-call.s3.ListObjectsV2", lambda **kw: calls.append(1))
    try:
        refs = list(list_objects(s3, bucket, "clips/", (".mp4",), page_size=5))
    finally:
        s3.meta.events.unregister("after-call.s3.ListObjectsV2")

    assert len(calls) >= 5  # 25 objects at 5 per page: the paginator really paged
    assert sorted(r.key for r in refs) == sorted([*keys, "clips/UPPER.MP4"])
    by_key = {r.key: r for r in refs}
    for key in keys:
        assert by_key[key].etag == etags[key]
        assert not by_key[key].etag.startswith('"')
        assert by_key[key].size == len(f"clip {int(key[6:9])}".encode())
    everything = {r.key for r in list_objects(s3, bucket, "")}
    assert "clips/notes.txt" in everything and "other/999.mp4" in everything


@pytest.mark.integration
def test_ranged_reads_match_the_bytes(s3, bucket: str) -> None:
    data = _random_bytes(3 * MIB + 12345, seed=1)
    etag = put_bytes(s3, bucket, "big.bin", data)
    ref = ObjectRef(bucket, "big.bin", etag, len(data))
    reader = RangedObjectReader(s3, ref, block_size=256 * 1024, cache_blocks=2)
    rng = np.random.default_rng(2)
    for _ in range(60):
        pos = int(rng.integers(0, len(data)))
        n = int(rng.integers(1, 600_000))
        assert reader.seek(pos) == pos
        assert reader.read(n) == data[pos : pos + n]
        assert reader.tell() == min(pos + n, len(data))
    assert reader.seek(-10, io.SEEK_END) == len(data) - 10
    assert reader.read(100) == data[-10:]
    assert reader.read(5) == b""
    reader.seek(len(data) + 50)
    assert reader.read(5) == b""
    reader.seek(1000)
    assert reader.read() == data[1000:]


@pytest.mark.integration
def test_small_reads_are_served_by_read_ahead(s3, bucket: str) -> None:
    data = _random_bytes(2 * MIB, seed=3)
    put_bytes(s3, bucket, "seq.bin", data)
    reader = open_object(s3, f"s3://{bucket}/seq.bin", block_size=MIB)
    got = b"".join(iter(lambda: reader.read(4096), b""))
    assert got == data
    assert reader.requests == 2  # 512 reads of 4 KiB, two 1 MiB GETs


@pytest.mark.integration
def test_reader_refuses_an_object_overwritten_mid_read(s3, bucket: str) -> None:
    put_bytes(s3, bucket, "clip.mp4", _random_bytes(200_000, seed=4))
    ref = head_object(s3, bucket, "clip.mp4")
    reader = open_object(s3, ref, block_size=64 * 1024)
    reader.read(1000)
    put_bytes(s3, bucket, "clip.mp4", _random_bytes(200_000, seed=5))
    reader.seek(150_000)  # a block not cached yet
    with pytest.raises(ObjectChangedError, match="changed while being read"):
        reader.read(10)


def _small_mp4(frames: int = 12, width: int = 64, height: int = 48) -> bytes:
    """An H.264 MP4 (moov at the end, as most encoders write it) of moving gradients plus
    noise (so it spans many small read blocks)."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(10, 1))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        yy, xx = np.mgrid[0:height, 0:width]
        rng = np.random.default_rng(0)
        for i in range(frames):
            img = np.stack([(xx * 4 + i * 9) % 256, (yy * 5) % 256, (xx + yy + i) % 256], -1)
            img = img + rng.integers(0, 64, img.shape)
            frame = av.VideoFrame.from_ndarray(np.clip(img, 0, 255).astype(np.uint8), "rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


@pytest.mark.integration
def test_pyav_decodes_an_mp4_through_the_ranged_reader(s3, bucket: str) -> None:
    data = _small_mp4()
    assert data[4:8] == b"ftyp" and len(data) > 8 * 1024
    put_bytes(s3, bucket, "video/clip.mp4", data, "video/mp4")
    [ref] = list(list_objects(s3, bucket, "video/", (".mp4",)))
    # 1 KiB blocks: the demuxer's seeks to the trailing moov and back cross many blocks
    with (
        open_object(s3, ref, block_size=1024) as reader,
        av.open(reader, mode="r") as container,
    ):
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (64, 48)
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(decoded) == 12
    assert decoded[0].shape == (48, 64, 3)
    assert reader.requests >= len(data) // 1024
    # the same decode from memory gives the same pixels
    with av.open(io.BytesIO(data)) as local:
        expected = [f.to_ndarray(format="rgb24") for f in local.decode(video=0)]
    assert all(np.array_equal(a, b) for a, b in zip(decoded, expected, strict=True))


@pytest.mark.integration
def test_multipart_upload_round_trip(s3, bucket: str, tmp_path) -> None:
    data = _random_bytes(11 * MIB + 7, seed=6)
    path = tmp_path / "out.mp4"
    path.write_bytes(data)
    etag = upload_file_multipart(s3, path, bucket, "out/clip.mp4", 5 * MIB, "video/mp4")
    assert etag.endswith("-3")  # 5 + 5 + 1 MiB
    assert s3.get_object(Bucket=bucket, Key="out/clip.mp4")["Body"].read() == data
    assert head_object(s3, bucket, "out/clip.mp4").etag == etag
    assert _pending_uploads(s3, bucket, "out/clip.mp4") == []


class _FailingStream(io.RawIOBase):
    """A stream that breaks after ``good`` bytes, like a disk or pipe failing mid-upload."""

    def __init__(self, good: int) -> None:
        self._left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._left <= 0:
            raise OSError("disk went away")
        n = min(len(buffer), self._left)
        buffer[:n] = b"\x07" * n
        self._left -= n
        return n


@pytest.mark.integration
def test_multipart_failure_in_the_source_leaves_nothing(s3, bucket: str) -> None:
    key = "out/broken.mp4"
    with pytest.raises(OSError, match="disk went away"):
        upload_file_multipart(s3, _FailingStream(6 * MIB), bucket, key, part_size=5 * MIB)
    assert not _exists(s3, bucket, key)
    assert _pending_uploads(s3, bucket, key) == []


@pytest.mark.integration
def test_multipart_failure_in_the_network_leaves_nothing(s3, bucket: str) -> None:
    key = "out/network.mp4"
    parts_sent = []

    def fail_second_part(params, **_):
        parts_sent.append(params["PartNumber"])
        if params["PartNumber"] == 2:
            raise EndpointConnectionError(endpoint_url="injected")

    event = "provide-client-params.s3.UploadPart"
    s3.meta.events.register(event, fail_second_part)
    try:
        with pytest.raises(EndpointConnectionError):
            upload_file_multipart(
                s3, io.BytesIO(_random_bytes(12 * MIB, seed=7)), bucket, key, 5 * MIB
            )
    finally:
        s3.meta.events.unregister(event, fail_second_part)
    assert parts_sent == [1, 2]
    assert not _exists(s3, bucket, key)
    assert _pending_uploads(s3, bucket, key) == []


@pytest.mark.integration
def test_settings_from_stack_env_reach_seaweedfs(stack, bucket: str) -> None:
    """The env that env_for() hands to child processes is enough to reach the store."""
    from veilscan.catalog.objectstore import client

    assert os.environ["VEILSCAN_S3_ENDPOINT"] == stack.s3_endpoint  # conftest activated it
    cli = client(S3Settings.from_env())
    put_bytes(cli, bucket, "env.txt", b"hello")
    assert [r.key for r in list_objects(cli, bucket, "")] == ["env.txt"]
