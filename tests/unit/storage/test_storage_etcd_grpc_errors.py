"""How the gRPC transport classifies etcd's failures (grpc_client.py rule 2).

The deadline case is the cause of the quorum-loss fault test's flakes: gRPC sends our deadline
to etcd, and when etcd's copy of the timer fires first the answer is ``UNKNOWN: context deadline
exceeded`` rather than grpcio's ``DEADLINE_EXCEEDED``. Both must be the same unknown outcome.
"""

from __future__ import annotations

import grpc  # type: ignore[import-untyped]
import pytest

from kubeward.storage.etcd.grpc_client import _classify, _Retry


def rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


@pytest.mark.parametrize(
    ("code", "details"),
    [
        (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "Stream removed (Deadline Exceeded)"),
        (grpc.StatusCode.UNKNOWN, "context deadline exceeded"),
        (
            grpc.StatusCode.UNAVAILABLE,
            "etcdserver: request timed out, possibly due to connection lost",
        ),
    ],
)
def test_a_deadline_on_either_side_is_an_unknown_outcome(
    code: grpc.StatusCode, details: str
) -> None:
    classified = _classify("https://127.0.0.1:2379", rpc_error(code, details), object())
    assert isinstance(classified, _Retry)
    assert classified.sent


def test_a_refused_connection_was_not_sent_and_no_leader_was_not_proposed() -> None:
    refused = _classify(
        "e", rpc_error(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses"), object()
    )
    no_leader = _classify(
        "e", rpc_error(grpc.StatusCode.UNAVAILABLE, "etcdserver: no leader"), object()
    )
    assert isinstance(refused, _Retry) and not refused.sent
    assert isinstance(no_leader, _Retry) and not no_leader.sent


def test_other_unknown_errors_are_not_retried() -> None:
    classified = _classify("e", rpc_error(grpc.StatusCode.UNKNOWN, "something else"), object())
    assert not isinstance(classified, _Retry)
