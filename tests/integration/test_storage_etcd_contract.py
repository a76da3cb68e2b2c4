"""The storage contract over a real 3-member etcd cluster with mutual TLS.

The suite lives in tests/unit/storage/storage_contract.py; it is loaded here by path. It runs
over both client transports (gRPC and the JSON gateway). The
cluster is shared by the session (starting one per test would cost seconds each), so every
backend gets its own ``--etcd-prefix`` and the suite counts revisions from where it starts.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import sys
from pathlib import Path
from typing import Any

import pytest

from kubeward.storage.etcd.backend import EtcdBackend
from kubeward.storage.etcd.local import LocalCluster
from kubeward.storage.interfaces import Backend
from kubeward.testing.etcd import etcd_config


def _load_contract() -> Any:
    name = "storage_contract"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "unit" / "storage" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


contract = _load_contract()
BackendContract = contract.BackendContract
PODS = contract.PODS
_prefixes = itertools.count()


class TestEtcdBackendContract(BackendContract):  # type: ignore[misc, valid-type]
    """Over gRPC, the default transport."""

    transport = "grpc"

    @pytest.fixture(autouse=True)
    def _cluster(self, etcd_cluster: LocalCluster) -> None:
        self.etcd = etcd_cluster

    def make_backend(self, tmp_path: Path, *, watch_buffer: int = 1024) -> Backend:
        prefix = f"/contract-{next(_prefixes)}/registry"
        return EtcdBackend(etcd_config(self.etcd, prefix, transport=self.transport))

    def test_a_slow_watcher_whose_history_was_compacted_gets_compacted_error(
        self, tmp_path: Path
    ) -> None:
        """etcd, not this process, buffers for slow watchers: events it already sent are valid
        after a compaction and are delivered; a watch that must *start* (or resume) below the
        compacted revision gets ``CompactedError``, as etcd cancels it."""

        async def scenario(b: Backend) -> None:
            base = await b.current_revision()
            first = await b.create(PODS + "k0", b"0")
            slow = b.watch(PODS, base)
            assert (await anext(slow)).revision == first.mod_revision
            written = [await b.create(f"{PODS}k{i}", b"x") for i in range(1, 20)]
            await b.compact(await b.current_revision() - 2)
            rest = [await asyncio.wait_for(anext(slow), 30) for _ in written]
            assert [e.revision for e in rest] == [kv.mod_revision for kv in written]
            await slow.aclose()  # type: ignore[attr-defined]
            with pytest.raises(contract.CompactedError):
                await anext(b.watch(PODS, first.mod_revision))  # type: ignore[call-overload]

        self.run(tmp_path, scenario)


class TestEtcdGatewayBackendContract(TestEtcdBackendContract):
    """Over etcd's JSON gateway, the other transport."""

    transport = "gateway"
