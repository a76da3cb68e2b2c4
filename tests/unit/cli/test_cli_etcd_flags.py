"""kube-apiserver's etcd flags as ``kubeward serve`` reads them (cli/etcd_flags.py rules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeward.cli.etcd_flags import etcd_config_from_flags
from kubeward.errors import InputError
from kubeward.storage.etcd.config import EtcdOverride, TLSFiles, for_override


def flags(**given: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "storage_backend": "",
        "etcd_servers": (),
        "etcd_cafile": None,
        "etcd_certfile": None,
        "etcd_keyfile": None,
        "etcd_prefix": "/registry",
        "etcd_compaction_interval": "5m0s",
        "etcd_servers_overrides": (),
    }
    return {**defaults, **given}


def test_no_etcd_flags_means_the_embedded_store() -> None:
    assert etcd_config_from_flags(flags()) is None


def test_servers_are_comma_separated_or_repeated_with_tls_and_the_interval() -> None:
    config = etcd_config_from_flags(
        flags(
            etcd_servers=(
                "https://127.0.0.1:2379,https://127.0.0.1:12379",
                "https://127.0.0.1:22379",
            ),
            etcd_cafile=Path("ca.crt"),
            etcd_certfile=Path("c.crt"),
            etcd_keyfile=Path("c.key"),
            etcd_compaction_interval="10m",
            etcd_prefix="/kubernetes.io",
        )
    )
    assert config is not None
    assert config.endpoints == (
        "https://127.0.0.1:2379",
        "https://127.0.0.1:12379",
        "https://127.0.0.1:22379",
    )
    assert config.tls == TLSFiles(Path("ca.crt"), Path("c.crt"), Path("c.key"))
    assert (config.compaction_interval, config.prefix) == (600.0, "/kubernetes.io")
    assert config.transport == "grpc"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"storage_backend": "etcd3"}, "--etcd-servers must be specified"),
        (
            {"storage_backend": "etcd2", "etcd_servers": ("https://a:1",)},
            "--storage-backend invalid",
        ),
        ({"etcd_servers": ("https://a:1",), "etcd_cafile": Path("ca")}, "must be given together"),
        ({"etcd_servers": ("a:2379",)}, "not an https://host:port URL"),
        ({"etcd_servers": ("https://a:1",), "etcd_prefix": "registry"}, "--etcd-prefix"),
        (
            {"etcd_servers": ("https://a:1",), "etcd_compaction_interval": "often"},
            "--etcd-compaction-interval",
        ),
        (
            {"etcd_servers_overrides": ("/events#https://a:1",)},
            "--etcd-servers-overrides needs --etcd-servers",
        ),
        (
            {"etcd_servers": ("https://a:1",), "etcd_servers_overrides": ("/events#b:2379",)},
            "--etcd-servers-overrides: 'b:2379' is not an https://host:port URL",
        ),
    ],
    ids=[
        "no-servers",
        "etcd2",
        "partial-tls",
        "no-scheme",
        "prefix",
        "interval",
        "overrides-alone",
        "override-url",
    ],
)
def test_inconsistent_flags_are_refused_naming_the_flag(
    given: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        etcd_config_from_flags(flags(**given))


def test_zero_interval_turns_compaction_off() -> None:
    config = etcd_config_from_flags(
        flags(etcd_servers=("https://a:1",), etcd_compaction_interval="0")
    )
    assert config is not None and config.compaction_interval == 0


def test_overrides_are_comma_separated_or_repeated_with_semicolon_separated_servers() -> None:
    config = etcd_config_from_flags(
        flags(
            etcd_servers=("https://127.0.0.1:2379",),
            etcd_servers_overrides=(
                "/events#https://127.0.0.1:2479;https://127.0.0.1:12479,apps/deployments#https://d:1",
                "coordination.k8s.io/leases#https://l:1",
            ),
        )
    )
    assert config is not None
    assert config.overrides == (
        EtcdOverride("", "events", ("https://127.0.0.1:2479", "https://127.0.0.1:12479")),
        EtcdOverride("apps", "deployments", ("https://d:1",)),
        EtcdOverride("coordination.k8s.io", "leases", ("https://l:1",)),
    )
    override = for_override(config, config.overrides[0])
    assert override.endpoints == ("https://127.0.0.1:2479", "https://127.0.0.1:12479")
    assert (override.tls, override.prefix, override.overrides) == (config.tls, config.prefix, ())


@pytest.mark.parametrize(
    "value",
    ["/events/https://127.0.0.1:4002", "events#https://a:1", "a/b/c#https://a:1", "/events#"],
)
def test_a_malformed_override_is_refused_in_upstreams_words(value: str) -> None:
    with pytest.raises(InputError) as caught:
        etcd_config_from_flags(
            flags(etcd_servers=("https://a:1",), etcd_servers_overrides=(value,))
        )
    assert str(caught.value) == (
        "--etcd-servers-overrides invalid, must be of format: group/resource#servers, "
        "where servers are URLs, semicolon separated"
    )
