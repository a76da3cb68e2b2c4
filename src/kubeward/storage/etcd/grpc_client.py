"""The etcd client over gRPC (grpcio, with the message and stub classes aetcd generated from etcd's
protos), mutual TLS on every channel.

Chosen as the default transport by measurement (benchmarks/etcd_transport.py and
benchmarks/etcd.py; docs/etcd.md): HTTP/2, TLS and protobuf run in grpcio's C core, so a call
costs the API server's event loop a fraction of what JSON over aiohttp costs. Rules:

 1. One channel per member, opened on first use with the etcd CA and the client certificate;
    calls go to the *current* member and a failure that another member may not have moves it on
    (client.py rule 3), as in gateway.py.
 2. A gRPC failure is classified by etcd's message: a connection that could not be made means
    the request was not sent; "no leader" means it was not proposed; any other unavailability,
    and our deadline, mean the outcome is unknown (``StorageTimeout`` for a write). gRPC sends
    our deadline to etcd, so it expires twice: in grpcio (``DEADLINE_EXCEEDED``) and in etcd,
    which answers ``UNKNOWN: context deadline exceeded`` when its timer wins the race (more often
    when our event loop is busy); both are the same timeout.
 3. Watches carry the ``hasleader`` metadata (a member that loses its leader cancels them) and
    end with ``StorageUnavailable`` when the stream breaks, ``CompactedError`` when compacted.
    Asked to, a watch writes a ``WatchProgressRequest`` on its stream every so often; etcd
    answers with an empty response whose header holds its revision (client.py rule 4).
 4. Messages may be as large as etcd sends them (kube-apiserver lifts gRPC's 4 MiB default too);
    a restarted member is reconnected to within seconds, and keepalives detect a silent one.
 5. No grpc or protobuf exception leaves this module (client.py rule 2).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Any

import grpc  # type: ignore[import-untyped]
from aetcd import rpc  # type: ignore[import-untyped]

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

_NOT_SENT = ("failed to connect", "Connection refused", "connections to all backends failing")
_NOT_PROPOSED = ("no leader", "not capable", "stopped")
_COMPACTED = "required revision has been compacted"
_FUTURE = "required revision is a future revision"
_SERVER_DEADLINE = "context deadline exceeded"  # etcd's side of our deadline (rule 2)
_OPTIONS = [
    ("grpc.max_receive_message_length", 2**31 - 1),
    ("grpc.max_send_message_length", 2**31 - 1),
    # A restarted member is tried again within 2 s (gRPC's default backoff grows to 120 s).
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
    # A member that went silent (not closed) is noticed, as kube-apiserver's etcd client does.
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
]
_TARGETS = {"MOD": "MOD", "CREATE": "CREATE", "VERSION": "VERSION"}
_RESULTS = {"EQUAL": "EQUAL", "GREATER": "GREATER", "LESS": "LESS", "NOT_EQUAL": "NOT_EQUAL"}


class _Retry(Exception):
    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


def _kv(kv: Any) -> EtcdKV:
    return EtcdKV(
        bytes(kv.key),
        bytes(kv.value),
        int(kv.create_revision),
        int(kv.mod_revision),
        int(kv.version),
    )


class GrpcClient:
    """``EtcdClient`` over gRPC (rules 1-5)."""

    def __init__(self, config: EtcdConfig) -> None:
        self._config = config
        self._current = 0
        self._channels: dict[str, Any] = {}
        self._calls: set[Any] = set()
        self._closed = False
        self._credentials: Any = None
        if config.tls is not None:
            try:
                self._credentials = grpc.ssl_channel_credentials(
                    config.tls.ca_file.read_bytes(),
                    config.tls.key_file.read_bytes(),
                    config.tls.cert_file.read_bytes(),
                )
            except OSError as exc:
                raise StorageError(f"etcd TLS files: {exc}") from exc

    @property
    def endpoints(self) -> list[str]:
        return list(self._config.endpoints)

    def _channel(self, endpoint: str) -> Any:
        if self._closed:
            raise StorageError("etcd client: closed")
        channel = self._channels.get(endpoint)
        if channel is None:
            target = endpoint.split("://", 1)[1]
            if self._credentials is not None:
                channel = grpc.aio.secure_channel(target, self._credentials, options=_OPTIONS)
            else:
                channel = grpc.aio.insecure_channel(target, options=_OPTIONS)
            self._channels[endpoint] = channel
        return channel

    async def close(self) -> None:
        self._closed = True
        for call in list(self._calls):
            call.cancel()
        channels, self._channels = self._channels, {}
        for channel in channels.values():
            await channel.close()

    def _advance(self, endpoint: str) -> None:
        endpoints = self._config.endpoints
        if endpoints[self._current % len(endpoints)] == endpoint:
            self._current = (self._current + 1) % len(endpoints)

    def _endpoint(self) -> str:
        endpoints = self._config.endpoints
        return endpoints[self._current % len(endpoints)]

    # --- one call ------------------------------------------------------------------------------------
    async def _attempt(self, endpoint: str, stub: str, method: str, request: Any) -> Any:
        channel = self._channel(endpoint)
        call = getattr(getattr(rpc, stub)(channel), method)
        try:
            return await call(request, timeout=self._config.request_timeout)
        except grpc.aio.AioRpcError as exc:
            raise _classify(endpoint, exc, request) from None
        except asyncio.CancelledError:
            raise
        except (grpc.RpcError, grpc.aio.BaseError) as exc:  # a closed channel and the like
            if self._closed:
                raise StorageError("etcd client: closed") from exc
            raise _Retry(f"{endpoint}: {exc}", sent=True) from exc

    async def _call(self, stub: str, method: str, request: Any, *, write: bool = False) -> Any:
        last = ""
        for attempt in range(self._config.attempts):
            endpoint = self._endpoint()
            try:
                return await self._attempt(endpoint, stub, method, request)
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

    # --- key-value -------------------------------------------------------------------------------------
    async def range(
        self,
        key: bytes,
        range_end: bytes = b"",
        *,
        revision: int = 0,
        limit: int = 0,
        count_only: bool = False,
    ) -> RangeResult:
        request = rpc.RangeRequest(
            key=key, range_end=range_end, revision=revision, limit=limit, count_only=count_only
        )
        answer = await self._call("KVStub", "Range", request)
        return RangeResult(
            [_kv(kv) for kv in answer.kvs],
            bool(answer.more),
            int(answer.count),
            int(answer.header.revision),
        )

    async def txn(self, compare: list[Compare], success: list[Op], failure: list[Op]) -> TxnResult:
        request = rpc.TxnRequest(
            compare=[_compare(c) for c in compare],
            success=[_op(o) for o in success],
            failure=[_op(o) for o in failure],
        )
        answer = await self._call("KVStub", "Txn", request, write=True)
        return TxnResult(
            bool(answer.succeeded),
            int(answer.header.revision),
            [_op_result(r) for r in answer.responses],
        )

    async def compact(self, revision: int) -> None:
        await self._call("KVStub", "Compact", rpc.CompactionRequest(revision=revision), write=True)

    # --- watch -----------------------------------------------------------------------------------------
    async def watch(
        self, key: bytes, range_end: bytes, start_revision: int, *, progress_every: float = 0.0
    ) -> AsyncGenerator[WatchBatch, None]:
        endpoint = self._endpoint()
        create = rpc.WatchCreateRequest(
            key=key,
            range_end=range_end,
            start_revision=start_revision,
            prev_kv=True,
            progress_notify=True,
        )
        call = rpc.WatchStub(self._channel(endpoint)).Watch(metadata=(("hasleader", "true"),))
        self._calls.add(call)
        asker: asyncio.Task[None] | None = None
        try:
            await call.write(rpc.WatchRequest(create_request=create))
            if progress_every > 0:
                asker = asyncio.create_task(_ask_progress(call, progress_every))
            while True:
                try:
                    response = await call.read()
                except asyncio.CancelledError:
                    if self._closed:  # close() cancelled the call, not our task
                        return
                    raise
                if response is grpc.aio.EOF:
                    break
                if response.compact_revision:
                    raise CompactedError(start_revision - 1, int(response.compact_revision))
                if response.canceled:
                    reason = response.cancel_reason or "canceled"
                    raise StorageUnavailable(f"etcd watch on {endpoint}: {reason}")
                if response.created and not response.events:
                    continue
                yield WatchBatch(
                    int(response.header.revision),
                    [
                        WatchEvent(
                            event.type == rpc.Event.DELETE,
                            _kv(event.kv),
                            _kv(event.prev_kv) if event.HasField("prev_kv") else None,
                        )
                        for event in response.events
                    ],
                )
        except grpc.aio.AioRpcError as exc:
            self._advance(endpoint)
            if self._closed:
                return
            raise StorageUnavailable(f"etcd watch on {endpoint}: {exc.details()}") from None
        except (grpc.RpcError, grpc.aio.BaseError) as exc:
            if self._closed:
                return
            raise StorageUnavailable(f"etcd watch on {endpoint}: {exc}") from None
        finally:
            if asker is not None:
                asker.cancel()
            self._calls.discard(call)
            call.cancel()
        if self._closed:
            return
        self._advance(endpoint)
        raise StorageUnavailable(f"etcd watch on {endpoint}: the stream ended")

    # --- cluster ---------------------------------------------------------------------------------------
    async def status(self, endpoint: str) -> MemberStatus:
        try:
            answer = await self._attempt(endpoint, "MaintenanceStub", "Status", rpc.StatusRequest())
        except _Retry as exc:
            raise StorageUnavailable(f"etcd: {exc}") from None
        return MemberStatus(
            endpoint,
            int(answer.header.member_id),
            int(answer.leader),
            int(answer.header.revision),
            int(answer.dbSize),
            str(answer.version),
            int(answer.raftTerm),
        )

    async def members(self) -> list[MemberInfo]:
        answer = await self._call("ClusterStub", "MemberList", rpc.MemberListRequest())
        return [
            MemberInfo(int(m.ID), str(m.name), list(m.peerURLs), list(m.clientURLs))
            for m in answer.members
        ]

    async def snapshot(self, endpoint: str) -> AsyncGenerator[bytes, None]:
        stub = rpc.MaintenanceStub(self._channel(endpoint))
        try:
            async for response in stub.Snapshot(rpc.SnapshotRequest()):
                yield bytes(response.blob)
        except (grpc.RpcError, grpc.aio.BaseError) as exc:
            raise StorageUnavailable(f"etcd snapshot from {endpoint}: {exc}") from None


async def _ask_progress(call: Any, every: float) -> None:
    """Ask for a progress notification on ``call`` every ``every`` seconds (rule 3). A stream
    that broke is the reader's to report; this only stops."""
    request = rpc.WatchRequest(progress_request=rpc.WatchProgressRequest())
    with contextlib.suppress(grpc.RpcError, grpc.aio.BaseError, RuntimeError):
        while True:
            await asyncio.sleep(every)
            await call.write(request)


def _classify(endpoint: str, exc: Any, request: Any) -> Exception:
    details = str(exc.details() or "")
    code = exc.code()
    if _COMPACTED in details:
        revision = int(getattr(request, "revision", 0))
        return CompactedError(revision, revision)
    if _FUTURE in details:
        return StorageError(f"etcd: {details}")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED or _SERVER_DEADLINE in details:
        return _Retry(f"{endpoint}: timed out", sent=True)
    if code == grpc.StatusCode.UNAVAILABLE:
        if any(reason in details for reason in _NOT_SENT):
            return _Retry(f"{endpoint}: {details}", sent=False)
        return _Retry(f"{endpoint}: {details}", sent=not any(r in details for r in _NOT_PROPOSED))
    return StorageError(f"etcd: {details or code}")


def _compare(c: Compare) -> Any:
    fields: dict[str, Any] = {
        "key": c.key,
        "target": getattr(rpc.Compare, c.target),
        "result": getattr(rpc.Compare, c.result),
    }
    field = {"MOD": "mod_revision", "CREATE": "create_revision", "VERSION": "version"}[c.target]
    fields[field] = c.value
    return rpc.Compare(**fields)


def _op(op: Op) -> Any:
    if isinstance(op, Put):
        return rpc.RequestOp(
            request_put=rpc.PutRequest(key=op.key, value=op.value, prev_kv=op.prev_kv)
        )
    if isinstance(op, Get):
        return rpc.RequestOp(request_range=rpc.RangeRequest(key=op.key))
    assert isinstance(op, Delete)
    return rpc.RequestOp(
        request_delete_range=rpc.DeleteRangeRequest(key=op.key, prev_kv=op.prev_kv)
    )


def _op_result(response: Any) -> OpResult:
    kind = response.WhichOneof("response")
    if kind == "response_range":
        return OpResult(kvs=[_kv(kv) for kv in response.response_range.kvs])
    if kind == "response_put":
        put = response.response_put
        return OpResult(prev_kvs=[_kv(put.prev_kv)] if put.HasField("prev_kv") else [])
    deleted = response.response_delete_range
    return OpResult(prev_kvs=[_kv(kv) for kv in deleted.prev_kvs], deleted=int(deleted.deleted))
