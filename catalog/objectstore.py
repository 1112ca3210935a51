"""Object-store access over boto3, for any S3 endpoint (embedded SeaweedFS, MinIO, Ceph, AWS).

Clips are read in place with ranged GETs (:class:`RangedObjectReader`), never downloaded to a
temp file; every GET carries ``If-Match`` with the ETag the scan listed, so a clip that is
overwritten mid-scan fails loudly instead of decoding a mix of two versions. Uploads of large
outputs go through multipart uploads that are aborted on any failure, so a crash leaves
neither a partial object nor a pending upload that would be billed.

Settings are a small frozen dataclass (picklable, so Dask tasks receive it and build their own
client: boto3 clients are not picklable).
"""

from __future__ import annotations

import functools
import io
import os
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ReadTimeoutError,
    ResponseStreamingError,
)

MIB = 1024 * 1024
DEFAULT_BLOCK_SIZE = 4 * MIB  # bytes fetched per ranged GET
DEFAULT_CACHE_BLOCKS = 4  # blocks a reader keeps (moov at the end + the mdat being read)
MIN_PART_SIZE = 5 * MIB  # S3's smallest part except the last
DEFAULT_PART_SIZE = 8 * MIB
READ_ATTEMPTS = 3  # retries of a ranged GET whose body stream broke off


class ObjectChangedError(IOError):
    """The object's ETag changed between reads: it was overwritten while we read it."""


@dataclass(frozen=True)
class S3Settings:
    """Where the object store is and how to sign requests.

    ``endpoint_url`` None means AWS itself; keys None means boto3's default credential chain
    (env, profile, instance role).
    """

    endpoint_url: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    region: str = "us-east-1"

    @classmethod
    def from_env(cls, endpoint_url: str | None = None) -> S3Settings:
        """Read ``VEILSCAN_S3_ENDPOINT`` (or ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``),
        ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION`` / ``AWS_REGION``;
        an explicit ``endpoint_url`` (e.g. from ``--endpoint-url``) wins over the environment."""
        env = os.environ
        endpoint = (
            endpoint_url
            or env.get("VEILSCAN_S3_ENDPOINT")
            or env.get("AWS_ENDPOINT_URL_S3")
            or env.get("AWS_ENDPOINT_URL")
        )
        return cls(
            endpoint_url=endpoint or None,
            access_key=env.get("AWS_ACCESS_KEY_ID") or None,
            secret_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            region=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1",
        )

    @classmethod
    def from_stack(cls, info: Any) -> S3Settings:
        """From a ``veilscan.infra.stack.StackInfo`` (duck-typed: catalog never imports infra)."""
        return cls(info.s3_endpoint, info.access_key, info.secret_key, info.region)


@functools.lru_cache(maxsize=8)
def client(settings: S3Settings) -> Any:
    """A boto3 S3 client for these settings, one per process and settings.

    Building a client loads botocore's service models (~0.2 s), which per clip task cost
    more than reading the clip; boto3 clients are thread-safe once built, so it is cached.

    Path-style addressing for custom endpoints (SeaweedFS/MinIO have no per-bucket DNS);
    bounded timeouts and standard retries; checksums only where the API requires them, since
    S3-compatible servers differ in which of the newer flexible checksums they accept.
    """
    config = Config(
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 5, "mode": "standard"},
        s3={"addressing_style": "path" if settings.endpoint_url else "auto"},
        max_pool_connections=16,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    # A session per client: boto3's default session is not safe to share across threads.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.endpoint_url,
        aws_access_key_id=settings.access_key,
        aws_secret_access_key=settings.secret_key,
        region_name=settings.region,
        config=config,
    )


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix")``; the prefix may be empty."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() != "s3":
        raise ValueError(f"not an s3:// URL: {url!r}")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {url!r}")
    return bucket, prefix


def s3_url(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def ensure_bucket(cli: Any, bucket: str) -> None:
    """Create ``bucket`` unless it exists (and is ours)."""
    try:
        cli.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        if _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    kwargs: dict[str, Any] = {"Bucket": bucket}
    region = cli.meta.region_name
    if region and region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        cli.create_bucket(**kwargs)
    except ClientError as exc:
        if _code(exc) != "BucketAlreadyOwnedByYou":
            raise


@dataclass(frozen=True)
class ObjectRef:
    """One listed object. ``etag`` without quotes; ``size`` in bytes."""

    bucket: str
    key: str
    etag: str
    size: int

    @property
    def url(self) -> str:
        return s3_url(self.bucket, self.key)


def list_objects(
    cli: Any,
    bucket: str,
    prefix: str,
    suffixes: tuple[str, ...] | None = None,
    *,
    page_size: int = 1000,
) -> Iterator[ObjectRef]:
    """Every object under ``prefix`` (all pages), optionally only keys ending in ``suffixes``
    (case-insensitive, e.g. ``(".mp4", ".mov")``). Folder markers (keys ending in ``/``) are
    skipped."""
    wanted = tuple(s.lower() for s in suffixes) if suffixes else None
    paginator = cli.get_paginator("list_objects_v2")
    pages = paginator.paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
    )
    for page in pages:
        for item in page.get("Contents", ()):
            key = item["Key"]
            if key.endswith("/"):
                continue
            if wanted and not key.lower().endswith(wanted):
                continue
            yield ObjectRef(bucket, key, _unquote(item.get("ETag", "")), int(item["Size"]))


def head_object(cli: Any, bucket: str, key: str) -> ObjectRef:
    resp = cli.head_object(Bucket=bucket, Key=key)
    return ObjectRef(bucket, key, _unquote(resp["ETag"]), int(resp["ContentLength"]))


class RangedObjectReader(io.RawIOBase):
    """A seekable, read-only file over ranged GETs of one object version.

    Reads are served from a small cache of aligned blocks (``block_size`` bytes each, at most
    ``cache_blocks`` kept), so a demuxer's many small reads cost one GET per block. Every GET
    sends ``If-Match: <etag>``; a changed object raises :class:`ObjectChangedError`.
    ``requests`` counts the GETs made (for tests and benchmarks).
    """

    def __init__(
        self,
        cli: Any,
        ref: ObjectRef,
        *,
        block_size: int = DEFAULT_BLOCK_SIZE,
        cache_blocks: int = DEFAULT_CACHE_BLOCKS,
    ) -> None:
        super().__init__()
        if block_size <= 0 or cache_blocks <= 0:
            raise ValueError("block_size and cache_blocks must be positive")
        self._cli = cli
        self.ref = ref
        self.block_size = block_size
        self._cache_blocks = cache_blocks
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._pos = 0
        self.requests = 0

    # io.RawIOBase protocol
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._check_open()
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.ref.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise OSError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` as far as the object allows (short only at the end)."""
        self._check_open()
        view = memoryview(buffer).cast("B")
        want = min(len(view), max(0, self.ref.size - self._pos))
        done = 0
        while done < want:
            index, offset = divmod(self._pos, self.block_size)
            block = self._block(index)
            n = min(want - done, len(block) - offset)
            view[done : done + n] = block[offset : offset + n]
            done += n
            self._pos += n
        return done

    def readall(self) -> bytes:
        self._check_open()
        if self._pos >= self.ref.size:
            return b""
        data = self._get(self._pos, self.ref.size - 1)
        self._pos = self.ref.size
        return data

    def close(self) -> None:
        self._blocks.clear()
        super().close()

    @property
    def size(self) -> int:
        return self.ref.size

    # internals
    def _block(self, index: int) -> bytes:
        block = self._blocks.get(index)
        if block is not None:
            self._blocks.move_to_end(index)
            return block
        start = index * self.block_size
        end = min(start + self.block_size, self.ref.size) - 1
        block = self._get(start, end)
        self._blocks[index] = block
        while len(self._blocks) > self._cache_blocks:
            self._blocks.popitem(last=False)
        return block

    def _get(self, first: int, last: int) -> bytes:
        """Bytes ``first..last`` (inclusive) of this object version; retries a broken body."""
        for attempt in range(READ_ATTEMPTS):
            self.requests += 1
            try:
                resp = self._cli.get_object(
                    Bucket=self.ref.bucket,
                    Key=self.ref.key,
                    Range=f"bytes={first}-{last}",
                    IfMatch=f'"{self.ref.etag}"',
                )
                etag = _unquote(resp.get("ETag", ""))
                if etag and etag != self.ref.etag:
                    raise self._changed(etag)
                data = resp["Body"].read()
            except ClientError as exc:
                if _code(exc) in ("PreconditionFailed", "412"):
                    raise self._changed(None) from exc
                raise
            except (ResponseStreamingError, ReadTimeoutError, ConnectionClosedError):
                if attempt == READ_ATTEMPTS - 1:
                    raise
                continue
            if len(data) != last - first + 1:
                raise OSError(
                    f"{self.ref.url}: asked for bytes {first}-{last}, got {len(data)} bytes"
                )
            return data
        raise AssertionError("unreachable")

    def _changed(self, etag: str | None) -> ObjectChangedError:
        now = f" (now {etag})" if etag else ""
        return ObjectChangedError(
            f"{self.ref.url} changed while being read: ETag was {self.ref.etag}{now}"
        )

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed RangedObjectReader")


def open_object(
    cli: Any,
    ref_or_bucket_key: ObjectRef | tuple[str, str] | str,
    *,
    block_size: int = DEFAULT_BLOCK_SIZE,
) -> RangedObjectReader:
    """A :class:`RangedObjectReader` over an :class:`ObjectRef` (reads exactly that ETag), or
    over the current version of ``(bucket, key)`` / ``"s3://bucket/key"`` (one HEAD first)."""
    if isinstance(ref_or_bucket_key, ObjectRef):
        ref = ref_or_bucket_key
    else:
        if isinstance(ref_or_bucket_key, str):
            bucket, key = parse_s3_url(ref_or_bucket_key)
        else:
            bucket, key = ref_or_bucket_key
        if not key:
            raise ValueError(f"no key in {ref_or_bucket_key!r}")
        ref = head_object(cli, bucket, key)
    return RangedObjectReader(cli, ref, block_size=block_size)


def put_bytes(cli: Any, bucket: str, key: str, data: bytes, content_type: str | None = None) -> str:
    """Store ``data`` at ``bucket/key`` in one PUT; returns the ETag (without quotes)."""
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": data}
    if content_type:
        kwargs["ContentType"] = content_type
    return _unquote(cli.put_object(**kwargs)["ETag"])


def upload_file_multipart(
    cli: Any,
    path_or_stream: str | Path | IO[bytes],
    bucket: str,
    key: str,
    part_size: int = DEFAULT_PART_SIZE,
    content_type: str | None = None,
) -> str:
    """Upload a file or binary stream as a multipart upload; returns the ETag (no quotes).

    ``part_size`` in bytes, at least 5 MiB (S3's minimum). Any failure (a read error, a
    rejected part, KeyboardInterrupt) aborts the upload before re-raising, so no partial object
    and no pending upload are left behind.
    """
    if part_size < MIN_PART_SIZE:
        raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes, got {part_size}")
    if isinstance(path_or_stream, (str, Path)):
        with open(path_or_stream, "rb") as fh:
            return upload_file_multipart(cli, fh, bucket, key, part_size, content_type)
    stream = path_or_stream
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if content_type:
        kwargs["ContentType"] = content_type
    upload_id = cli.create_multipart_upload(**kwargs)["UploadId"]
    try:
        parts: list[dict[str, Any]] = []
        number = 1
        while True:
            chunk = _read_full(stream, part_size)
            if not chunk and parts:
                break
            resp = cli.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk
            )
            parts.append({"PartNumber": number, "ETag": resp["ETag"]})
            if len(chunk) < part_size:
                break
            number += 1
        done = cli.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException as exc:
        try:
            cli.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except (BotoCoreError, ClientError) as abort_exc:
            exc.add_note(f"aborting multipart upload {upload_id} also failed: {abort_exc}")
        raise
    return _unquote(done["ETag"])


def _read_full(stream: IO[bytes], n: int) -> bytes:
    """Read exactly ``n`` bytes unless the stream ends first (raw streams may return less)."""
    chunks: list[bytes] = []
    remaining = n
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _unquote(etag: str) -> str:
    return etag.strip('"')


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
