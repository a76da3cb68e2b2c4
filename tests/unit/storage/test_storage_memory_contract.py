"""The storage contract over the in-memory backend (the suite is in storage_contract.py).

The suite is loaded by path, as tests/integration/test_storage_sqlite_contract.py loads it, so
this works whatever import mode pytest runs in (test directories are not packages).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from kubeward.storage.compaction import CompactionPolicy
from kubeward.storage.interfaces import Backend
from kubeward.storage.memory import MemoryBackend


def _load_contract() -> Any:
    name = "storage_contract"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


BackendContract = _load_contract().BackendContract


class TestMemoryBackendContract(BackendContract):  # type: ignore[misc, valid-type]
    def make_backend(self, tmp_path: Path, *, watch_buffer: int = 1024) -> Backend:
        return MemoryBackend(compaction=CompactionPolicy(enabled=False), watch_buffer=watch_buffer)
