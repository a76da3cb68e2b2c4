"""``kubeward serve``: its priority-and-fairness and timeout flags, and what it warns about."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeward.cli.flags import cache_ttl_seconds, timeout_seconds
from kubeward.cli.main import main
from kubeward.cli.serve import startup_warnings
from kubeward.errors import InputError
from kubeward.server.config import ServerConfig


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("32s", 32.0), ("1m30s", 90.0), ("500ms", 0.5), ("45", 45.0), ("2.5", 2.5)],
    ids=str,
)
def test_timeouts_are_go_durations_or_seconds(text: str, seconds: float) -> None:
    assert timeout_seconds("--request-header-timeout", text) == seconds


@pytest.mark.parametrize("text", ["soon", "0", "-5s"], ids=str)
def test_bad_timeouts_are_refused_naming_the_flag(text: str) -> None:
    with pytest.raises(InputError, match=r"^--idle-connection-timeout: "):
        timeout_seconds("--idle-connection-timeout", text)


def test_a_cache_ttl_of_zero_turns_the_cache_off_and_a_negative_one_is_refused() -> None:
    flag = "--authorization-webhook-cache-authorized-ttl"
    assert cache_ttl_seconds(flag, "0s") == 0.0
    assert cache_ttl_seconds(flag, "5m") == 300.0
    with pytest.raises(InputError, match=rf"^{flag} cannot be negative$"):
        cache_ttl_seconds(flag, "-1s")
    with pytest.raises(InputError, match=rf"^{flag}: "):
        cache_ttl_seconds(flag, "never")


def test_a_bad_flag_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "serve",
                "--tls-cert-file=x.crt",
                "--tls-private-key-file=x.key",
                "--request-body-timeout=abc",
            ]
        )
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: --request-body-timeout: 'abc': not a duration")
    assert len(err.strip().splitlines()) == 1


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
