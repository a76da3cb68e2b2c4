"""The storage contract over the in-memory backend (the suite is in storage_contract.py)."""

from __future__ import annotations

from pathlib import Path

from storage_contract import BackendContract

from kubeward.storage.compaction import CompactionPolicy
from kubeward.storage.interfaces import Backend
from kubeward.storage.memory import MemoryBackend


class TestMemoryBackendContract(BackendContract):
    def make_backend(self, tmp_path: Path, *, watch_buffer: int = 1024) -> Backend:
        return MemoryBackend(compaction=CompactionPolicy(enabled=False), watch_buffer=watch_buffer)
