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
 6. ``overrides`` (``--etcd-servers-overrides``) put a built-in resource in another etcd
    cluster, reached with the same TLS files, prefix and compaction interval, as
    kube-apiserver's storage factory does (``SetEtcdLocation`` changes only the servers). Each
    is ``group/resource#servers`` with the servers ``;``-separated; the core group is empty, so
    core Events are ``/events#https://...``. A malformed one is refused in upstream's words.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kubeward.errors import InputError

DEFAULT_PREFIX = "/registry"
DEFAULT_COMPACTION_INTERVAL = 300.0
OVERRIDES_FLAG = "--etcd-servers-overrides"
OVERRIDES_INVALID = (
    "--etcd-servers-overrides invalid, must be of format: group/resource#servers, "
    "where servers are URLs, semicolon separated"
)


@dataclass(frozen=True)
class TLSFiles:
    """A CA bundle and a client certificate with its key, as files."""

    ca_file: Path
    cert_file: Path
    key_file: Path


@dataclass(frozen=True)
class EtcdOverride:
    """Rule 6: the resource ``group``/``resource`` lives on ``endpoints``."""

    group: str
    resource: str
    endpoints: tuple[str, ...]


@dataclass(frozen=True)
class EtcdConfig:
    endpoints: tuple[str, ...]
    tls: TLSFiles | None = None
    prefix: str = DEFAULT_PREFIX
    compaction_interval: float = DEFAULT_COMPACTION_INTERVAL
    request_timeout: float = 2.0
    attempts: int = 3
    transport: Literal["grpc", "gateway"] = "grpc"
    overrides: tuple[EtcdOverride, ...] = ()

    def __post_init__(self) -> None:
        if not self.endpoints:
            raise InputError("--etcd-servers: at least one etcd server is required")
        _check_urls("--etcd-servers", self.endpoints, self.tls)
        for override in self.overrides:
            _check_urls(OVERRIDES_FLAG, override.endpoints, self.tls)
        if not self.prefix.startswith("/") or (len(self.prefix) > 1 and self.prefix.endswith("/")):
            raise InputError(f"--etcd-prefix: {self.prefix!r} must start with / and not end with /")
        if self.compaction_interval < 0:
            raise InputError("--etcd-compaction-interval must not be negative")
        if self.request_timeout <= 0 or self.attempts < 1:
            raise ValueError(f"invalid etcd request policy: {self}")


def _check_urls(flag: str, urls: tuple[str, ...], tls: TLSFiles | None) -> None:
    for url in urls:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname or not parsed.port:
            raise InputError(f"{flag}: {url!r} is not an https://host:port URL")
        if parsed.scheme == "http" and tls is not None:
            raise InputError(f"{flag}: {url!r} is http:// but TLS files are given")


def for_override(config: EtcdConfig, override: EtcdOverride) -> EtcdConfig:
    """The configuration of an override's cluster: the servers change, nothing else (rule 6)."""
    return dataclasses.replace(config, endpoints=override.endpoints, overrides=())


def parse_servers_overrides(values: Iterable[str]) -> tuple[EtcdOverride, ...]:
    """``--etcd-servers-overrides`` as kube-apiserver reads it (rule 6): each value is
    comma-separated, the flag may repeat.

    Raises:
        InputError: an override is not ``group/resource#servers``, in upstream's words.
    """
    overrides = []
    for value in values:
        for item in value.split(","):
            if not item:
                continue
            tokens = item.split("#")
            resource = tokens[0].split("/")
            if len(tokens) != 2 or len(resource) != 2:
                raise InputError(OVERRIDES_INVALID)
            servers = tuple(s.strip().rstrip("/") for s in tokens[1].split(";") if s.strip())
            if not servers:
                raise InputError(OVERRIDES_INVALID)
            overrides.append(EtcdOverride(resource[0], resource[1], servers))
    return tuple(overrides)


def parse_servers(value: str) -> tuple[str, ...]:
    """``--etcd-servers`` as kube-apiserver reads it: comma-separated URLs."""
    return tuple(s.strip().rstrip("/") for s in value.split(",") if s.strip())
