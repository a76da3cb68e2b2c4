"""What `kubeward serve` warns about before it starts (cli/serve.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeward.cli.serve import startup_warnings
from kubeward.server.config import ServerConfig


def config(**changes: object) -> ServerConfig:
    base: dict[str, object] = {
        "tls_cert_file": Path("apiserver.crt"),
        "tls_private_key_file": Path("apiserver.key"),
        "client_ca_file": Path("ca.crt"),
        "bind_address": "127.0.0.1",
    }
    base.update(changes)
    return ServerConfig(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_and_the_defaults_of_up_are_quiet(address: str) -> None:
    assert startup_warnings(config(bind_address=address)) == []


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "10.0.0.5", "apiserver.example"])
def test_binding_beyond_loopback_is_said(address: str) -> None:
    (warning,) = startup_warnings(config(bind_address=address))
    assert warning.startswith(f"--bind-address {address}: ") and "other machines" in warning


def test_no_client_ca_and_always_allow_are_said() -> None:
    warnings = startup_warnings(
        config(client_ca_file=None, authorization_modes=("AlwaysAllow",), anonymous_auth=False)
    )
    assert len(warnings) == 2
    assert warnings[0].startswith("no --client-ca-file: ")
    assert "AlwaysAllow" in warnings[1] and "any user" in warnings[1]
