"""The etcd client over etcd's JSON gateway (``/v3/...`` on the client port), with aiohttp.

Chosen over gRPC by measurement (benchmarks/etcd_transport.py): see docs/etcd.md. The gateway
is grpc-gateway in front of the same gRPC services, so its pitfalls are those of protobuf's JSON
mapping. Rules:

 1. int64 fields travel as strings and bytes as base64; fields at their default value are
    omitted (``succeeded`` false, event type PUT, revision 0), so every read has a default.
 2. Requests go to one member at a time (the *current* one); a connection failure, a timeout or
    an etcd "unavailable" answer moves the current member to the next one (client.py rule 3).
 3. Reads retry within ``attempts``, pausing briefly after a round of fast failures; a write is
    retried only after a connection failure (it was never sent) or etcd's "no leader" (never
    proposed). A write that timed out raises ``StorageTimeout``: the caller decides.
 4. Watch messages are newline-delimited JSON of any size (no line limit: a batch may exceed
    512 KiB). A watch asks for ``hasleader`` so a member that loses its leader cancels it
    instead of going silent; a cancel, an error or a lost connection is ``StorageUnavailable``,
    a compaction is ``CompactedError``.
 5. No aiohttp or JSON exception leaves this module (client.py rule 2).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import aiohttp
import orjson

from kubeward.errors import CompactedError, StorageError, StorageTimeout, StorageUnavailable
from kubeward.storage.etcd.client import (
    Compare,
    Delete,
    EtcdKV,
    Get,
    MemberInfo,
    MemberStatus,
    Op,
    OpResult,
    Put,
    RangeResult,
    TxnResult,
    WatchBatch,
    WatchEvent,
)
from kubeward.storage.etcd.config import EtcdConfig

JSON = dict[str, Any]
# gRPC codes etcd answers with when the member cannot serve now but another might.
_UNAVAILABLE = 14
_DEADLINE = 4
_NOT_PROPOSED = ("no leader", "not capable", "stopped")
_COMPACTED = "required revision has been compacted"
_FUTURE = "required revision is a future revision"
CLOSE_GRACE = 0.1  # seconds for TLS shutdowns after closing the session


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def _int(obj: JSON, name: str) -> int:
    return int(obj.get(name, 0))


def _kv(obj: JSON) -> EtcdKV:
    return EtcdKV(
        _unb64(obj.get("key")),
        _unb64(obj.get("value")),
        _int(obj, "create_revision"),
        _int(obj, "mod_revision"),
        _int(obj, "version"),
    )


def ssl_context(config: EtcdConfig) -> ssl.SSLContext | None:
    """The client TLS context: trust only the etcd CA, present the client certificate."""
    if config.tls is None:
        return None
    try:
        context = ssl.create_default_context(cafile=str(config.tls.ca_file))
        context.load_cert_chain(str(config.tls.cert_file), str(config.tls.key_file))
    except (OSError, ssl.SSLError) as exc:
        raise StorageError(f"etcd TLS files: {exc}") from exc
    return context


class _Retry(Exception):
    """One attempt failed in a way another member may not (internal to this module)."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class GatewayClient:
    """``EtcdClient`` over the JSON gateway (rules 1-5)."""

    def __init__(self, config: EtcdConfig) -> None:
        self._config = config
        self._ssl = ssl_context(config)
        self._current = 0
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._streams: set[aiohttp.ClientResponse] = set()

    @property
    def endpoints(self) -> list[str]:
        return list(self._config.endpoints)

    def _http(self) -> aiohttp.ClientSession:
        if self._closed:
            raise StorageError("etcd client: closed")
        if self._session is None:
            connector = aiohttp.TCPConnector(ssl=self._ssl or False, limit=0)
            self._session = aiohttp.ClientSession(
                connector=connector, json_serialize=lambda o: orjson.dumps(o).decode()
            )
        return self._session

    async def close(self) -> None:
        """Close every open watch and connection; TLS connections need a few loop turns to
        send their close_notify, so this waits (briefly) for them."""
        self._closed = True
        for response in list(self._streams):
            response.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
            await asyncio.sleep(CLOSE_GRACE)

    def _advance(self, endpoint: str) -> None:
        endpoints = self._config.endpoints
        if endpoints[self._current % len(endpoints)] == endpoint:
            self._current = (self._current + 1) % len(endpoints)

    # --- one request ------------------------------------------------------------------------------
    async def _attempt(self, endpoint: str, path: str, body: JSON) -> JSON:
        session = self._http()
        timeout = aiohttp.ClientTimeout(total=self._config.request_timeout)
        try:
            async with session.post(
                endpoint + path, data=orjson.dumps(body), timeout=timeout
            ) as response:
                raw = await response.read()
                status = response.status
        except TimeoutError as exc:
            raise _Retry(f"{endpoint}: timed out", sent=True) from exc
        except aiohttp.ClientConnectorError as exc:
            raise _Retry(f"{endpoint}: {exc}", sent=False) from exc
        except aiohttp.ClientError as exc:
            if self._closed:
                raise StorageError("etcd client: closed") from exc
            raise _Retry(f"{endpoint}: {exc}", sent=True) from exc
        try:
            answer: JSON = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError as exc:
            raise StorageError(f"{endpoint}{path}: not JSON (HTTP {status})") from exc
        if status == 200:
            return answer
        message = str(answer.get("message") or answer.get("error") or f"HTTP {status}")
        code = int(answer.get("code", 0))
        if _COMPACTED in message:
            revision = int(body.get("revision", 0))
            raise CompactedError(revision, revision)
        if _FUTURE in message:
            raise StorageError(f"etcd: {message}")
        if (
            code in (_UNAVAILABLE, _DEADLINE)
            or "timed out" in message
            or "context deadline exceeded" in message  # grpc_client.py rule 2
        ):
            sent = not any(reason in message for reason in _NOT_PROPOSED)
            raise _Retry(f"{endpoint}: {message}", sent=sent)
        raise StorageError(f"etcd: {message}")

    async def _call(self, path: str, body: JSON, *, write: bool = False) -> JSON:
        endpoints = self._config.endpoints
        last = ""
        for attempt in range(self._config.attempts):
            endpoint = endpoints[self._current % len(endpoints)]
            try:
                return await self._attempt(endpoint, path, body)
            except _Retry as exc:
                last = str(exc)
                self._advance(endpoint)
                if write and exc.sent:
                    raise StorageTimeout(
                        f"etcd: {last} (the write may have been applied)"
                    ) from None
                if attempt + 1 < self._config.attempts:
                    await asyncio.sleep(0.05 * (attempt + 1))
        raise StorageUnavailable(f"etcd: no member answered: {last}")

    # --- key-value ---------------------------------------------------------------------------------
    async def range(
        self,
        key: bytes,
        range_end: bytes = b"",
        *,
        revision: int = 0,
        limit: int = 0,
        count_only: bool = False,
    ) -> RangeResult:
        body: JSON = {"key": _b64(key)}
        if range_end:
            body["range_end"] = _b64(range_end)
        if revision:
            body["revision"] = str(revision)
        if limit:
            body["limit"] = str(limit)
        if count_only:
            body["count_only"] = True
        answer = await self._call("/v3/kv/range", body)
        return RangeResult(
            [_kv(kv) for kv in answer.get("kvs", ())],
            bool(answer.get("more", False)),
            _int(answer, "count"),
            _int(answer.get("header", {}), "revision"),
        )

    async def txn(self, compare: list[Compare], success: list[Op], failure: list[Op]) -> TxnResult:
        body = {
            "compare": [_compare(c) for c in compare],
            "success": [_op(o) for o in success],
            "failure": [_op(o) for o in failure],
        }
        answer = await self._call("/v3/kv/txn", body, write=True)
        return TxnResult(
            bool(answer.get("succeeded", False)),
            _int(answer.get("header", {}), "revision"),
            [_op_result(r) for r in answer.get("responses", ())],
        )

    async def compact(self, revision: int) -> None:
        await self._call("/v3/kv/compaction", {"revision": str(revision)}, write=True)

    # --- watch -------------------------------------------------------------------------------------
    async def watch(
        self, key: bytes, range_end: bytes, start_revision: int, *, progress_every: float = 0.0
    ) -> AsyncGenerator[WatchBatch, None]:
        # The gateway's watch takes one request body: no progress requests on demand, only
        # etcd's periodic notifications (client.py rule 4).
        del progress_every
        endpoints = self._config.endpoints
        endpoint = endpoints[self._current % len(endpoints)]
        request = {
            "create_request": {
                "key": _b64(key),
                "range_end": _b64(range_end),
                "start_revision": str(start_revision),
                "prev_kv": True,
                "progress_notify": True,
            }
        }
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._config.request_timeout)
        try:
            async with self._http().post(
                endpoint + "/v3/watch",
                data=orjson.dumps(request),
                timeout=timeout,
                headers={"Grpc-Metadata-hasleader": "true"},
            ) as response:
                if response.status != 200:
                    raise StorageUnavailable(f"etcd watch on {endpoint}: HTTP {response.status}")
                self._streams.add(response)
                try:
                    buffer = b""
                    async for chunk in response.content.iter_any():
                        buffer += chunk
                        while (cut := buffer.find(b"\n")) >= 0:
                            line, buffer = buffer[:cut], buffer[cut + 1 :]
                            if line.strip():
                                batch = _watch_message(endpoint, line, start_revision)
                                if batch is not None:
                                    yield batch
                finally:
                    self._streams.discard(response)
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            self._advance(endpoint)
            if self._closed:
                return
            raise StorageUnavailable(
                f"etcd watch on {endpoint}: {exc or type(exc).__name__}"
            ) from exc
        if self._closed:
            return
        self._advance(endpoint)
        raise StorageUnavailable(f"etcd watch on {endpoint}: the stream ended")

    # --- cluster -----------------------------------------------------------------------------------
    async def status(self, endpoint: str) -> MemberStatus:
        try:
            answer = await self._attempt(endpoint, "/v3/maintenance/status", {})
        except _Retry as exc:
            raise StorageUnavailable(f"etcd: {exc}") from None
        header = answer.get("header", {})
        return MemberStatus(
            endpoint,
            _int(header, "member_id"),
            _int(answer, "leader"),
            _int(header, "revision"),
            _int(answer, "dbSize"),
            str(answer.get("version", "")),
            _int(answer, "raftTerm"),
        )

    async def members(self) -> list[MemberInfo]:
        answer = await self._call("/v3/cluster/member/list", {})
        return [
            MemberInfo(
                _int(m, "ID"),
                str(m.get("name", "")),
                list(m.get("peerURLs", ())),
                list(m.get("clientURLs", ())),
            )
            for m in answer.get("members", ())
        ]

    async def snapshot(self, endpoint: str) -> AsyncGenerator[bytes, None]:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._config.request_timeout)
        try:
            async with self._http().post(
                endpoint + "/v3/maintenance/snapshot", data=b"{}", timeout=timeout
            ) as response:
                if response.status != 200:
                    raise StorageError(f"etcd snapshot from {endpoint}: HTTP {response.status}")
                buffer = b""
                async for chunk in response.content.iter_any():
                    buffer += chunk
                    while (cut := buffer.find(b"\n")) >= 0:
                        line, buffer = buffer[:cut], buffer[cut + 1 :]
                        if line.strip():
                            message = orjson.loads(line)
                            if "error" in message:
                                raise StorageError(f"etcd snapshot: {message['error']}")
                            yield _unb64(message.get("result", {}).get("blob"))
        except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
            raise StorageUnavailable(f"etcd snapshot from {endpoint}: {exc}") from exc


def _compare(c: Compare) -> JSON:
    field = {"MOD": "mod_revision", "CREATE": "create_revision", "VERSION": "version"}[c.target]
    return {
        "key": _b64(c.key),
        "target": c.target,
        "result": c.result,
        field: str(c.value),
    }


def _op(op: Op) -> JSON:
    if isinstance(op, Put):
        return {
            "request_put": {"key": _b64(op.key), "value": _b64(op.value), "prev_kv": op.prev_kv}
        }
    if isinstance(op, Get):
        return {"request_range": {"key": _b64(op.key)}}
    assert isinstance(op, Delete)
    return {"request_delete_range": {"key": _b64(op.key), "prev_kv": op.prev_kv}}


def _op_result(obj: JSON) -> OpResult:
    if "response_range" in obj:
        return OpResult(kvs=[_kv(kv) for kv in obj["response_range"].get("kvs", ())])
    if "response_put" in obj:
        prev = obj["response_put"].get("prev_kv")
        return OpResult(prev_kvs=[_kv(prev)] if prev else [])
    deleted = obj.get("response_delete_range", {})
    return OpResult(
        prev_kvs=[_kv(kv) for kv in deleted.get("prev_kvs", ())], deleted=_int(deleted, "deleted")
    )


def _watch_message(endpoint: str, line: bytes, start_revision: int) -> WatchBatch | None:
    try:
        message = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise StorageUnavailable(f"etcd watch on {endpoint}: unreadable message") from exc
    if "error" in message:
        raise StorageUnavailable(f"etcd watch on {endpoint}: {message['error']}")
    result = message.get("result", {})
    compacted = _int(result, "compact_revision")
    if compacted:
        raise CompactedError(start_revision - 1, compacted)
    if result.get("canceled"):
        reason = result.get("cancel_reason") or "canceled"
        raise StorageUnavailable(f"etcd watch on {endpoint}: {reason}")
    if result.get("created") and not result.get("events"):
        return None
    events = []
    for event in result.get("events", ()):
        prev = event.get("prev_kv")
        events.append(
            WatchEvent(event.get("type") == "DELETE", _kv(event["kv"]), _kv(prev) if prev else None)
        )
    return WatchBatch(_int(result.get("header", {}), "revision"), events)


async def drain(stream: AsyncIterator[WatchBatch]) -> None:
    """Close an abandoned watch stream at once (it holds a connection to a member)."""
    with contextlib.suppress(Exception):
        await stream.aclose()  # type: ignore[attr-defined]
