"""The typed configuration of the etcd client: where the members are and how to prove who we are.

It mirrors kube-apiserver's flags (``--etcd-servers``, ``--etcd-cafile``, ``--etcd-certfile``,
``--etcd-keyfile``, ``--etcd-prefix``, ``--etcd-compaction-interval``). Rules:

 1. Endpoints are ``https://host:port`` URLs (``http://`` is accepted only without TLS files);
    at least one is required.
 2. The prefix starts with ``/`` and has no trailing ``/``; kubeward's keys, which start with
    ``/registry``, are stored with ``/registry`` replaced by the prefix, as kube-apiserver joins
    ``--etcd-prefix`` and the resource path.
 3. ``request_timeout`` bounds one attempt against one member (about 2 s, because a proposal
    forwarded to a killed leader otherwise hangs for ~7 s); a request makes at most ``attempts``.
 4. ``compaction_interval`` 0 turns the API server's compactor off (kube-apiserver's meaning).
 5. ``transport`` is ``grpc`` (the default, chosen by measurement: docs/etcd.md) or ``gateway``
    (etcd's JSON gateway over aiohttp); both implement storage/etcd/client.py.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kubeward.errors import InputError

DEFAULT_PREFIX = "/registry"
DEFAULT_COMPACTION_INTERVAL = 300.0


@dataclass(frozen=True)
class TLSFiles:
    """A CA bundle and a client certificate with its key, as files."""

    ca_file: Path
    cert_file: Path
    key_file: Path


@dataclass(frozen=True)
class EtcdConfig:
    endpoints: tuple[str, ...]
    tls: TLSFiles | None = None
    prefix: str = DEFAULT_PREFIX
    compaction_interval: float = DEFAULT_COMPACTION_INTERVAL
    request_timeout: float = 2.0
    attempts: int = 3
    transport: Literal["grpc", "gateway"] = "grpc"

    def __post_init__(self) -> None:
        if not self.endpoints:
            raise InputError("--etcd-servers: at least one etcd server is required")
        for url in self.endpoints:
            parsed = urllib.parse.urlsplit(url)
            if parsed.scheme not in ("https", "http") or not parsed.hostname or not parsed.port:
                raise InputError(f"--etcd-servers: {url!r} is not an https://host:port URL")
            if parsed.scheme == "http" and self.tls is not None:
                raise InputError(f"--etcd-servers: {url!r} is http:// but TLS files are given")
        if not self.prefix.startswith("/") or (len(self.prefix) > 1 and self.prefix.endswith("/")):
            raise InputError(f"--etcd-prefix: {self.prefix!r} must start with / and not end with /")
        if self.compaction_interval < 0:
            raise InputError("--etcd-compaction-interval must not be negative")
        if self.request_timeout <= 0 or self.attempts < 1:
            raise ValueError(f"invalid etcd request policy: {self}")


def parse_servers(value: str) -> tuple[str, ...]:
    """``--etcd-servers`` as kube-apiserver reads it: comma-separated URLs."""
    return tuple(s.strip().rstrip("/") for s in value.split(",") if s.strip())
