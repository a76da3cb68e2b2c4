"""The one module that knows every storage backend: a URL in, a ``Backend`` out.

Rules:
 1. ``sqlite:///abs/path.db`` and ``sqlite://relative/path.db`` name an SQLite file (the part
    after ``sqlite://`` is the path, as kine reads it); ``sqlite:////abs/path.db`` (SQLAlchemy's
    spelling) is the same absolute path; a string without ``://`` is a path too.
 2. SQLite options come as query parameters; only ``synchronous=normal|full`` is accepted
    (see sqlite.py rule 1). Anything else is refused by name.
 3. ``memory://`` is the in-memory backend, meant for tests.
 4. Any other URL is an ``InputError`` naming the URL and what is accepted. The backend is
    returned unstarted; the caller awaits ``start()``.
 5. etcd is not named by a URL but by a typed ``EtcdConfig`` (endpoints, TLS files, prefix,
    compaction interval), as kube-apiserver's flags give it: ``backend_from_etcd``.
"""

from __future__ import annotations

import urllib.parse

from kubeward.errors import InputError
from kubeward.storage.etcd.backend import EtcdBackend
from kubeward.storage.etcd.config import EtcdConfig
from kubeward.storage.interfaces import Backend
from kubeward.storage.memory import MemoryBackend
from kubeward.storage.sqlite import SYNCHRONOUS_MODES, SqliteBackend, SqliteOptions

SUPPORTED = "sqlite:///path/to/file.db, a file path, or memory://"


def backend_from_url(url: str) -> Backend:
    """The backend ``url`` names (rules 1-4).

    Raises:
        InputError: the URL is empty, has an unknown scheme or an unknown option.
    """
    if not url:
        raise InputError(f"storage URL is empty; use {SUPPORTED}")
    scheme, sep, rest = url.partition("://")
    if not sep:
        return SqliteBackend(url)
    if scheme == "memory":
        if rest:
            raise InputError(f"{url}: memory:// takes no path or options")
        return MemoryBackend()
    if scheme == "sqlite":
        return _sqlite(url, rest)
    raise InputError(f"{url}: unsupported storage URL scheme {scheme!r}; use {SUPPORTED}")


def backend_from_etcd(config: EtcdConfig) -> Backend:
    """The etcd backend for ``config`` (rule 5), unstarted."""
    return EtcdBackend(config)


def _sqlite(url: str, rest: str) -> SqliteBackend:
    path, _, query = rest.partition("?")
    path = urllib.parse.unquote(path)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    if not path:
        raise InputError(f"{url}: no file path; use {SUPPORTED}")
    synchronous = "NORMAL"
    for name, values in urllib.parse.parse_qs(query, keep_blank_values=True).items():
        if name != "synchronous":
            raise InputError(f"{url}: unknown SQLite option {name!r}; accepted: synchronous")
        synchronous = values[-1].upper()
        if synchronous not in SYNCHRONOUS_MODES:
            raise InputError(f"{url}: synchronous must be normal or full, got {values[-1]!r}")
    return SqliteBackend(path, SqliteOptions(synchronous=synchronous))
