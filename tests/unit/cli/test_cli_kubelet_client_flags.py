"""``--kubelet-*``: how ``kubeward serve`` is told to reach the kubelets."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeward.cli.kubelet_client_flags import ADDRESS_TYPES, kubelet_client_config
from kubeward.cli.main import main


def _flags(**changes: object) -> dict[str, object]:
    flags: dict[str, object] = {
        "kubelet_client_certificate": Path("apiserver-kubelet-client.crt"),
        "kubelet_client_key": Path("apiserver-kubelet-client.key"),
        "kubelet_certificate_authority": Path("ca.crt"),
        "kubelet_preferred_address_types": "InternalIP,Hostname",
    }
    flags.update(changes)
    return flags


def test_the_flags_become_server_configuration_fields() -> None:
    config = kubelet_client_config(_flags())
    assert config["kubelet_preferred_address_types"] == ("InternalIP", "Hostname")
    assert config["kubelet_client_certificate"] == Path("apiserver-kubelet-client.crt")
    assert config["kubelet_certificate_authority"] == Path("ca.crt")
    assert ADDRESS_TYPES[0] == "Hostname"  # kube-apiserver's default order starts there


def test_an_unknown_address_type_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "serve",
                "--tls-cert-file=x.crt",
                "--tls-private-key-file=x.key",
                "--kubelet-preferred-address-types=InternalIP,Bogus",
            ]
        )
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(
        'error: --kubelet-preferred-address-types: unsupported address type "Bogus"'
    )
    assert len(err.strip().splitlines()) == 1


def test_a_certificate_needs_its_key() -> None:
    from kubeward.errors import InputError

    with pytest.raises(InputError, match="go together"):
        kubelet_client_config(_flags(kubelet_client_key=None))
