"""The storage contract over the SQLite backend, on real files, on uvloop as the server runs.

The suite lives in tests/unit/storage/storage_contract.py (where the memory backend runs it);
it is loaded here by path because test directories are not packages.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import uvloop

from kubeward.storage.compaction import CompactionPolicy
from kubeward.storage.interfaces import Backend
from kubeward.storage.sqlite import SqliteBackend, SqliteOptions


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


BackendContract = _load_contract().BackendContract


class TestSqliteBackendContract(BackendContract):  # type: ignore[misc, valid-type]
    def make_backend(self, tmp_path: Path, *, watch_buffer: int = 1024) -> Backend:
        options = SqliteOptions(
            compaction=CompactionPolicy(enabled=False),
            watch_buffer=watch_buffer,
            compaction_chunk=7,  # several chunks even in small tests
        )
        return SqliteBackend(tmp_path / "state.db", options)

    def run_loop(self, coro: Awaitable[Any]) -> Any:
        return uvloop.run(coro)  # type: ignore[arg-type]
