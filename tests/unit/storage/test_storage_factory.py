"""Backends by URL (kubeward/storage/factory.py); nothing here opens a file."""

from __future__ import annotations

import pytest

from kubeward.errors import InputError
from kubeward.storage.factory import backend_from_url
from kubeward.storage.memory import MemoryBackend
from kubeward.storage.sqlite import SqliteBackend


@pytest.mark.parametrize(
    ("url", "path", "synchronous"),
    [
        ("sqlite:///var/lib/kubeward/state.db", "/var/lib/kubeward/state.db", "NORMAL"),
        ("sqlite:////var/lib/kubeward/state.db", "/var/lib/kubeward/state.db", "NORMAL"),
        ("sqlite://data/state.db", "data/state.db", "NORMAL"),
        ("sqlite:///tmp/a%20b.db?synchronous=full", "/tmp/a b.db", "FULL"),
        ("sqlite:///tmp/x.db?synchronous=NORMAL", "/tmp/x.db", "NORMAL"),
        ("/srv/kubeward/state.db", "/srv/kubeward/state.db", "NORMAL"),
        ("state.db", "state.db", "NORMAL"),
    ],
    ids=[
        "absolute",
        "absolute-four-slashes",
        "relative",
        "escaped-with-full",
        "explicit-normal",
        "bare-path",
        "bare-name",
    ],
)
def test_sqlite_urls(url: str, path: str, synchronous: str) -> None:
    backend = backend_from_url(url)
    assert isinstance(backend, SqliteBackend)
    assert backend.path == path
    assert backend._options.synchronous == synchronous


def test_memory_url() -> None:
    assert isinstance(backend_from_url("memory://"), MemoryBackend)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "storage URL is empty"),
        ("etcd://127.0.0.1:2379", "unsupported storage URL scheme 'etcd'"),
        ("memory://somewhere", "memory:// takes no path"),
        ("sqlite://", "no file path"),
        ("sqlite:///x.db?journal=delete", "unknown SQLite option 'journal'"),
        ("sqlite:///x.db?synchronous=off", "synchronous must be normal or full"),
    ],
    ids=[
        "empty",
        "unknown-scheme",
        "memory-with-path",
        "sqlite-without-path",
        "unknown-option",
        "unsafe-sync",
    ],
)
def test_bad_urls_are_input_errors_naming_the_url(url: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        backend_from_url(url)
    assert message in str(caught.value)
    assert url in str(caught.value)
