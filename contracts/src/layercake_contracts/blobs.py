"""The blob store: file contents by sha256, stored once and never replaced.

The bucket keeps the JetStream Object Store's layout (chunks on
`$O.<bucket>.C.<nuid>`, a description on `$O.<bucket>.M.<name>`), so NATS tools
can list it, but this store writes and reads it so that a blob, once stored, is
what every reader gets:
- the stream refuses deletes and purges, so nothing stored goes away;
- a put publishes its description only if none exists yet (the server checks,
  so two services storing the same content at once store it once);
- a read takes the first description of a name and only the chunks stored
  before it, so a later put under the same name (through the Object Store's own
  API, which replaces) changes nothing a reader gets; the bytes are then
  checked against their name.
It must not decide what a blob means: that is the manifest's business.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import TYPE_CHECKING

from nats.js.api import DiscardPolicy, Header, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from layercake_contracts.errors import BlobCorrupt, BlobMissing

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.js import JetStreamContext

BLOB_BUCKET = "lc-blobs"
# The Object Store's own chunk size, so its tools read what we write.
CHUNK_SIZE = 128 * 1024
_STREAM = f"OBJ_{BLOB_BUCKET}"
_CHUNKS = f"$O.{BLOB_BUCKET}.C"
_META = f"$O.{BLOB_BUCKET}.M"
# JetStream's answer to a publish whose expected last subject sequence is not the stream's.
_WRONG_LAST_SEQUENCE = 10071


def sha256_of(data: bytes) -> str:
    """The content address of `data`."""
    return hashlib.sha256(data).hexdigest()


def blob_stream_config() -> StreamConfig:
    """The bucket's stream: on disk, and nothing in it is ever deleted or purged."""
    return StreamConfig(
        name=_STREAM,
        subjects=[f"{_CHUNKS}.>", f"{_META}.>"],
        storage=StorageType.FILE,
        discard=DiscardPolicy.NEW,
        allow_rollup_hdrs=False,
        allow_direct=True,
        deny_delete=True,
        deny_purge=True,
    )


async def declare_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Create a stream, or bring an existing one (an Object Store's, an older ours) to `config`."""
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


def _meta_subject(digest: str) -> str:
    return f"{_META}.{base64.urlsafe_b64encode(digest.encode()).decode()}"


class BlobStore:
    """Contents by sha256 in the blob bucket; put is idempotent and never replaces."""

    def __init__(self, connection: Client) -> None:
        self._js = connection.jetstream()

    async def put(self, data: bytes) -> str:
        """Store `data` (once) and return its sha256."""
        digest = sha256_of(data)
        if await self.exists(digest):
            return digest
        nuid = uuid.uuid4().hex  # this put's own chunk subject
        chunks = [data[at : at + CHUNK_SIZE] for at in range(0, len(data), CHUNK_SIZE)]
        for chunk in chunks:
            await self._js.publish(f"{_CHUNKS}.{nuid}", chunk)
        description = {
            "name": digest,
            "bucket": BLOB_BUCKET,
            "nuid": nuid,
            "size": len(data),
            "chunks": len(chunks),
            "digest": "SHA-256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode(),
            "options": {"max_chunk_size": CHUNK_SIZE},
        }
        try:
            await self._js.publish(
                _meta_subject(digest),
                json.dumps(description).encode(),
                headers={Header.EXPECTED_LAST_SUBJECT_SEQUENCE: "0"},
            )
        except BadRequestError as exc:
            if exc.err_code != _WRONG_LAST_SEQUENCE:
                raise
            # Stored by someone else meanwhile; our chunks stay unread (nothing may purge them).
        return digest

    async def exists(self, digest: str) -> bool:
        """True when a blob with this sha256 is stored."""
        try:
            await self._js.get_msg(_STREAM, seq=1, subject=_meta_subject(digest), next=True)
        except NotFoundError:
            return False
        return True

    async def get(self, digest: str) -> bytes:
        """The bytes first stored under `digest`; checked against it."""
        try:
            meta = await self._js.get_msg(_STREAM, seq=1, subject=_meta_subject(digest), next=True)
        except NotFoundError as exc:
            raise BlobMissing(digest) from exc
        description = json.loads(meta.data or b"{}")
        chunks, nuid = int(description.get("chunks", 0)), str(description.get("nuid", ""))
        parts: list[bytes] = []
        after = 1
        while nuid and len(parts) < chunks:
            try:
                chunk = await self._js.get_msg(
                    _STREAM, seq=after, subject=f"{_CHUNKS}.{nuid}", next=True
                )
            except NotFoundError:
                break
            if chunk.seq is None or meta.seq is None or chunk.seq > meta.seq:
                break  # stored after the description: not part of this blob
            parts.append(chunk.data or b"")
            after = chunk.seq + 1
        data = b"".join(parts)
        if sha256_of(data) != digest:
            raise BlobCorrupt(digest, sha256_of(data))
        return data
