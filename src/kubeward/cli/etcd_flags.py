"""kube-apiserver's etcd flags, shared by ``kubeward serve`` and ``kubeward up``.

Rules (kube-apiserver's etcd options):
 1. ``--storage-backend`` accepts only ``etcd3`` (kube-apiserver's one value); given, or with
    ``--etcd-servers``, the store is etcd and ``--etcd-servers`` must be specified.
 2. ``--etcd-servers`` is a comma-separated list (the flag may also be repeated);
    ``--etcd-cafile``, ``--etcd-certfile`` and ``--etcd-keyfile`` go together.
 3. ``--etcd-compaction-interval`` is a Go duration (default ``5m0s``); 0 turns compaction off.
 4. ``--etcd-servers-overrides`` puts a built-in resource in another etcd cluster (config.py
    rule 6), e.g. ``/events#https://127.0.0.1:2479``; it needs the store to be etcd.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kubeward.errors import InputError
from kubeward.pki.duration import parse_duration
from kubeward.storage.etcd.config import (
    EtcdConfig,
    TLSFiles,
    parse_servers,
    parse_servers_overrides,
)

F = TypeVar("F", bound=Callable[..., Any])
STORAGE_BACKENDS = ("etcd3",)


def etcd_options(command: F) -> F:
    """Add the etcd flags to ``command`` (its function takes them as ``**etcd_flags``)."""
    options = [
        click.option(
            "--storage-backend",
            "storage_backend",
            default="",
            help="The storage backend: etcd3 (default: the embedded SQLite store unless --etcd-servers is given).",
        ),
        click.option(
            "--etcd-servers",
            "etcd_servers",
            multiple=True,
            help="etcd servers to connect to (scheme://ip:port), comma-separated.",
        ),
        click.option(
            "--etcd-cafile",
            type=click.Path(path_type=Path),
            help="SSL Certificate Authority file used to secure etcd communication.",
        ),
        click.option(
            "--etcd-certfile",
            type=click.Path(path_type=Path),
            help="SSL certification file used to secure etcd communication.",
        ),
        click.option(
            "--etcd-keyfile",
            type=click.Path(path_type=Path),
            help="SSL key file used to secure etcd communication.",
        ),
        click.option(
            "--etcd-prefix",
            default="/registry",
            show_default=True,
            help="The prefix to prepend to all resource paths in etcd.",
        ),
        click.option(
            "--etcd-compaction-interval",
            default="5m0s",
            show_default=True,
            help="The interval of compaction requests. If 0, the compaction request from apiserver is disabled.",
        ),
        click.option(
            "--etcd-servers-overrides",
            "etcd_servers_overrides",
            multiple=True,
            help="Per-resource etcd servers overrides, comma separated. The individual override "
            "format: group/resource#servers, where servers are URLs, semicolon separated. Note "
            "that this applies only to resources compiled into this server binary.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def etcd_config_from_flags(flags: dict[str, Any]) -> EtcdConfig | None:
    """The etcd configuration the flags ask for, or None for the embedded store (rules 1-4).

    Raises:
        InputError: the flags are inconsistent, in one line naming the flag.
    """
    backend = flags.get("storage_backend") or ""
    servers = tuple(s for value in flags.get("etcd_servers") or () for s in parse_servers(value))
    overrides = parse_servers_overrides(flags.get("etcd_servers_overrides") or ())
    if backend and backend not in STORAGE_BACKENDS:
        raise InputError(
            f"--storage-backend invalid, allowed values: {', '.join(STORAGE_BACKENDS)}. "
            "If not specified, it will default to the embedded SQLite store"
        )
    if not backend and not servers:
        if overrides:
            raise InputError("--etcd-servers-overrides needs --etcd-servers")
        return None
    if not servers:
        raise InputError("--etcd-servers must be specified")
    files = (flags.get("etcd_cafile"), flags.get("etcd_certfile"), flags.get("etcd_keyfile"))
    tls = None
    if any(files):
        if not all(files):
            raise InputError(
                "--etcd-cafile, --etcd-certfile and --etcd-keyfile must be given together"
            )
        ca, cert, key = (Path(f) for f in files if f is not None)
        tls = TLSFiles(ca, cert, key)
    return EtcdConfig(
        servers,
        tls,
        prefix=flags.get("etcd_prefix") or "/registry",
        compaction_interval=_interval(str(flags.get("etcd_compaction_interval") or "0")),
        overrides=overrides,
    )


def _interval(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parse_duration(text).total_seconds()
    except InputError as exc:
        raise InputError(f"--etcd-compaction-interval: {exc}") from exc
